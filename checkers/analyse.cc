#include "checkers/analyse.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <new>
#include <optional>
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
};

// One checker: its result, or nullopt when the spec lacks its input.
using CheckFn = std::function<std::optional<CheckResult>(const CheckInput&)>;

std::optional<CheckResult> RunLogPrefix(const CheckInput& in) {
  if (in.screened) return *in.screened;
  if (in.log) return CheckLogPrefix(*in.skeletons, *in.log, LogOptionsFor(in.history));
  return CheckLogPrefix(*in.ops, LogOptionsFor(in.history));
}

std::optional<CheckResult> RunLogReplicas(const CheckInput& in) {
  if (!in.spec.replicas) return std::nullopt;
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
  if (in.log) {
    return CheckResult{
        "linearizability", Verdict::kUnknown, "not run on a log history read as a stream", "", {}};
  }
  LinearizabilityOptions lo;
  lo.model = in.spec.model;
  lo.explain = in.spec.explain;
  lo.timeout_s = in.spec.timeout_s;
  lo.memory_limit_bytes = in.spec.memory_limit_bytes;
  lo.threads = in.spec.threads;
  lo.partition_by_key = in.spec.partition_by_key;
  return CheckLinearizability(*in.ops, lo);
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
using Completed = std::function<void(const history::Op&, int64_t info_ns)>;
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
  for (const history::Op& op : pairer.Finish()) completed(op, -1);
  return Ok{};
}

// The whole-history check of a streamed log history the screen doubted: the history is read once
// more, every read parsed, and the checkers run on that. With a focus (the doubt was local:
// logck::ReadFocus), only the reads it names are kept and only the skeletons of the appends and
// those reads, which gives the same results; without, every read and every op's skeleton.
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
        if (!focus || op.f == "append" || op.id == kept_read) ops.Put(op);
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
