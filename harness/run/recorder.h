// Recorder: the single writer of a run's history.
//
// Every client invoke/completion and every nemesis event goes through Record(), which assigns
// the dense `index` and the `time` (ns since the run started, steady clock), appends the event
// to history.jsonl and flushes it at once (so a controller that crashes still leaves a checkable
// history), and keeps it in memory for the checkers.
//
// Thread safety: Record() may be called from any thread; events are totally ordered by the
// internal mutex, so `index` order and `time` order agree.
//
// Cost: one write(2) per event (no stdio buffer to flush) and one in-memory copy; RecordAndUse
// avoids even that copy for the caller that needs the event afterwards (a read's value can hold
// thousands of entries).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "harness/history/history.h"
#include "harness/history/result.h"

namespace tidemark::run {

class Recorder {
 public:
  // Opens (truncates) `path`. The run's clock starts now.
  static Result<std::unique_ptr<Recorder>> Open(const std::string& path);
  ~Recorder();

  // Fills e.index and e.time_ns, writes and flushes the line, and returns the recorded event.
  // A write error is remembered (see write_error) and the event is still kept in memory.
  history::Event Record(history::Event e);

  // Records `e` like Record (same index, time, line and flush), keeps it without a copy, and
  // calls `use` with the event as kept, under the recorder's lock (so `use` must be short and
  // must not call the recorder). `use` may move fields out of the event but must put them back
  // before it returns: the event is what the checkers get.
  void RecordAndUse(history::Event e, const std::function<void(history::Event&)>& use);

  int64_t NowNs() const;
  history::History Snapshot() const;
  size_t size() const;
  std::string write_error() const;
  const std::string& path() const { return path_; }

  struct Counts {
    int64_t invokes = 0, ok = 0, fail = 0, info = 0, nemesis = 0;
  };
  Counts counts() const;

 private:
  Recorder(std::string path, int fd);
  history::Event& RecordLocked(history::Event e);  // requires mu_
  std::string path_;
  int fd_;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  std::deque<history::Event> events_;  // a deque: no reallocation, references stay valid
  std::string line_;                   // reused buffer for the line being written
  Counts counts_;
  std::string write_error_;
};

}  // namespace tidemark::run
