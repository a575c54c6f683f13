// Analyse: a history in, the run's results out. The one analysis behind `tidemark run` and
// `tidemark check`, so both write the same results.json (docs/history-format.md "results.json").
//
// Analyse is pure: it pairs the history's ops, runs the checkers the model calls for
// (CheckersFor), summarises the faults (fault_summary.h) and counts the events. It reads no
// file and knows no cluster: what only a live run has (the replicas' dumped logs) comes in the
// spec, and the caller adds what only it knows (the run's timings, the input file's format).
//
// Which checkers judge a history is a table keyed by model (checkers/analyse.cc), not a chain
// of ifs in the callers; a workload names its model (workloads/workload.h ModelOf).
//
// Threading: no shared state; the linearizability checker starts and joins its own threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "checkers/checker.h"
#include "checkers/fault_summary.h"
#include "checkers/linearizability.h"
#include "checkers/log/log_checker.h"

namespace tidemark::checkers {

// The models a history can be checked against (model.h), and the checkers each one gets by
// default, in the order they run: "log" -> log-prefix, log-replicas; "register",
// "cas-register", "kv" -> linearizability. nullptr for an unknown model. (Every name
// model.h's ModelNames lists has a row.)
const std::vector<std::string>* CheckersFor(const std::string& model);

// What Analyse is asked to do.
struct AnalysisSpec {
  std::string model = "cas-register";
  // Checker names ("log-prefix", "log-replicas", "linearizability"), run in this order; empty:
  // CheckersFor(model). A checker whose input the spec does not hold (log-replicas without
  // `replicas`) is left out.
  std::vector<std::string> checkers;
  // linearizability
  ExplainMode explain = ExplainMode::kFast;  // on invalid: how hard to look for a core
  double timeout_s = 120;
  size_t memory_limit_bytes = size_t{1} << 30;
  int threads = 0;
  bool partition_by_key = true;
  // log-replicas: every node's final log as the run collected it; an error when collecting
  // failed (the checker then says unknown with it); unset when there are none (a stored history).
  std::optional<Result<std::vector<ReplicaLog>>> replicas;
  // Called before each step with what it is about to do ("checking log-prefix"), for a
  // progress line; unset: nothing is called.
  std::function<void(const std::string& step)> on_step;
};

// Client and nemesis events of a history, by kind.
struct EventCounts {
  int64_t invoke = 0, ok = 0, fail = 0, info = 0;
  int64_t nemesis = 0;  // the nemesis' own actions (faults, heals, skips)
  int64_t leader = 0;   // leader observations (nemesis-process events with f "leader")
};

struct Analysis {
  Verdict verdict = Verdict::kValid;  // the worst of `checks`
  std::string model;
  std::vector<CheckResult> checks;
  FaultSummary faults;
  EventCounts counts;
  int64_t events = 0;
  int64_t ops = 0;     // client ops paired (0 when pairing failed)
  int64_t end_ns = 0;  // the last event's time
};

// Pairs `h` (PairOps) and analyses it. A history that does not pair is a "history" check that
// says unknown with the reason. Every checker that throws says unknown with what it threw.
Analysis Analyse(const history::History& h, const AnalysisSpec& spec);
// The same with `ops` already paired from `h` (by a caller that wants file:line errors).
Analysis Analyse(const history::History& h, const std::vector<history::Op>& ops,
                 const AnalysisSpec& spec);

// What a streamed analysis keeps of the history besides the analysis itself: the nemesis events
// (the report reads the ops back from the file itself: reports/report_data.h RunStreamed).
struct StreamedHistory {
  history::History nemesis;    // every nemesis event (faults, leader observations), whole
  bool out_of_memory = false;  // reading ran out of memory: nothing else is kept
  // Why the screen (logck::LogScreen) doubted the history, which was then read again and checked
  // whole; nullopt when it passed it.
  std::optional<std::string> screen_doubt;
  // When it was checked whole: whether that check was focused (logck::ReadFocus: the doubt was
  // local), and how many ok reads it kept and dropped (0 dropped unless focused).
  bool focused = false;
  int64_t reads_kept = 0, reads_dropped = 0;
  // Checked key by key (AnalyseLinStream): the most client ops held at once, those of the keys
  // still being read plus those handed to the check and not yet freed (every op when the history
  // was read whole: partitioning off).
  int64_t max_ops_held = 0;
};

// The next event of a history, nullopt at its end, or an error (a malformed file).
using EventSource = std::function<Result<std::optional<history::Event>>()>;
// A history's events from its start, afresh at each call (the file opened again).
using EventSourceOpener = std::function<Result<EventSource>()>;

// Analyse for a `log` history read as a stream (a long run's history is never held whole). The
// history is read once, one event at a time: each op is paired as its completion arrives
// (history::OpStream), parsed into the log checkers' form (logck::LogOpsBuilder) with its reads
// handed to a screen (logck::LogScreen) rather than kept, and its values dropped; the fault
// summary gathers what it reads (FaultTrace). When the screen proves the history free of
// anomalies and log-replicas finds nothing in the acks (it reads every op as a blank one there:
// OpSkeletons::Blank, its texts being thrown away when it finds something), that is the
// analysis: memory grows with the log (acks and values), not with the reads. Otherwise the history
// is read once more and checked whole, so the checkers explain what they find. Every read is parsed
// again (values, counts), but what is kept depends on the doubt. A local one (an anomaly's trace:
// the screen names the offsets, values and reads concerned, logck::ReadFocus) keeps every append,
// only the reads that cover or hold a suspect offset, hold a suspect value, are suspect themselves
// (stale, either read of a nonmonotonic pair) or are final, and the skeletons (about 100 bytes)
// of those reads and of the appends that did not fail or whose value is suspect only: memory grows
// with the log and with the reads near the anomalies. A global one
// (a history the screen cannot reason about in one pass: times going backwards, final reads not
// last, sparse offsets, ops of another workload, nothing to check, a malformed op) keeps every
// read and every op's skeleton (about 260 bytes an op). Either way the result equals Analyse's
// on the same history. Only the log checkers (log-prefix,
// log-replicas) run this way; another name in spec.checkers says unknown.
// Running out of memory (std::bad_alloc, e.g. under a process cap) is a log-prefix check that says
// unknown, with nothing kept.
// Errors: the source's, or the history does not pair (Analyse on the whole history says why).
Result<Analysis> AnalyseLogStream(const EventSourceOpener& open, const AnalysisSpec& spec,
                                  StreamedHistory* kept);

// What the first reading of a streamed linearizability analysis learns (IndexKeys): everything
// Analyse reports but the checks, the nemesis events, and per key (Op::key, "" for none) how
// many ops it has that did not fail and where its last one completes. Memory grows with the
// keys and the nemesis events, not with the ops.
struct KeyIndex {
  // A key with an op that never completed ends with the history.
  static constexpr int64_t kAtEnd = INT64_MAX;
  struct Key {
    int64_t ops = 0;    // ops that did not fail
    int64_t last = -1;  // position in the stream (0-based, every event) of the last completion
  };
  Analysis described;  // events, ops, counts, end_ns and faults; no model, no checks
  history::History nemesis;
  std::unordered_map<std::string, Key> keys;
  bool out_of_memory = false;  // reading ran out of memory: nothing else is kept
};

// Reads `next` to its end: pairs its ops (history::OpStream: the ids PairOps gives), counts the
// events, gathers the fault summary and the nemesis events, and indexes the keys. `each_op`, when
// given, sees every op as it completes (then those that never did), e.g. to guess the model.
// Running out of memory is not an error: the index says so. Errors: the source's, or the
// history does not pair.
Result<KeyIndex> IndexKeys(const EventSource& next,
                           const std::function<void(const history::Op&)>& each_op = {});

// Analyse for a register, cas-register or kv history read as a stream, checked key by key (a long
// run of the register workload has many short-lived keys, a few active at a time). The history is
// read twice: once to index it (IndexKeys), and once more to collect each key's ops and hand
// them to a KeyedCheck (linearizability.h) as the stream passes the key's last completion, which
// checks the key (on its workers while reading goes on, spec.threads) and frees its ops. Memory
// grows with the keys in flight and their ops, not with the history (StreamedHistory::
// max_ops_held says how many were held at most). The result equals Analyse's on the whole
// history with spec.threads = 1, but for what depends on time (KeyedCheck says what). Without
// spec.partition_by_key (one search of every key) the history is read whole and analysed so.
// Running out of memory (std::bad_alloc, e.g. under a process cap) is a linearizability check
// that says unknown ("ran out of memory while reading the history", reason memory), with nothing
// kept. Errors: a model or checkers this does not cover (log, log-prefix, ...), the source's,
// the history does not pair, or it changed between the readings; the caller then analyses it
// whole, which says why with file and line.
Result<Analysis> AnalyseLinStream(const EventSourceOpener& open, const AnalysisSpec& spec,
                                  StreamedHistory* kept);
// The same after the first reading, done by the caller (to choose the model from its ops).
Result<Analysis> AnalyseLinStream(const EventSourceOpener& open, KeyIndex index,
                                  const AnalysisSpec& spec, StreamedHistory* kept);

// The part of results.json every analysis writes:
//   {"verdict": "valid", "model": "log", "events": 4012, "ops": 2000,
//    "counts": {"invoke", "ok", "fail", "info", "nemesis", "leader"},
//    "duration_s": last event time, "checkers": [ToJson(CheckResult)...],
//    "faults": FaultSummaryToJson}
nlohmann::json ToJson(const Analysis& a);

}  // namespace tidemark::checkers
