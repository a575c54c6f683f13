// NemesisWiring: everything `tidemark run` needs for faults, in the order the runner needs it.
//
// Owns the cleanup registry (RUN_DIR/cleanup.json), the network backend (netns or proxy, only
// when a partition fault is scheduled) and the Nemesis. The runner owns the Cluster and the
// Recorder and passes them in. Construct it *before* the Cluster, so that the Cluster (declared
// later) is destroyed first — nodes stop — and then this object's destructor tears the network
// down: namespaces cannot go while nodes still run inside them.
//
//   auto nw = NemesisWiring::Create(cfg, *desc);           // parse/validate; creates nothing
//   nw->ConfigureCluster(co);                              // netns: per-node hosts
//   Cluster cluster(sup, co); cluster.Prepare();
//   nw->AttachCluster(cluster);                            // backend up; peer/in-child hooks
//   cluster.StartAll(...); nw->NodesStarted(cluster);      // node pids into the registry
//   nw->Start(cluster, leader_fn, record_fn);              // main phase: the schedule runs
//   ... nw->ActiveFaults() for the status line ...
//   nw->HealAll();                                         // after the main phase (recorded)
//   cluster.StopAll(); nw->Teardown();                     // also done by the destructor
//
// Threading: the runner's thread calls every method; Start launches the nemesis thread, whose
// hooks call Cluster (thread-safe) and the record function (must be thread-safe: Recorder is).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "harness/run/cluster.h"
#include "nemesis/clean.h"
#include "nemesis/nemesis.h"
#include "nemesis/net.h"
#include "nemesis/schedule.h"
#include "targets/adapters/registry.h"
#include "targets/target.h"

namespace tidemark::run {

struct NemesisConfig {
  std::string nemesis = "none";  // --nemesis
  std::string scenario;          // --scenario (exclusive with a --nemesis other than none)
  double interval_s = 0;         // --nemesis-interval; 0 = 2 s for the mix, 10 s for a list
  std::string net = "auto";      // --net
  double duration_s = 30;        // the main phase's time limit (steps are planned within it)
  uint64_t seed = 0;             // run seed
  int nodes = 3;
  std::string run_dir;  // cleanup.json goes here; its path also names the run for netns
  // The tidemark-lazyfs program, mounted over every data dir when a lose-unfsynced fault is
  // asked for; Create refuses the run (with the reason) when it or /dev/fuse is unusable.
  std::string lazyfs_binary;
  // --power-cuts, what the default mix's power cuts (crash-majority, restart-all) do:
  // "lose-unfsynced" also drops what the nodes had not fsynced (the data dirs are mounted on
  // tidemark-lazyfs; refused when that cannot be done), "kill" only kills, "auto" the first
  // when this process is root and FUSE is usable, else the second (test.json says why).
  std::string power_cuts = "auto";
};

class NemesisWiring {
 public:
  // Parses --nemesis/--nemesis-interval/--net, checks the descriptor's capabilities (and that
  // the proxy can reach the peer addresses), resolves --net auto, computes the schedule.
  // Errors are bad usage (exit 254) and say what to change. Creates nothing but the registry.
  static Result<std::unique_ptr<NemesisWiring>> Create(const NemesisConfig& cfg,
                                                       const targets::Descriptor& desc);
  ~NemesisWiring();  // HealAll is *not* called here (the cluster may be gone); Teardown is.

  // Sets co.host_of when the backend places nodes at their own addresses (netns), and
  // co.lazyfs_binary when a lose-unfsynced fault needs the data dirs mounted.
  void ConfigureCluster(ClusterOptions& co) const;
  // After cluster.Prepare(), before StartAll: brings the backend up and installs the peer
  // address and in-child hooks. An error here is a harness error (exit 255); call Teardown.
  Status AttachCluster(Cluster& cluster);
  // After StartAll: records the node pids in the cleanup registry.
  void NodesStarted(Cluster& cluster);
  // Starts the schedule (an empty one for --nemesis none). `leader` returns the watcher's current
  // leader; `record` appends a nemesis event to the history.
  // Fresh leader probes go through this run's adapter session (registry.h) when set; otherwise
  // through the descriptor's adapter by name. Before Start.
  void UseSession(targets::Session* session) { session_ = session; }
  // `acked_writes` (optional) counts the writes acknowledged so far: crashes wait for the next
  // one (nemesis/scenario.h AwaitWriteAck).
  void Start(Cluster& cluster, std::function<std::optional<int>()> leader,
             std::function<void(history::Event)> record,
             std::function<int64_t()> acked_writes = nullptr);
  // Applies / stops one fault now, outside the schedule (named schedules, tests). Needs Start.
  Status StartFault(const nemesis::FaultSpec& f);
  Status StopFault();
  // Stops the schedule and heals everything (partition, paused, killed), recording each action.
  Status HealAll();
  // Removes listeners, namespaces, bridge; empties the registry. Idempotent.
  void Teardown();

  std::string ActiveFaults() const;
  // For test.json "nemesis": faults, interval, requested and chosen net, backend details, the
  // planned schedule.
  nlohmann::json Describe() const;
  // "netns", "proxy" or "none" (no partition fault scheduled).
  std::string NetName() const;
  // Whether the faults may kill nodes (a restarted node relearns its HWM, so local reads need
  // not be monotonic across it).
  bool KillsNodes() const;

 private:
  NemesisWiring() = default;
  NemesisConfig cfg_;
  std::string peer_port_ = "client";
  std::string adapter_;  // the descriptor's client adapter (fresh leader probes)
  targets::Session* session_ = nullptr;
  std::vector<nemesis::FaultSpec> faults_;
  bool lazyfs_ = false;  // a lose-unfsynced fault is scheduled, or power cuts drop unsynced data
  bool power_cuts_lose_ = false;  // the mix's power cuts drop what was not fsynced
  std::string power_cuts_why_;    // why they do not, when --power-cuts auto fell back to kill
  std::vector<nemesis::Step> schedule_;
  bool use_mix_ = false;                   // --nemesis all: the default mix instead of schedule_
  std::vector<nemesis::PlannedMove> mix_;  // its plan
  const nemesis::ScenarioInfo* scenario_ = nullptr;
  std::optional<nemesis::NetKind> net_kind_;  // nullopt when no partition is scheduled
  std::unique_ptr<nemesis::CleanupRegistry> registry_;
  std::unique_ptr<nemesis::NetBackend> net_;
  std::unique_ptr<nemesis::Nemesis> nemesis_;
  std::vector<pid_t> registered_;
  std::mutex mu_;  // guards registered_ (the nemesis thread restarts nodes)
};

}  // namespace tidemark::run
