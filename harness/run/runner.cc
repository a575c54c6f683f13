#include "harness/run/runner.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "base/filename.h"
#include "base/history/history.h"
#include "base/history/jsonl.h"
#include "base/rng.h"
#include "base/text.h"
#include "checkers/fault_summary.h"
#include "checkers/linearizability.h"
#include "checkers/log/log_checker.h"
#include "harness/process/supervisor.h"
#include "harness/run/cluster.h"
#include "harness/run/event_loop.h"
#include "harness/run/nemesis_wiring.h"
#include "harness/run/recorder.h"
#include "harness/run/test_name.h"
#include "harness/run/verdict_text.h"
#include "reports/index.h"
#include "reports/junit.h"
#include "reports/report.h"
#include "runstore/store.h"
#include "targets/adapters/client.h"
#include "targets/adapters/registry.h"
#include "targets/target.h"
#include "workloads/workload.h"

namespace tidemark::run {
namespace {

namespace fs = std::filesystem;
using checkers::CheckResult;
using checkers::Verdict;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::atomic<bool>* g_interrupted = nullptr;
bool Interrupted() { return g_interrupted && g_interrupted->load(); }

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

// What the watcher last learned about the cluster from the nodes' status calls.
struct ClusterView {
  std::optional<int> leader;  // node index
  int64_t generation = -1;
  std::vector<std::string> roles;
};

// Polls every node's status a few times a second: the leader hint for routing ops, the live
// status line, and leader-targeted faults. Never ground truth for checkers.
//
// Each change of the observed leader (node or generation; "none" when no node that answered
// says it leads) is recorded through `record` as an observation event: process "nemesis", type
// info, f "leader", value {"node": "n2"|null, "generation": 7} (docs/history-format.md "Leader
// observations"). Nothing is recorded until a first leader is seen, nor after Stop().
// CPU time of the controller process (all threads; not its children), seconds; with
// RUSAGE_CHILDREN, of its children that have ended (the nodes, once stopped).
double ProcessCpuSeconds(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

class Watcher {
 public:
  Watcher(Cluster& cluster, targets::Session& session, std::function<void(history::Event)> record)
      : cluster_(cluster), session_(session), record_(std::move(record)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Watcher() { Stop(); }
  // Ends polling (and recording); View() keeps the last view. Idempotent; call it before the
  // nodes are stopped, so that their shutdown is not recorded as a leader change.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ClusterView View() {
    std::lock_guard<std::mutex> lock(mu_);
    return view_;
  }
  // View().leader without copying the view (once per op).
  std::optional<int> Leader() {
    std::lock_guard<std::mutex> lock(mu_);
    return view_.leader;
  }

 private:
  void Loop() {
    auto client = session_.NewStatusClient(300);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      ClusterView v;
      v.roles.assign(static_cast<size_t>(cluster_.size()), "down");
      for (int i = 0; i < cluster_.size(); ++i) {
        if (!cluster_.Running(i)) continue;
        if (cluster_.Paused(i)) {
          v.roles[static_cast<size_t>(i)] = "paused";
          continue;
        }
        auto st = client ? (*client)->Status(cluster_.ClientUrl(i))
                         : Result<targets::NodeStatus>(Error{"no status client"});
        if (!st.ok()) {
          v.roles[static_cast<size_t>(i)] = "unreachable";
          continue;
        }
        v.roles[static_cast<size_t>(i)] = st->role;
        if (st->role == "leader" && st->generation > v.generation) {
          v.generation = st->generation;
          v.leader = i;
        }
      }
      lock.lock();
      if (stop_) break;  // Stop() came during the polls: this view may show nodes going down
      view_ = v;
      RecordLeaderChange(v);
      cv_.wait_for(lock, milliseconds(200), [&] { return stop_; });
    }
  }

  // With mu_ held, so that Stop() returns only after the last event was recorded.
  void RecordLeaderChange(const ClusterView& v) {
    const int64_t generation = v.leader ? v.generation : -1;
    if (v.leader == recorded_leader_ && generation == recorded_generation_) return;
    recorded_leader_ = v.leader;
    recorded_generation_ = generation;
    if (!record_) return;
    history::Event e;
    e.process = history::kNemesisProcess;
    e.type = history::EventType::kInfo;
    e.f = "leader";
    e.value = v.leader
                  ? nlohmann::json{{"node", cluster_.Name(*v.leader)}, {"generation", v.generation}}
                  : nlohmann::json{{"node", nullptr}};
    record_(std::move(e));
  }

  Cluster& cluster_;
  targets::Session& session_;
  std::function<void(history::Event)> record_;
  std::optional<int> recorded_leader_;  // the last leader recorded (none before the first)
  int64_t recorded_generation_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  ClusterView view_;
  std::thread thread_;
};

// The live status line: redrawn in place on a terminal, a plain line every 5 s otherwise.
class StatusLine {
 public:
  StatusLine(std::ostream& out, bool tty, Recorder& rec, Watcher& watcher, Cluster& cluster,
             double time_limit_s, std::function<std::string()> faults)
      : faults_fn_(std::move(faults)),
        out_(out),
        tty_(tty),
        rec_(rec),
        watcher_(watcher),
        cluster_(cluster),
        time_limit_s_(time_limit_s) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~StatusLine() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (tty_) out_ << "\n" << std::flush;
  }
  void SetPhase(const std::string& phase) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = phase;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    int64_t last_ops = 0;
    auto last_t = Clock::now();
    auto last_plain = Clock::now();
    while (!stop_) {
      cv_.wait_for(lock, milliseconds(tty_ ? 500 : 1000), [&] { return stop_; });
      if (stop_) break;
      auto c = rec_.counts();
      int64_t done = c.ok + c.fail + c.info;
      auto now = Clock::now();
      double dt = std::chrono::duration<double>(now - last_t).count();
      double rate = dt > 0 ? static_cast<double>(done - last_ops) / dt : 0;
      last_ops = done;
      last_t = now;
      ClusterView v = watcher_.View();
      std::string leader = v.leader ? cluster_.Name(*v.leader) : "none";
      std::string line = "[" + phase_ + "] " + Fixed(static_cast<double>(rec_.NowNs()) / 1e9, 1) +
                         "/" + Fixed(time_limit_s_, 0) + " s  " + Fixed(rate, 0) + " ops/s  ok " +
                         std::to_string(c.ok) + "  fail " + std::to_string(c.fail) + "  info " +
                         std::to_string(c.info) + "  leader " + leader + "  faults: " + Faults();
      if (tty_) {
        out_ << "\r\033[K" << line << std::flush;
      } else if (now - last_plain >= std::chrono::seconds(5)) {
        out_ << line << "\n" << std::flush;
        last_plain = now;
      }
    }
  }

  std::string Faults() const {
    std::string f = faults_fn_ ? faults_fn_() : "";
    return f.empty() ? "none" : f;
  }

  std::function<std::string()> faults_fn_;
  std::ostream& out_;
  bool tty_;
  Recorder& rec_;
  Watcher& watcher_;
  Cluster& cluster_;
  double time_limit_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string phase_ = "start";
  std::thread thread_;
};

// Drives one generator to completion (kDone and nothing outstanding), or until interrupted or
// `hard_deadline_ns` (then outstanding ops are left to finish in the background and recorded
// when they come back during a later phase or at teardown).
class Driver {
 public:
  Driver(Recorder& rec, Dispatcher& dispatcher, Cluster& cluster, Watcher& watcher, int concurrency,
         uint64_t seed)
      : rec_(rec),
        dispatcher_(dispatcher),
        cluster_(cluster),
        watcher_(watcher),
        concurrency_(concurrency),
        gen_rng_(Rng::Derive(seed, "generator")),
        route_rng_(Rng::Derive(seed, "router")) {
    for (int w = 0; w < concurrency; ++w) process_of_slot_.push_back(w);
    busy_.assign(static_cast<size_t>(concurrency), false);
    pending_.resize(static_cast<size_t>(concurrency));
  }

  // Returns false if interrupted.
  //
  // Each round: invoke every op the generator has for now, then write their invokes (one
  // write(2)), send them and wait for completions, the generator's wake time or 100 ms, and
  // record what came back. The generator hears of completions before it is asked again.
  bool Drive(workloads::Generator& gen, int64_t hard_deadline_ns) {
    bool done = false;
    while (true) {
      if (Interrupted() || (give_up_ && give_up_())) return false;
      int64_t now = rec_.NowNs();
      if (now >= hard_deadline_ns) return true;
      int64_t wake = history::kNever;
      while (!done) {
        workloads::GenContext& ctx = ctx_;  // reused: its vector keeps its capacity
        ctx.time_ns = now;
        ctx.concurrency = concurrency_;
        ctx.nodes = cluster_.size();
        ctx.free_processes.clear();
        for (int w = 0; w < concurrency_; ++w)
          if (!busy_[static_cast<size_t>(w)])
            ctx.free_processes.push_back(process_of_slot_[static_cast<size_t>(w)]);
        std::sort(ctx.free_processes.begin(), ctx.free_processes.end());
        workloads::GenResult r = gen.Next(ctx, gen_rng_);
        if (r.kind == workloads::GenResult::kOp) {
          Invoke(std::move(r.op), &gen);
          continue;
        }
        if (r.kind == workloads::GenResult::kDone) done = true;
        if (r.kind == workloads::GenResult::kPending) wake = r.wake_ns;
        break;
      }
      if (done && dispatcher_.outstanding() == 0) {
        rec_.Flush();
        return true;
      }
      // Sleep until the generator's wake time, a completion, or 100 ms at most.
      int64_t sleep_ns = std::min<int64_t>(100'000'000, std::max<int64_t>(0, wake - now));
      sleep_ns = std::min(sleep_ns, hard_deadline_ns - now);
      Drain(Clock::now() + std::chrono::nanoseconds(sleep_ns), &gen);
    }
  }

  // Records the completions that come back after the last generator finished.
  void DrainRemaining(Clock::time_point until) {
    while (dispatcher_.outstanding() > 0 && Clock::now() < until) Drain(until, nullptr);
    rec_.Flush();
  }

  // Drive returns false (as if interrupted) once `give_up` says so (a client that cannot go on).
  void GiveUpWhen(std::function<bool()> give_up) { give_up_ = std::move(give_up); }

  // --client-routing node: process p sends everything to node p % nodes.
  void BindProcessesToNodes() { bind_to_nodes_ = true; }

 private:
  void Invoke(workloads::OpRequest op, workloads::Generator* gen) {
    int slot = static_cast<int>(op.process % concurrency_);
    int node;
    if (op.node) {
      node = *op.node;
    } else if (bind_to_nodes_) {
      node = static_cast<int>(op.process % cluster_.size());
    } else if (auto leader = watcher_.Leader()) {
      node = *leader;
    } else {
      node = static_cast<int>(route_rng_.Uniform(static_cast<uint64_t>(cluster_.size())));
    }
    history::Event e;
    e.process = op.process;
    e.type = history::EventType::kInvoke;
    e.f = op.f;
    e.key = op.key;
    e.value = op.value;
    e.node = cluster_.Name(node);
    // Batched: Drain flushes before the dispatcher sends anything.
    e = rec_.Record(std::move(e), Recorder::Write::kBatched);
    Pending p{e.index, e.time_ns, op, gen};
    pending_[static_cast<size_t>(slot)] = std::move(p);
    busy_[static_cast<size_t>(slot)] = true;
    dispatcher_.Dispatch(slot,
                         Job{std::move(op), node, cluster_.Name(node), cluster_.ClientUrl(node)});
  }

  void Drain(Clock::time_point until, workloads::Generator* gen) {
    rec_.Flush();  // every invoke is in the file before its request is sent
    for (Done& d : dispatcher_.WaitCompletions(until)) {
      Pending p = std::move(pending_[static_cast<size_t>(d.slot)]);
      history::Event e;
      e.process = d.job.op.process;
      e.type = d.completion.type;
      e.f = d.job.op.f;
      e.key = d.job.op.key;
      e.value = std::move(d.completion.value);  // a read's value can be large: moved, not copied
      e.value_text = std::move(d.completion.value_text);
      e.node = d.completion.node.empty() ? d.job.node_name : d.completion.node;
      e.error = d.completion.error;
      busy_[static_cast<size_t>(d.slot)] = false;
      if (e.type == history::EventType::kInfo)
        process_of_slot_[static_cast<size_t>(d.slot)] += concurrency_;  // retire the process
      workloads::Generator* owner = p.gen ? p.gen : gen;
      if (!owner) {
        rec_.Record(std::move(e), Recorder::Write::kBatched);
        continue;
      }
      // The generator hears of the completion as recorded; the recorded value is lent to it
      // (moved out and back under the recorder's lock) instead of copied.
      rec_.RecordAndUse(
          std::move(e),
          [&](history::Event& r) {
            history::Op op;
            op.process = r.process;
            op.f = r.f;
            op.key = r.key;
            op.invoke_value = p.op.value;
            const bool lend = !(r.value.is_null() && r.f != "read");
            op.value = lend ? std::move(r.value) : p.op.value;
            op.status = r.type;
            op.call_ns = p.call_ns;
            op.return_ns = r.type == history::EventType::kInfo ? history::kNever : r.time_ns;
            op.invoke_index = p.invoke_index;
            op.complete_index = r.index;
            op.node = r.node;
            op.error = r.error;
            owner->OnComplete(op);
            if (lend) r.value = std::move(op.value);
          },
          Recorder::Write::kBatched);
    }
    // These completions are written with the next round's invokes: the next Drain flushes
    // before it sends or sleeps.
  }

  struct Pending {
    int64_t invoke_index = 0;
    int64_t call_ns = 0;
    workloads::OpRequest op;
    workloads::Generator* gen = nullptr;  // who must hear of the completion
  };

  Recorder& rec_;
  Dispatcher& dispatcher_;
  Cluster& cluster_;
  Watcher& watcher_;
  int concurrency_;
  Rng gen_rng_;
  Rng route_rng_;
  bool bind_to_nodes_ = false;
  std::function<bool()> give_up_;
  std::vector<int64_t> process_of_slot_;
  std::vector<bool> busy_;
  std::vector<Pending> pending_;  // by slot; meaningful while busy_
  workloads::GenContext ctx_;
};

// Brings a node's dump into the shape CheckReplicas reads (docs/anomalies.md "Replica dumps"):
// the node's name, its committed prefix end (the HWM it reported just before shutdown, else the
// dump's own hint), and entry values (tidelog calls them `payload`).
nlohmann::json NormalizeDump(nlohmann::json dump, const std::string& node,
                             std::optional<int64_t> final_hwm) {
  if (!dump.is_object()) return dump;
  if (!dump.contains("node")) dump["node"] = node;
  if (!dump.contains("hwm") && !dump.contains("commit_index") && !dump.contains("commit")) {
    if (final_hwm) {
      dump["hwm"] = *final_hwm;
    } else if (dump.contains("hwm_hint")) {
      dump["hwm"] = dump["hwm_hint"];
    }
  }
  if (dump.contains("entries") && dump["entries"].is_array()) {
    for (auto& e : dump["entries"]) {
      if (e.is_object() && !e.contains("value") && e.contains("payload"))
        e["value"] = e.value("kind", "append") == "append" ? e["payload"] : nlohmann::json();
    }
  }
  return dump;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

void SetInterruptFlag(std::atomic<bool>* flag) { g_interrupted = flag; }

Result<RunOutcome> RunTest(const RunOptions& opts, std::ostream& out) {
  const auto wall_start = std::chrono::system_clock::now();
  auto desc = targets::LoadDescriptor(opts.target, opts.target_search_dirs);
  if (!desc.ok()) return desc.error();
  if (std::find(desc->workloads.begin(), desc->workloads.end(), opts.workload) ==
      desc->workloads.end())
    return Error{"target '" + desc->name + "' does not support workload '" + opts.workload +
                 "' (it supports: " + Join(desc->workloads, ", ") + ")"};
  if (!opts.bugs.empty() && desc->bug_argv.empty())
    return Error{"--bug is only for targets with a bug zoo; '" + desc->name +
                 "' has no start.bug_argv in " + desc->path};

  workloads::WorkloadOptions wo;
  wo.name = opts.workload;
  wo.rate = opts.rate;
  wo.concurrency = opts.concurrency;
  wo.time_limit_s = opts.time_limit_s;
  wo.nodes = opts.nodes;
  wo.final_timeout_s = opts.final_timeout_s;
  auto workload = workloads::MakeWorkload(wo);
  if (!workload.ok()) return workload.error();

  const std::string test_name = DefaultTestName(desc->name, opts);
  auto run = store::CreateRunDir(opts.store, test_name, wall_start);
  if (!run.ok()) return run.error();
  RunOutcome outcome;
  outcome.run_dir = run->path;

  nlohmann::json test = {
      {"name", test_name},
      {"seed", opts.seed},
      {"started", store::UtcTimestamp(wall_start)},
      {"command_line", opts.command_line},
      {"repeat", opts.repeat_command},
      {"target", {{"name", desc->name}, {"descriptor", desc->path}, {"adapter", desc->adapter}}},
      {"cluster", {{"nodes", opts.nodes}, {"bugs", opts.bugs}, {"node_args", opts.node_args}}},
      {"workload",
       {{"name", opts.workload},
        {"concurrency", opts.concurrency},
        {"rate", opts.rate},
        {"time_limit_s", opts.time_limit_s},
        {"op_timeout_s", opts.op_timeout_s},
        {"client_routing", opts.client_routing},
        {"retry_writes", opts.retry_writes}}},
      {"nemesis",
       {{"faults", opts.nemesis},
        {"scenario", opts.scenario},
        {"interval_s", opts.nemesis_interval_s},
        {"net", opts.net}}},
      {"checker", {{"timeout_s", opts.check_timeout_s}}},
      {"versions", {{"tidemark", "0.1.0"}}}};
  auto write_test = [&] { return store::WriteJsonFile(filename::TestJson(run->path), test); };
  if (Status s = write_test(); !s.ok()) return s.error();
  out << "run directory: " << run->path << "\n";

  auto rec = Recorder::Open(filename::History(run->path));
  if (!rec.ok()) return rec.error();

  NemesisConfig nc;
  nc.nemesis = opts.nemesis;
  nc.scenario = opts.scenario;
  nc.interval_s = opts.nemesis_interval_s;
  nc.net = opts.net;
  nc.duration_s = opts.time_limit_s;
  nc.seed = opts.seed;
  nc.nodes = opts.nodes;
  nc.run_dir = run->path;
  nc.lazyfs_binary = opts.bin_dir + "/tidemark-lazyfs";
  // Declared before the cluster so that nodes stop before the network they live in goes away.
  auto nemesis = NemesisWiring::Create(nc, *desc);
  if (!nemesis.ok()) return Error{"bad usage: " + nemesis.error().message};
  test["nemesis"] = (*nemesis)->Describe();
  if (Status s = write_test(); !s.ok()) return s.error();
  if ((*nemesis)->NetName() != "none")
    out << "network backend for partitions: " << (*nemesis)->NetName() << "\n";

  process::Supervisor::BecomeSubreaper();
  process::Supervisor sup;
  ClusterOptions co;
  co.descriptor = *desc;
  co.nodes = opts.nodes;
  co.run_dir = run->path;
  co.bin_dir = opts.bin_dir;
  co.bugs = opts.bugs;
  co.extra_args = opts.node_args;
  (*nemesis)->ConfigureCluster(co);
  Cluster cluster(sup, co);
  if (Status s = cluster.Prepare(); !s.ok()) return s.error();
  if (Status s = (*nemesis)->AttachCluster(cluster); !s.ok()) {
    (*nemesis)->Teardown();
    return Error{"cannot set up the network for faults: " + s.error().message};
  }

  // The adapter's session for this run (registry.h); the exec adapter starts the user's client
  // program here.
  targets::SessionContext session_context{*desc, run->path, opts.bin_dir, {}};
  for (int i = 0; i < cluster.size(); ++i)
    session_context.nodes.emplace_back(cluster.Name(i), cluster.ClientUrl(i));
  auto session = targets::OpenSession(session_context);
  if (!session.ok()) {
    (*nemesis)->Teardown();
    return Error{"the client did not start: " + session.error().message};
  }
  (*nemesis)->UseSession(session->get());
  auto status_client = (*session)->NewStatusClient(500);
  if (!status_client.ok()) return status_client.error();
  out << "starting " << opts.nodes << " " << desc->name << " nodes"
      << (opts.bugs.empty() ? "" : " with --bug " + Join(opts.bugs, " --bug ")) << "\n"
      << std::flush;
  Status started =
      cluster.StartAll([&](int i) { return (*status_client)->Status(cluster.ClientUrl(i)).ok(); });
  test["nodes"] = cluster.Describe();
  (void)write_test();
  if (started.ok()) (*nemesis)->NodesStarted(cluster);
  if (!started.ok()) {
    cluster.StopAll();
    (*nemesis)->Teardown();
    (void)reports::WriteReport(run->path);  // a report of what there is: config and node logs
    return Error{"the cluster did not start: " + started.error().message +
                 "\n(node logs are under " + run->path + "/nodes/)"};
  }

  std::string run_id = run->timestamp;
  auto client_options = [&](int slot) {
    targets::ClientOptions copt;
    copt.timeout_ms = static_cast<int>(opts.op_timeout_s * 1000);
    copt.client_id = "tm-" + run_id + "-w" + std::to_string(slot);
    copt.retry_indefinite = opts.retry_writes;
    // A definite not_leader names the leader: the adapter retries there once (nothing applied).
    for (int i = 0; i < cluster.size(); ++i) copt.node_urls[cluster.Name(i)] = cluster.ClientUrl(i);
    return copt;
  };
  // Every slot runs on this thread (event_loop.h), whatever the adapter (registry.h).
  std::unique_ptr<Dispatcher> dispatcher;
  {
    auto loop = EventLoop::Create(
        opts.concurrency,
        [&](int slot) {
          auto c = (*session)->NewClient(client_options(slot));
          return c.ok() ? std::move(*c) : nullptr;
        },
        EventLoop::Options{});
    if (!loop.ok()) {
      cluster.StopAll();
      (*nemesis)->Teardown();
      return loop.error();
    }
    dispatcher = std::move(*loop);
  }

  Watcher watcher(cluster, **session, [&](history::Event e) { (**rec).Record(std::move(e)); });
  // Wait (bounded) for a leader before the clock of the main phase starts to matter.
  for (auto until = Clock::now() + std::chrono::seconds(10);
       Clock::now() < until && !watcher.View().leader && !Interrupted();)
    std::this_thread::sleep_for(milliseconds(50));

  Driver driver(**rec, *dispatcher, cluster, watcher, opts.concurrency, opts.seed);
  if (opts.client_routing == "node") driver.BindProcessesToNodes();
  driver.GiveUpWhen([&] { return (*session)->Fatal().has_value(); });
  bool completed = true;
  double main_cpu_s = 0;
  int64_t main_ops = 0;
  {
    StatusLine status(out, opts.status_tty, **rec, watcher, cluster, opts.time_limit_s,
                      [&] { return (*nemesis)->ActiveFaults(); });
    status.SetPhase("main");
    (*nemesis)->Start(
        cluster, [&] { return watcher.View().leader; },
        [&](history::Event e) { (**rec).Record(std::move(e)); });
    int64_t main_deadline =
        (*rec)->NowNs() + static_cast<int64_t>((opts.time_limit_s + opts.op_timeout_s + 5) * 1e9);
    const double main_cpu_start = ProcessCpuSeconds();
    const Recorder::Counts main_counts_start = (*rec)->counts();
    completed = driver.Drive((*workload)->Main(), main_deadline);
    main_cpu_s = ProcessCpuSeconds() - main_cpu_start;
    const Recorder::Counts main_counts_end = (*rec)->counts();
    main_ops = (main_counts_end.ok + main_counts_end.fail + main_counts_end.info) -
               (main_counts_start.ok + main_counts_start.fail + main_counts_start.info);
    status.SetPhase("heal");
    // Heal everything (partitions, paused and killed nodes) before recovery and final reads.
    if (Status s = (*nemesis)->HealAll(); !s.ok())
      out << "warning: healing after the main phase: " << s.error().message << "\n";
    if (completed) {
      status.SetPhase("recover");
      for (auto until = Clock::now() + milliseconds(static_cast<int64_t>(opts.recovery_s * 1000));
           Clock::now() < until && !watcher.View().leader && !Interrupted();)
        std::this_thread::sleep_for(milliseconds(50));
      status.SetPhase("final");
      auto final_gen = (*workload)->FinalPhase();
      int64_t final_deadline =
          (*rec)->NowNs() + static_cast<int64_t>((opts.final_timeout_s + opts.op_timeout_s) * 1e9);
      completed = driver.Drive(*final_gen, final_deadline);
    }
    status.SetPhase(completed ? "teardown" : "interrupted");
    driver.DrainRemaining(Clock::now() +
                          milliseconds(static_cast<int64_t>(opts.op_timeout_s * 1000 + 2000)));
  }
  // A client program that gave up ends the run early too, but it was not interrupted: the run
  // is unknown with the client's reason (below).
  outcome.interrupted = !completed && !(*session)->Fatal();
  dispatcher->Stop();
  (*session)->Close();
  watcher.Stop();  // before the nodes stop: their shutdown is not a leader change
  // The controller's own CPU (all its threads, not the nodes) while it drove the run.
  const double harness_cpu_s = ProcessCpuSeconds();
  // Each node's HWM just before shutdown bounds its committed prefix for the replica check.
  std::vector<std::optional<int64_t>> final_hwm(static_cast<size_t>(cluster.size()));
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.Running(i) || cluster.Paused(i)) continue;
    if (auto st = (*status_client)->Status(cluster.ClientUrl(i)); st.ok())
      final_hwm[static_cast<size_t>(i)] = st->hwm;
  }
  cluster.StopAll();
  // The nodes' CPU, the same measure for the system under test (and the few ip/nft commands
  // of a netns nemesis): what the controller's share is compared against.
  const double nodes_cpu_s = ProcessCpuSeconds(RUSAGE_CHILDREN);
  (*nemesis)->Teardown();
  test["nodes"] = cluster.Describe();
  test["nemesis"] = (*nemesis)->Describe();
  (void)write_test();

  // Check what was recorded: the file, read back as `tidemark check` would read it (the
  // recorder keeps nothing in memory).
  (*rec)->Flush();
  history::History hist;
  std::string read_error;
  if (auto read = history::ReadJsonlFile((*rec)->path()); read.ok()) {
    hist = std::move(read->events);
  } else {
    read_error = read.error().message;
  }
  nlohmann::json results = {{"test", test_name},
                            {"seed", opts.seed},
                            {"interrupted", outcome.interrupted},
                            {"events", hist.size()},
                            {"checkers", nlohmann::json::array()}};
  Verdict verdict = Verdict::kValid;
  auto ops = read_error.empty() ? history::PairOps(hist)
                                : Result<std::vector<history::Op>>(Error{read_error});
  auto add = [&](const CheckResult& r) {
    verdict = checkers::Worst(verdict, r.verdict);
    results["checkers"].push_back(checkers::ToJson(r));
    out << "  " << r.checker << ": " << checkers::ToString(r.verdict)
        << (r.summary.empty() ? "" : " — " + EscapeControls(r.summary)) << "\n"
        << FirstExamples(r, "    ");
  };
  out << "checking " << hist.size() << " events\n";
  if (!ops.ok()) {
    add(CheckResult{"history",
                    Verdict::kUnknown,
                    "the recorded history is malformed: " + ops.error().message,
                    "",
                    {}});
  } else if (opts.workload == "log") {
    checkers::LogCheckOptions lo;
    // A killed node restarts knowing only its durable state and relearns the HWM, so its local
    // reads may legitimately go back; monotonicity is then promised for linearizable reads only.
    lo.local_reads_monotonic = !(*nemesis)->KillsNodes();
    add(checkers::CheckLogPrefix(*ops, lo));
    if (!desc->capabilities.dump_argv.empty()) {
      std::vector<checkers::ReplicaLog> replicas;
      std::string dump_error;
      auto dumps = cluster.Dump();
      for (size_t i = 0; i < dumps.size(); ++i) {
        const auto& d = dumps[i];
        if (!d.error.empty()) {
          dump_error = d.error;
          break;
        }
        auto r = checkers::ReplicaLogFromJson(
            NormalizeDump(d.doc, cluster.Name(static_cast<int>(i)), final_hwm[i]));
        if (!r.ok()) {
          dump_error = r.error().message;
          break;
        }
        replicas.push_back(std::move(*r));
      }
      if (dump_error.empty()) {
        add(checkers::CheckReplicas(replicas, *ops, lo));
      } else {
        add(CheckResult{"log-replicas",
                        Verdict::kUnknown,
                        "could not read the replicas' logs: " + dump_error,
                        "",
                        {}});
      }
    }
  } else {
    checkers::LinearizabilityOptions lo;
    lo.model = "cas-register";
    lo.timeout_s = opts.check_timeout_s;
    add(checkers::CheckLinearizability(*ops, lo));
  }
  if (outcome.interrupted) verdict = checkers::Worst(verdict, Verdict::kUnknown);
  if (nlohmann::json client = (*session)->Describe(); !client.is_null()) {
    results["client"] = client;
    if (auto fatal = (*session)->Fatal()) {
      verdict = checkers::Worst(verdict, Verdict::kUnknown);
      out << "the client program ended the run: " << EscapeControls(*fatal) << "\n";
    }
  }
  if (std::string err = (*rec)->write_error(); !err.empty()) {
    verdict = checkers::Worst(verdict, Verdict::kUnknown);
    results["history_write_error"] = err;
  }
  auto counts = (*rec)->counts();
  // Did the faults bite? (checkers/fault_summary.h) Leader observations are recorded as
  // nemesis-process events; "nemesis" counts the nemesis' own actions only.
  const checkers::FaultSummary faults = checkers::SummarizeFaults(hist);
  results["faults"] = checkers::FaultSummaryToJson(faults);
  out << checkers::FormatFaultSummary(faults);
  results["verdict"] = checkers::ToString(verdict);
  results["counts"] = {{"invoke", counts.invokes},
                       {"ok", counts.ok},
                       {"fail", counts.fail},
                       {"info", counts.info},
                       {"nemesis", counts.nemesis - faults.leader_observations},
                       {"leader", faults.leader_observations}};
  results["duration_s"] = static_cast<double>((*rec)->NowNs()) / 1e9;
  const int64_t completed_ops = counts.ok + counts.fail + counts.info;
  // cpu_us_per_op: from start-up to the end of the final reads (before checking); the main
  // phase alone leaves out start-up, leader wait, recovery and final reads.
  results["harness"] = {
      {"dispatch", "event-loop"},
      {"cpu_s", harness_cpu_s},
      {"cpu_us_per_op",
       completed_ops > 0 ? harness_cpu_s * 1e6 / static_cast<double>(completed_ops) : 0.0},
      {"nodes_cpu_s", nodes_cpu_s},
      {"nodes_cpu_us_per_op",
       completed_ops > 0 ? nodes_cpu_s * 1e6 / static_cast<double>(completed_ops) : 0.0},
      {"main_cpu_s", main_cpu_s},
      {"main_ops", main_ops},
      {"main_cpu_us_per_op",
       main_ops > 0 ? main_cpu_s * 1e6 / static_cast<double>(main_ops) : 0.0}};
  if (Status s = store::WriteJsonFile(filename::Results(run->path), results); !s.ok())
    return s.error();
  (void)store::UpdateLatestLinks(*run);
  outcome.verdict = verdict;
  outcome.results = results;
  outcome.report_path = filename::Results(run->path);
  // The history just read back is handed over, not parsed a second time (unless reading it
  // failed: then the report reads what it can and says why).
  Status report = read_error.empty() ? reports::WriteReport(run->path, std::move(hist))
                                     : reports::WriteReport(run->path);
  if (Status s = std::move(report); s.ok()) {
    outcome.report_path = filename::Report(run->path);
  } else {
    out << "warning: could not write the report: " << s.error().message << "\n";
  }
  if (Status s = reports::WriteJUnit(run->path); !s.ok())
    out << "warning: could not write junit.xml: " << s.error().message << "\n";
  if (Status s = reports::WriteStoreIndex(opts.store); !s.ok())
    out << "warning: could not update the store index: " << s.error().message << "\n";
  return outcome;
}

}  // namespace tidemark::run
