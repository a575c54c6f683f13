// Workload: the two generators of one run of a named workload (`register` or `log`).
//
// Every run has the same shape (docs/architecture.md):
//   1. main phase   — Main(): the workload's ops, staggered to `rate`, for `time_limit_s`;
//   2. heal + wait  — done by the runner (not a generator);
//   3. final phase  — FinalPhase(): reads from every node (log) or of every active key
//                     (register), each retried until ok, bounded by `final_timeout_s`.
// The runner drives Main() until kDone and until its outstanding ops completed, heals, waits
// for recovery, then drives FinalPhase() until kDone (same loop, generator.h).
//
// Threading: not thread-safe; one thread drives both generators, one after the other.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "workloads/generator.h"

namespace tidemark::workloads {

struct WorkloadOptions {
  std::string name = "log";    // "register" | "log"
  double rate = 100;           // ops per second over all processes; <= 0: as fast as possible
  int concurrency = 5;         // >= 1
  double time_limit_s = 60;    // main phase length, > 0
  int nodes = 3;               // >= 1
  double read_fraction = 0.5;  // [0, 1]
  // register
  int keys_in_flight = 0;     // 0: max(1, concurrency / 5) rounded up, so ~5 processes per key
  int64_t ops_per_key = 100;  // >= 1
  // log
  double local_read_fraction = 0.5;  // [0, 1], of reads
  int64_t read_window = 256;         // >= 0
  // Optional: processes that only read (LogOptions::reader).
  std::function<bool(int64_t process)> reader;
  // final phase
  double final_timeout_s = 30;          // > 0: the whole final phase
  int64_t final_read_attempts = 20;     // >= 1 per node / key
  double final_retry_interval_s = 0.5;  // mean spacing of retries, >= 0
};

class Workload {
 public:
  virtual ~Workload() = default;

  // The main-phase generator; owned by the Workload, valid while it lives.
  virtual Generator& Main() = 0;

  // A fresh final-phase generator. Call after Main() returned kDone (it may use what the main
  // phase observed, e.g. which register keys are still active).
  virtual GenPtr FinalPhase() = 0;
};

// The model a workload's histories are checked against (checkers/analyse.h CheckersFor picks
// the checkers from it): "log" -> "log", "register" -> "cas-register". Errors: unknown workload.
Result<std::string> ModelOf(const std::string& workload);

// Builds the named workload. Errors name the bad option: unknown name, concurrency < 1,
// nodes < 1, time_limit_s <= 0, a fraction outside [0, 1], ...
Result<std::unique_ptr<Workload>> MakeWorkload(const WorkloadOptions& opts);

}  // namespace tidemark::workloads
