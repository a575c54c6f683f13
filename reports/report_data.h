// Loading a run directory for the reports, tolerating what a crashed run leaves behind.
//
// LoadRun reads RUN_DIR/test.json, results.json and history.jsonl (RunInMemory takes them from a
// caller that holds them, as `tidemark run` does). None of them is required: a
// missing or unparsable file, or a history whose last line is torn, becomes a warning (shown in
// the report) and the data read so far is kept. Ops are paired with history::PairOps, so op ids
// are the ones the checkers used in results.json; if pairing fails (a malformed history), the
// lenient form of PairOps is used instead and a warning says that ids may differ.
//
// ReportData turns a loaded run into the compact JSON the report page embeds (see
// report_template.html for the reader of that format).
//
// Threading: pure functions apart from reading files; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::reports {

struct RunData {
  std::string run_dir;
  nlohmann::json test = nlohmann::json::object();  // test.json, {} when absent
  nlohmann::json results;                          // results.json, null when absent/unreadable
  history::History events;                         // every event read (up to a torn line)
  std::vector<history::Op> ops;                    // paired client ops, Op::id == position
  // For an info op: the time (ns) its `info` completion was recorded, -1 if it never completed.
  std::vector<int64_t> info_ns;
  std::vector<std::string> warnings;  // plain text, shown at the top of the report
  int64_t end_ns = 0;  // the last event's time when `events` holds only the nemesis' (RunStreamed)
  // A streamed run (RunStreamed) holds no `ops`: every op's skeleton, and whole (with their
  // values) only the ops the report embeds.
  bool streamed = false;
  history::OpSkeletons skeletons;
  std::unordered_map<int64_t, history::Op> embedded;

  size_t OpCount() const { return streamed ? skeletons.size() : ops.size(); }
  history::OpBrief Brief(size_t i) const {
    return streamed ? skeletons.Brief(i) : history::OpsView(ops)[i];
  }
  // Op i whole, or nullptr when a streamed run did not keep it.
  const history::Op* Whole(size_t i) const;
};

// Errors only when run_dir is not a directory.
Result<RunData> LoadRun(const std::string& run_dir);
// A run the caller holds in memory (`tidemark run`, which has just written test.json and
// results.json and read history.jsonl back for the checkers): nothing is read from disk. `ops`,
// when given, are the events already paired (history::PairOpsTakingValues: the client events
// may have given their values to them); otherwise the events are paired here.
RunData RunInMemory(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History events,
                    std::optional<std::vector<history::Op>> ops = std::nullopt);

// How much of a run the report embeds (below).
struct EmbedOptions;

// A run analysed as a stream (checkers::AnalyseLogStream, `tidemark run` of a log workload): the
// events are only the nemesis', the ops hold no values, `info_ns` and `end_ns` come from the
// stream. The values of the ops the report embeds (ReportData with `embed`) are read back from
// RUN_DIR/history.jsonl in one more pass, and the log reads an anomaly names are expanded, so the
// report equals the one RunInMemory makes of the whole history while memory holds only them. A
// history that cannot be read back again leaves the values out, with a warning.
RunData RunStreamed(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History nemesis, history::OpSkeletons ops,
                    std::vector<int64_t> info_ns, int64_t end_ns, const EmbedOptions& embed);

// The overall verdict: results.json "verdict" if present and known, else "unknown".
std::string OverallVerdict(const RunData& run);

// Op ids named by the checkers' results (anomaly examples and summaries, linearizability's
// blocked/core/must ops), in increasing order.
std::set<int64_t> ReferencedOps(const nlohmann::json& results);

// Values longer than this (compact JSON bytes) are shortened in the embedded history, except for
// the ops ReferencedOps names, which are always embedded whole.
inline constexpr size_t kMaxEmbeddedValueBytes = 1500;

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

// The compact history embedded in report.html:
//   {"strings": [..],                         // f, key and node names, referenced by index
//    "ops": [[process, f, key|-1, status(0 ok,1 fail,2 info), call_ns, return_ns|-1,
//             node|-1, invoke_index, complete_index|-1, invoke_value, value, error|null,
//             info_ns|-1], ...],              // position == op id
//    "nemesis": [[index, time_ns, f, value], ...],
//    "end_ns": last event time, "concurrency": test.json's workload concurrency or null,
//    "checkers": results.json "checkers" (or []), "referenced": [op ids]}
// A shortened value is {"$truncated": total_bytes, "head": first bytes of its JSON}.
// In overview form (see EmbedOptions) "ops" holds only the embedded ops, each with its op id as
// a 14th element, and two keys are added:
//   "sampled": {"ops": total ops, "embedded": n, "stride": k, "window_ns": half-width used,
//               "windows": [[from_ns, to_ns], ...] (merged anomaly windows),
//               "window": [from_ns, to_ns] or null (EmbedOptions::window_ns)}
//   "throughput": {"bucket_ns": w, "series": [[f, status, [count per bucket from 0]], ...]}
nlohmann::json ReportData(const RunData& run, const EmbedOptions& embed = {});

}  // namespace tidemark::reports
