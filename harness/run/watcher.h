// The run's observers of the live cluster: the Watcher polls every node's status (the leader
// hint for routing ops and for leader-targeted faults, the leader observations in the history),
// the StatusLine shows progress on the terminal. Neither is ground truth for the checkers.
//
// Threading: each owns one thread, started by its constructor and joined by Stop() or its
// destructor; every public method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/history/history.h"
#include "harness/run/cluster.h"
#include "harness/run/recorder.h"
#include "targets/adapters/client.h"

namespace tidemark::run {

// What the watcher last learned about the cluster from the nodes' status calls.
struct ClusterView {
  std::optional<int> leader;  // node index
  int64_t generation = -1;
  std::vector<std::string> roles;
};

// Polls every node's status a few times a second — and between polls long-polls one follower
// (docs/protocol.md), so an election is seen within milliseconds.
//
// Each change of the observed leader (node or generation; "none" when no node that answered
// says it leads) is recorded through `record` as an observation event: process "nemesis", type
// info, f "leader", value {"node": "n2"|null, "generation": 7} (docs/history-format.md "Leader
// observations"). Nothing is recorded until a first leader is seen, nor after Stop().
class Watcher {
 public:
  Watcher(Cluster& cluster, const std::string& adapter, std::function<void(history::Event)> record);
  ~Watcher() { Stop(); }
  // Ends polling (and recording); View() keeps the last view. Idempotent; call it before the
  // nodes are stopped, so that their shutdown is not recorded as a leader change.
  void Stop();
  ClusterView View();
  // View().leader without copying the view (once per op).
  std::optional<int> Leader();
  // Waits until a leader is seen, `timeout_s` passes or the run is interrupted.
  void WaitForLeader(double timeout_s);

 private:
  void Loop();
  ClusterView Poll(const std::function<Result<targets::NodeStatus>(int)>& status);
  void RecordLeaderChange(const ClusterView& v);  // requires mu_
  std::chrono::milliseconds WaitForChange(targets::StatusClient& client, const ClusterView& v);

  static constexpr std::chrono::milliseconds kPollInterval{200};

  Cluster& cluster_;
  std::string adapter_;
  std::function<void(history::Event)> record_;
  std::vector<std::optional<targets::NodeStatus>> statuses_;  // the last poll's (Loop only)
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
             double time_limit_s, std::function<std::string()> faults);
  ~StatusLine();
  void SetPhase(const std::string& phase);

 private:
  void Loop();
  std::string Line(double rate);  // requires mu_

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

}  // namespace tidemark::run
