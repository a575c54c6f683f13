// What the report needs of every op of a run, gathered one op at a time, so that a run's ops need
// not all be held (reports::RunStreamed reads them from history.jsonl in two passes).
//
// OpTally, one pass over every op: how many ops there are of each outcome, the exact throughput
// series, and the times of the ops the checkers name. OpChooser, a second pass after a tally of
// the same ops: which ops the report embeds (EmbedOptions). Both are fed a history's ops as it is
// read: each op's invoke in id order (invocation order: 0, 1, 2, ...), and each op's completion
// once, after its invoke, in any order (a file's completion order; the ops that never completed at
// the end). A caller holding the ops (LoadRun) feeds each op's invoke and completion in id order.
//
// Memory: an OpTally holds its series (at most about kThroughputBuckets counts per op kind and
// outcome) and the named ops' times; an OpChooser one entry per op outstanding (invoked, not yet
// completed) and per op it may embed. Neither holds anything per op of the run.
//
// Threading: an object is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"

namespace tidemark::reports {

// How much of a run the report embeds. A run with at most max_full_ops ops is embedded whole.
// A larger one (a long nightly) is embedded in overview form, so the page stays small and opens
// at any size: every op a checker names, the ops around them (within kAnomalyWindowNs, less when
// that would exceed half the budget), every op overlapping `window_ns`, and one op in `stride`
// elsewhere (about max_full_ops / 2 of them); throughput per op kind and outcome is embedded
// exactly, in at most kThroughputBuckets buckets. (docs/report.md "Large runs")
inline constexpr size_t kMaxFullReportOps = 100'000;
inline constexpr int64_t kAnomalyWindowNs = 1'000'000'000;
inline constexpr int kThroughputBuckets = 2000;
struct EmbedOptions {
  size_t max_full_ops = kMaxFullReportOps;
  std::optional<std::pair<int64_t, int64_t>> window_ns;  // [from, to]: every op overlapping it
};

// The throughput's bucket width (ns) for a run whose last event is at end_ns.
int64_t ThroughputBucketNs(int64_t end_ns);

// When an op ends for the report: its return, or its call when it never returned.
int64_t EndOf(const history::Op& op);

// Every op of a run, counted.
class OpTally {
 public:
  // `referenced`: the op ids the checkers name (ReferencedOps); `bucket_ns`: ThroughputBucketNs.
  explicit OpTally(std::set<int64_t> referenced = {}, int64_t bucket_ns = 1);

  // An op completed (or never: kInfo, no return), its values unread; `info_ns`: when its `info`
  // completion was recorded, -1 if none. Each op once, in any order.
  void Add(const history::Op& op, int64_t info_ns);

  size_t ops() const { return ops_; }
  size_t ok() const { return ok_; }
  size_t fail() const { return fail_; }
  size_t info() const { return info_; }
  const std::set<int64_t>& referenced() const { return referenced_; }
  // Op id -> (call_ns, EndOf) of each referenced op seen.
  const std::map<int64_t, std::pair<int64_t, int64_t>>& referenced_times() const {
    return referenced_times_;
  }

  // Throughput: completions per (f, status 0 ok / 1 fail / 2 info) per bucket of bucket_ns,
  // counted by completion time (an info op's: its info completion's; an op with none is not
  // counted). `first_counted`: each f's lowest op id counted, the order a reader going through the
  // ops by id meets the names in.
  int64_t bucket_ns() const { return bucket_ns_; }
  const std::map<std::pair<std::string, int>, std::vector<int64_t>>& series() const {
    return series_;
  }
  const std::map<std::string, int64_t>& first_counted() const { return first_counted_; }

 private:
  std::set<int64_t> referenced_;
  int64_t bucket_ns_;
  size_t ops_ = 0, ok_ = 0, fail_ = 0, info_ = 0;
  std::map<int64_t, std::pair<int64_t, int64_t>> referenced_times_;
  std::map<std::pair<std::string, int>, std::vector<int64_t>> series_;
  std::map<std::string, int64_t> first_counted_;
};

// Which ops a report embeds. In overview form (more than max_full_ops ops, or a window) it takes
// every referenced op; with a window, every op overlapping it (sweeping the ops in call order,
// as op ids are: the sweep stops at the first op called after the window ends); the ops in the
// windows around the referenced ops as wide as kAnomalyWindowNs, else kAnomalyWindowNs / 10 on
// each side, the first whose ops, beyond the ones above, number at most max_full_ops / 2 (when
// neither does, none: the windows are 0 wide); and one op in `stride`. Else every op.
class OpChooser {
 public:
  // After `tally` has counted every op.
  OpChooser(const OpTally& tally, const EmbedOptions& embed);

  bool overview() const { return overview_; }
  // Op `id` was invoked at call_ns. Ids come in order, 0, 1, 2, ..., each before its Complete.
  void Invoke(int64_t id, int64_t call_ns);
  // Op `id` ended at end_ns (EndOf). True when the report may embed it: a caller that keeps ops
  // whole keeps it, until Wanted says no more (after narrowed() changed) or Chosen leaves it out.
  bool Complete(int64_t id, int64_t end_ns);
  // Whether op `id`, which Complete took, may still be embedded.
  bool Wanted(int64_t id) const;
  // How many times a window width was given up (it held too many ops): each time, some ops
  // Complete took are no longer Wanted.
  int narrowed() const { return narrowed_; }
  // After every op completed: the ops to embed, in id order. In overview form *sampled describes
  // the choice (ReportData's "sampled"); otherwise it is null and every op is chosen.
  std::vector<int64_t> Chosen(nlohmann::json* sampled) const;

 private:
  // One candidate width of the windows around the referenced ops.
  // The widths tried in turn: kAnomalyWindowNs, a tenth of it, and 0, which takes no op.
  struct Width {
    int64_t half = 0;                                  // ns on each side
    std::vector<std::pair<int64_t, int64_t>> windows;  // merged
    size_t next = 0;    // the sweep: the first window that does not end before the last call
    size_t count = 0;   // ops in them beyond the referenced and --window ones
    bool alive = true;  // count <= the budget so far
  };
  static constexpr size_t kSwept = 2;  // the widths whose ops are counted and taken
  // An op invoked and not completed yet: where each sweep stood at its call.
  struct Outstanding {
    std::array<size_t, kSwept> next{};
    bool window_open = false;
  };
  static constexpr uint8_t kBase = 1;  // referenced, in the window, or on the stride
  static uint8_t WidthBit(size_t k) { return static_cast<uint8_t>(2u << k); }

  size_t n_;
  bool overview_;
  size_t budget_;  // max_full_ops / 2
  size_t stride_;
  std::set<int64_t> referenced_;  // ids < n_
  std::optional<std::pair<int64_t, int64_t>> window_;
  bool window_open_ = true;  // no op called after the window's end yet
  std::array<Width, 3> widths_;
  std::unordered_map<int64_t, Outstanding> outstanding_;
  std::map<int64_t, uint8_t> marks_;  // op id -> why it may be embedded (kBase, WidthBit)
  int narrowed_ = 0;
};

}  // namespace tidemark::reports
