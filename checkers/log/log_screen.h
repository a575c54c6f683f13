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
// A doubted history's whole check need not keep every read: Focus names the ones it must keep
// (ReadFocus), unless the doubt is global. Besides the per-offset and per-value state, the
// screen keeps the op ids of the suspect reads (stale, nonmonotonic), one or two per instance
// the whole check will report. Not thread-safe.
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

// The reads a whole check of a doubted history keeps (LogScreen::Focus): those that can take
// part in an anomaly the screen saw a trace of. A check of the history that keeps only these
// (ParseLogOps or LogOpsBuilder with Keep as its ReadKeep, the ops as a sparse
// history::OpSkeletons of the appends and the kept reads) gives CheckLogPrefix's and
// CheckReplicas' results byte for byte. A read is kept when it is final, is a suspect itself
// (a stale read; either read of a nonmonotonic pair), covers or holds a suspect offset (two
// values met there, a covering read held nothing where a value was committed, or a read held
// an entry at or above its HWM there), holds a suspect value (never appended or read before
// its append, all its appends failed, or seen at two offsets), or, not final, holds an entry
// at or beyond the final log's end. docs/anomalies.md "The one-pass screen" says why the
// others cannot change the result. Values are named by id, so the parse must intern them as the
// screen's builder did: the same history, read the same way (one event at a time, as
// history::OpStream pairs them; ParseLogOps over a vector orders completions after every
// invocation and may number them otherwise).
class ReadFocus {
 public:
  bool Keep(const ReadRec& r, const std::vector<EntryRec>& entries) const;
  // Whether the check needs the op of an append of value `vid` (-1: not interned) that ended
  // with `status`: of a failed append, only when its value is suspect (the checkers name a failed
  // append only as an aborted or phantom read's); of any other, always.
  bool KeepAppend(history::EventType status, int32_t vid) const {
    return status != history::EventType::kFail ||
           (vid >= 0 && static_cast<size_t>(vid) < values_.size() && values_[vid]);
  }
  // Keep, for a parse; refers to this focus, which must outlive it.
  ReadKeep AsKeep() const {
    return [this](const ReadRec& r, const std::vector<EntryRec>& e) { return Keep(r, e); };
  }
  size_t offsets() const { return offsets_.size(); }
  size_t values() const { return n_values_; }
  size_t reads() const { return reads_.size(); }

 private:
  friend class LogScreen;
  std::vector<int64_t> offsets_;  // sorted, distinct
  std::vector<bool> values_;      // vid -> suspect
  size_t n_values_ = 0;
  std::vector<int64_t> reads_;  // op ids, sorted, distinct
  int64_t beyond_ = INT64_MAX;  // a non-final read holding an entry at or beyond this is kept
};

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
  // After Doubt: the reads a whole check must keep (ReadFocus), or nullopt when the doubt is
  // global, i.e. the screen's one-pass reasoning does not hold for the history (times go
  // backwards, final reads are not last, offsets too sparse, ops of another workload, nothing
  // to check): then the whole check keeps every read.
  std::optional<ReadFocus> Focus() const;

 private:
  void Suspect(const std::string& why);
  // A doubt the focus cannot narrow: the whole check keeps every read.
  void SuspectAll(const std::string& why);
  void SuspectOffset(int64_t offset) { sus_offset_[static_cast<size_t>(offset)] = true; }
  void SuspectValue(int32_t vid);
  void SuspectRead(int64_t op) { sus_reads_.push_back(op); }
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
    int64_t hwm = -1, call = 0, op = -1;
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

  // What a focused whole check keeps (Focus): per offset (sized as value_at_) and per value
  // whether it is suspect, and the suspect reads (op ids, in the order found, with repeats:
  // one or two per stale or nonmonotonic read, as the whole check's instances); global_: a
  // doubt the focus cannot narrow.
  bool global_ = false;
  std::vector<bool> sus_offset_, sus_values_;
  std::vector<int64_t> sus_reads_;
};

}  // namespace tidemark::checkers::logck
