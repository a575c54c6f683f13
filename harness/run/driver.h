// The driver: the loop that turns a generator's ops into requests and their completions into
// history events (Jepsen's interpreter). One per run, on the runner's thread.
//
// Each round it asks the generator for every op it has now, records their invokes (batched,
// written with one write(2) before any request is sent), hands them to the Dispatcher, then
// waits for completions, the generator's wake time or 100 ms, records what came back and tells
// the generator (OnComplete, with the op as the checkers will see it: history::CompleteOp).
//
// Routing: an op the generator pinned to a node goes there; otherwise SetRouting's rule
// (routing.h) picks the node from the process and the leader the Watcher sees.
//
// Threading: not thread-safe; one thread calls Drive and DrainRemaining.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "base/history/history.h"
#include "base/rng.h"
#include "harness/run/cluster.h"
#include "harness/run/dispatcher.h"
#include "harness/run/recorder.h"
#include "harness/run/routing.h"
#include "harness/run/watcher.h"
#include "workloads/generator.h"

namespace tidemark::run {

class Driver {
 public:
  Driver(Recorder& rec, Dispatcher& dispatcher, Cluster& cluster, Watcher& watcher, int concurrency,
         uint64_t seed);

  // Drives `gen` to completion (kDone and nothing outstanding), or until `hard_deadline_ns`
  // (then outstanding ops are left to finish and are recorded when they come back during a
  // later phase or at teardown). Returns false if interrupted.
  bool Drive(workloads::Generator& gen, int64_t hard_deadline_ns);

  // Records the completions that come back after the last generator finished.
  void DrainRemaining(std::chrono::steady_clock::time_point until);

  // --client-routing (routing.h).
  void SetRouting(Routing r) { routing_ = r; }

 private:
  // One pass over the generator: invokes every op it has now. Returns its wake time, or
  // history::kNever; sets *done when it said kDone.
  int64_t InvokeReady(workloads::Generator& gen, int64_t now, bool* done);
  int RouteOf(const workloads::OpRequest& op);
  void Invoke(workloads::OpRequest op, workloads::Generator* gen);
  void Drain(std::chrono::steady_clock::time_point until, workloads::Generator* gen);

  struct Pending {
    history::Op op;                       // as invoked; completed by CompleteOp
    workloads::Generator* gen = nullptr;  // who must hear of the completion
  };

  Recorder& rec_;
  Dispatcher& dispatcher_;
  Cluster& cluster_;
  Watcher& watcher_;
  int concurrency_;
  Rng gen_rng_;
  Rng route_rng_;
  Routing routing_ = Routing::kLeader;
  std::vector<int64_t> process_of_slot_;
  std::vector<bool> busy_;
  std::vector<Pending> pending_;  // by slot; meaningful while busy_
  workloads::GenContext ctx_;
};

}  // namespace tidemark::run
