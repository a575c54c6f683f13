#include "harness/run/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "base/filename.h"
#include "base/history/jsonl.h"
#include "base/text.h"
#include "checkers/analyse.h"
#include "harness/run/collect.h"
#include "harness/run/plan.h"
#include "harness/run/run_phases.h"
#include "harness/run/verdict_text.h"
#include "runstore/store.h"
#include "targets/adapters/stepped.h"

namespace tidemark::run {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// CPU time of the controller process (all threads; not its children), seconds; with
// RUSAGE_CHILDREN, of its children that have ended (the nodes, once stopped).
double ProcessCpuSeconds(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PerOp(double seconds, int64_t ops) {
  return ops > 0 ? seconds * 1e6 / static_cast<double>(ops) : 0.0;
}

int64_t Completed(const Recorder::Counts& c) { return c.ok + c.fail + c.info; }

}  // namespace

Result<RunOutcome> Run::Execute() {
  if (Status s = WriteTest(); !s.ok()) return s.error();
  out_ << "run directory: " << dir_.path << "\n";
  auto nemesis = NemesisWiring::Create(NemesisConfigOf(opts_, dir_.path), plan_.desc);
  if (!nemesis.ok()) return Error{"bad usage: " + nemesis.error().message};
  nemesis_ = std::move(*nemesis);
  test_["nemesis"] = nemesis_->Describe();
  if (Status s = WriteTest(); !s.ok()) return s.error();
  StopCause cause{"start", "", "", ""};
  if (Status s = Start(&cause); !s.ok()) return Stopped(std::move(cause), s.error());
  const bool completed = Drive();
  Collect();
  return AnalyseAndWrite(completed);
}

// Drive: the main phase under faults, heal, wait for recovery, the final reads. Returns false
// if interrupted.
bool Run::Drive() {
  watcher_ = std::make_unique<Watcher>(*cluster_, *session_,
                                       [this](history::Event e) { rec_->Record(std::move(e)); });
  watcher_->WaitForLeader(10);  // before the clock of the main phase starts to matter
  driver_ = std::make_unique<Driver>(*rec_, *dispatcher_, *cluster_, *watcher_, opts_.concurrency,
                                     opts_.seed);
  driver_->SetRouting(ParseRouting(opts_.client_routing).value_or(Routing::kLeader));
  driver_->GiveUpWhen([this] { return session_->Fatal().has_value(); });
  StatusLine status(out_, opts_.status_tty, *rec_, *watcher_, *cluster_, opts_.time_limit_s,
                    [this] { return nemesis_->ActiveFaults(); });
  status.SetPhase("main");
  bool completed = DriveMain();
  status.SetPhase("heal");
  // Heal everything (partitions, paused and killed nodes) before recovery and final reads.
  if (Status s = nemesis_->HealAll(); !s.ok())
    out_ << "warning: healing after the main phase: " << s.error().message << "\n";
  if (completed) {
    status.SetPhase("recover");
    watcher_->WaitForLeader(opts_.recovery_s);
    status.SetPhase("final");
    completed = DriveFinal();
  }
  status.SetPhase(completed ? "teardown" : "interrupted");
  driver_->DrainRemaining(Clock::now() +
                          milliseconds(static_cast<int64_t>(opts_.op_timeout_s * 1000 + 2000)));
  return completed;
}

bool Run::DriveMain() {
  nemesis_->Start(
      *cluster_, [this] { return watcher_->Leader(); },
      [this](history::Event e) { rec_->Record(std::move(e)); },
      [this] { return rec_->ok_writes(); });
  const int64_t deadline =
      rec_->NowNs() + static_cast<int64_t>((opts_.time_limit_s + opts_.op_timeout_s + 5) * 1e9);
  const double cpu_start = ProcessCpuSeconds();
  const int64_t ops_start = Completed(rec_->counts());
  const bool completed = driver_->Drive(plan_.workload->Main(), deadline);
  cpu_.main_s = ProcessCpuSeconds() - cpu_start;
  cpu_.main_ops = Completed(rec_->counts()) - ops_start;
  return completed;
}

bool Run::DriveFinal() {
  auto final_gen = plan_.workload->FinalPhase();
  const int64_t deadline =
      rec_->NowNs() + static_cast<int64_t>((opts_.final_timeout_s + opts_.op_timeout_s) * 1e9);
  return driver_->Drive(*final_gen, deadline);
}

// Collect: stop the clients and the watcher, ask every node's HWM, stop the nodes and the
// network, and dump the replicas' logs when the model's checkers read them.
void Run::Collect() {
  dispatcher_->Stop();
  session_->Close();
  watcher_->Stop();  // before the nodes stop: their shutdown is not a leader change
  cpu_.harness_s = ProcessCpuSeconds();
  const std::vector<std::optional<int64_t>> hwm = FinalHwms(*cluster_, *status_);
  cluster_->StopAll();
  // The nodes' CPU (and the few ip/nft commands of a netns nemesis), the same measure for the
  // system under test: what the controller's share is compared against.
  cpu_.nodes_s = ProcessCpuSeconds(RUSAGE_CHILDREN);
  nemesis_->Teardown();
  test_["nodes"] = cluster_->Describe();
  test_["nemesis"] = nemesis_->Describe();
  (void)WriteTest();
  const std::vector<std::string>* names = checkers::CheckersFor(plan_.model);
  const bool reads_replicas =
      names && std::find(names->begin(), names->end(), "log-replicas") != names->end();
  if (reads_replicas && !plan_.desc.capabilities.dump_argv.empty())
    replicas_ = CollectReplicas(*cluster_, hwm);
}

// The history as `tidemark check` would read it: the recorder keeps nothing in memory. Log
// reads stay compact for the log checkers, which expand them one at a time.
history::History Run::ReadBack(std::string* read_error) {
  if (!rec_) return {};
  rec_->Flush();
  auto read = history::ReadJsonlFile(
      rec_->path(), {},
      plan_.model == "log" ? history::LogReads::kAsWritten : history::LogReads::kExpand);
  if (!read.ok()) {
    *read_error = read.error().message;
    return {};
  }
  return std::move(read->events);
}

// A history is analysed as it is read back, one event at a time, so a long run's history is never
// held whole: a log history by the log checkers (checkers::AnalyseLogStream), a register, cas-
// register or kv one key by key (checkers::AnalyseLinStream). nullopt for a history that cannot
// be read that way (it does not pair), which the whole-history path then explains.
std::optional<std::pair<checkers::Analysis, checkers::StreamedHistory>> Run::AnalyseStreamed(
    const checkers::AnalysisSpec& spec) {
  if (!rec_) return std::nullopt;
  const bool log = plan_.model == "log";
  rec_->Flush();
  if (log) rec_->StopCompacting();  // the run has recorded its last read
  const history::LogReads reads = log ? history::LogReads::kAsWritten : history::LogReads::kExpand;
  auto reader = history::JsonlReader::Open(rec_->path(), reads);
  if (!reader.ok()) return std::nullopt;
  checkers::StreamedHistory kept;
  // A second reading (a log history the screen doubted, checked whole; every keyed history)
  // opens the file again.
  auto* current = &*reader;
  decltype(reader) again = Error{""};
  int openings = 0;
  auto open = [&]() -> Result<checkers::EventSource> {
    if (openings++ > 0) {
      again = history::JsonlReader::Open(rec_->path(), reads);
      if (!again.ok()) return again.error();
      current = &*again;
    }
    return checkers::EventSource([&] { return (*current)->Next(); });
  };
  auto a = log ? checkers::AnalyseLogStream(open, spec, &kept)
               : checkers::AnalyseLinStream(open, spec, &kept);
  if (!a.ok()) return std::nullopt;
  return std::make_pair(std::move(*a), std::move(kept));
}

// Analyse, print, write.
Result<RunOutcome> Run::AnalyseAndWrite(bool completed) {
  checkers::AnalysisSpec spec;
  spec.model = plan_.model;
  spec.timeout_s = opts_.check_timeout_s;
  spec.replicas = std::move(replicas_);
  RunRecord record{dir_, test_, {}, {}, std::nullopt, std::nullopt, 0};
  checkers::Analysis a;
  bool streamed_log = false;
  std::optional<std::string> screen_doubt;  // why the log screen read the history twice
  if (auto streamed = AnalyseStreamed(spec)) {
    a = std::move(streamed->first);
    out_ << "checking " << a.events << " events\n";
    if (streamed->second.screen_doubt)
      out_ << "  (read twice: " << *streamed->second.screen_doubt << ")\n";
    screen_doubt = streamed->second.screen_doubt;
    streamed_log = plan_.model == "log";
    record.streamed_nemesis = std::move(streamed->second.nemesis);
    record.end_ns = a.end_ns;
  } else {
    std::string read_error;
    record.events = ReadBack(&read_error);
    out_ << "checking " << record.events.size() << " events\n";
    // Paired once, for the checkers and the report, with the values moved into the ops rather
    // than held twice. A history that does not pair is left whole: Analyse says why.
    auto ops = history::PairOpsTakingValues(record.events);
    a = ops.ok() ? checkers::Analyse(record.events, *ops, spec)
                 : checkers::Analyse(record.events, spec);
    if (ops.ok()) record.ops = std::move(*ops);
    if (!read_error.empty()) {
      a.checks = {{"history",
                   checkers::Verdict::kUnknown,
                   "the recorded history is malformed: " + read_error,
                   "",
                   {}}};
      a.verdict = checkers::Verdict::kUnknown;
    }
  }
  for (const checkers::CheckResult& r : a.checks)
    out_ << "  " << r.checker << ": " << checkers::ToString(r.verdict)
         << (r.summary.empty() ? "" : " — " + EscapeControls(r.summary)) << "\n"
         << FirstExamples(r, "    ");
  out_ << checkers::FormatFaultSummary(a.faults);
  // A client program that gave up ends the run early too, but it was not interrupted: the run
  // is unknown with the client's reason.
  const std::optional<std::string> fatal = session_->Fatal();
  nlohmann::json results = RunFields(checkers::ToJson(a), !completed && !fatal);
  if (streamed_log) {
    // Whether the one-pass screen proved the log history clean, or why it was read again and
    // checked whole (checkers::AnalyseLogStream).
    results["harness"]["log_screen"] = screen_doubt ? "doubted: " + *screen_doubt : "passed";
  }
  if (nlohmann::json client = session_->Describe(); !client.is_null()) results["client"] = client;
  if (fatal) {
    if (results["verdict"] != "invalid") results["verdict"] = "unknown";
    out_ << "the client program ended the run: " << EscapeControls(*fatal) << "\n";
  }
  return Write(std::move(results), std::move(record));
}

// The fields of results.json only a live run knows (docs/history-format.md "results.json").
nlohmann::json Run::RunFields(nlohmann::json results, bool interrupted) const {
  results["test"] = plan_.test_name;
  results["seed"] = opts_.seed;
  results["interrupted"] = interrupted;
  if (interrupted) results["verdict"] = "unknown";  // at best: an interrupted run proves nothing
  if (std::string err = rec_ ? rec_->write_error() : ""; !err.empty()) {
    results["verdict"] = results["verdict"] == "invalid" ? "invalid" : "unknown";
    results["history_write_error"] = err;
  }
  const int64_t ops = rec_ ? Completed(rec_->counts()) : 0;
  // cpu_us_per_op: from start-up to the end of the final reads (before checking); the main
  // phase alone leaves out start-up, leader wait, recovery and final reads.
  results["harness"] = {{"dispatch", "event-loop"},
                        {"wall_s", rec_ ? static_cast<double>(rec_->NowNs()) / 1e9 : 0.0},
                        {"cpu_s", cpu_.harness_s},
                        {"cpu_us_per_op", PerOp(cpu_.harness_s, ops)},
                        {"nodes_cpu_s", cpu_.nodes_s},
                        {"nodes_cpu_us_per_op", PerOp(cpu_.nodes_s, ops)},
                        {"main_cpu_s", cpu_.main_s},
                        {"main_ops", cpu_.main_ops},
                        {"main_cpu_us_per_op", PerOp(cpu_.main_s, cpu_.main_ops)}};
  return results;
}

Result<RunOutcome> Run::Write(nlohmann::json results, RunRecord record) {
  RunOutcome outcome;
  outcome.run_dir = dir_.path;
  outcome.interrupted = results.value("interrupted", false);
  const std::string verdict = results.value("verdict", "unknown");
  outcome.verdict = verdict == "valid"     ? checkers::Verdict::kValid
                    : verdict == "invalid" ? checkers::Verdict::kInvalid
                                           : checkers::Verdict::kUnknown;
  outcome.results = results;
  record.test = test_;
  record.results = std::move(results);
  auto shown = WriteRunFiles(std::move(record), out_);
  if (!shown.ok()) return shown.error();
  outcome.report_path = *shown;
  return outcome;
}

// A run that could not start still leaves a complete run directory: results.json with the
// cause (verdict unknown), the report showing it first, junit.xml with an error, the index.
Result<RunOutcome> Run::Stopped(StopCause cause, const Error& error) {
  cause.message = error.message.substr(0, error.message.find('\n'));
  if (cluster_) cluster_->StopAll();
  nemesis_->Teardown();
  std::string read_error;
  history::History hist = ReadBack(&read_error);
  checkers::AnalysisSpec spec;
  spec.model = plan_.model;
  checkers::Analysis a = checkers::Analyse(hist, spec);
  a.checks.clear();  // nothing ran that could be checked
  nlohmann::json results = RunFields(checkers::ToJson(a), false);
  results["verdict"] = "unknown";
  results["cause"] = ToJson(cause);
  auto outcome = Write(std::move(results),
                       RunRecord{dir_, test_, {}, std::move(hist), std::nullopt, std::nullopt, 0});
  if (!outcome.ok()) return Error{error.message + " (and: " + outcome.error().message + ")"};
  outcome->harness_error = error.message;
  return outcome;
}

Result<RunOutcome> RunTest(const RunOptions& opts, std::ostream& out) {
  const auto wall_start = std::chrono::system_clock::now();
  auto plan = MakePlan(opts);
  if (!plan.ok()) return plan.error();
  nlohmann::json test = TestDoc(opts, *plan, wall_start);
  auto dir = store::CreateRunDir(opts.store, plan->test_name, wall_start);
  if (!dir.ok()) return dir.error();
  Run run(opts, std::move(*plan), std::move(*dir), std::move(test), out);
  return run.Execute();
}

}  // namespace tidemark::run
