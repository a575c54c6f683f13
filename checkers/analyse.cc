#include "checkers/analyse.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <unordered_map>
#include <vector>

#include "checkers/linearizability.h"
#include "checkers/log/log_screen.h"

namespace tidemark::checkers {
namespace {

using history::EventType;

// Options the log checkers derive from the history itself. A killed node restarts knowing only
// its durable state and relearns its HWM, so its local reads may legitimately go back across the
// restart: local reads of one node are compared only within one incarnation (between its kills
// as recorded in the history).
LogCheckOptions LogOptionsFor(const history::History& h) {
  LogCheckOptions lo;
  lo.kills_ns = KillTimes(h);
  return lo;
}

struct CheckInput {
  const history::History& history;      // whole, or (streamed) its nemesis events
  const std::vector<history::Op>* ops;  // whole; nullptr when streamed
  const AnalysisSpec& spec;
  // Streamed: the ops' skeletons and the log ops parsed as the history was read.
  const history::OpSkeletons* skeletons = nullptr;
  const Result<logck::LogOps>* log = nullptr;
  // Streamed and screened clean (logck::LogScreen): log-prefix's result; the log ops hold the
  // ok appends only and the skeletons are blank (OpSkeletons::Blank).
  const CheckResult* screened = nullptr;
  // Streamed key by key (AnalyseLinStream): linearizability's result, checked as it was read.
  const CheckResult* keyed = nullptr;
};

// The linearizability options an analysis spec asks for.
LinearizabilityOptions LinOptionsFor(const AnalysisSpec& spec) {
  LinearizabilityOptions lo;
  lo.model = spec.model;
  lo.explain = spec.explain;
  lo.timeout_s = spec.timeout_s;
  lo.memory_limit_bytes = spec.memory_limit_bytes;
  lo.threads = spec.threads;
  lo.partition_by_key = spec.partition_by_key;
  return lo;
}

// A log checker asked of a history that was read key by key, whose ops are not held.
std::optional<CheckResult> NotKeyed(const std::string& name) {
  return CheckResult{
      name, Verdict::kUnknown, "not run on a history read as a stream, key by key", "", {}};
}

// One checker: its result, or nullopt when the spec lacks its input.
using CheckFn = std::function<std::optional<CheckResult>(const CheckInput&)>;

std::optional<CheckResult> RunLogPrefix(const CheckInput& in) {
  if (in.keyed) return NotKeyed("log-prefix");
  if (in.screened) return *in.screened;
  if (in.log) return CheckLogPrefix(*in.skeletons, *in.log, LogOptionsFor(in.history));
  return CheckLogPrefix(*in.ops, LogOptionsFor(in.history));
}

std::optional<CheckResult> RunLogReplicas(const CheckInput& in) {
  if (!in.spec.replicas) return std::nullopt;
  if (in.keyed) return NotKeyed("log-replicas");
  if (!in.spec.replicas->ok())
    return CheckResult{"log-replicas",
                       Verdict::kUnknown,
                       "could not read the replicas' logs: " + in.spec.replicas->error().message,
                       "",
                       {}};
  if (in.log)
    return CheckReplicas(in.spec.replicas->value(), *in.skeletons, *in.log,
                         LogOptionsFor(in.history));
  return CheckReplicas(in.spec.replicas->value(), *in.ops, LogOptionsFor(in.history));
}

std::optional<CheckResult> RunLinearizability(const CheckInput& in) {
  if (in.keyed) return *in.keyed;
  if (in.log) {
    return CheckResult{
        "linearizability", Verdict::kUnknown, "not run on a log history read as a stream", "", {}};
  }
  return CheckLinearizability(*in.ops, LinOptionsFor(in.spec));
}

const std::map<std::string, CheckFn>& Checkers() {
  static const auto* kCheckers = new std::map<std::string, CheckFn>{
      {"log-prefix", RunLogPrefix},
      {"log-replicas", RunLogReplicas},
      {"linearizability", RunLinearizability},
  };
  return *kCheckers;
}

// Model -> its checkers, in order.
const std::vector<std::pair<std::string, std::vector<std::string>>>& Models() {
  static const auto* kModels = new std::vector<std::pair<std::string, std::vector<std::string>>>{
      {"register", {"linearizability"}},
      {"cas-register", {"linearizability"}},
      {"kv", {"linearizability"}},
      {"log", {"log-prefix", "log-replicas"}},
  };
  return *kModels;
}

// Runs one checker; whatever it throws becomes an unknown verdict naming the checker.
std::optional<CheckResult> RunGuarded(const std::string& name, const CheckInput& in) {
  auto it = Checkers().find(name);
  if (it == Checkers().end())
    return CheckResult{name, Verdict::kUnknown, "no checker named '" + name + "'", "", {}};
  try {
    return it->second(in);
  } catch (const std::bad_alloc&) {
    return CheckResult{name, Verdict::kUnknown, "ran out of memory", "", {}};
  } catch (const std::exception& e) {
    return CheckResult{name, Verdict::kUnknown, std::string("failed: ") + e.what(), "", {}};
  }
}

void Count(const history::Event& e, EventCounts& c, int64_t* end_ns) {
  *end_ns = std::max(*end_ns, e.time_ns);
  if (e.process == history::kNemesisProcess) {
    ++(e.f == "leader" ? c.leader : c.nemesis);
    return;
  }
  switch (e.type) {
    case EventType::kInvoke:
      ++c.invoke;
      break;
    case EventType::kOk:
      ++c.ok;
      break;
    case EventType::kFail:
      ++c.fail;
      break;
    case EventType::kInfo:
      ++c.info;
      break;
  }
}

EventCounts CountEvents(const history::History& h, int64_t* end_ns) {
  EventCounts c;
  for (const history::Event& e : h) Count(e, c, end_ns);
  return c;
}

// What every analysis has, whether or not the ops paired.
Analysis Describe(const history::History& h, const AnalysisSpec& spec) {
  Analysis a;
  a.model = spec.model;
  a.events = static_cast<int64_t>(h.size());
  a.counts = CountEvents(h, &a.end_ns);
  if (spec.on_step) spec.on_step("summarising faults");
  a.faults = SummarizeFaults(h);
  return a;
}

void Add(Analysis& a, CheckResult r) {
  a.verdict = Worst(a.verdict, r.verdict);
  a.checks.push_back(std::move(r));
}

}  // namespace

const std::vector<std::string>* CheckersFor(const std::string& model) {
  for (const auto& [name, checkers] : Models())
    if (name == model) return &checkers;
  return nullptr;
}

Analysis Analyse(const history::History& h, const AnalysisSpec& spec) {
  auto ops = history::PairOps(h);
  if (ops.ok()) return Analyse(h, *ops, spec);
  Analysis a = Describe(h, spec);
  Add(a, CheckResult{"history",
                     Verdict::kUnknown,
                     "the recorded history is malformed: " + ops.error().message,
                     "",
                     {}});
  return a;
}

namespace {

// Runs the spec's checkers (or the model's) on `in` into `a`.
void RunCheckers(const CheckInput& in, Analysis& a) {
  const AnalysisSpec& spec = in.spec;
  std::vector<std::string> names = spec.checkers;
  if (names.empty()) {
    const std::vector<std::string>* defaults = CheckersFor(spec.model);
    if (!defaults) {
      Add(a, CheckResult{"model", Verdict::kUnknown, "unknown model '" + spec.model + "'", "", {}});
      return;
    }
    names = *defaults;
  }
  for (const std::string& name : names) {
    if (spec.on_step) spec.on_step("checking " + name);
    if (auto r = RunGuarded(name, in)) Add(a, std::move(*r));
  }
}

}  // namespace

Analysis Analyse(const history::History& h, const std::vector<history::Op>& ops,
                 const AnalysisSpec& spec) {
  Analysis a = Describe(h, spec);
  a.ops = static_cast<int64_t>(ops.size());
  RunCheckers(CheckInput{h, &ops, spec}, a);
  return a;
}

namespace {
Result<Analysis> ReadAndAnalyse(const EventSourceOpener& open, const AnalysisSpec& spec,
                                StreamedHistory* kept);
}  // namespace

Result<Analysis> AnalyseLogStream(const EventSourceOpener& open, const AnalysisSpec& spec,
                                  StreamedHistory* kept) {
  try {
    return ReadAndAnalyse(open, spec, kept);
  } catch (const std::bad_alloc&) {
    // Out of memory while reading (a process cap: tidemark check --memory-limit): what was
    // gathered is given up, and the verdict says why.
    *kept = StreamedHistory{};
    kept->out_of_memory = true;
    Analysis a;
    a.model = spec.model;
    Add(a, CheckResult{"log-prefix",
                       Verdict::kUnknown,
                       "ran out of memory while reading the history",
                       "",
                       {}});
    return a;
  }
}

namespace {

// Feeds every client op of `next` to `invoked` and `completed` as history::OpStream pairs them,
// and every event to `each` first. `completed` also gets the time of the completion event that
// was an `info` (-1 otherwise: ok, fail, or never completed). Errors: the source's, or the
// history does not pair.
using Completed = std::function<void(history::Op&, int64_t info_ns)>;
Result<Ok> ReadOps(const EventSource& next, const std::function<void(history::Event&)>& each,
                   const std::function<void(const history::Op&)>& invoked,
                   const Completed& completed) {
  history::OpStream pairer;
  for (;;) {
    auto e = next();
    if (!e.ok()) return e.error();
    if (!e->has_value()) break;
    history::Event& ev = **e;
    each(ev);
    if (ev.process == history::kNemesisProcess) continue;
    const EventType type = ev.type;
    const int64_t time_ns = ev.time_ns;
    auto op = pairer.Add(std::move(ev));
    if (!op.ok()) return op.error();
    if (type == EventType::kInvoke) {
      invoked(**op);
    } else {
      completed(**op, type == EventType::kInfo ? time_ns : -1);
    }
  }
  for (history::Op& op : pairer.Finish()) completed(op, -1);
  return Ok{};
}

// The id the parse gave an append's value, -1 if none.
int32_t AppendValueId(const logck::LogOpsBuilder& log, const history::Op& op) {
  return op.invoke_value.is_string() ? log.ValueId(op.invoke_value.get_ref<const std::string&>())
                                     : -1;
}

// The whole-history check of a streamed log history the screen doubted: the history is read once
// more, every read parsed, and the checkers run on that. With a focus (the doubt was local:
// logck::ReadFocus), only the reads it names are kept and only the skeletons of those reads and of
// the appends the check may name (ReadFocus::KeepAppend), which gives the same results; without,
// every read and every op's skeleton.
Result<Ok> CheckWhole(const EventSourceOpener& open, const history::History& nemesis,
                      const AnalysisSpec& spec, const std::optional<logck::ReadFocus>& focus,
                      Analysis& a, StreamedHistory* kept) {
  auto next = open();
  if (!next.ok()) return next.error();
  history::OpSkeletons ops = focus ? history::OpSkeletons::Sparse() : history::OpSkeletons();
  if (!focus) ops.reserve(static_cast<size_t>(a.counts.invoke));
  int64_t kept_read = -1;  // the last read the focus kept
  logck::LogOpsBuilder log =
      focus ? logck::LogOpsBuilder(
                  /*ignore_other_ops=*/true,
                  [&](const logck::ReadRec& r, const std::vector<logck::EntryRec>& entries) {
                    const bool keep = focus->Keep(r, entries);
                    if (keep) kept_read = r.op;
                    return keep;
                  })
            : logck::LogOpsBuilder(/*ignore_other_ops=*/true);
  size_t invoked = 0;
  auto read = ReadOps(
      *next, [](history::Event&) {},
      [&](const history::Op& op) {
        log.Invoked(op);
        ++invoked;
        if (!focus) ops.Put(op);
      },
      [&](const history::Op& op, int64_t) {
        log.Completed(op);
        if (!focus || op.id == kept_read ||
            (op.f == "append" && focus->KeepAppend(op.status, AppendValueId(log, op))))
          ops.Put(op);
      });
  if (!read.ok()) return read.error();
  if (focus) ops.SetSize(invoked);
  const Result<logck::LogOps> parsed = std::move(log).Finish();
  kept->focused = focus.has_value();
  if (parsed.ok()) {
    kept->reads_kept = static_cast<int64_t>(parsed->reads.size());
    kept->reads_dropped = parsed->dropped_reads;
  }
  CheckInput in{nemesis, nullptr, spec};
  in.skeletons = &ops;
  in.log = &parsed;
  RunCheckers(in, a);
  return Ok{};
}

Result<Analysis> ReadAndAnalyse(const EventSourceOpener& open, const AnalysisSpec& spec,
                                StreamedHistory* kept) {
  auto next = open();
  if (!next.ok()) return next.error();
  Analysis a;
  a.model = spec.model;
  std::optional<logck::ReadFocus> focus;
  {  // the first reading; its state goes before the second one, if any
    FaultTrace trace;
    logck::LogScreen screen(LogCheckOptions{});
    logck::LogOpsBuilder log(/*ignore_other_ops=*/true, &screen);
    int64_t ops = 0;
    auto read = ReadOps(
        *next,
        [&](history::Event& ev) {
          ++a.events;
          Count(ev, a.counts, &a.end_ns);
          trace.Add(ev);
          if (ev.process != history::kNemesisProcess) return;
          if (ev.f == "kill" && ev.value.is_object()) {
            const nlohmann::json nodes = ev.value.value("nodes", nlohmann::json::array());
            if (nodes.is_array()) {
              for (const auto& n : nodes)
                if (n.is_string()) screen.Killed(n.get<std::string>(), ev.time_ns);
            }
          }
          kept->nemesis.push_back(ev);
        },
        [&](const history::Op& op) {
          log.Invoked(op);
          screen.Invoked(op);
          ++ops;
        },
        [&](const history::Op& op, int64_t) {
          log.Completed(op);
          screen.Completed(op);
        });
    if (!read.ok()) return read.error();
    if (spec.on_step) spec.on_step("summarising faults");
    a.faults = SummarizeFaults(trace);
    a.ops = ops;
    const Result<logck::LogOps> parsed = std::move(log).Finish();
    if (parsed.ok()) {
      kept->screen_doubt = screen.Doubt(parsed.value());
      focus = screen.Focus();
    }
    if (parsed.ok() && !kept->screen_doubt) {
      // Clean: log-prefix is valid, and log-replicas needs only the acks unless it finds something.
      const CheckResult clean = screen.Clean(parsed.value());
      // log-replicas' verdict needs no op; its texts (which name ops) are kept only when it finds
      // nothing, so it reads every op as a blank one, and a finding is checked again, whole.
      const history::OpSkeletons blank = history::OpSkeletons::Blank(static_cast<size_t>(ops));
      CheckInput in{kept->nemesis, nullptr, spec};
      in.skeletons = &blank;
      in.log = &parsed;
      in.screened = &clean;
      Analysis screened = a;
      RunCheckers(in, screened);
      if (screened.verdict == Verdict::kValid) return screened;
      kept->screen_doubt = "a checker found something in the acks";
    }
  }
  if (spec.on_step) spec.on_step("reading the history again to check it whole");
  if (auto whole = CheckWhole(open, kept->nemesis, spec, focus, a, kept); !whole.ok()) {
    return whole.error();
  }
  return a;
}
}  // namespace

namespace {

// Whether a history of `spec` can be checked key by key: a model linearizability judges per key,
// and no checker but linearizability.
bool Keyed(const AnalysisSpec& spec) {
  const std::vector<std::string>* defaults = CheckersFor(spec.model);
  if (!defaults || spec.model == "log") return false;
  const std::vector<std::string>& names = spec.checkers.empty() ? *defaults : spec.checkers;
  return std::all_of(names.begin(), names.end(),
                     [](const std::string& n) { return n == "linearizability"; });
}

// The analysis of a streamed history that ran out of memory: nothing is kept.
Analysis OutOfMemory(const AnalysisSpec& spec, StreamedHistory* kept) {
  *kept = StreamedHistory{};
  kept->out_of_memory = true;
  Analysis a;
  a.model = spec.model;
  CheckResult r{"linearizability", Verdict::kUnknown, "ran out of memory while reading the history",
                "", nlohmann::json::object()};
  r.details["reason"] = "memory";
  Add(a, std::move(r));
  return a;
}

Result<KeyIndex> IndexUnguarded(const EventSource& next,
                                const std::function<void(const history::Op&)>& each_op) {
  KeyIndex index;
  Analysis& a = index.described;
  FaultTrace trace;
  int64_t position = -1;  // of the event being read
  auto read = ReadOps(
      next,
      [&](history::Event& ev) {
        ++position;
        ++a.events;
        Count(ev, a.counts, &a.end_ns);
        trace.Add(ev);
        if (ev.process == history::kNemesisProcess) index.nemesis.push_back(ev);
      },
      [&](const history::Op&) { ++a.ops; },
      [&](history::Op& op, int64_t) {
        if (each_op) each_op(op);
        if (op.status == EventType::kFail) return;
        KeyIndex::Key& k = index.keys[op.key.value_or("")];
        ++k.ops;
        // An op that never completed belongs to the end of the history.
        k.last = std::max(k.last, op.complete_index < 0 ? KeyIndex::kAtEnd : position);
      });
  if (!read.ok()) return read.error();
  a.faults = SummarizeFaults(trace);
  return index;
}

// Reads `open`'s history whole and analyses it (partitioning off: one search of every key).
Result<Analysis> AnalyseWhole(const EventSourceOpener& open, const AnalysisSpec& spec,
                              StreamedHistory* kept) {
  auto next = open();
  if (!next.ok()) return next.error();
  history::History h;
  for (;;) {
    auto e = (*next)();
    if (!e.ok()) return e.error();
    if (!e->has_value()) break;
    h.push_back(std::move(**e));
  }
  auto ops = history::PairOps(h);
  if (!ops.ok()) return ops.error();
  kept->nemesis = history::NemesisEvents(h);
  kept->max_ops_held = static_cast<int64_t>(ops->size());
  return Analyse(h, *ops, spec);
}

// The second reading: every key's ops collected, each key handed to the check as the stream
// passes its last event, then the results merged.
Result<Analysis> CheckKeys(const EventSourceOpener& open, KeyIndex index, const AnalysisSpec& spec,
                           StreamedHistory* kept) {
  Analysis a = std::move(index.described);
  a.model = spec.model;
  kept->nemesis = std::move(index.nemesis);
  if (spec.on_step) spec.on_step("checking linearizability key by key (reading the history again)");
  auto next = open();
  if (!next.ok()) return next.error();
  KeyedCheck check(LinOptionsFor(spec));
  std::unordered_map<std::string, std::vector<history::Op>> open_keys;
  size_t open_ops = 0;
  std::optional<std::string> changed;  // the history differs from the one indexed
  auto hand_over = [&](const std::string& key, std::vector<history::Op> ops) {
    auto it = index.keys.find(key);
    if (it == index.keys.end() || it->second.ops != static_cast<int64_t>(ops.size())) {
      if (!changed) changed = "key \"" + key + "\" has other ops than when it was indexed";
      return;
    }
    index.keys.erase(it);
    open_ops -= ops.size();
    check.Add(key, std::move(ops));
  };
  int64_t position = -1;
  auto read = ReadOps(
      *next, [&](history::Event&) { ++position; }, [](const history::Op&) {},
      [&](history::Op& op, int64_t) {
        if (op.status == EventType::kFail || changed) return;
        std::string key = op.key.value_or("");
        auto it = index.keys.find(key);
        if (it == index.keys.end()) {
          changed = "key \"" + key + "\" was not indexed";
          return;
        }
        const bool last = op.complete_index >= 0 && it->second.last == position;
        std::vector<history::Op>& ops = open_keys[key];
        ops.push_back(std::move(op));
        ++open_ops;
        kept->max_ops_held =
            std::max(kept->max_ops_held, static_cast<int64_t>(open_ops + check.ops_held()));
        if (!last) return;
        std::vector<history::Op> done = std::move(ops);
        open_keys.erase(key);
        hand_over(key, std::move(done));
      });
  if (!read.ok()) return read.error();
  // The keys with an op that never completed end with the history (in key order: any order
  // gives the same result).
  std::map<std::string, std::vector<history::Op>> at_end;
  for (auto& [key, ops] : open_keys) at_end.emplace(key, std::move(ops));
  open_keys.clear();
  for (auto& [key, ops] : at_end) hand_over(key, std::move(ops));
  if (!changed && !index.keys.empty()) changed = "a key indexed has no op";
  if (changed) return Error{"the history changed between its two readings: " + *changed};
  const CheckResult result = check.Finish();
  AnalysisSpec quiet = spec;
  quiet.on_step = nullptr;  // checked already, as it was read
  CheckInput in{kept->nemesis, nullptr, quiet};
  in.keyed = &result;
  RunCheckers(in, a);
  return a;
}

}  // namespace

Result<KeyIndex> IndexKeys(const EventSource& next,
                           const std::function<void(const history::Op&)>& each_op) {
  try {
    return IndexUnguarded(next, each_op);
  } catch (const std::bad_alloc&) {
    KeyIndex index;
    index.out_of_memory = true;
    return index;
  }
}

Result<Analysis> AnalyseLinStream(const EventSourceOpener& open, KeyIndex index,
                                  const AnalysisSpec& spec, StreamedHistory* kept) {
  if (!Keyed(spec))
    return Error{"model '" + spec.model + "' with these checkers is not checked key by key"};
  try {
    if (index.out_of_memory) return OutOfMemory(spec, kept);
    if (!spec.partition_by_key) return AnalyseWhole(open, spec, kept);
    return CheckKeys(open, std::move(index), spec, kept);
  } catch (const std::bad_alloc&) {
    return OutOfMemory(spec, kept);
  }
}

Result<Analysis> AnalyseLinStream(const EventSourceOpener& open, const AnalysisSpec& spec,
                                  StreamedHistory* kept) {
  if (!Keyed(spec))
    return Error{"model '" + spec.model + "' with these checkers is not checked key by key"};
  try {
    if (!spec.partition_by_key) return AnalyseWhole(open, spec, kept);
  } catch (const std::bad_alloc&) {
    return OutOfMemory(spec, kept);
  }
  auto next = open();
  if (!next.ok()) return next.error();
  auto index = IndexKeys(*next);
  if (!index.ok()) return index.error();
  return AnalyseLinStream(open, std::move(*index), spec, kept);
}

nlohmann::json ToJson(const Analysis& a) {
  nlohmann::json checks = nlohmann::json::array();
  for (const CheckResult& r : a.checks) checks.push_back(ToJson(r));
  const EventCounts& c = a.counts;
  return {{"verdict", ToString(a.verdict)},
          {"model", a.model},
          {"events", a.events},
          {"ops", a.ops},
          {"counts",
           {{"invoke", c.invoke},
            {"ok", c.ok},
            {"fail", c.fail},
            {"info", c.info},
            {"nemesis", c.nemesis},
            {"leader", c.leader}}},
          {"duration_s", static_cast<double>(a.end_ns) / 1e9},
          {"checkers", std::move(checks)},
          {"faults", FaultSummaryToJson(a.faults)}};
}

}  // namespace tidemark::checkers
