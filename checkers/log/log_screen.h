// LogScreen: a one-pass screen of a `log` history that keeps state per log offset and per
// value, never per read, and either proves the history free of every anomaly CheckLogPrefix
// looks for, or says why it may not be (a "doubt"). A long run's history is mostly reads; a check
// that held a record per read grew with the run (docs/history-format.md). The screen lets the
// common case, a run with no anomaly, be checked in memory that grows with the log's length only;
// a doubtful history is checked whole (CheckLogPrefix), which explains what it finds.
//
// The screen is sound, not complete: whenever CheckLogPrefix would report anything (an anomaly,
// or unknown), the screen doubts; it may also doubt a history that turns out valid (then the
// whole check costs memory, not correctness). Its one-pass reasoning needs two properties a
// recorded history has, and doubts when they fail:
//   - time order: invocations and ok/fail completions (and kills) come in the file in the order
//     of their times, so when a read completes, every ack that returned before it began has
//     been seen;
//   - final reads last: no non-final op is invoked, and none completes ok or fail, after the
//     first final read is invoked.
// Under them, each anomaly of docs/anomalies.md leaves a trace the screen watches for: a second
// value, or a covering read with none, at an offset that holds a committed value
// (inconsistent-offsets, lost-write, dirty-read against the final log); a value at two offsets
// (duplicate); a read value never appended, read before it was appended, or whose appends all
// failed (phantom-read, aborted-read); an entry at or above its read's HWM, or beyond the final
// log (dirty-read); an ack at or above its HWM, or beyond the final log, or never read
// (ack-above-hwm, lost-write, unseen); a linearizable read whose HWM misses an earlier ack
// (stale-read); a process's reads going back (nonmonotonic-read).
//
// Use: feed every client op as history::OpStream gives it (Invoked at its invocation, Completed
// at its completion, after the LogOpsBuilder it is the ReadSink of), and every kill; then Doubt.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/history/history.h"
#include "checkers/checker.h"
#include "checkers/log/log_checker.h"
#include "checkers/log/log_ops.h"

namespace tidemark::checkers::logck {

class LogScreen : public ReadSink {
 public:
  // opts.kills_ns is ignored: kills are fed as they come (Killed).
  explicit LogScreen(const LogCheckOptions& opts);

  void Invoked(const history::Op& op);
  // After the builder's Completed for the same op.
  void Completed(const history::Op& op);
  void Killed(const std::string& node, int64_t time_ns);

  // ReadSink.
  void Acked(const LogOps& sofar, int32_t append) override;
  void Read(const LogOps& sofar, const ReadRec& r, const std::vector<EntryRec>& entries) override;

  // After the last op: nullopt when the history holds no anomaly for sure, else the first reason
  // to doubt it. `l` is what the builder finished with.
  std::optional<std::string> Doubt(const LogOps& l);
  // The log-prefix result CheckLogPrefix gives the history: valid. Only when Doubt said nullopt.
  CheckResult Clean(const LogOps& l) const;

 private:
  void Suspect(const std::string& why);
  void Time(int64_t t);
  bool Sized(int64_t offset, const LogOps& l);
  // A committed observation of vid at offset (an ack or a read entry below the read's HWM).
  void Observe(int64_t offset, int32_t vid);
  void Nonmonotonic(const history::Op& op, const ReadRec& r);
  int64_t BestAckOffsetBefore(int64_t t) const;
  void Prune();

  LogCheckOptions opts_;
  std::optional<std::string> doubt_;
  int64_t last_time_ = INT64_MIN;

  // Per offset: the first committed value observed there (-1: none), and whether a read covered
  // it holding nothing.
  std::vector<int32_t> value_at_;
  std::vector<bool> gap_;
  // Per value: the offset it was first observed at (committed), whether a read held it
  // (committed or not), whether a read committed-observed it.
  std::vector<int32_t> offset_of_;  // -1: not yet (offsets fit: Sized bounds them)
  std::vector<bool> held_, observed_;

  // Acks as they return: (return time, the highest acknowledged offset so far), where that
  // offset grew; reads still outstanding begin no earlier than the oldest kept point but one.
  std::deque<std::pair<int64_t, int64_t>> best_ack_;
  std::multiset<int64_t> pending_read_calls_;

  // nonmonotonic-read: per (process, node id; -1 for linearizable reads) the last read's HWM and
  // call time.
  struct Last {
    int64_t hwm = -1, call = 0;
    bool any = false;
  };
  std::map<std::pair<int64_t, int32_t>, Last> last_;
  std::unordered_map<std::string, int32_t> node_ids_;
  std::map<std::string, std::vector<int64_t>> kills_;
  std::optional<ReadRec> just_read_;  // the ok read the builder just handed over

  int64_t ok_reads_ = 0, final_reads_ = 0, final_end_ = -1;
  int64_t first_final_call_ = -1;     // -1: no final read invoked yet
  int64_t max_nonfinal_ret_ = -1;     // over ok and fail completions of non-final ops
  int64_t max_ack_offset_ = -1;       // over ok appends
  int64_t max_nonfinal_offset_ = -1;  // over committed entries of non-final reads
};

}  // namespace tidemark::checkers::logck
