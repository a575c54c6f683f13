#include "nemesis/nemesis.h"

namespace tidemark::nemesis {

Status CheckSupported(const std::vector<FaultSpec>& faults, const targets::Descriptor& d) {
  const targets::Capabilities& c = d.capabilities;
  for (const FaultSpec& f : faults) {
    auto no = [&](const std::string& key) -> Status {
      return Error{"--nemesis " + ToString(f) + ": target '" + d.name + "' does not support it (" +
                   d.path + ": capabilities." + key + " is false)"};
    };
    if (f.kind == FaultKind::kKill && !c.kill) return no("kill");
    if (f.kind == FaultKind::kPause && !c.pause) return no("pause");
    if (f.kind == FaultKind::kPartition && !c.partition) return no("partition");
    bool needs_leader = f.shape == PartitionShape::kLeader || f.target == ProcessTarget::kLeader ||
                        f.target == ProcessTarget::kFollowers;
    if (needs_leader && !c.leader_status) return no("leader_status");
  }
  return OkStatus();
}

Nemesis::Nemesis(NemesisHooks hooks, NemesisOptions opts, NetBackend* net)
    : hooks_(std::move(hooks)),
      opts_(std::move(opts)),
      net_(net),
      rng_(Rng::Derive(opts_.seed, "nemesis-plan")) {}

Nemesis::~Nemesis() { StopThread(); }

void Nemesis::StopThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Nemesis::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Nemesis::Loop() {
  if (opts_.scenario) {
    Rng rng = Rng::Derive(opts_.seed, "scenario");
    RunScenario(*opts_.scenario, *this, rng);
    return;
  }
  if (!opts_.mix.empty()) {
    RunMix(opts_.mix, *this);
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  for (const Step& step : opts_.schedule) {
    auto at = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(step.at_s));
    if (cv_.wait_until(lock, at, [&] { return stop_; })) return;
    // Errors are recorded as events by StartLocked/StopLocked; the schedule goes on.
    if (step.start)
      (void)StartLocked(step.fault);
    else
      (void)StopLocked();
  }
}

void Nemesis::Record(const std::string& f, nlohmann::json value) {
  if (!hooks_.record) return;
  history::Event e;
  e.process = history::kNemesisProcess;
  e.type = history::EventType::kInfo;
  e.f = f;
  e.value = std::move(value);
  hooks_.record(std::move(e));
}

nlohmann::json Nemesis::Names(const std::vector<int>& nodes) const {
  nlohmann::json a = nlohmann::json::array();
  for (int i : nodes) a.push_back(hooks_.name ? hooks_.name(i) : "n" + std::to_string(i + 1));
  return a;
}

Status Nemesis::StartFault(const FaultSpec& f) {
  std::lock_guard<std::mutex> lock(mu_);
  return StartLocked(f);
}

Status Nemesis::StopFault() {
  std::lock_guard<std::mutex> lock(mu_);
  return StopLocked();
}

Status Nemesis::StartLocked(const FaultSpec& f) {
  if (active_) (void)StopLocked();
  const int n = hooks_.size ? hooks_.size() : 0;
  std::optional<int> leader = hooks_.leader ? hooks_.leader() : std::nullopt;
  auto skip = [&](const std::string& reason) -> Status {
    Record("skip", {{"fault", ToString(f)}, {"reason", reason}});
    return Error{ToString(f) + ": " + reason};
  };
  if (f.kind == FaultKind::kPartition) {
    if (!net_) return skip("no network backend");
    PartitionShape shape = f.shape.value_or(PartitionShape::kOne);
    auto plan = PlanPartition(shape, f.one_way, n, leader, rng_, f.grudge ? &*f.grudge : nullptr);
    if (!plan.ok()) return skip(plan.error().message);
    Status s = PartitionLocked(plan->grudge, ToString(plan->shape), plan->one_way, plan->focus);
    SetActive(Active{f, plan->grudge, {}});
    return s;
  }
  ProcessTarget target = f.target.value_or(ProcessTarget::kOne);
  std::vector<int> nodes = SelectTargets(target, n, leader, rng_);
  if (nodes.empty())
    return skip(n == 0 ? "no nodes"
                       : "no leader known for target '" + std::string(ToString(target)) + "'");
  std::vector<int> hit = SignalLocked(f.kind, nodes, ToString(target));
  if (f.kind == FaultKind::kKill && f.disk != DiskFault::kNone) DiskFaultLocked(f.disk, hit);
  SetActive(Active{f, std::nullopt, hit});
  return OkStatus();
}

Status Nemesis::StopLocked() {
  if (!active_) return OkStatus();
  Active a = std::move(*active_);
  SetActive(std::nullopt);
  if (a.fault.kind == FaultKind::kPartition) return HealLocked();
  return RestoreLocked(a.fault.kind, a.nodes);
}

Status Nemesis::PartitionLocked(const Grudge& g, const std::string& shape, bool one_way,
                                const std::vector<int>& focus) {
  if (!net_) {
    Record("skip", {{"fault", "partition:" + shape}, {"reason", "no network backend"}});
    return Error{"partition:" + shape + ": no network backend"};
  }
  Status s = net_->Apply(g);
  partition_ = g;
  nlohmann::json v = {{"shape", shape},
                      {"one_way", one_way},
                      {"grudge", GrudgeToJson(g, hooks_.name)},
                      {"net", net_->Name()}};
  if (!focus.empty()) v["focus"] = Names(focus);
  if (!s.ok()) v["error"] = s.error().message;
  Record("start-partition", std::move(v));
  return s;
}

Status Nemesis::HealLocked() {
  if (!partition_) return OkStatus();
  Status s = net_ ? net_->Heal() : OkStatus();
  nlohmann::json v = {{"grudge", GrudgeToJson(*partition_, hooks_.name)}};
  partition_.reset();
  if (!s.ok()) v["error"] = s.error().message;
  Record("stop-partition", std::move(v));
  return s;
}

std::vector<int> Nemesis::SignalLocked(FaultKind kind, const std::vector<int>& nodes,
                                       const std::string& target) {
  std::vector<int> hit, missed;
  nlohmann::json pids = nlohmann::json::object();
  for (int i : nodes) {
    int pid = hooks_.pid ? hooks_.pid(i) : -1;
    bool ok = kind == FaultKind::kKill ? (hooks_.kill && hooks_.kill(i))
                                       : (hooks_.pause && hooks_.pause(i));
    (ok ? hit : missed).push_back(i);
    if (ok && pid > 0) pids[hooks_.name ? hooks_.name(i) : std::to_string(i)] = pid;
    if (ok) (kind == FaultKind::kKill ? killed_ : paused_).insert(i);
  }
  nlohmann::json v = {{"nodes", Names(hit)}, {"target", target}};
  if (!pids.empty()) v["pids"] = pids;
  if (!missed.empty()) v["not_running"] = Names(missed);
  Record(kind == FaultKind::kKill ? "kill" : "pause", std::move(v));
  return hit;
}

void Nemesis::DiskFaultLocked(DiskFault disk, const std::vector<int>& nodes) {
  auto name = [&](int i) { return hooks_.name ? hooks_.name(i) : std::to_string(i); };
  if (disk == DiskFault::kCorrupt) {
    for (int i : nodes) {
      std::string dir = hooks_.data_dir ? hooks_.data_dir(i) : "";
      auto c = ChooseCorruption(ListDataFiles(dir), rng_);
      if (!c) {
        Record("corrupt", {{"node", name(i)}, {"skipped", "no non-empty file in " + dir}});
        continue;
      }
      nlohmann::json v = c->ToJson();
      v["node"] = name(i);
      if (Status s = ApplyCorruption(dir, *c); !s.ok()) v["error"] = s.error().message;
      Record("corrupt", std::move(v));
    }
    return;
  }
  nlohmann::json dropped = nlohmann::json::object(), errors = nlohmann::json::object();
  for (int i : nodes) {
    // Half of the drops also tear the newest write (a prefix of it reached the disk).
    std::optional<uint64_t> tear;
    if (rng_.Bernoulli(0.5)) tear = rng_.Next();
    auto r = hooks_.lose_unfsynced ? hooks_.lose_unfsynced(i, tear)
                                   : Result<nlohmann::json>(Error{"no lose-unfsynced hook"});
    if (r.ok())
      dropped[name(i)] = *r;
    else
      errors[name(i)] = r.error().message;
  }
  nlohmann::json v = {{"nodes", Names(nodes)}, {"dropped", dropped}};
  if (!errors.empty()) v["errors"] = errors;
  Record("lose-unfsynced", std::move(v));
}

Status Nemesis::RestoreLocked(FaultKind kind, const std::vector<int>& nodes) {
  Status result = OkStatus();
  std::vector<int> done;
  nlohmann::json errors = nlohmann::json::object();
  for (int i : nodes) {
    if (kind == FaultKind::kKill) {
      if (!killed_.count(i)) continue;
      Status s = hooks_.start ? hooks_.start(i) : Status(Error{"no start hook"});
      if (s.ok()) {
        killed_.erase(i);
        done.push_back(i);
      } else {
        errors[hooks_.name ? hooks_.name(i) : std::to_string(i)] = s.error().message;
        if (result.ok()) result = s;
      }
    } else {
      if (!paused_.count(i)) continue;
      if (hooks_.resume) hooks_.resume(i);
      paused_.erase(i);
      done.push_back(i);
    }
  }
  if (done.empty() && errors.empty()) return result;
  nlohmann::json v = {{"nodes", Names(done)}};
  if (!errors.empty()) v["errors"] = errors;
  Record(kind == FaultKind::kKill ? "start" : "resume", std::move(v));
  return result;
}

Status Nemesis::RestoreAllLocked() {
  Status result = HealLocked();
  // Resume before restarting: a restarted node should find its peers running.
  for (FaultKind k : {FaultKind::kPause, FaultKind::kKill}) {
    const std::set<int>& set = k == FaultKind::kPause ? paused_ : killed_;
    Status s = RestoreLocked(k, {set.begin(), set.end()});
    if (result.ok()) result = s;
  }
  return result;
}

Status Nemesis::StopAndHealAll() {
  StopThread();
  std::lock_guard<std::mutex> lock(mu_);
  if (healed_) return OkStatus();
  healed_ = true;
  Status result = StopLocked();
  // Anything else still cut, killed or paused (a scenario's, or a stop that failed earlier).
  Status s = RestoreAllLocked();
  if (result.ok()) result = s;
  std::lock_guard<std::mutex> text_lock(text_mu_);
  active_text_.clear();
  return result;
}

// --- ScenarioActions ----------------------------------------------------------------------------

int Nemesis::Size() { return hooks_.size ? hooks_.size() : 0; }

std::optional<int> Nemesis::Leader() { return hooks_.leader ? hooks_.leader() : std::nullopt; }

std::optional<int> Nemesis::ProbeLeader() {
  return hooks_.probe_leader ? hooks_.probe_leader() : Leader();
}

bool Nemesis::Sleep(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  auto d = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(std::max(0.0, seconds)));
  return !cv_.wait_for(lock, d, [&] { return stop_; });
}

bool Nemesis::AwaitWriteAck(double timeout_s) {
  if (!hooks_.acked_writes) return Sleep(0);
  // Polled every 200 us rather than signalled: the driver's completion path stays free of any
  // wake-up, and a crash lands within a fraction of a millisecond of the acknowledgment.
  const int64_t before = hooks_.acked_writes();
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, timeout_s)));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_ && hooks_.acked_writes() == before && std::chrono::steady_clock::now() < until)
    cv_.wait_for(lock, std::chrono::microseconds(200), [&] { return stop_; });
  return !stop_;
}

Status Nemesis::Partition(const Grudge& g, const std::string& shape,
                          const std::vector<int>& focus) {
  std::lock_guard<std::mutex> lock(mu_);
  return PartitionLocked(g, shape, !Symmetric(g), focus);
}

Status Nemesis::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  return HealLocked();
}

Status Nemesis::Kill(const std::vector<int>& nodes, const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  SignalLocked(FaultKind::kKill, nodes, target);
  return OkStatus();
}

Status Nemesis::PowerCut(const std::vector<int>& nodes, const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int> hit = SignalLocked(FaultKind::kKill, nodes, target);
  if (opts_.power_cuts_lose_unfsynced && !hit.empty())
    DiskFaultLocked(DiskFault::kLoseUnfsynced, hit);
  return OkStatus();
}

Status Nemesis::Restart(const std::vector<int>& nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  return RestoreLocked(FaultKind::kKill, nodes);
}

Status Nemesis::Pause(const std::vector<int>& nodes, const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  SignalLocked(FaultKind::kPause, nodes, target);
  return OkStatus();
}

Status Nemesis::Resume(const std::vector<int>& nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  return RestoreLocked(FaultKind::kPause, nodes);
}

Status Nemesis::RestoreAll() {
  std::lock_guard<std::mutex> lock(mu_);
  return RestoreAllLocked();
}

void Nemesis::Note(const std::string& step) {
  std::lock_guard<std::mutex> lock(text_mu_);
  active_text_ = step;
}

void Nemesis::SetActive(std::optional<Active> a) {
  std::string text;
  if (a) {
    text = ToString(a->fault.kind);
    if (a->fault.kind == FaultKind::kPartition) {
      text += std::string(" ") + ToString(a->fault.shape.value_or(PartitionShape::kOne));
      if (a->fault.one_way) text += " one-way";
    } else {
      for (int i : a->nodes) text += " " + (hooks_.name ? hooks_.name(i) : std::to_string(i));
    }
  }
  active_ = std::move(a);
  std::lock_guard<std::mutex> lock(text_mu_);
  active_text_ = std::move(text);
}

std::string Nemesis::ActiveFaults() const {
  std::lock_guard<std::mutex> lock(text_mu_);
  return active_text_;
}

}  // namespace tidemark::nemesis
