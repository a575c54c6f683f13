#include "nemesis/mix.h"

#include <algorithm>

namespace tidemark::nemesis {
namespace {

std::string Name(int i) { return "n" + std::to_string(i + 1); }

// figure-8: how long a woken leader is given to take the appends waiting in its sockets before
// its links change, and to settle the acks of what it replicated before it slept.
constexpr double kFigure8TakeS = 0.1;

std::vector<int> Others(int n, const std::vector<int>& except) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    if (std::find(except.begin(), except.end(), i) == except.end()) v.push_back(i);
  return v;
}

int PickOther(int n, int not_this, Rng& rng) {
  std::vector<int> v = Others(n, {not_this});
  return v[static_cast<size_t>(rng.Uniform(v.size()))];
}

// Every move starts from a leader found by a fresh probe (the watcher's view may be ~200 ms
// old, and the previous move may just have changed it).
std::optional<int> FreshLeader(ScenarioActions& a, const std::string& name) {
  a.Note(name + ": waiting for a leader");
  return ProbeForLeader(a, 5, nullptr);
}

// A new leader other than `old`, as soon as one is seen.
std::optional<int> NextLeader(ScenarioActions& a, int old) {
  return ProbeForLeader(a, 4, [old](int i) { return i != old; });
}

bool Done(ScenarioActions& a) {
  (void)a.RestoreAll();
  return true;
}

// Every crash in the mix waits (up to 1 s) for the next acknowledged write, so that it lands
// while that write is most exposed (ScenarioActions::AwaitWriteAck): at a random moment the
// newest acknowledged write is often already known committed everywhere and on disk.
bool AwaitAck(ScenarioActions& a) { return a.AwaitWriteAck(1.0); }

// No leader within the wait: nothing to aim at; a short pause and the next move.
bool Idle(ScenarioActions& a) { return a.Sleep(0.5); }

bool IsolateLeader(ScenarioActions& a, Rng&, const MoveParams& p) {
  auto l = FreshLeader(a, "isolate-leader");
  if (!l) return Idle(a);
  a.Note("isolate-leader: " + Name(*l));
  (void)a.Partition(IsolateNode(a.Size(), *l), "leader", {*l});
  return a.Sleep(p.hold_s) && Done(a);
}

// The leader's messages are lost, but it still hears the others (their votes and appends).
bool LeaderOneWay(ScenarioActions& a, Rng&, const MoveParams& p) {
  auto l = FreshLeader(a, "leader-one-way");
  if (!l) return Idle(a);
  a.Note("leader-one-way: " + Name(*l) + " unheard");
  (void)a.Partition(OneWayCut({*l}, Others(a.Size(), {*l})), "leader", {*l});
  return a.Sleep(p.hold_s) && Done(a);
}

bool KillLeader(ScenarioActions& a, Rng&, const MoveParams& p) {
  auto l = FreshLeader(a, "kill-leader");
  if (!l) return Idle(a);
  a.Note("kill-leader: " + Name(*l));
  if (!AwaitAck(a)) return false;
  (void)a.Kill({*l}, "leader");
  return a.Sleep(p.hold_s) && Done(a);
}

bool PauseLeader(ScenarioActions& a, Rng&, const MoveParams& p) {
  auto l = FreshLeader(a, "pause-leader");
  if (!l) return Idle(a);
  a.Note("pause-leader: " + Name(*l));
  (void)a.Pause({*l}, "leader");
  return a.Sleep(p.hold_s) && Done(a);
}

// Pause the leader and cut it off until another node leads, then keep only the two apart and
// wake the old one: it still believes it leads, beside the new leader, and reaches the rest.
// The cut comes at once, not after the election: a candidate's vote request or the new leader's
// first append, queued in the paused leader's sockets, would otherwise depose it the moment it
// wakes, before it serves a single write (docs/nemesis.md, "The default mix").
bool PauseLeaderWakeApart(ScenarioActions& a, Rng&, const MoveParams& p) {
  const std::string name = "pause-leader-wake-apart";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  a.Note(name + ": " + Name(*l) + " paused and cut off");
  (void)a.Pause({*l}, "leader");
  (void)a.Partition(IsolateNode(a.Size(), *l), "leader", {*l});
  auto m = NextLeader(a, *l);
  if (m) {
    a.Note(name + ": " + Name(*l) + " wakes beside " + Name(*m));
    (void)a.Partition(Grudge{{*l, {*m}}, {*m, {*l}}}, "split-brain", {*l, *m});
    (void)a.Resume({*l});
  }
  return a.Sleep(p.hold_s) && Done(a);
}

// Isolate the leader; the moment the others elect a new one, isolate that one instead (the old
// leader rejoins): a partition that changes during an election.
bool RepartitionInElection(ScenarioActions& a, Rng&, const MoveParams& p) {
  const std::string name = "repartition-in-election";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  a.Note(name + ": " + Name(*l) + " isolated");
  (void)a.Partition(IsolateNode(a.Size(), *l), "leader", {*l});
  if (auto m = NextLeader(a, *l)) {
    a.Note(name + ": new leader " + Name(*m) + " isolated");
    (void)a.Partition(IsolateNode(a.Size(), *m), "leader", {*m});
  }
  return a.Sleep(p.hold_s) && Done(a);
}

// Every node alone.
Grudge AllApart(int n) {
  std::vector<std::vector<int>> parts;
  for (int i = 0; i < n; ++i) parts.push_back({i});
  return CompletePartition(n, parts);
}

// Raft's Figure 8 as a move: an old leader returns to a log a later leader has outgrown
// (docs/nemesis.md, "The default mix"). The leader l is paused and cut off, so the appends
// clients send it wait in its sockets. The others elect m, which is paused and cut off the
// moment a probe sees it lead (a race: an entry it took at once may already have spread); the
// appends sent to it now wait too. l wakes, takes its waiting appends in its old generation
// while still cut off, then rejoins the rest and, its log being the longest, is re-elected and
// copies them over. It is killed right after the first write it acknowledges then (a race
// again: entries of its new generation must not have spread yet). m wakes alone, takes its
// waiting appends (entries of a generation newer than l's old one, on m only), and after the
// hold rejoins: its last entry being newer, it can win and overwrite what l copied. A leader
// that commits an older generation's entries by counting replicas has acknowledged exactly
// those (commit-old-generation); a correct one acknowledges nothing there until an entry of its
// own generation is on a quorum, which m cannot then win. l sleeps rather than staying cut off
// awake: awake, it would stop taking appends at its next election timeout, and the waiting ones
// would time out before it is back.
bool Figure8(ScenarioActions& a, Rng&, const MoveParams& p) {
  const std::string name = "figure-8";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  const int n = a.Size();
  a.Note(name + ": " + Name(*l) + " paused and cut off");
  (void)a.Pause({*l}, "leader");
  (void)a.Partition(IsolateNode(n, *l), "leader", {*l});
  auto m = NextLeader(a, *l);
  if (!m) return Done(a);
  (void)a.Pause({*m}, "leader");
  (void)a.Partition(AllApart(n), "all-apart", {*m});
  a.Note(name + ": new leader " + Name(*m) + " paused and cut off, " + Name(*l) + " wakes");
  (void)a.Resume({*l});
  if (!a.Sleep(kFigure8TakeS)) return false;
  (void)a.Partition(IsolateNode(n, *m), "leader", {*m});
  // Acks in the first moments are of entries l had replicated before its pause.
  if (!a.Sleep(kFigure8TakeS) || !a.AwaitWriteAck(3)) return false;
  (void)a.Kill({*l}, "leader");
  a.Note(name + ": " + Name(*l) + " killed, " + Name(*m) + " wakes alone");
  (void)a.Resume({*m});
  if (!a.Sleep(p.hold_s)) return false;
  (void)a.Heal();
  return a.Sleep(3) && Done(a);
}

// Kill the leader, then kill its successor the moment it is elected.
bool KillNewLeader(ScenarioActions& a, Rng&, const MoveParams& p) {
  const std::string name = "kill-new-leader";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  a.Note(name + ": " + Name(*l) + " killed");
  if (!AwaitAck(a)) return false;
  (void)a.Kill({*l}, "leader");
  if (auto m = NextLeader(a, *l)) {
    a.Note(name + ": new leader " + Name(*m) + " killed");
    (void)a.Kill({*m}, "leader");
  }
  return a.Sleep(p.hold_s) && Done(a);
}

// A follower falls behind while isolated; then the leader crashes and the follower returns.
bool IsolateFollowerKillLeader(ScenarioActions& a, Rng& rng, const MoveParams& p) {
  const std::string name = "isolate-follower-kill-leader";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  int f = PickOther(a.Size(), *l, rng);
  a.Note(name + ": " + Name(f) + " isolated");
  (void)a.Partition(IsolateNode(a.Size(), f), "one", {f});
  if (!a.Sleep(p.hold_s)) return false;
  a.Note(name + ": " + Name(*l) + " killed, " + Name(f) + " back");
  if (!AwaitAck(a)) return false;
  (void)a.Kill({*l}, "leader");
  (void)a.Heal();
  return a.Sleep(1 + 3 * rng.Double()) && Done(a);
}

// A majority (the leader among them) crashes at once, as in a power cut; three times in four a
// follower outside it was isolated first (so the crashed ones hold entries it lacks). The
// crashed nodes come back one by one, 0.5-2 s apart — long enough for an election among those
// already back — and the isolated one rejoins with the first. Three times in four the old leader
// comes back last, at least 1.5 s after the others: the nodes that restarted must then agree on
// the log from what their own recovery kept, without the node that has everything (a follower
// that drops committed entries when it restarts loses them here); otherwise the order is random.
bool CrashMajority(ScenarioActions& a, Rng& rng, const MoveParams& p) {
  const std::string name = "crash-majority";
  auto l = FreshLeader(a, name);
  if (!l) return Idle(a);
  const int n = a.Size();
  std::vector<int> crash = {*l};
  std::vector<int> rest = Others(n, {*l});
  const bool isolate = rng.Bernoulli(0.75) || p.strongest;
  if (isolate) {
    int away = rest[static_cast<size_t>(rng.Uniform(rest.size()))];
    rest = Others(n, {*l, away});
    a.Note(name + ": " + Name(away) + " isolated");
    (void)a.Partition(IsolateNode(n, away), "one", {away});
    if (!a.Sleep(p.hold_s)) return false;
  }
  for (int i : Shuffled(static_cast<int>(rest.size()), rng)) {
    if (static_cast<int>(crash.size()) > n / 2) break;
    crash.push_back(rest[static_cast<size_t>(i)]);
  }
  a.Note(name + ": power cut");
  if (!AwaitAck(a)) return false;
  (void)a.PowerCut(crash, "majority");
  std::vector<int> order;
  for (int i : Shuffled(static_cast<int>(crash.size()), rng))
    order.push_back(crash[static_cast<size_t>(i)]);
  const bool leader_last = rng.Bernoulli(0.75) || p.strongest;
  if (leader_last)
    std::stable_partition(order.begin(), order.end(), [&](int i) { return i != *l; });
  for (size_t k = 0; k < order.size(); ++k) {
    double gap = k == 0 ? 0.5 * rng.Double() : 0.5 + 1.5 * rng.Double();
    if (leader_last && order[k] == *l) gap = std::max(gap, 1.5);
    if (!a.Sleep(gap)) return false;
    (void)a.Restart({order[k]});
    (void)a.Heal();
  }
  return a.Sleep(1) && Done(a);
}

bool RestartAll(ScenarioActions& a, Rng&, const MoveParams& p) {
  a.Note("restart-all: power cut");
  if (!AwaitAck(a)) return false;
  std::vector<int> all = Others(a.Size(), {});
  (void)a.PowerCut(all, "all");
  return a.Sleep(p.hold_s) && Done(a);
}

bool PauseFollowers(ScenarioActions& a, Rng&, const MoveParams& p) {
  auto l = FreshLeader(a, "pause-followers");
  if (!l) return Idle(a);
  a.Note("pause-followers");
  (void)a.Pause(Others(a.Size(), {*l}), "followers");
  return a.Sleep(p.hold_s) && Done(a);
}

// A random partition shape (grudge.h), one-way a third of the time where defined.
bool RandomPartition(ScenarioActions& a, Rng& rng, const MoveParams& p) {
  const auto& shapes = RandomPartitionShapes();
  PartitionShape shape = shapes[static_cast<size_t>(rng.Uniform(shapes.size()))];
  bool one_way = shape != PartitionShape::kMajoritiesRing && rng.Bernoulli(1.0 / 3);
  std::optional<int> leader = a.Leader();
  auto plan = PlanPartition(shape, one_way, a.Size(), leader, rng);
  if (!plan.ok()) return Idle(a);
  a.Note(std::string("partition ") + ToString(plan->shape) + (one_way ? " one-way" : ""));
  (void)a.Partition(plan->grudge, ToString(plan->shape), plan->focus);
  return a.Sleep(p.hold_s) && Done(a);
}

// A random minority killed or paused (faults the quorum masks, as a control).
bool MinorityFault(ScenarioActions& a, Rng& rng, const MoveParams& p) {
  std::vector<int> nodes = SelectTargets(ProcessTarget::kMinority, a.Size(), std::nullopt, rng);
  bool kill = rng.Bernoulli(0.5);
  a.Note(std::string(kill ? "kill" : "pause") + " minority");
  if (kill)
    (void)a.Kill(nodes, "minority");
  else
    (void)a.Pause(nodes, "minority");
  return a.Sleep(p.hold_s) && Done(a);
}

}  // namespace

const std::vector<MoveInfo>& Moves() {
  // name, summary, weight, hold range, partitions, kills, pauses, run
  static const std::vector<MoveInfo> kMoves = {
      {"isolate-leader", "the leader cut off from every other node (clients still reach it)", 4,
       1.5, 5, true, false, false, IsolateLeader},
      {"leader-one-way", "the leader's messages to the others lost; it still hears them", 2, 1.5, 4,
       true, false, false, LeaderOneWay},
      {"kill-leader", "SIGKILL the leader, restart it after the hold", 3, 0.5, 4, false, true,
       false, KillLeader},
      {"pause-leader", "SIGSTOP the leader, SIGCONT after the hold", 2, 1, 5, false, false, true,
       PauseLeader},
      {"pause-leader-wake-apart",
       "pause the leader until another leads, cut the two apart, resume the old one beside the "
       "new",
       3, 2, 5, true, false, true, PauseLeaderWakeApart},
      {"repartition-in-election",
       "isolate the leader; the moment a new one is elected, isolate it instead", 2, 1, 3, true,
       false, false, RepartitionInElection},
      {"kill-new-leader", "kill the leader, then its successor the moment it is elected", 2, 0.5,
       2.5, false, true, false, KillNewLeader},
      {"figure-8",
       "pause and cut off the leader, then its successor the moment it leads; wake the old "
       "leader, reconnect it to the rest, kill it right after its first ack; wake the successor "
       "alone, reconnect it after the hold (Raft's Figure 8)",
       1, 0.1, 0.4, true, true, true, Figure8},
      {"isolate-follower-kill-leader",
       "isolate a follower for the hold, then kill the leader and heal at once", 3, 1, 4, true,
       true, false, IsolateFollowerKillLeader},
      {"crash-majority",
       "cut the power to a majority with the leader at once (3 times in 4 after isolating a "
       "follower), restart them one by one 0.5-2 s apart (3 times in 4 the old leader last)",
       3, 0.5, 3, true, true, false, CrashMajority},
      {"restart-all", "cut the power to every node at once, restart them all after the hold", 1.5,
       0, 1, false, true, false, RestartAll},
      {"pause-followers", "pause every follower for the hold (commits stall)", 1, 0.2, 3, false,
       false, true, PauseFollowers},
      {"random-partition",
       "a random partition shape (one, halves, majorities-ring, bridge, leader), a third one-way",
       1.5, 1, 5, true, false, false, RandomPartition},
      {"minority-fault", "kill or pause a random minority", 1, 0.5, 3, false, true, true,
       MinorityFault},
  };
  return kMoves;
}

namespace {

int MoveNamed(const std::string& name) {
  const auto& moves = Moves();
  for (size_t i = 0; i < moves.size(); ++i)
    if (moves[i].name == name) return static_cast<int>(i);
  return -1;
}

// Makes `pm` the move `target`, with a hold drawn in its range from `rng` (a coverage rule's
// replacement).
void Become(PlannedMove& pm, int target, Rng& rng) {
  pm.move = target;
  const MoveInfo& m = Moves()[static_cast<size_t>(target)];
  pm.params.hold_s = m.min_hold_s + (m.max_hold_s - m.min_hold_s) * rng.Double();
}

bool CutsThePower(int move) {
  const std::string& name = Moves()[static_cast<size_t>(move)].name;
  return name == "crash-majority" || name == "restart-all";
}

// When each move of `plan` starts, in plan time (holds and quiet gaps only), and the plan's end.
std::vector<double> Starts(const std::vector<PlannedMove>& plan) {
  std::vector<double> t(plan.size() + 1, 0);
  for (size_t i = 0; i < plan.size(); ++i)
    t[i + 1] = t[i] + plan[i].params.hold_s + plan[i].quiet_s;
  return t;
}

// One of `candidates` (indices into `plan`), drawn with `rng`; precondition: not empty.
PlannedMove& Pick(std::vector<PlannedMove>& plan, const std::vector<size_t>& candidates, Rng& rng) {
  return plan[candidates[static_cast<size_t>(
      rng.UniformInt(0, static_cast<int64_t>(candidates.size()) - 1))]];
}
// Coverage: a run of kPowerCutCoverageMinS or more has the coverage move in the first third of
// its plan: crash-majority in its strongest form (a follower isolated first, the old leader
// restarted last), or restart-all when partitions are not allowed. A power cut is the one move
// that reaches a bug that loses unsynced writes, and the strongest crash-majority the one that
// makes restarted nodes agree without the node that has everything (a follower that drops
// committed entries on restart loses them there); the weighted draw and the move's own coin
// flips give that form to about 1 run in 3. An early crash-majority the draw made becomes the
// strongest; otherwise an early move that is not a power cut (chosen by `rng`) is replaced.
// Draws come after the plan's own, so the rest of the plan is unchanged.
void EnsureCoverageMove(const MixOptions& o, const std::vector<int>& allowed, Rng& rng,
                        std::vector<PlannedMove>& plan) {
  if (!(o.duration_s >= kPowerCutCoverageMinS)) return;
  const int crash = MoveNamed("crash-majority"), restart = MoveNamed("restart-all");
  auto is_allowed = [&](int m) {
    return std::find(allowed.begin(), allowed.end(), m) != allowed.end();
  };
  const int target = is_allowed(crash) ? crash : is_allowed(restart) ? restart : -1;
  if (target < 0) return;
  const std::vector<double> t = Starts(plan);
  size_t early = 0;
  for (; early < plan.size() && t[early] < o.duration_s / 3; ++early) {
    if (plan[early].move == target) {
      plan[early].params.strongest = true;
      return;
    }
  }
  std::vector<size_t> candidates;
  for (size_t i = 0; i < early; ++i)
    if (!CutsThePower(plan[i].move)) candidates.push_back(i);
  if (candidates.empty()) return;  // every early move already cuts the power
  PlannedMove& pm = Pick(plan, candidates, rng);
  pm.params.strongest = true;
  Become(pm, target, rng);
}

// Coverage, second rule: a run of kPowerCutCoverageMinS or more has pause-leader-wake-apart
// in the first two thirds of its plan, when partitions and pauses are allowed. It is the one
// move that leaves two leaders alive at once, each reaching the other nodes, which is what a
// node that accepts a deposed leader's appends needs to show; at weight 3 of 29, 554 of 2,000
// 60-s plans drew none that starts in the first 50 s. When the plan has none there, one
// move of the middle third (chosen by `rng`) becomes one: one that is not a power cut when there
// is such a move, never the power-cut rule's own. Draws come
// after the power-cut rule's, so a plan that already had the move is unchanged.
void EnsureSplitBrainMove(const MixOptions& o, const std::vector<int>& allowed, Rng& rng,
                          std::vector<PlannedMove>& plan) {
  if (!(o.duration_s >= kPowerCutCoverageMinS)) return;
  const int target = MoveNamed("pause-leader-wake-apart");
  if (std::find(allowed.begin(), allowed.end(), target) == allowed.end()) return;
  std::vector<size_t> candidates, power_cuts;
  const std::vector<double> t = Starts(plan);
  for (size_t i = 0; i < plan.size() && t[i] < 2 * o.duration_s / 3; ++i) {
    if (plan[i].move == target) return;
    if (t[i] >= o.duration_s / 3 && !plan[i].params.strongest)
      (CutsThePower(plan[i].move) ? power_cuts : candidates).push_back(i);
  }
  if (candidates.empty()) candidates = power_cuts;  // the first third keeps its power cut
  if (candidates.empty()) return;
  Become(Pick(plan, candidates, rng), target, rng);
}

// Coverage, third rule: a run of kPowerCutCoverageMinS or more has a figure-8 starting in each
// of the kFigure8Slices equal slices of its plan, when partitions, kills and pauses are allowed.
// Its two races (docs/nemesis.md, "The default mix") are each lost in some attempts, so one
// attempt a run is not enough for a leader that commits an older generation's entries by
// counting replicas; nothing else in the catalogue makes an old leader return to a log a later
// leader has since outgrown. A slice without one gets one in place of a move of it (chosen by
// `rng`) that is neither a power cut nor another rule's move (the strongest crash-majority,
// pause-leader-wake-apart), in the same span of the plan; a slice with no such move keeps its
// moves. Draws come after the other rules', so a plan that already had the moves is unchanged.
void EnsureFigure8Moves(const MixOptions& o, const std::vector<int>& allowed, Rng& rng,
                        std::vector<PlannedMove>& plan) {
  if (!(o.duration_s >= kPowerCutCoverageMinS)) return;
  const int target = MoveNamed("figure-8"), wake = MoveNamed("pause-leader-wake-apart");
  if (std::find(allowed.begin(), allowed.end(), target) == allowed.end()) return;
  const double slice = o.duration_s / kFigure8Slices;
  std::vector<std::vector<size_t>> candidates(kFigure8Slices);
  std::vector<bool> has(kFigure8Slices, false);
  const std::vector<double> t = Starts(plan);
  for (size_t i = 0; i < plan.size() && t[i] < o.duration_s; ++i) {
    const size_t k = std::min(static_cast<size_t>(t[i] / slice), has.size() - 1);
    if (plan[i].move == target)
      has[k] = true;
    else if (!plan[i].params.strongest && plan[i].move != wake && !CutsThePower(plan[i].move))
      candidates[k].push_back(i);
  }
  for (size_t k = 0; k < has.size(); ++k) {
    if (has[k] || candidates[k].empty()) continue;
    PlannedMove& pm = Pick(plan, candidates[k], rng);
    // The move keeps its slot's start and length in the plan (hold, then the rest as the quiet
    // gap), so no later move shifts, and the other rules' moves stay where those rules put
    // them. (A figure-8 runs longer than its hold anyway: two elections and a restart.)
    const double span = pm.params.hold_s + pm.quiet_s;
    Become(pm, target, rng);
    pm.quiet_s = std::max(0.0, span - pm.params.hold_s);
  }
}

}  // namespace

std::vector<PlannedMove> PlanMix(const MixOptions& o) {
  std::vector<PlannedMove> plan;
  const auto& moves = Moves();
  std::vector<int> allowed;
  double total = 0;
  for (size_t i = 0; i < moves.size(); ++i) {
    const MoveInfo& m = moves[i];
    if ((m.partitions && !o.partitions) || (m.kills && !o.kills) || (m.pauses && !o.pauses))
      continue;
    allowed.push_back(static_cast<int>(i));
    total += m.weight;
  }
  if (allowed.empty() || !(o.duration_s > 0)) return plan;
  Rng rng = Rng::Derive(o.seed, "mix");
  for (double t = 0; t < o.duration_s;) {
    double x = rng.Double() * total;
    int pick = allowed.back();
    for (int i : allowed) {
      x -= moves[static_cast<size_t>(i)].weight;
      if (x < 0) {
        pick = i;
        break;
      }
    }
    const MoveInfo& m = moves[static_cast<size_t>(pick)];
    PlannedMove pm;
    pm.move = pick;
    pm.params.hold_s = m.min_hold_s + (m.max_hold_s - m.min_hold_s) * rng.Double();
    pm.params.seed = rng.Next();
    pm.quiet_s = std::max(0.0, o.interval_s) * (0.5 + rng.Double());
    t += pm.params.hold_s + pm.quiet_s;
    plan.push_back(pm);
  }
  EnsureCoverageMove(o, allowed, rng, plan);
  EnsureSplitBrainMove(o, allowed, rng, plan);
  EnsureFigure8Moves(o, allowed, rng, plan);
  return plan;
}

void RunMix(const std::vector<PlannedMove>& plan, ScenarioActions& a) {
  for (const PlannedMove& pm : plan) {
    const MoveInfo& m = Moves()[static_cast<size_t>(pm.move)];
    Rng rng(pm.params.seed);
    if (!m.run(a, rng, pm.params)) return;
    a.Note("mix: quiet");
    if (!a.Sleep(pm.quiet_s)) return;
  }
  while (a.Sleep(1)) {
  }
}

nlohmann::json DescribeMix(const std::vector<PlannedMove>& plan) {
  nlohmann::json out = nlohmann::json::array();
  for (const PlannedMove& pm : plan)
    out.push_back({{"move", Moves()[static_cast<size_t>(pm.move)].name},
                   {"hold_s", pm.params.hold_s},
                   {"quiet_s", pm.quiet_s}});
  for (size_t i = 0; i < plan.size(); ++i)
    if (plan[i].params.strongest) out[i]["strongest"] = true;
  return out;
}

}  // namespace tidemark::nemesis
