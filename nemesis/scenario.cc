#include "nemesis/scenario.h"

#include <algorithm>

namespace tidemark::nemesis {
namespace {

std::string Name(int i) { return "n" + std::to_string(i + 1); }

std::vector<int> AllBut(int n, const std::vector<int>& except) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    if (std::find(except.begin(), except.end(), i) == except.end()) v.push_back(i);
  return v;
}

// A random node other than `leader`.
int PickFollower(int n, int leader, Rng& rng) {
  std::vector<int> f = AllBut(n, {leader});
  return f[static_cast<size_t>(rng.Uniform(f.size()))];
}

// Every node alone.
Grudge AllIsolated(int n) {
  std::vector<std::vector<int>> parts;
  for (int i = 0; i < n; ++i) parts.push_back({i});
  return CompletePartition(n, parts);
}

// The start of most rounds: a leader, or a short wait and an empty round.
std::optional<int> LeaderOrIdle(ScenarioActions& a, const std::string& name) {
  a.Note(name + ": waiting for a leader");
  return WaitForLeader(a, 5);
}

// The end of every round: heal everything, then a quiet gap in which clients see the result.
bool EndRound(ScenarioActions& a, const std::string& name, double quiet_s) {
  (void)a.RestoreAll();
  a.Note(name + ": quiet");
  return a.Sleep(quiet_s);
}

bool IsolateLeaderFor(ScenarioActions& a, const std::string& name, double hold_s) {
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  a.Note(name + ": " + Name(*l) + " isolated");
  (void)a.Partition(IsolateNode(a.Size(), *l), "leader", {*l});
  if (!a.Sleep(hold_s)) return false;
  return EndRound(a, name, 3);
}

bool IsolateLeader(ScenarioActions& a, Rng&) { return IsolateLeaderFor(a, "isolate-leader", 4); }

// A deposed leader that never steps down answers reads for as long as it is cut off: a long
// cut gives the clients bound to it many chances to read past the new leader's acks.
bool IsolateLeaderLong(ScenarioActions& a, Rng&) {
  return IsolateLeaderFor(a, "isolate-leader-long", 10);
}

bool CutLeaderLink(ScenarioActions& a, Rng& rng) {
  const std::string name = "cut-leader-link";
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  int f = PickFollower(a.Size(), *l, rng);
  a.Note(name + ": " + Name(*l) + " x " + Name(f));
  (void)a.Partition(Grudge{{*l, {f}}, {f, {*l}}}, "leader-link", {*l, f});
  if (!a.Sleep(5)) return false;
  return EndRound(a, name, 3);
}

// Two leaders at once: pause the leader l until the others elect m, cut l from m (both ways),
// resume l. l still believes it leads and keeps replicating to the remaining nodes, which now
// follow m: only their generation check stands between the two leaders.
bool SplitBrain(ScenarioActions& a, Rng&) {
  const std::string name = "split-brain";
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  a.Note(name + ": " + Name(*l) + " paused");
  (void)a.Pause({*l}, "leader");
  auto m = WaitForLeader(a, 5, [&](int i) { return i != *l; });
  if (!m) return EndRound(a, name, 2);
  a.Note(name + ": " + Name(*l) + " resumed beside leader " + Name(*m));
  (void)a.Partition(Grudge{{*l, {*m}}, {*m, {*l}}}, "split-brain", {*l, *m});
  (void)a.Resume({*l});
  if (!a.Sleep(4)) return false;
  return EndRound(a, name, 3);
}

bool StaleFollowerWins(ScenarioActions& a, Rng& rng) {
  const std::string name = "stale-follower-wins";
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  int f = PickFollower(a.Size(), *l, rng);
  a.Note(name + ": " + Name(f) + " isolated");
  (void)a.Partition(IsolateNode(a.Size(), f), "one", {f});
  if (!a.Sleep(3)) return false;  // appends committed without f; f's generation climbs
  a.Note(name + ": " + Name(*l) + " killed, " + Name(f) + " back");
  (void)a.Kill({*l}, "leader");
  (void)a.Heal();
  if (!a.Sleep(4)) return false;  // the election: f must not win with its short log
  return EndRound(a, name, 3);
}

bool RestartFollowerKillLeader(ScenarioActions& a, Rng& rng) {
  const std::string name = "restart-follower-kill-leader";
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  const int n = a.Size();
  int away = PickFollower(n, *l, rng);
  std::vector<int> stay = AllBut(n, {*l, away});
  a.Note(name + ": " + Name(away) + " isolated");
  (void)a.Partition(IsolateNode(n, away), "one", {away});
  if (!a.Sleep(2)) return false;  // commits now need the other followers
  // The leader and the followers that stored the latest entries crash together; the followers
  // come back at once (restart recovery runs now), the leader stays down.
  std::vector<int> crash = stay;
  crash.push_back(*l);
  a.Note(name + ": crash " + Name(*l) + " and followers, restart followers");
  (void)a.Kill(crash, "leader+followers");
  (void)a.Restart(stay);
  (void)a.Heal();
  if (!a.Sleep(4)) return false;  // the restarted followers and `away` elect a leader
  return EndRound(a, name, 3);
}

bool KillAll(ScenarioActions& a, Rng&) {
  const std::string name = "kill-all";
  a.Note(name + ": running");
  if (!a.Sleep(2)) return false;
  a.Note(name + ": power cut");
  std::vector<int> all = AllBut(a.Size(), {});
  (void)a.Kill(all, "all");
  (void)a.Restart(all);
  return EndRound(a, name, 3);
}

// Raft's Figure 8 (docs/bug-zoo.md, commit-old-generation): an entry X of an old generation is
// copied to a majority by a later leader, then overwritten by a node that holds a newer entry Y.
// Two steps must land within milliseconds of an election, before clients find the new leader
// (they follow the watcher, which polls every 200 ms): they use ProbeLeader and act at once.
bool Figure8(ScenarioActions& a, Rng&) {
  const std::string name = "figure8";
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  const int n = a.Size();
  a.Note(name + ": all isolated, X lands on " + Name(*l) + " only");
  (void)a.Partition(AllIsolated(n), "all-isolated", {*l});
  if (!a.Sleep(0.5)) return false;
  // The others elect m. Freeze m the moment it leads, so that nothing of its generation reaches
  // the others; isolate it; let it take client appends (Y) alone; kill it.
  (void)a.Partition(IsolateNode(n, *l), "leader", {*l});
  a.Note(name + ": waiting for a new leader");
  auto m = ProbeForLeader(a, 4, [&](int i) { return i != *l; });
  if (!m) return EndRound(a, name, 2);
  (void)a.Pause({*m}, "leader");
  (void)a.Partition(AllIsolated(n), "all-isolated", {*m});
  (void)a.Resume({*m});
  a.Note(name + ": Y lands on " + Name(*m) + " only");
  if (!a.Sleep(0.5)) return false;
  (void)a.Kill({*m}, "leader");
  // l and the rest reconnect: l (longest log) wins and copies X; kill it the moment it leads,
  // before entries of its own generation reach the others.
  a.Note(name + ": " + Name(*l) + " back with the others");
  (void)a.Heal();
  auto back = ProbeForLeader(a, 4, [&](int i) { return i == *l; });
  if (back) (void)a.Kill({*l}, "leader");
  a.Note(name + ": " + Name(*m) + " returns");
  (void)a.Restart({*m});
  if (!a.Sleep(4)) return false;  // m (newest last generation) may win and overwrite X
  return EndRound(a, name, 3);
}

// One round: the leader's followers paused for `pause_s`, then `settle_s` healed.
bool PauseFollowersFor(ScenarioActions& a, const std::string& name, double pause_s,
                       double settle_s) {
  auto l = LeaderOrIdle(a, name);
  if (!l) return a.Sleep(1);
  std::vector<int> f = AllBut(a.Size(), {*l});
  a.Note(name + ": followers paused");
  (void)a.Pause(f, "followers");
  if (!a.Sleep(pause_s)) return false;
  return EndRound(a, name, settle_s);
}

// Appends wait for a quorum; clients time out and retry.
bool PauseFollowers(ScenarioActions& a, Rng&) {
  return PauseFollowersFor(a, "pause-followers", 3, 3);
}

// Commits stall for less than an election timeout (tidelog's is 300..600 ms), so clients with a
// shorter timeout re-send while the leader keeps its job and every attempt can still commit.
bool PauseFollowersBriefly(ScenarioActions& a, Rng&) {
  return PauseFollowersFor(a, "pause-followers-brief", 0.25, 1.5);
}

}  // namespace

namespace {

// Asks `look` every `every_s` until it names an accepted leader, the timeout, or the stop.
std::optional<int> PollForLeader(ScenarioActions& a, double timeout_s, double every_s,
                                 const std::function<std::optional<int>()>& look,
                                 const std::function<bool(int)>& accept) {
  for (double waited = 0; waited <= timeout_s; waited += every_s) {
    if (auto l = look(); l && (!accept || accept(*l))) return l;
    if (!a.Sleep(every_s)) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> WaitForLeader(ScenarioActions& a, double timeout_s,
                                 const std::function<bool(int)>& accept) {
  return PollForLeader(
      a, timeout_s, 0.05, [&] { return a.Leader(); }, accept);
}

std::optional<int> ProbeForLeader(ScenarioActions& a, double timeout_s,
                                  const std::function<bool(int)>& accept) {
  return PollForLeader(
      a, timeout_s, 0.005, [&] { return a.ProbeLeader(); }, accept);
}

const std::vector<ScenarioInfo>& Scenarios() {
  static const std::vector<ScenarioInfo> kAll = {
      {"isolate-leader",
       "isolate the leader from the other nodes for 4 s (clients still reach it), heal, 3 s quiet",
       "ack-before-quorum, stale-leader-read, read-above-hwm", true, false, false, 3,
       IsolateLeader},
      {"isolate-leader-long",
       "isolate the leader from the other nodes for 10 s (clients still reach it), heal, 3 s "
       "quiet",
       "stale-leader-read", true, false, false, 3, IsolateLeaderLong},
      {"cut-leader-link",
       "cut only the link between the leader and one follower for 5 s (both still see the "
       "third node), heal, 3 s quiet",
       "no-generation-fence", true, false, false, 3, CutLeaderLink},
      {"split-brain",
       "pause the leader until another node leads, cut the two apart, resume the old leader "
       "(it still believes it leads) for 4 s, heal, 3 s quiet",
       "no-generation-fence", true, false, true, 3, SplitBrain},
      {"stale-follower-wins",
       "isolate a follower for 3 s, kill the leader and heal at once, 4 s for the election, "
       "restart, 3 s quiet",
       "vote-without-log-check", true, true, false, 3, StaleFollowerWins},
      {"restart-follower-kill-leader",
       "isolate one follower for 2 s, crash the leader and the other followers together, "
       "restart the followers and heal at once, 4 s, restart the leader, 3 s quiet",
       "truncate-to-local-hwm", true, true, false, 3, RestartFollowerKillLeader},
      {"kill-all", "2 s of traffic, SIGKILL every node at once and restart them, 3 s quiet",
       "lazy-fsync", false, true, false, 1, KillAll},
      {"figure8",
       "Raft's Figure 8: isolate everyone (X on the leader only), let the others elect m, "
       "freeze and isolate m the moment it leads (Y on m only), kill m, reconnect, kill the old "
       "leader the moment it leads again, restart m; 3 s quiet",
       "commit-old-generation", true, true, true, 3, Figure8},
      {"pause-followers",
       "pause every follower for 3 s (appends cannot commit; clients time out), resume, 3 s "
       "quiet",
       "no-idempotency", false, false, true, 2, PauseFollowers},
      {"pause-followers-brief",
       "pause every follower for 0.25 s, shorter than an election timeout (commits stall, the "
       "leader stays), resume, 1.5 s quiet",
       "no-idempotency", false, false, true, 2, PauseFollowersBriefly},
  };
  return kAll;
}

Result<const ScenarioInfo*> FindScenario(std::string_view name) {
  std::string names;
  for (const ScenarioInfo& s : Scenarios()) {
    if (s.name == name) return &s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return Error{"--scenario: unknown scenario '" + std::string(name) + "' (one of: " + names +
               "; docs/nemesis.md describes each)"};
}

void RunScenario(const ScenarioInfo& s, ScenarioActions& a, Rng& rng) {
  while (s.round(a, rng)) {
  }
}

}  // namespace tidemark::nemesis
