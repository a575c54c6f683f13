// The search at the heart of the linearizability checker: one partition (one key, or the whole
// history when partitioning is off), already translated into ModelOps.
//
// Wing–Gong/Lowe depth-first search with memoization of (linearized set, state): at every
// configuration the candidates are the unlinearized ops called no later than the earliest return
// of an unlinearized completed op. Completed (ok) ops must all be placed; crashed (info) ops are
// optional and may be placed at any point after their call, or never. A legal completed read is
// placed at once without a choice point (sound: it changes nothing and nothing must precede it).
// States are interned to ids, transitions cached in a dense table while it is small, the
// linearized set hashed incrementally (two 64-bit XOR words), visited configurations kept in an
// open-addressing table whose growth is charged to a shared memory budget.
//
// PartitionSearch keeps all of that between searches of one partition that differ only in which
// ops are weakened (the explanation's shrinking re-checks hundreds of such variants): the state
// space and its transition cache stay warm, and nothing of the partition is copied per search.
//
// Thread safety: SearchPartition is reentrant; concurrent calls share only `budget`. A
// PartitionSearch is used by one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "checkers/model.h"

namespace tidemark::checkers {

// One op of a partition. return_ns is history::kNever for crashed ops; precedence is
// a.return_ns < b.call_ns (equal times count as concurrent).
struct PartitionOp {
  int64_t call_ns = 0;
  int64_t return_ns = 0;
  ModelOp op;
};

struct SearchBudget {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;    // stop early when it becomes true
  std::atomic<int64_t>* memory_left = nullptr;  // bytes still available; nullptr = unlimited
  // Prune configurations the model's StateSpace::Dead rejects (same verdicts, far fewer steps;
  // but the deepest configuration then often stops before the op that could not be placed).
  bool prune_dead = true;
};

enum class SearchOutcome { kLinearizable, kViolation, kTimeout, kMemory, kCancelled };

const char* ToString(SearchOutcome o);

struct SearchResult {
  SearchOutcome outcome = SearchOutcome::kCancelled;
  // On kViolation: the deepest configuration reached — the ops placed (indices into the input),
  // in linearization order, at the point where the most completed ops were placed.
  std::vector<int> deepest;
  int deepest_ok = 0;          // completed ops among `deepest`
  int total_ok = 0;            // completed ops in the partition
  int64_t steps = 0;           // candidate attempts
  int64_t configurations = 0;  // distinct (set, state) pairs visited
  int64_t states = 0;          // distinct model states interned (so far, for a PartitionSearch)
  int64_t pruned = 0;  // configurations cut by StateSpace::Dead (0: pruning changed nothing)
};

// Decides whether `ops` (any order) are linearizable under `model`. Stops with kTimeout at the
// deadline, kCancelled when *cancel is set (both checked every few thousand steps) and kMemory
// when the visited table or transition table would exceed the shared budget.
SearchResult SearchPartition(const Model& model, const std::vector<PartitionOp>& ops,
                             const SearchBudget& budget);

// How a PartitionSearch run treats each op of its partition.
enum class OpMode : uint8_t {
  kAsGiven,   // as in the partition: completed ops must be placed, crashed ones are optional
  kOptional,  // a completed update taken as crashed: any time after its call, or never
  kDropped,   // left out (a completed read that no longer has to be placed)
};

// One partition prepared once for many searches over weakened variants of it. Run(modes, b)
// decides exactly what SearchPartition decides for the partition with every op's mode applied
// (kOptional: ok = false and no return time; kDropped: the op removed); result indices refer to
// the whole partition. The state space, transition cache and visited table are kept (and their
// memory stays charged to `memory_left`) until destruction.
class PartitionSearch {
 public:
  // `model` and `ops` must outlive this object.
  PartitionSearch(const Model& model, const std::vector<PartitionOp>& ops,
                  std::atomic<int64_t>* memory_left);
  ~PartitionSearch();
  PartitionSearch(const PartitionSearch&) = delete;
  PartitionSearch& operator=(const PartitionSearch&) = delete;

  // `modes`: empty (every op as given) or one per op. Completed reads (observers) may be
  // kAsGiven or kDropped only. Stops as SearchPartition does; budget.memory_left is ignored
  // (the tables charge the budget given at construction).
  SearchResult Run(const std::vector<OpMode>& modes, const SearchBudget& budget);

  // Changes when a run re-derives what every later run depends on (the twin classes, once a
  // run first weakens a completed update). The search is deterministic: two runs of the same
  // modes with the same prune_dead, both finished (not stopped by the budget), between which
  // this did not change, give the same result.
  int64_t version() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The situation after placing `prefix` (indices into `ops`, in order) from the initial state.
struct Frontier {
  std::string state;            // encoded model state after the prefix
  int must = -1;                // the unplaced completed op that returns first (it had to go next)
  std::vector<int> candidates;  // unplaced ops that could be placed next in real time
  std::vector<char> legal;      // per candidate: the model accepts it in `state`
};

// `modes` (empty: every op as given, else one per op) as PartitionSearch::Run takes them: a
// dropped op is not there, an optional one is crashed. Indices (prefix, must, candidates) are
// those of `ops` either way.
Frontier AnalyzeFrontier(const Model& model, const std::vector<PartitionOp>& ops,
                         const std::vector<int>& prefix, const std::vector<OpMode>& modes = {});

}  // namespace tidemark::checkers
