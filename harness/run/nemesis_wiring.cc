#include "harness/run/nemesis_wiring.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/filename.h"
#include "nemesis/lazyfs/mount.h"
#include "targets/adapters/client.h"

namespace tidemark::run {
namespace {

// Does the start template pass peer addresses the harness computes (so a proxy can sit there)?
bool PeersInArgv(const targets::Descriptor& d) {
  auto has = [](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(), [](const std::string& a) {
      return a.find("{peers}") != std::string::npos || a.find("{per_peer}") != std::string::npos ||
             a.find("{cluster}") != std::string::npos || a.find("{peer_") != std::string::npos;
    });
  };
  return has(d.argv) || has(d.per_peer);
}

// Default mean gaps: the one-at-a-time schedule of a --nemesis list, and the quiet gap after
// each move of the default mix (whose moves hold their faults for seconds themselves).
constexpr double kListInterval = 10;
constexpr double kMixInterval = 2;

// `--nemesis all` runs the default mix (nemesis/mix.h) when its moves can aim at a leader and a
// majority: a target that reports its leader, and at least 3 nodes. Otherwise, and for any
// explicit list, the one-at-a-time schedule (nemesis/schedule.h).
bool UsesMix(const NemesisConfig& cfg, const targets::Descriptor& desc) {
  std::string v = cfg.nemesis;
  v.erase(std::remove_if(v.begin(), v.end(), [](char c) { return c == ' ' || c == '\t'; }),
          v.end());
  return v == "all" && cfg.scenario.empty() && desc.capabilities.leader_status && cfg.nodes >= 3;
}

}  // namespace

Result<std::unique_ptr<NemesisWiring>> NemesisWiring::Create(const NemesisConfig& cfg,
                                                             const targets::Descriptor& desc) {
  auto faults = nemesis::ParseNemesis(cfg.nemesis);
  if (!faults.ok()) return faults.error();
  if (cfg.interval_s < 0) return Error{"--nemesis-interval must be a number of seconds > 0"};
  if (Status s = nemesis::CheckSupported(*faults, desc); !s.ok()) return s.error();
  auto requested = nemesis::ParseNetKind(cfg.net);
  if (!requested.ok()) return requested.error();

  std::unique_ptr<NemesisWiring> w(new NemesisWiring());
  w->cfg_ = cfg;
  w->faults_ = *faults;
  w->peer_port_ = desc.peer_port;
  w->adapter_ = desc.adapter;
  bool partitions = std::any_of(faults->begin(), faults->end(), [](const nemesis::FaultSpec& f) {
    return f.kind == nemesis::FaultKind::kPartition;
  });
  if (!cfg.scenario.empty()) {
    if (!faults->empty())
      return Error{"--scenario " + cfg.scenario + " and --nemesis " + cfg.nemesis +
                   " both choose the faults: give one of them (a scenario is its own schedule)"};
    auto sc = nemesis::FindScenario(cfg.scenario);
    if (!sc.ok()) return sc.error();
    const targets::Capabilities& c = desc.capabilities;
    auto no = [&](const std::string& key) {
      return Error{"--scenario " + cfg.scenario + ": target '" + desc.name +
                   "' does not support it (" + desc.path + ": capabilities." + key + " is false)"};
    };
    if ((*sc)->partitions && !c.partition) return no("partition");
    if ((*sc)->kills && !c.kill) return no("kill");
    if ((*sc)->pauses && !c.pause) return no("pause");
    if (!c.leader_status) return no("leader_status");
    if (cfg.nodes < (*sc)->min_nodes)
      return Error{"--scenario " + cfg.scenario + " needs at least " +
                   std::to_string((*sc)->min_nodes) + " nodes (--nodes " +
                   std::to_string(cfg.nodes) + ")"};
    w->scenario_ = *sc;
    partitions = (*sc)->partitions;
  }
  if (partitions) {
    auto kind = nemesis::ResolveNetKind(*requested);
    if (!kind.ok()) return kind.error();
    if (*kind == nemesis::NetKind::kProxy && !PeersInArgv(desc))
      return Error{
          "--nemesis partition with the proxy backend needs a target whose start argv "
          "passes peer addresses ({peers}, {per_peer} or {cluster}); '" +
          desc.name + "' does not (" + desc.path + "). Use --net netns (needs root)."};
    w->net_kind_ = *kind;
  }
  w->lazyfs_ = std::any_of(faults->begin(), faults->end(), [](const nemesis::FaultSpec& f) {
    return f.disk == nemesis::DiskFault::kLoseUnfsynced;
  });
  if (w->lazyfs_) {
    if (std::string why = lazyfs::Unavailable(cfg.lazyfs_binary); !why.empty())
      return Error{"--nemesis lose-unfsynced needs a FUSE mount over every data dir: " + why};
    if (::geteuid() != 0)
      return Error{"--nemesis lose-unfsynced mounts FUSE over the data dirs: run as root"};
  }
  w->use_mix_ = UsesMix(cfg, desc);
  if (cfg.power_cuts != "auto" && cfg.power_cuts != "lose-unfsynced" && cfg.power_cuts != "kill")
    return Error{"--power-cuts '" + cfg.power_cuts + "': use auto, lose-unfsynced or kill"};
  if (w->use_mix_ && desc.capabilities.kill && cfg.power_cuts != "kill") {
    std::string why = ::geteuid() != 0 ? "not root (FUSE mounts need it)"
                                       : lazyfs::Unavailable(cfg.lazyfs_binary);
    if (why.empty()) {
      w->power_cuts_lose_ = true;
      w->lazyfs_ = true;
    } else if (cfg.power_cuts == "lose-unfsynced") {
      return Error{"--power-cuts lose-unfsynced mounts FUSE over the data dirs: " + why +
                   " (or use --power-cuts kill)"};
    } else {
      w->power_cuts_why_ = why;
    }
  }
  if (!(w->cfg_.interval_s > 0)) w->cfg_.interval_s = w->use_mix_ ? kMixInterval : kListInterval;
  if (w->use_mix_) {
    w->mix_ = nemesis::PlanMix({.seed = cfg.seed,
                                .duration_s = cfg.duration_s,
                                .interval_s = w->cfg_.interval_s,
                                .partitions = desc.capabilities.partition,
                                .kills = desc.capabilities.kill,
                                .pauses = desc.capabilities.pause});
  } else {
    w->schedule_ = nemesis::MakeSchedule(
        w->faults_,
        {.seed = cfg.seed, .interval_s = w->cfg_.interval_s, .duration_s = cfg.duration_s});
  }
  if (!cfg.run_dir.empty())
    w->registry_ = std::make_unique<nemesis::CleanupRegistry>(filename::Cleanup(cfg.run_dir));
  if (w->net_kind_) {
    nemesis::NetOptions no;
    no.run_id = cfg.run_dir;
    no.nodes = cfg.nodes;
    no.registry = w->registry_.get();
    auto net = nemesis::MakeNetBackend(*w->net_kind_, no);
    if (!net.ok()) return net.error();
    w->net_ = std::move(*net);
  }
  return w;
}

NemesisWiring::~NemesisWiring() {
  // The nemesis thread must not outlive the cluster it points at; ~Nemesis stops it without
  // healing (the cluster may be gone already).
  nemesis_.reset();
  Teardown();
}

void NemesisWiring::ConfigureCluster(ClusterOptions& co) const {
  if (lazyfs_) co.lazyfs_binary = cfg_.lazyfs_binary;
  co.registry = registry_.get();
  if (net_) {
    if (auto host_of = net_->HostOf()) co.host_of = host_of;
  }
}

Status NemesisWiring::AttachCluster(Cluster& cluster) {
  if (!net_) return OkStatus();
  nemesis::NetCluster nc;
  nc.peer_port = peer_port_;  // the descriptor's port that peers dial
  for (int i = 0; i < cluster.size(); ++i) nc.nodes.push_back(cluster.State(i).address);
  if (Status s = net_->Prepare(nc); !s.ok()) return s;
  if (auto pa = net_->PeerAddress()) cluster.SetPeerAddress(pa);
  if (auto ic = net_->InChild()) cluster.SetInChild(ic);
  return OkStatus();
}

void NemesisWiring::NodesStarted(Cluster& cluster) {
  if (!registry_) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < cluster.size(); ++i) {
    pid_t pid = cluster.State(i).pid;
    if (pid > 0 && std::find(registered_.begin(), registered_.end(), pid) == registered_.end()) {
      (void)registry_->AddProcess(pid);
      registered_.push_back(pid);
    }
  }
}

void NemesisWiring::Start(Cluster& cluster, std::function<std::optional<int>()> leader,
                          std::function<void(history::Event)> record,
                          std::function<int64_t()> acked_writes) {
  if (nemesis_) return;
  nemesis::NemesisHooks h;
  h.size = [&cluster] { return cluster.size(); };
  h.name = [&cluster](int i) { return cluster.Name(i); };
  h.kill = [&cluster](int i) { return cluster.Kill(i); };
  h.start = [this, &cluster](int i) {
    Status s = cluster.Start(i);
    if (s.ok()) NodesStarted(cluster);
    return s;
  };
  h.pause = [&cluster](int i) { return cluster.Pause(i); };
  h.resume = [&cluster](int i) { return cluster.Resume(i); };
  h.leader = std::move(leader);
  // A fresh look at who leads (scenarios that must act within milliseconds of an election).
  auto status =
      std::shared_ptr<targets::StatusClient>([&]() -> std::unique_ptr<targets::StatusClient> {
        auto c =
            session_ ? session_->NewStatusClient(200) : targets::MakeStatusClient(adapter_, 200);
        return c.ok() ? std::move(*c) : nullptr;
      }());
  if (status)
    h.probe_leader = [&cluster, status]() -> std::optional<int> {
      std::optional<int> found;
      int64_t generation = -1;
      for (int i = 0; i < cluster.size(); ++i) {
        if (!cluster.Running(i) || cluster.Paused(i)) continue;
        auto st = status->Status(cluster.ClientUrl(i));
        if (st.ok() && st->role == "leader" && st->generation > generation) {
          generation = st->generation;
          found = i;
        }
      }
      return found;
    };
  h.record = std::move(record);
  h.acked_writes = std::move(acked_writes);
  h.pid = [&cluster](int i) { return static_cast<int>(cluster.State(i).pid); };
  h.lose_unfsynced = [&cluster](int i, std::optional<uint64_t> tear) {
    return cluster.LoseUnfsynced(i, tear);
  };
  h.data_dir = [&cluster](int i) { return cluster.State(i).data_dir; };
  nemesis::NemesisOptions o;
  o.schedule = schedule_;
  o.scenario = scenario_;
  o.mix = mix_;
  o.seed = cfg_.seed;
  o.power_cuts_lose_unfsynced = power_cuts_lose_;
  nemesis_ = std::make_unique<nemesis::Nemesis>(std::move(h), std::move(o), net_.get());
  nemesis_->Start();
}

Status NemesisWiring::StartFault(const nemesis::FaultSpec& f) {
  if (!nemesis_) return Error{"nemesis: StartFault before Start"};
  return nemesis_->StartFault(f);
}

Status NemesisWiring::StopFault() { return nemesis_ ? nemesis_->StopFault() : OkStatus(); }

Status NemesisWiring::HealAll() { return nemesis_ ? nemesis_->StopAndHealAll() : OkStatus(); }

void NemesisWiring::Teardown() {
  if (net_) net_->Teardown();
  if (registry_) {
    std::lock_guard<std::mutex> lock(mu_);
    for (pid_t pid : registered_) (void)registry_->RemoveProcess(pid);
    registered_.clear();
  }
}

std::string NemesisWiring::ActiveFaults() const { return nemesis_ ? nemesis_->ActiveFaults() : ""; }

std::string NemesisWiring::NetName() const { return net_ ? net_->Name() : "none"; }

bool NemesisWiring::KillsNodes() const {
  if (scenario_) return scenario_->kills;
  return std::any_of(faults_.begin(), faults_.end(), [](const nemesis::FaultSpec& f) {
    return f.kind == nemesis::FaultKind::kKill;
  });
}

nlohmann::json NemesisWiring::Describe() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : schedule_)
    steps.push_back({{"at_s", s.at_s},
                     {"action", s.start ? "start" : "stop"},
                     {"fault", nemesis::ToString(s.fault)}});
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : faults_) faults.push_back(nemesis::ToString(f));
  return {{"faults", faults},
          {"spec", cfg_.nemesis},
          {"scenario", scenario_ ? nlohmann::json(scenario_->name) : nlohmann::json()},
          {"interval_s", cfg_.interval_s},
          {"net_requested", cfg_.net},
          {"net", NetName()},
          {"backend", net_ ? net_->Describe() : nlohmann::json()},
          {"schedule", steps},
          {"mix", use_mix_ ? nemesis::DescribeMix(mix_) : nlohmann::json()},
          {"power_cuts", !use_mix_          ? nlohmann::json()
                         : power_cuts_lose_ ? nlohmann::json("lose-unfsynced")
                                            : nlohmann::json("kill")},
          {"power_cuts_why",
           power_cuts_why_.empty() ? nlohmann::json() : nlohmann::json(power_cuts_why_)}};
}

}  // namespace tidemark::run
