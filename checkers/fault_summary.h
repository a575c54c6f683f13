// The fault summary: does the nemesis bite, and how fast does the system recover?
//
// SummarizeFaults is a pure function over a recorded history (docs/history-format.md): it reads
// the nemesis events (faults) and the leader observations (f "leader", written by the runner's
// status watcher) and the completion events of the clients; it needs no pairing, no clock and
// no cluster. `tidemark run` stores the result in results.json under "faults", prints
// FormatFaultSummary at the end of its output, and the report shows it as a table
// (docs/nemesis.md "Does the nemesis bite?").
//
// Definitions (all times ns since the run started, as in the history):
// - A fault window runs from a start event (start-partition, kill, pause) to the stop event that
//   closes it (stop-partition, start, resume; the oldest open start of that kind). A window
//   never closed ends at the last event of the history (`stopped` false).
// - The ops of a window are the client completions (ok / fail / info) recorded between its start
//   event and the event that stops it.
// - Recovery after a stop: the time from the stop to the first `ok` completion of a mutating op
//   (every f but read and get) after it, looked for until the next fault starts (or the history
//   ends). nullopt: no mutating op succeeded in that quiet gap.
// - Leader after a stop: the time from the stop until a leader was known again according to the
//   leader observations (0 if one was known at the stop); nullopt if none was known before the
//   next fault started (or the history ended) — or the history has no leader observations.
// - The final heal is the last stop event: the heal after the main phase when a fault was still
//   active then, otherwise the end of the last fault. Only the final reads may follow it, so its
//   recovery is measured to the first `ok` completion of any op.
// - A leader change is a leader observation that names a leader of a higher generation than any
//   named before, after the first one (the first leader of the run is not a change). Leaderless
//   observations ({"node": null}) are counted apart.
// - "Before", "after" and "until" go by file order, never by comparing times: a history whose
//   times are not in order (an importer's) is summarised the same way, times only subtracted.
//
// Threading: plain values and functions; a FaultTrace is a value for one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"

namespace tidemark::checkers {

struct FaultWindow {
  std::string fault;  // "partition", "kill" or "pause"
  std::string what;   // who it hit, e.g. "leader n1 isolated", "n2,n3"
  int64_t start_ns = 0;
  int64_t stop_ns = 0;   // the closing event's time, or the last event's when never stopped
  bool stopped = false;  // a stop event closed it
  int64_t start_index = 0;
  int64_t stop_index = -1;             // -1 when never stopped
  int64_t ok = 0, fail = 0, info = 0;  // client completions inside [start_ns, stop_ns]
  std::optional<int64_t> recovery_ns;  // stop → first ok mutating op (stopped windows)
  std::optional<int64_t> leader_ns;    // stop → a leader known again (stopped windows)
};

struct FinalHeal {
  int64_t time_ns = 0;                 // the last stop event
  std::optional<int64_t> first_ok_ns;  // → the first ok completion of any op after it
  std::string first_ok_f;              // that op's f
  std::optional<int64_t> leader_ns;    // → a leader known again
};

struct FaultSummary {
  int64_t leader_changes = 0;        // see the header comment
  int64_t leaderless_events = 0;     // leader observations with no leader
  int64_t leader_observations = 0;   // every "leader" event
  int64_t skipped = 0;               // "skip" events: scheduled faults that could not be applied
  std::vector<FaultWindow> windows;  // in start order
  // Client completions inside some window / outside every window.
  int64_t ok_in_faults = 0, fail_in_faults = 0, info_in_faults = 0;
  int64_t ok_outside = 0, fail_outside = 0, info_outside = 0;
  std::optional<FinalHeal> final_heal;  // nullopt when no fault was stopped
};

FaultSummary SummarizeFaults(const history::History& h);

// SummarizeFaults for a caller that does not hold the history whole: Add each event in file
// order, then SummarizeFaults(trace) equals SummarizeFaults(history) for the same events, every
// field. Each event is folded in as it arrives (a completion is counted into the windows open
// then and settles the recoveries waiting for it), so the trace holds the fault windows and a
// few counters: memory grows with the fault windows (and the kinds of fault), never with the
// client ops or the leader observations. Add is O(1) per client completion but for the
// recoveries it settles; SummarizeFaults(trace) is O(windows) and may be called at any point
// (it summarises the events added so far).
//
// Threading: a plain value; not safe for concurrent use.
class FaultTrace {
 public:
  void Add(const history::Event& e);

  // The bytes this trace holds, its own and on the heap (an estimate: what its containers have
  // reserved). Constant while client completions, invokes or leader observations are added.
  size_t BytesHeld() const;

 private:
  friend FaultSummary SummarizeFaults(const FaultTrace& t);
  struct Counts {
    int64_t ok = 0, fail = 0, info = 0;
  };
  void Stop(size_t window, const history::Event& e);

  FaultSummary s_;      // the windows so far; an open one's stop_ns and counts are not yet set
  Counts completions_;  // every client completion so far
  std::vector<Counts> at_start_;  // per window: completions_ when it started
  // The open windows of each fault kind, oldest first (indices into s_.windows).
  std::vector<std::pair<std::string, std::deque<size_t>>> open_;
  size_t open_windows_ = 0;  // over every kind
  // Stopped since the latest fault start, still waiting for an ok mutating op / a leader.
  std::vector<size_t> awaiting_recovery_, awaiting_leader_;
  bool final_awaiting_ok_ = false, final_awaiting_leader_ = false;  // for s_.final_heal
  bool leader_known_ = false;  // after the latest leader observation
  std::optional<int64_t> max_generation_;
  std::optional<std::string> last_named_;
  int64_t last_ns_ = 0;  // the last event's time
};
FaultSummary SummarizeFaults(const FaultTrace& t);

// For results.json "faults": times in seconds (3 decimals), absent optionals as null.
// {"leader_changes": 4, "leaderless_observations": 3, "leader_observations": 8, "skipped": 0,
//  "windows": [{"fault": "kill", "what": "n2", "start_s": 3.1, "stop_s": 6.0, "stopped": true,
//               "start_index": 812, "stop_index": 1490, "ok": 310, "fail": 2, "info": 6,
//               "recovery_s": 0.412, "leader_s": 0.0}, ...],
//  "in_faults": {"ok": .., "fail": .., "info": ..}, "outside": {...},
//  "final_heal": {"time_s": 30.2, "first_ok_s": 0.05, "first_ok_f": "read", "leader_s": 0.3}}
nlohmann::json FaultSummaryToJson(const FaultSummary& s);

// A few lines for the end of `tidemark run`'s output: a headline (windows, leader changes), then
// one line per window, the totals and the final heal. Only the headline when there is no window;
// empty when the history holds no fault, skip or leader observation.
std::string FormatFaultSummary(const FaultSummary& s);

}  // namespace tidemark::checkers
