// The linearizability checker (docs/checker.md).
//
// CheckLinearizability decides whether a history's ops can be ordered so that every op takes
// effect atomically between its call and its return, and the order obeys the model's sequential
// specification (model.h). Semantics follow Jepsen:
//   - `fail` ops are removed (they certainly never took effect);
//   - `info` ops (crashed; no completion) are optional: each may take effect at any point after
//     its call, or never; crashed reads constrain nothing and are dropped;
//   - a history is linearizable when every `ok` op is placed.
// With partition_by_key, each key is checked alone (P-compositionality) on a thread pool,
// smallest key first; the first violation cancels the other keys. KeyedCheck does the same for
// ops handed over key by key (a history read as a stream, checkers/analyse.h AnalyseLinStream),
// with the same preparation, search and merging of the keys' results.
//
// Verdicts: kValid; kInvalid with an explanation (failing key, deepest linearization, the op(s)
// that could not be placed next with the model state and what they could have returned, and a
// counterexample core obtained by weakening only, re-checked to be invalid); kUnknown with
// details.reason "timeout", "memory", "cancelled" or "bad-input" (an op the model does not know).
// Never kValid on a budget or input problem.
//
// Thread safety: CheckLinearizability is reentrant; it starts and joins its own threads. A
// KeyedCheck is used by one thread; it starts and joins its own workers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/history/history.h"
#include "checkers/checker.h"

namespace tidemark::checkers {

// How much to explain an invalid verdict. Every mode names the failing key, the deepest
// linearization the search reached and the op that could not be placed there (with what it could
// have returned); they differ in the search for a small counterexample core:
//   kNone     no core, and no extra search at all (the report comes from the verdict's search);
//   kFast     a core shrunk within a budget proportional to the verdict's own time
//             (explain_factor x verdict time, at most explain_cap_s; no time floor, but the
//             first 8 re-checks always run, so a small history's core is the same on every run),
//             so explaining costs about what deciding cost; details.core_minimal says whether
//             the shrinking finished (often not on a sub-millisecond verdict: use kMinimal);
//   kMinimal  shrink until the core is minimal, or explain_timeout_s runs out.
enum class ExplainMode { kNone, kFast, kMinimal };

const char* ToString(ExplainMode m);
// "none", "fast" or "minimal"; false for anything else.
bool ParseExplainMode(const std::string& s, ExplainMode* out);

struct LinearizabilityOptions {
  std::string model = "cas-register";           // see model.h: register, cas-register, kv, log
  double timeout_s = 60;                        // wall-clock budget for the whole check, in seconds
  size_t memory_limit_bytes = size_t{1} << 30;  // search tables, all keys together
  int threads = 0;                              // 0 = hardware concurrency
  bool partition_by_key = true;                 // check each Op::key on its own
  ExplainMode explain = ExplainMode::kFast;     // on invalid: how hard to look for a core
  double explain_factor = 1;                    // kFast: budget = factor x verdict time ...
  double explain_cap_s = 0.1;                   // ... but at most this (seconds)
  double explain_timeout_s = 10;  // kMinimal: budget for shrinking the core (within timeout_s)
};

// Checks `ops` (as PairOps returns them; Op::id is used to name ops in the result).
// details (JSON) always holds: model, keys, ops (checked), steps, configurations, and for each
// unknown key its reason. On invalid it adds: key, linearized (op ids of the deepest prefix),
// linearized_ok / ok_ops (how far the search got), blocked (ops that could not be placed next:
// op id, f, value, could_return), state (model state there), must (the op that had to go next),
// core (op ids with process, f, values, status, call/return ns and event indices),
// core_verified (the core alone was re-checked invalid), core_minimal, core_checks (re-checks the
// shrinking ran).
CheckResult CheckLinearizability(const std::vector<history::Op>& ops,
                                 const LinearizabilityOptions& opts);

// CheckLinearizability (partition_by_key only) for ops handed over one key at a time: each key
// is checked as soon as it is added, on the calling thread (opts.threads == 1) or on a pool of
// opts.threads workers (0: hardware concurrency) while the caller goes on, and its ops are freed
// once checked, except those of the violated key that comes first in check order (smallest key
// first, ties by name), kept for the explanation. So what is held is the ops of the keys waiting
// to be checked (Add blocks while they exceed 65,536 ops) and of that one violated key.
//
// Finish's result equals CheckLinearizability's on all the ops added with threads = 1 (elapsed_s
// aside): every key is searched (a later key may come first in check order) except those after a
// key already known to stop the check, and the keys are merged in check order, counting steps and
// configurations up to the first violated key, as one thread would have run them. What cannot be
// equal is what depends on time: the timeout counts only the time spent checking keys (the
// time spent on them, divided among the workers), not the time between them, and the
// explanation's budget (ExplainMode::kFast) is the time spent on the keys up to the violated
// one. The memory budget is shared by all keys, including the violated key kept for explaining,
// which a key checked after it (but before it in check order) finds charged; the whole check
// would have run that key first.
class KeyedCheck {
 public:
  explicit KeyedCheck(const LinearizabilityOptions& opts);
  ~KeyedCheck();  // stops the workers (the result is then lost)
  KeyedCheck(const KeyedCheck&) = delete;
  KeyedCheck& operator=(const KeyedCheck&) = delete;

  // Every op of `key` (Op::key, "" for none), in any order, fail ops included (they are left
  // out); `key` must not be added again. Ops keep the ids PairOps gave them.
  void Add(std::string key, std::vector<history::Op> ops);
  // The ops added and not yet freed: waiting, being checked, or kept for the explanation.
  size_t ops_held() const;
  // Waits for every key added and merges their results; call once, after the last Add.
  CheckResult Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidemark::checkers
