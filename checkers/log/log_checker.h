// Log-prefix checkers: did any write acknowledged below the high-water mark get lost?
//
// These checkers decide the `log` workload (docs/history-format.md): clients `append` unique
// string values to one replicated log and `read` ranges of its committed prefix. They find every
// anomaly of docs/anomalies.md, each defined precisely in docs/anomalies.md:
//
//   lost-write, unseen, inconsistent-offsets, duplicate, aborted-read, phantom-read, dirty-read,
//   stale-read, nonmonotonic-read, ack-above-hwm
//
// CheckLogPrefix works on the client history alone. CheckReplicas additionally compares every
// node's dumped log (after the final phase) with each other and with the acknowledged appends,
// so a replica that silently diverged is found even if no client read it.
//
// Verdicts (checkers/checker.h): kInvalid if any anomaly is found, except `unseen` alone, which
// is kInvalid only when an `ok` final read began after the unseen append was acknowledged (the
// final log then provably ends before its offset) and kUnknown otherwise (without final reads
// one cannot tell a lost write from one nobody looked for). A history the checker cannot
// interpret (an op of the wrong shape, an unknown `f`) is kUnknown with the reason, never kValid.
//
// Cost: O(n log n) time in the size of the history (ops plus read entries), O(n) memory. A long
// history is first screened in one pass in memory that grows with the log, not with the reads
// (log_screen.h); only a history the screen doubts is checked here.
//
// Thread safety: the functions are pure; they may be called concurrently on different inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "checkers/checker.h"
#include "checkers/log/log_ops.h"

namespace tidemark::checkers {

struct LogCheckOptions {
  // Per anomaly, how many instances are explained in full (the worst first, see
  // docs/anomalies.md "Reporting"); the rest are summarised (count, op ids, ranges).
  size_t max_examples = 5;
  // Per anomaly, how many op ids of the summarised (non-example) instances are listed.
  size_t max_summary_ops = 100;
  // Ops whose `f` is neither "append" nor "read" make the verdict kUnknown (the history is not a
  // log history) unless this is set, in which case they are skipped.
  bool ignore_other_ops = false;
  // nonmonotonic-read also covers `local` reads of one process from one node (a node's committed
  // log never shrinks). A target that forgets its HWM across a restart, then re-learns it, shows
  // such regressions without losing data; set false to check only `linearizable` reads.
  bool local_reads_monotonic = true;
  // Node name -> times (ns, the history's clock) of the events that killed it. When a node was
  // killed between two local reads of one process from it (a kill recorded after the earlier
  // read was invoked and before the later one returned), the two reads may come from different
  // incarnations and are not compared; every other pair still is. Lets the local check stay on
  // under a nemesis that kills nodes (docs/anomalies.md "nonmonotonic-read").
  std::map<std::string, std::vector<int64_t>> kills_ns;
};

// The kill times per node of a history's nemesis events ("kill" with value {"nodes": [...]}),
// for LogCheckOptions::kills_ns.
std::map<std::string, std::vector<int64_t>> KillTimes(const history::History& events);

// Checks a `log` workload history. `ops` are the paired client ops (history::PairOps), in
// invocation order as PairOps returns them; nemesis events are not ops and play no part.
//
// Returns checker "log-prefix". `details`:
//   {"anomalies": {NAME: {"count": N,
//                         "examples": [{"explanation": "...", "ops": [op ids],
//                                       "events": [event indices], ...anomaly fields}],
//                         "omitted": N - examples,
//                         "summary": {"ops": [op ids], "ops_truncated": bool,
//                                     "offsets": [min, max] | null, "time_s": [first, last],
//                                     "by_node": {node: count}}}},   // summary: rest only
//    "counts": {NAME: N},                                            // only names found
//    "stats": {"appends": {"ok","fail","info"}, "reads": {"ok","fail","info"},
//              "final_reads": N, "final_log_end": offset | null, "values": N}}
// On malformed input: verdict kUnknown, summary naming the first bad op, details {"errors": [...]}.
CheckResult CheckLogPrefix(const std::vector<history::Op>& ops, const LogCheckOptions& opts = {});

// CheckLogPrefix on log ops parsed as the history was read (logck::LogOpsBuilder with
// ignore_other_ops set: opts.ignore_other_ops still decides whether another op makes the verdict
// unknown). The ops may be skeletons (history::OpSkeletons): the checker reads their ids,
// processes, nodes and times, not their values.
CheckResult CheckLogPrefix(history::OpsView ops, const Result<logck::LogOps>& parsed,
                           const LogCheckOptions& opts = {});

// One entry of a node's dumped log.
struct ReplicaEntry {
  int64_t offset = 0;
  int64_t generation = 0;
  // The client value stored at `offset`; nullopt for entries that are not client log values
  // (a new leader's no-op, a key/value operation).
  std::optional<std::string> value;
};

// One node's log as dumped after the final phase. Entries are in strictly increasing offset
// order. The node's committed prefix is [first dumped offset, hwm) (a compacted log need not
// start at 0); an offset in that range with no dumped entry holds no client value, as in a read.
// Entries at offsets >= hwm are uncommitted and take no part in the check.
// The entries of one node's log, held compactly: offsets and generations in arrays and the
// client values interned in a table the replicas of one run may share (run::CollectReplicas), so
// an entry costs about 4 bytes (its value's id; offsets and generations are kept as runs) where a
// ReplicaEntry takes 56, and three nodes hold one copy of each value. Reads give ReplicaEntry
// values (copies).
class ReplicaEntries {
 public:
  ReplicaEntries() : ReplicaEntries(std::make_shared<logck::ValueTable>()) {}
  explicit ReplicaEntries(std::shared_ptr<logck::ValueTable> values) : values_(std::move(values)) {}
  ReplicaEntries(std::initializer_list<ReplicaEntry> entries);  // NOLINT: as a vector
  ReplicaEntries(const std::vector<ReplicaEntry>& entries);     // NOLINT: as a vector

  void push_back(const ReplicaEntry& e);
  void reserve(size_t n);
  size_t size() const { return vids_.size(); }
  bool empty() const { return vids_.empty(); }
  int64_t offset(size_t i) const {
    const Run& r = RunOf(i);
    return r.offset + static_cast<int64_t>(i - r.first);
  }
  int64_t generation(size_t i) const { return RunOf(i).generation; }
  int32_t vid(size_t i) const { return vids_[i]; }  // into values(); -1: no client value
  const logck::ValueTable& values() const { return *values_; }
  std::optional<std::string_view> value(size_t i) const {
    if (vids_[i] < 0) return std::nullopt;
    return (*values_)[static_cast<size_t>(vids_[i])];
  }
  ReplicaEntry operator[](size_t i) const;
  ReplicaEntry front() const { return (*this)[0]; }
  ReplicaEntry back() const { return (*this)[size() - 1]; }
  // The position of the first entry at an offset >= o.
  size_t LowerBound(int64_t o) const;

  class Iterator {
   public:
    Iterator(const ReplicaEntries* e, size_t i) : e_(e), i_(i) {}
    ReplicaEntry operator*() const { return (*e_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const ReplicaEntries* e_;
    size_t i_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

 private:
  // Entries first..(the next run's first) hold consecutive offsets from `offset`, all of one
  // generation: a log is a few such runs (one per leader's term, one more per gap), so an entry
  // costs its value id and little else.
  struct Run {
    size_t first;
    int64_t offset;
    int64_t generation;
  };
  const Run& RunOf(size_t i) const {
    return *(std::upper_bound(runs_.begin(), runs_.end(), i,
                              [](size_t x, const Run& r) { return x < r.first; }) -
             1);
  }
  std::vector<Run> runs_;
  std::vector<int32_t> vids_;  // -1: no client value
  std::shared_ptr<logck::ValueTable> values_;
};

struct ReplicaLog {
  std::string node;
  int64_t hwm = 0;  // the node's commit index: offsets < hwm are committed on this node
  ReplicaEntries entries;
};

// Reads one node's dump. `node` names the replica when the JSON has no "node" field (the
// output of `tidelog dump DATA_DIR` does not). Accepted shapes:
//   `tidelog dump`: {"generation": 3, "hwm_hint": 300, "entries": [{"offset": 0,
//                    "generation": 1, "kind": "noop", "client_id": "", "seq": 0, "payload": ""},
//                    {"offset": 1, "generation": 1, "kind": "append", ..., "payload": "v1-1"}]}
//   generic:        {"node": "n1", "hwm": 300, "entries": [{"offset": 0, "generation": 1,
//                    "value": null}, [1, 1, "v1-1"], ...]}   (an entry object or a triple)
// Field aliases: hwm | commit_index | commit | hwm_hint; entries | log; offset | index;
// generation | term | gen. An entry whose kind/type is not "append" holds no client value.
// Errors name the replica and the bad field.
Result<ReplicaLog> ReplicaLogFromJson(const nlohmann::json& j, const std::string& node = "");
// One entry of a dump as ReplicaLogFromJson reads it (an entry object or a triple); errors
// start with `where` ("replica n1: "). For a reader that converts a dump's entries one at a time.
Result<ReplicaEntry> ReplicaEntryFromJson(const nlohmann::json& e, const std::string& where);
// Reads every node's dump: an array of ReplicaLog objects, an object {"replicas": [...]} or
// {"nodes": [...]}, or an object keyed by node id ({"n1": {...}, ...}; `node` defaults to the key).
Result<std::vector<ReplicaLog>> ReplicaLogsFromJson(const nlohmann::json& j);

// Cross-checks the replicas: their committed prefixes (offsets < hwm) must agree entry by entry
// (same value and generation at every offset two of them hold), hold every value at most once,
// and hold every acknowledged append (an `ok` append in `ops`) at its acknowledged offset; and
// every acknowledged offset must be committed on at least one replica. Returns checker
// "log-replicas" with the same details shape as CheckLogPrefix, anomalies named
// `inconsistent-offsets` (replicas disagree), `duplicate` and `lost-write`. kUnknown on an empty
// replica list, malformed replica logs or malformed ops.
CheckResult CheckReplicas(const std::vector<ReplicaLog>& replicas,
                          const std::vector<history::Op>& ops, const LogCheckOptions& opts = {});
// The same on log ops parsed as the history was read (as for CheckLogPrefix above).
CheckResult CheckReplicas(const std::vector<ReplicaLog>& replicas, history::OpsView ops,
                          const Result<logck::LogOps>& parsed, const LogCheckOptions& opts = {});

}  // namespace tidemark::checkers
