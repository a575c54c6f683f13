// Explaining a linearizability violation (internal to the checker; see linearizability.h).
//
// Given the failing partition and the search's deepest configuration, fills CheckResult with the
// blocked op(s), the model state, and a counterexample core obtained by weakening only: a
// completed read is dropped, a completed write/cas/append becomes crashed (optional); every
// weakening is kept only if the re-check stays invalid. Crashed ops are finally removed (removing
// an optional op never turns an invalid history valid), so the core is a set of completed ops
// that is not linearizable on its own.
//
// Thread safety: pure apart from the shared memory budget; call from one thread per partition.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/history/history.h"
#include "checkers/checker.h"
#include "checkers/lin_search.h"
#include "checkers/model.h"

namespace tidemark::checkers {

// One partition ready for the search: `ops[i]` is the history op behind `search_ops[i]`.
struct PartitionInput {
  std::string key;
  std::vector<const history::Op*> ops;
  std::vector<PartitionOp> search_ops;
};

// Short text for an op: "write 3", "read → 4", "cas [1,2]", "append \"x\" (crashed)".
std::string DescribeOp(const history::Op& op);

// What ExplainViolation may spend beyond the verdict's own search; all of it within
// budget.deadline.
struct ExplainPlan {
  // When the pruned search stopped before the blocked op, search again without pruning for a
  // deepest configuration that ends at it (within `research_slice`).
  bool research = true;
  std::chrono::steady_clock::duration research_slice = std::chrono::milliseconds(300);
  bool shrink = true;  // look for a counterexample core
  // A floor in work rather than time: the first `min_checks` re-checks, and the core's own final
  // search, may run until `hard_deadline` (the end of the check) even past budget.deadline. The
  // first re-check (every op called after the blocked op returned) costs about what the
  // verdict's search did and makes the core worth printing; with a few more, a small history
  // gets the same core on every run whatever the machine's load.
  int64_t min_checks = 1;
  std::chrono::steady_clock::time_point hard_deadline =
      std::chrono::steady_clock::time_point::min();
  // Each re-check of a weakening gets this long; one that runs out counts as a rejection (the core
  // is then reported as possibly not minimal).
  std::chrono::steady_clock::duration shrink_slice = std::chrono::milliseconds(200);
};

// Writes summary, explanation and the violation fields of details (linearizability.h) for a
// partition whose search returned kViolation (`result`, from `search`: a PartitionSearch over
// part.search_ops, re-run here for the re-search and every re-check of the core), spending what
// `plan` allows within `budget`.
void ExplainViolation(const Model& model, const PartitionInput& part, PartitionSearch& search,
                      const SearchResult& result, const SearchBudget& budget,
                      const ExplainPlan& plan, CheckResult* out);

}  // namespace tidemark::checkers
