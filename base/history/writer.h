// HistoryWriter: records a run's history.jsonl as it happens (docs/history-format.md).
//
// Each event is written as one line (jsonl.h ToJsonLine + '\n') with a single write and handed
// to the operating system (fflush) before Append returns, so a controller that crashes or is
// killed still leaves every appended event in the file. It does not fsync: a machine crash may
// lose the tail (call Sync() where that matters). A kill in the middle of a write can leave at
// most the last line torn; readers report it as "FILE:LINE: invalid JSON (truncated line?)".
//
// Threading: every method is thread-safe; the recorder calls Append/AppendNext from many worker
// threads. Lines never interleave. Use AppendNext when several threads record: it assigns the
// index (and, given a clock, the time) under the writer's lock, so the file's index order,
// time order and line order agree. Append writes an event whose index the caller chose and
// rejects it unless its index is greater than the last one written.
//
// Errors are sticky: after a failed write every later call returns the same error, so a
// partially written history is never silently extended.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::history {

class HistoryWriter {
 public:
  // Creates `path` (truncating an existing file). Errors: "PATH: cannot create: <strerror>".
  static Result<std::unique_ptr<HistoryWriter>> Open(const std::string& path);

  // Closes the file (errors at that point are lost; call Close() to see them).
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Writes `e` as is and flushes. Error if e.index <= the last index written, or on I/O error.
  Status Append(const Event& e);

  // Sets e.index to the next index (0, then last + 1) and, when `now_ns` is given, e.time_ns to
  // now_ns() (called under the lock, so times never decrease along the file); writes, flushes
  // and returns the event as written.
  Result<Event> AppendNext(Event e, const std::function<int64_t()>& now_ns = nullptr);

  // fsyncs the file: appended events survive a machine crash too.
  Status Sync();

  // Flushes and closes; later calls return an error. Idempotent.
  Status Close();

  int64_t events_written() const;
  const std::string& path() const { return path_; }

 private:
  HistoryWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  Status WriteLocked(const Event& e);  // requires mu_

  const std::string path_;
  mutable std::mutex mu_;
  std::FILE* file_;                    // guarded by mu_; null after Close
  std::optional<int64_t> last_index_;  // guarded by mu_
  int64_t written_ = 0;                // guarded by mu_
  std::optional<Error> error_;         // guarded by mu_; sticky
};

}  // namespace tidemark::history
