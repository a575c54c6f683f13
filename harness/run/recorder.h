// Recorder: the single writer of a run's history.
//
// Every client invoke/completion and every nemesis event goes through Record(), which assigns
// the dense `index` and the `time` (ns since the run started, steady clock), appends the event
// to history.jsonl and flushes it at once (so a controller that crashes still leaves a checkable
// history), and keeps it in memory for the checkers.
//
// Thread safety: Record() may be called from any thread; events are totally ordered by the
// internal mutex, so `index` order and `time` order agree.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
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
  Recorder(std::string path, FILE* f);
  std::string path_;
  FILE* file_;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  history::History events_;
  Counts counts_;
  std::string write_error_;
};

}  // namespace tidemark::run
