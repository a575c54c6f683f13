// Named fault scenarios: leader-aware sequences of faults (`tidemark run --scenario NAME`).
//
// A random schedule (schedule.h) applies one fault at a time at random moments. Several classic
// replication bugs need a *sequence* that depends on who leads right now: "isolate a follower,
// kill the leader, heal, so that the stale follower may win" (docs/bug-zoo.md). A scenario is
// such a sequence, written as plain code against ScenarioActions, and repeated in rounds for the
// whole main phase. Each round starts from a healed cluster and ends healed (partition removed,
// killed nodes restarted, paused nodes resumed), followed by a quiet gap, so a round's effect is
// visible in the history before the next one starts.
//
// Scenarios act on node indices (0-based) chosen at run time from ScenarioActions::Leader(): the
// leader the runner's status watcher last saw (it polls a few times a second, so it may lag by
// ~200 ms). Random choices (which follower) come from the Rng handed to each round:
// Rng::Derive(run seed, "scenario"), so a seed repeats the choices (not the timing).
//
// Threading: RunScenario runs on the nemesis thread; ScenarioActions implementations must be
// callable from it. The catalogue is immutable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "nemesis/grudge.h"

namespace tidemark::nemesis {

// What a scenario may do. Every action takes effect before it returns and is recorded in the
// history as a nemesis event (docs/history-format.md); errors are recorded there too, and a
// scenario carries on after them (a round that could not do its step just heals and waits).
class ScenarioActions {
 public:
  virtual ~ScenarioActions() = default;
  virtual int Size() = 0;
  // The current leader as the status watcher sees it, if any.
  virtual std::optional<int> Leader() = 0;
  // A fresh look: asks every running node now (a few ms) instead of the watcher's last poll
  // (up to ~200 ms old). For steps that must act within milliseconds of an election.
  virtual std::optional<int> ProbeLeader() { return Leader(); }
  // Sleeps; false when the run is stopping (the scenario must return at once).
  virtual bool Sleep(double seconds) = 0;
  // Waits until a client's write is acknowledged, for at most `timeout_s` (then goes on: the
  // cluster may be taking no writes). A crash within a millisecond of an acknowledgment lands
  // where that write is most exposed: the followers have not yet heard that it committed, and
  // what the nodes buffer has not yet reached the disk. Without a client feed (simulations,
  // targets driven from outside) it returns at once. False when the run is stopping.
  virtual bool AwaitWriteAck(double timeout_s) {
    (void)timeout_s;
    return true;
  }
  // Replaces the partition in force (if any) with `g`; `shape` and `focus` are for the record.
  virtual Status Partition(const Grudge& g, const std::string& shape,
                           const std::vector<int>& focus) = 0;
  virtual Status Heal() = 0;  // removes the partition (no-op when none)
  virtual Status Kill(const std::vector<int>& nodes, const std::string& target) = 0;
  // A power cut, not only a crash: kills `nodes` like Kill and, where the run can (its data dirs
  // are on tidemark-lazyfs: NemesisOptions::power_cuts_lose_unfsynced), also drops what they had
  // not fsynced before any of them restarts (recorded as lose-unfsynced). Otherwise it is Kill.
  virtual Status PowerCut(const std::vector<int>& nodes, const std::string& target) {
    return Kill(nodes, target);
  }
  virtual Status Restart(const std::vector<int>& nodes) = 0;  // nodes killed by this nemesis
  virtual Status Pause(const std::vector<int>& nodes, const std::string& target) = 0;
  virtual Status Resume(const std::vector<int>& nodes) = 0;
  // Heals, resumes and restarts everything this nemesis did (end of a round).
  virtual Status RestoreAll() = 0;
  // The step now under way, for the live status line ("isolate-leader: n1 isolated").
  virtual void Note(const std::string& step) = 0;
};

struct ScenarioInfo {
  std::string name;
  std::string summary;      // one line: what a round does
  std::string bug;          // the tidelog bug it was designed to expose (docs/bug-zoo.md)
  bool partitions = false;  // needs the partition capability (and a network backend)
  bool kills = false;       // needs kill
  bool pauses = false;      // needs pause
  int min_nodes = 3;
  // One round. Returns false when the run is stopping.
  std::function<bool(ScenarioActions&, Rng&)> round;
};

// Every named scenario, in a fixed order (for --help and docs/nemesis.md).
const std::vector<ScenarioInfo>& Scenarios();
// The scenario called `name`, or an error listing the names.
Result<const ScenarioInfo*> FindScenario(std::string_view name);

// Runs rounds of `s` until a Sleep returns false, then returns (the caller heals).
void RunScenario(const ScenarioInfo& s, ScenarioActions& a, Rng& rng);

// Polls Leader() every 50 ms for up to `timeout_s` until there is a leader for which `accept`
// (if given) is true. nullopt on timeout or when stopping.
std::optional<int> WaitForLeader(ScenarioActions& a, double timeout_s,
                                 const std::function<bool(int)>& accept = nullptr);
// The same with ProbeLeader() every 5 ms.
std::optional<int> ProbeForLeader(ScenarioActions& a, double timeout_s,
                                  const std::function<bool(int)>& accept);

}  // namespace tidemark::nemesis
