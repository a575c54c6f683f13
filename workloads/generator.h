// Generators: the deterministic source of client operations (docs/architecture.md).
//
// A Generator decides which operation a free client process performs next, and when. It is pure:
// given the seed of its Rng, the sequence of GenContexts it is asked with and the completions it
// is told about, it always produces the same ops. It never sleeps, blocks, reads a clock or does
// I/O; time comes in through GenContext::time_ns.
//
// Threading: not thread-safe. The runner drives a generator from ONE thread:
//
//   Rng rng = Rng::Derive(seed, "generator");
//   for (;;) {
//     GenResult r = gen.Next({now_ns, free_processes, concurrency, nodes}, rng);
//     if (r.kind == GenResult::kOp) { record invoke; hand r.op to the worker of r.op.process;
//                                     continue; }            // ask again at once
//     if (r.kind == GenResult::kDone) break;                 // then wait for outstanding ops
//     wait until r.wake_ns or until a completion arrives (kNever: only a completion);
//     for each completion: record it; gen.OnComplete(op);    // before the next Next
//   }
//
// workloads/simulate.h is that loop on a virtual clock; the runner's loop should match it.
//
// Processes: ops name the process that performs them, always one of ctx.free_processes. After an
// `info` completion the runner retires the process and its worker continues as process
// `old + concurrency` (docs/history-format.md), so `process % concurrency` is the worker slot.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/history/op_request.h"
#include "base/rng.h"

namespace tidemark::workloads {

using history::kNever;

using history::OpRequest;  // base/history/op_request.h

// What a generator may look at when asked for an op.
struct GenContext {
  int64_t time_ns = 0;                  // ns since the run started (monotonic)
  std::vector<int64_t> free_processes;  // processes with no outstanding op, sorted ascending
  int concurrency = 1;                  // number of workers (process % concurrency = worker)
  int nodes = 1;                        // number of nodes; valid OpRequest::node is [0, nodes)
};

struct GenResult {
  enum Kind { kOp, kPending, kDone };
  Kind kind = kDone;
  OpRequest op;              // kOp only
  int64_t wake_ns = kNever;  // kPending only: no op before this time; kNever: after a completion

  static GenResult Op(OpRequest op);
  static GenResult Pending(int64_t wake_ns);
  static GenResult Done();
};

class Generator {
 public:
  virtual ~Generator() = default;

  // The next op, or when to ask again, or that this generator has finished.
  // - kOp: op.process is in ctx.free_processes. The runner must invoke it before calling Next
  //   again (the next context no longer lists that process as free).
  // - kPending: nothing can be emitted before wake_ns (> ctx.time_ns), or, with kNever, before
  //   the next completion is delivered through OnComplete. Asking earlier is allowed and just
  //   returns kPending again.
  // - kDone: final; every later call returns kDone. Outstanding ops are not waited for (Phases
  //   does that); their completions may still be delivered.
  // Must not block, sleep, read clocks or do I/O. May draw from `rng` (and that is the only
  // randomness it may use).
  virtual GenResult Next(const GenContext& ctx, Rng& rng) = 0;

  // Called exactly once for the completion (ok, fail or info) of every op this generator
  // emitted, in completion order, before the next Next. `completed.process` is the process the
  // op was invoked by (even when the completion is info and the process is now retired).
  virtual void OnComplete(const history::Op& completed) { (void)completed; }
};

using GenPtr = std::unique_ptr<Generator>;

// Builds one op's f/key/value/node; the process is filled in by the combinator.
using OpFn = std::function<OpRequest(const GenContext&, Rng&)>;

// Leaves -------------------------------------------------------------------------------------

// An endless stream of fn's ops, each given to a uniformly random free process (kPending until a
// completion when none is free).
GenPtr Repeat(OpFn fn);
// fn's op once (to a random free process), then kDone.
GenPtr Once(OpFn fn);

// Combinators --------------------------------------------------------------------------------
// Completions are routed back only to the child that emitted the op.

// Each call picks a child at random in proportion to `weight` (> 0); if that child is pending,
// the others are tried in order, so a pending child never starves the rest. Done children are
// dropped; kDone when all are done.
GenPtr Mix(std::vector<std::pair<double, GenPtr>> weighted);
// The first n ops of gen, then kDone.
GenPtr Limit(int64_t n, GenPtr gen);
// gen's ops until `duration_ns` after the first call to Next, then kDone.
GenPtr TimeLimit(int64_t duration_ns, GenPtr gen);
// Spaces gen's ops (across all processes) by a seeded random interval uniform in
// [0, 2 * mean_interval_ns], so the long-run rate is 1 / mean_interval_ns. The first op may go
// at once. Ops that could not go on time (no free process) are not made up in a burst: the
// schedule never lags more than one mean interval behind ctx.time_ns.
GenPtr Stagger(int64_t mean_interval_ns, GenPtr gen);
// Runs each generator until it is done AND every op it emitted has completed, then the next.
GenPtr Phases(std::vector<GenPtr> phases);
// Runs all generators side by side (round robin, fairly); kDone when all are done.
GenPtr All(std::vector<GenPtr> gens);
// One child per worker slot w in [0, ctx.concurrency) (built at the first Next): child w only
// sees (and so only uses) the free processes p with p % concurrency == w.
GenPtr EachProcess(std::function<GenPtr(int worker)> make);
// One child per node index i in [0, ctx.nodes) (built at the first Next), run side by side;
// every op child i emits is sent to node i (OpRequest::node = i).
GenPtr OnNodes(std::function<GenPtr(int node)> make);
// Re-invokes gen's ops one at a time (waits for each completion) until one completes `ok`, then
// kDone. Also kDone when gen is done (gave up, e.g. under a Limit).
GenPtr UntilOk(GenPtr gen);

// Builds a vector of generators from move-only arguments: Phases(Gens(a, b)).
template <typename... G>
std::vector<GenPtr> Gens(G&&... gens) {
  std::vector<GenPtr> v;
  (v.push_back(std::forward<G>(gens)), ...);
  return v;
}

}  // namespace tidemark::workloads
