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
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "reports/op_choice.h"

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
  OpTally tally;       // every op, counted
  // A streamed run (RunStreamed) holds no `ops` and no `info_ns`: only the ops the report
  // embeds, whole (with their values), chosen as it read them; `sampled` is ReportData's
  // description of that choice (null when every op is embedded).
  bool streamed = false;
  struct Embedded {
    history::Op op;
    int64_t info_ns = -1;  // as `info_ns` above
  };
  std::map<int64_t, Embedded> embedded;
  nlohmann::json sampled;

  size_t OpCount() const { return streamed ? tally.ops() : ops.size(); }
  // Op i whole, or nullptr when a streamed run did not keep it.
  const history::Op* Whole(size_t i) const;
  // info_ns of op i (-1 when a streamed run did not keep it).
  int64_t InfoNs(size_t i) const;
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

// A run analysed as a stream (checkers::AnalyseLogStream, `tidemark run` of a log workload): the
// events are only the nemesis', `end_ns` the last event's time. Everything the report needs of
// the ops is read back from RUN_DIR/history.jsonl in two passes (compact log reads as written,
// expanded in file order while an op an anomaly names is still to come): one counts every op
// (OpTally), the other keeps whole only the ops the report embeds as `embed` says (OpChooser),
// each with its values, the log reads an anomaly names expanded. So the report equals the one
// RunInMemory (or LoadRun) makes of the whole history, while memory holds the ops it embeds and
// nothing per op of the run. ReportData of the result embeds those ops whatever its own
// `embed`. A history that cannot be read back leaves the report without ops, with a warning.
RunData RunStreamed(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History nemesis, int64_t end_ns, const EmbedOptions& embed);

// LoadRun for a run of any length: RunStreamed on the run's files (one more pass over
// history.jsonl for the nemesis events and the last event's time), so nothing is held per op.
// nullopt when the files are not a clean, finished run (no results.json or an unreadable one,
// a history that does not read or pair cleanly, a torn last line): LoadRun then shows what it
// can, with warnings. The report is the one LoadRun's run gives (`tidemark report`).
std::optional<RunData> LoadRunStreamed(const std::string& run_dir, const EmbedOptions& embed);

// The overall verdict: results.json "verdict" if present and known, else "unknown".
std::string OverallVerdict(const RunData& run);

// Op ids named by the checkers' results (anomaly examples and summaries, linearizability's
// blocked/core/must ops), in increasing order.
std::set<int64_t> ReferencedOps(const nlohmann::json& results);

// Values longer than this (compact JSON bytes) are shortened in the embedded history, except for
// the ops ReferencedOps names, which are always embedded whole.
inline constexpr size_t kMaxEmbeddedValueBytes = 1500;

// The compact history embedded in report.html:
//   {"strings": [..],                         // f, key and node names, referenced by index
//    "ops": [[process, f, key|-1, status(0 ok,1 fail,2 info), call_ns, return_ns|-1,
//             node|-1, invoke_index, complete_index|-1, invoke_value, value, error|null,
//             info_ns|-1], ...],              // position == op id
//    "nemesis": [[index, time_ns, f, value], ...],
//    "end_ns": last event time, "concurrency": test.json's workload concurrency or null,
//    "checkers": results.json "checkers" (or []), "referenced": [op ids]}
// A shortened value is {"$truncated": total_bytes, "head": first bytes of its JSON}.
// In overview form (EmbedOptions, op_choice.h) "ops" holds only the embedded ops, each with its op
// id as a 14th element, and two keys are added:
//   "sampled": {"ops": total ops, "embedded": n, "stride": k, "window_ns": half-width used,
//               "windows": [[from_ns, to_ns], ...] (merged anomaly windows),
//               "window": [from_ns, to_ns] or null (EmbedOptions::window_ns)}
//   "throughput": {"bucket_ns": w, "series": [[f, status, [count per bucket from 0]], ...]}
nlohmann::json ReportData(const RunData& run, const EmbedOptions& embed = {});

}  // namespace tidemark::reports
