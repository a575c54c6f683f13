// The nemesis: runs a fault schedule against a live cluster and records every action.
//
// Ownership: the runner owns the cluster and the network backend; the Nemesis only calls the
// hooks it is given (NemesisHooks) and the backend's Apply/Heal. It never tears the backend
// down (the runner calls NetBackend::Teardown on every exit path).
//
// Every action is recorded through hooks.record as a nemesis event (process "nemesis", type
// info) *after* it took effect, with what it did (docs/history-format.md "Nemesis events"):
//   start-partition {shape, one_way, grudge, focus?}   stop-partition {grudge}
//   kill {nodes, target, pids?}                         start {nodes, errors?}
//   pause {nodes, target}                               resume {nodes}
//   lose-unfsynced {nodes, dropped: {node: {bytes, files, undone, torn}}, errors?}
//   corrupt {node, file, offset, length, mode}   or {node, skipped: reason}
//   skip {fault, reason}   (a fault that could not be applied, e.g. no leader known)
// A disk fault (lose-unfsynced, corrupt) acts after its kill has reaped the nodes and before
// they restart, so the order in the history is kill → lose-unfsynced/corrupt → start.
// A fault that failed part-way is recorded with an "error" field and still healed later.
//
// Threading: Start() launches one thread that sleeps until each step's time and applies it.
// StartFault/StopFault/StopAndHealAll/ActiveFaults may be called from any thread; actions are
// serialised by an internal mutex. The hooks are called from the nemesis thread or from the
// caller of StopAndHealAll/StartFault/StopFault, never concurrently with each other.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/history/history.h"
#include "base/result.h"
#include "nemesis/disk.h"
#include "nemesis/grudge.h"
#include "nemesis/mix.h"
#include "nemesis/net.h"
#include "nemesis/scenario.h"
#include "nemesis/schedule.h"

namespace tidemark::nemesis {

// Checks a --nemesis list against what the target can take (descriptor capabilities): kill,
// pause, partition, and leader_status for leader/followers targets and the leader shape. The
// error names the fault, the target and the descriptor key.
Status CheckSupported(const std::vector<FaultSpec>& faults, const targets::Descriptor& d);

// Supplied by the runner. Node indices are 0-based.
struct NemesisHooks {
  std::function<int()> size;
  std::function<std::string(int)> name;
  std::function<bool(int)> kill;               // SIGKILL the node; false if it was not running
  std::function<Status(int)> start;            // restart with the same data dir
  std::function<bool(int)> pause;              // SIGSTOP; false if not running or already paused
  std::function<bool(int)> resume;             // SIGCONT; false if not paused
  std::function<std::optional<int>()> leader;  // current leader index, if known
  std::function<std::optional<int>()> probe_leader;  // optional: asks the nodes now
  std::function<void(history::Event)> record;        // records a nemesis event (fills index/time)
  std::function<int(int)> pid;                       // optional: the node's pid (-1 if none)
  // Optional: how many client writes have been acknowledged so far (AwaitWriteAck polls it).
  std::function<int64_t()> acked_writes;
  // Disk faults, on a node that is down. lose_unfsynced drops what it had not fsynced (a
  // seed: also tear its newest write) and returns what was dropped; data_dir is where corrupt
  // looks for files.
  std::function<Result<nlohmann::json>(int, std::optional<uint64_t>)> lose_unfsynced;
  std::function<std::string(int)> data_dir;
};

struct NemesisOptions {
  std::vector<Step> schedule;  // from MakeSchedule
  // When set, the thread runs this scenario in rounds instead of `schedule` (scenario.h); its
  // random choices use Rng::Derive(seed, "scenario").
  const ScenarioInfo* scenario = nullptr;
  // When non-empty (and no scenario), the thread runs this default-mix plan (mix.h) instead of
  // `schedule`.
  std::vector<PlannedMove> mix;
  uint64_t seed = 0;  // run seed: target choice uses Rng::Derive(seed, "nemesis-plan")
  // PowerCut (the mix's crash-majority and restart-all) also drops what the killed nodes had
  // not fsynced (hooks.lose_unfsynced; the data dirs must be on tidemark-lazyfs).
  bool power_cuts_lose_unfsynced = false;
};

class Nemesis : private ScenarioActions {
 public:
  // `net` may be null when the schedule holds no partition (a partition step then records a
  // skip). It must outlive the Nemesis.
  Nemesis(NemesisHooks hooks, NemesisOptions opts, NetBackend* net);
  // Stops the schedule thread but does *not* heal: the cluster the hooks point at may be gone
  // by now. Call StopAndHealAll explicitly while the cluster is alive.
  ~Nemesis();
  Nemesis(const Nemesis&) = delete;
  Nemesis& operator=(const Nemesis&) = delete;

  // Starts the schedule thread; step times count from now. At most once.
  void Start();

  // Stops the schedule thread (an action in progress completes first), then heals everything
  // this nemesis did: removes the partition, resumes paused nodes, restarts killed ones — each
  // action recorded. Idempotent. Returns the first error (healing continues past errors).
  Status StopAndHealAll();

  // Applies one fault now (synchronously): for tests and named schedules. If a fault is already
  // active it is stopped first. Errors mean the fault could not be applied at all (recorded as
  // a skip too).
  Status StartFault(const FaultSpec& f);
  // Stops the active fault, if any.
  Status StopFault();

  // "partition majorities-ring", "kill n2", "" when none — for the status line. Never waits for
  // an action in progress (a kill can take seconds).
  std::string ActiveFaults() const;

  // The actions scenarios use (scenario.h), for tests that drive a scenario step by step.
  ScenarioActions& Actions() { return *this; }

 private:
  // ScenarioActions: each locks mu_ for the action (never while sleeping).
  int Size() override;
  std::optional<int> Leader() override;
  std::optional<int> ProbeLeader() override;
  bool Sleep(double seconds) override;
  bool AwaitWriteAck(double timeout_s) override;
  Status Partition(const Grudge& g, const std::string& shape,
                   const std::vector<int>& focus) override;
  Status Heal() override;
  Status Kill(const std::vector<int>& nodes, const std::string& target) override;
  Status PowerCut(const std::vector<int>& nodes, const std::string& target) override;
  Status Restart(const std::vector<int>& nodes) override;
  Status Pause(const std::vector<int>& nodes, const std::string& target) override;
  Status Resume(const std::vector<int>& nodes) override;
  Status RestoreAll() override;
  void Note(const std::string& step) override;

  struct Active {
    FaultSpec fault;
    std::optional<Grudge> grudge;  // partition
    std::vector<int> nodes;        // kill/pause
  };
  void Loop();
  void StopThread();
  Status StartLocked(const FaultSpec& f);
  Status StopLocked();
  // The effects, with mu_ held; each records its event.
  Status PartitionLocked(const Grudge& g, const std::string& shape, bool one_way,
                         const std::vector<int>& focus);
  Status HealLocked();
  std::vector<int> SignalLocked(FaultKind kind, const std::vector<int>& nodes,
                                const std::string& target);  // kill/pause; returns those hit
  void DiskFaultLocked(DiskFault disk, const std::vector<int>& nodes);  // on killed nodes
  Status RestoreLocked(FaultKind kind, const std::vector<int>& nodes);  // restart/resume
  Status RestoreAllLocked();
  void Record(const std::string& f, nlohmann::json value);
  nlohmann::json Names(const std::vector<int>& nodes) const;

  NemesisHooks hooks_;
  NemesisOptions opts_;
  NetBackend* net_;
  Rng rng_;

  mutable std::mutex mu_;  // guards everything below and serialises actions
  std::condition_variable cv_;
  bool stop_ = false;
  bool healed_ = false;
  std::optional<Active> active_;
  std::optional<Grudge> partition_;         // the partition in force (schedule or scenario)
  std::set<int> killed_, paused_;           // nodes this nemesis killed/paused and not yet restored
  void SetActive(std::optional<Active> a);  // with mu_ held: updates active_ and active_text_
  mutable std::mutex text_mu_;              // guards active_text_ only
  std::string active_text_;
  std::thread thread_;
};

}  // namespace tidemark::nemesis
