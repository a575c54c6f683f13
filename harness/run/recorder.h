// Recorder: the single writer of a run's history.
//
// Every client invoke/completion and every nemesis event goes through Record(), which assigns
// the dense `index` and the `time` (ns since the run started, steady clock) and appends the
// event to history.jsonl. The file is the run's history: the checkers read it back after the
// run (nothing is kept in memory, so a long run's history costs no controller memory, and the
// verdict is the one `tidemark check` gives for the same file).
//
// Write::kNow (nemesis events, anything off the driver thread) hands the line to the kernel
// before Record returns, together with any batched lines before it. Write::kBatched (the
// driver's own invokes and completions) keeps the line until Flush(), which the driver calls
// before it sends any request and before it blocks: an invoke is in the file before its
// request can reach a node, and a controller killed while waiting loses nothing it recorded.
// Either way a killed controller leaves at most a torn last line.
//
// An ok `log` read is written in compact form (harness/run/read_compactor.h): only the entries
// the history has not shown yet; readers expand it exactly.
//
// Thread safety: every method may be called from any thread; events are totally ordered by the
// internal mutex, so `index` order, `time` order and file order agree.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/history/history.h"
#include "base/result.h"
#include "harness/run/read_compactor.h"

namespace tidemark::run {

class Recorder {
 public:
  enum class Write { kNow, kBatched };

  // Opens (truncates) `path`. The run's clock starts now.
  static Result<std::unique_ptr<Recorder>> Open(const std::string& path);
  ~Recorder();  // flushes

  // Fills e.index and e.time_ns, writes (or batches) the line, and returns the recorded event.
  // A write error is remembered (see write_error); later lines are not written.
  history::Event Record(history::Event e, Write w = Write::kNow);

  // Records `e` like Record and calls `use` with the event as recorded, under the recorder's
  // lock (so `use` must be short and must not call the recorder), without copying it.
  void RecordAndUse(history::Event e, const std::function<void(history::Event&)>& use,
                    Write w = Write::kNow);

  // Writes the batched lines, if any, with one write(2).
  void Flush();
  // Drops what compacting log reads has learned (the known log: about 40 bytes a log entry),
  // once the run records no more reads: a read recorded after this is written in full.
  void StopCompacting();

  int64_t NowNs() const;
  size_t size() const;  // events recorded
  std::string write_error() const;
  const std::string& path() const { return path_; }

  struct Counts {
    int64_t invokes = 0, ok = 0, fail = 0, info = 0, nemesis = 0;
  };
  Counts counts() const;
  // Writes (every op but `read`) acknowledged so far. Lock-free: the nemesis polls it to crash
  // nodes the moment a write is acknowledged (nemesis/scenario.h AwaitWriteAck).
  int64_t ok_writes() const { return ok_writes_.load(std::memory_order_relaxed); }

 private:
  Recorder(std::string path, int fd);
  void Stamp(history::Event& e);            // requires mu_
  void Append(history::Event& e, Write w);  // requires mu_
  void FlushLocked();                       // requires mu_
  std::string path_;
  int fd_;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  int64_t next_index_ = 0;
  std::string pending_;  // batched lines not yet written
  Counts counts_;
  std::atomic<int64_t> ok_writes_{0};
  ReadCompactor compactor_;  // log reads are written compact (docs/history-format.md)
  bool compacting_ = true;
  std::string write_error_;
};

}  // namespace tidemark::run
