// Dispatcher: how the driver's ops reach the system under test and come back.
//
// The driver (one thread) records an op's invoke, hands the op to a client slot with Dispatch,
// and later collects completions with WaitCompletions, recording each. Nothing dispatched is
// sent before the next WaitCompletions call, so the driver can write all the invokes it just
// recorded with one write(2) before any of their requests can reach a node.
//
// Implementation: EventLoop (event_loop.h; every slot on the driver's own thread over
// non-blocking sockets, each with its adapter's SteppedClient). Tests may script their own.
//
// Thread safety: every method from the driver thread only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "targets/adapters/client.h"
#include "workloads/generator.h"

namespace tidemark::run {

struct Job {
  workloads::OpRequest op;
  int node = 0;
  std::string node_name;
  std::string url;
};

struct Done {
  int slot = 0;
  Job job;
  targets::Completion completion;
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Hands `job` to `slot`, which must be free (no op outstanding). It is sent during the next
  // WaitCompletions.
  virtual void Dispatch(int slot, Job job) = 0;
  // Sends what was dispatched, then waits until at least one completion is ready or `until`
  // passes; returns every ready completion.
  virtual std::vector<Done> WaitCompletions(std::chrono::steady_clock::time_point until) = 0;
  // Ops dispatched and not yet returned by WaitCompletions.
  virtual int outstanding() const = 0;
  // Abandons what is outstanding (its completions are never returned) and releases the slots'
  // threads and connections. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tidemark::run
