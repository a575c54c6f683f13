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

// Writes summary, explanation and the violation fields of details (linearizability.h) for a
// partition whose search returned kViolation. `shrink` enables the core (bounded by `budget`).
void ExplainViolation(const Model& model, const PartitionInput& part, const SearchResult& result,
                      const SearchBudget& budget, bool shrink, CheckResult* out);

}  // namespace tidemark::checkers
