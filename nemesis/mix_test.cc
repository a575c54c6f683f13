// The default mix: the plan is a pure function of the seed (repeatable, weighted, filling the
// main phase, filtered by capability); every move, run against a simulated cluster, aims at the
// leader it finds and ends healed; a real Nemesis thread runs a plan, records every action and
// heals what an interrupted move left.
#include "nemesis/mix.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "nemesis/fake_cluster.h"
#include "nemesis/nemesis.h"
#include "nemesis/sim_actions.h"

namespace tidemark::nemesis {
namespace {

using testing::SimActions;

int MoveIndex(const std::string& name) {
  for (size_t i = 0; i < Moves().size(); ++i)
    if (Moves()[i].name == name) return static_cast<int>(i);
  ADD_FAILURE() << "no move " << name;
  return 0;
}

// The log of one move run against a fresh simulated cluster of n nodes (n1 leads).
std::vector<std::string> RunMove(const std::string& name, int n, uint64_t seed, bool* clean,
                                 bool strongest = false) {
  SimActions a(n, 1000);
  const MoveInfo& m = Moves()[static_cast<size_t>(MoveIndex(name))];
  Rng rng(seed);
  EXPECT_TRUE(m.run(a, rng, MoveParams{m.max_hold_s, seed, strongest})) << name;
  if (clean) *clean = a.Clean();
  return a.log();
}

TEST(MixTest, PlanIsAFunctionOfTheSeed) {
  MixOptions o;
  o.seed = 42;
  auto a = PlanMix(o), b = PlanMix(o);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(DescribeMix(a), DescribeMix(b));
  o.seed = 43;
  EXPECT_NE(DescribeMix(PlanMix(o)), DescribeMix(a));
}

TEST(MixTest, PlanFillsTheMainPhaseWithHoldsAndGapsInRange) {
  MixOptions o;
  o.seed = 7;
  o.duration_s = 60;
  o.interval_s = 2;
  auto plan = PlanMix(o);
  double t = 0;
  for (const PlannedMove& pm : plan) {
    const MoveInfo& m = Moves()[static_cast<size_t>(pm.move)];
    EXPECT_GE(pm.params.hold_s, m.min_hold_s) << m.name;
    EXPECT_LE(pm.params.hold_s, m.max_hold_s) << m.name;
    // A figure-8 the coverage rule placed takes the rest of its slot as its quiet gap.
    EXPECT_GE(pm.quiet_s, m.name != "figure-8" ? 1.0 : 0.0);
    EXPECT_LE(pm.quiet_s, m.name != "figure-8" ? 3.0 : 3.0 + 5.0);
    t += pm.params.hold_s + pm.quiet_s;
  }
  EXPECT_GE(t, 60);
  // Dense: a 60 s run gets a fault move every few seconds, not 2-4 a minute.
  EXPECT_GE(plan.size(), 10u);
}

// The weighted draw itself: plans shorter than the coverage rule's minimum (a longer plan adds
// one crash-majority on top of the draw).
TEST(MixTest, DrawsFollowTheWeights) {
  std::map<int, int> count;
  int total = 0;
  for (uint64_t seed = 1; seed <= 800; ++seed) {
    MixOptions o;
    o.seed = seed;
    o.duration_s = kPowerCutCoverageMinS - 1;
    for (const PlannedMove& pm : PlanMix(o)) {
      ++count[pm.move];
      ++total;
    }
  }
  double weights = 0;
  for (const MoveInfo& m : Moves()) weights += m.weight;
  for (size_t i = 0; i < Moves().size(); ++i) {
    double want = Moves()[i].weight / weights;
    double got = static_cast<double>(count[static_cast<int>(i)]) / total;
    EXPECT_NEAR(got, want, 0.25 * want + 0.005) << Moves()[i].name;
  }
  // Leader isolation is the most frequent move.
  int iso = count[MoveIndex("isolate-leader")];
  for (const auto& [move, c] : count) EXPECT_LE(c, iso) << Moves()[static_cast<size_t>(move)].name;
}

bool IsPowerCut(int move) {
  return move == MoveIndex("crash-majority") || move == MoveIndex("restart-all");
}

// The moves of the plan's first third (by hold and quiet times), as EnsureCoverageMove counts.
std::vector<PlannedMove> EarlyMoves(const std::vector<PlannedMove>& plan, double duration_s) {
  std::vector<PlannedMove> out;
  for (double t = 0; out.size() < plan.size() && t < duration_s / 3;) {
    out.push_back(plan[out.size()]);
    t += out.back().params.hold_s + out.back().quiet_s;
  }
  return out;
}

bool HasStrongestCrashMajority(const std::vector<PlannedMove>& moves) {
  return std::any_of(moves.begin(), moves.end(), [](const PlannedMove& pm) {
    return pm.move == MoveIndex("crash-majority") && pm.params.strongest;
  });
}

// Holds stay in the range of the move the plan ends up with.
void ExpectHoldsInRange(const std::vector<PlannedMove>& plan) {
  for (const PlannedMove& pm : plan) {
    const MoveInfo& m = Moves()[static_cast<size_t>(pm.move)];
    EXPECT_GE(pm.params.hold_s, m.min_hold_s) << m.name;
    EXPECT_LE(pm.params.hold_s, m.max_hold_s) << m.name;
  }
}

TEST(MixTest, EveryPlanOfThirtySecondsOrMoreCutsThePowerEarly) {
  int changed = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    MixOptions o;
    o.seed = seed;
    o.duration_s = seed % 2 ? 60 : 30;
    auto plan = PlanMix(o);
    auto early = EarlyMoves(plan, o.duration_s);
    EXPECT_TRUE(HasStrongestCrashMajority(early))
        << "seed " << seed << ": " << DescribeMix(plan).dump();
    // Only the coverage move takes its strongest form.
    EXPECT_EQ(std::count_if(plan.begin(), plan.end(),
                            [](const PlannedMove& pm) { return pm.params.strongest; }),
              1)
        << "seed " << seed;
    ExpectHoldsInRange(plan);
    // Without kills there is no power cut to add; a short run keeps its pure draw.
    MixOptions no_kills = o;
    no_kills.kills = false;
    for (const PlannedMove& pm : PlanMix(no_kills)) EXPECT_FALSE(IsPowerCut(pm.move));
    MixOptions partitions_off = o;
    partitions_off.partitions = false;
    auto restarts = EarlyMoves(PlanMix(partitions_off), o.duration_s);
    EXPECT_TRUE(
        std::any_of(restarts.begin(), restarts.end(),
                    [](const PlannedMove& pm) { return pm.move == MoveIndex("restart-all"); }))
        << "seed " << seed << ": only restart-all cuts the power without partitions";
    MixOptions short_run = o;
    short_run.duration_s = kPowerCutCoverageMinS - 1;
    auto short_early = EarlyMoves(PlanMix(short_run), short_run.duration_s);
    changed += std::none_of(short_early.begin(), short_early.end(),
                            [](const PlannedMove& pm) { return IsPowerCut(pm.move); });
  }
  // The guarantee is not vacuous: short runs, which keep the pure draw, often lack it.
  EXPECT_GT(changed, 50);
}

TEST(MixTest, MovesTheTargetCannotTakeAreLeftOut) {
  MixOptions o;
  o.seed = 5;
  o.partitions = false;
  for (const PlannedMove& pm : PlanMix(o))
    EXPECT_FALSE(Moves()[static_cast<size_t>(pm.move)].partitions)
        << Moves()[static_cast<size_t>(pm.move)].name;
  o.kills = false;
  o.pauses = false;
  EXPECT_TRUE(PlanMix(o).empty());
}

TEST(MixTest, EveryMoveActsAndEndsHealed) {
  for (const MoveInfo& m : Moves()) {
    for (int n : {3, 5}) {
      for (uint64_t seed = 1; seed <= 5; ++seed) {
        bool clean = false;
        auto log = RunMove(m.name, n, seed, &clean);
        EXPECT_FALSE(log.empty()) << m.name << " did nothing";
        EXPECT_TRUE(clean) << m.name << " n=" << n << " seed " << seed
                           << " left a fault: " << ::testing::PrintToString(log);
      }
    }
  }
}

TEST(MixTest, LeaderMovesAimAtWhoeverLeads) {
  SimActions a(3, 1000);
  a.leader_ = 2;
  Rng rng(1);
  const MoveInfo& m = Moves()[static_cast<size_t>(MoveIndex("isolate-leader"))];
  ASSERT_TRUE(m.run(a, rng, {1, 1}));
  EXPECT_EQ(a.log(), (std::vector<std::string>{"partition leader n3", "heal"}));
}

TEST(MixTest, KillNewLeaderKillsTheSuccessorTheMomentItLeads) {
  auto log = RunMove("kill-new-leader", 3, 1, nullptr);
  // n1 killed; the sim elects n2 at the next probe; n2 killed at once; both restarted.
  EXPECT_EQ(log,
            (std::vector<std::string>{"ack", "kill n1", "kill n2", "restart n1", "restart n2"}));
}

TEST(MixTest, RepartitionInElectionMovesTheCutToTheNewLeader) {
  auto log = RunMove("repartition-in-election", 3, 1, nullptr);
  EXPECT_EQ(log, (std::vector<std::string>{"partition leader n1", "partition leader n2", "heal"}));
}

TEST(MixTest, PauseLeaderWakeApartCutsTheOldLeaderOffBeforeTheElection) {
  // Cut at once, so no candidate's vote request waits in the paused leader's sockets; once n2
  // leads, only n1-n2 stays cut and n1 wakes reaching n3.
  auto log = RunMove("pause-leader-wake-apart", 3, 1, nullptr);
  EXPECT_EQ(log, (std::vector<std::string>{"pause n1", "partition leader n1",
                                           "partition split-brain n1 n2", "resume n1", "heal"}));
}

TEST(MixTest, EveryPlanOfThirtySecondsOrMoreWakesALeaderApartBeforeItsLastThird) {
  const int wake = MoveIndex("pause-leader-wake-apart");
  auto has_wake = [&](const std::vector<PlannedMove>& plan, double duration_s) {
    double t = 0;
    for (const PlannedMove& pm : plan) {
      if (t >= 2 * duration_s / 3) break;
      if (pm.move == wake) return true;
      t += pm.params.hold_s + pm.quiet_s;
    }
    return false;
  };
  int lacking = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    MixOptions o;
    o.seed = seed;
    o.duration_s = seed % 2 ? 60 : 30;
    auto plan = PlanMix(o);
    EXPECT_TRUE(has_wake(plan, o.duration_s))
        << "seed " << seed << ": " << DescribeMix(plan).dump();
    // The power-cut rule still holds beside it.
    auto early = EarlyMoves(plan, o.duration_s);
    EXPECT_TRUE(HasStrongestCrashMajority(early)) << "seed " << seed;
    ExpectHoldsInRange(plan);
    // Without pauses (or partitions) the move cannot run, and none is added.
    MixOptions no_pauses = o;
    no_pauses.pauses = false;
    for (const PlannedMove& pm : PlanMix(no_pauses)) EXPECT_NE(pm.move, wake);
    MixOptions short_run = o;
    short_run.duration_s = kPowerCutCoverageMinS - 1;
    lacking += !has_wake(PlanMix(short_run), short_run.duration_s);
  }
  // Not vacuous: short runs keep the pure draw, and many lack the move.
  EXPECT_GT(lacking, 50);
}

TEST(MixTest, Figure8ReturnsTheOldLeaderAndKillsItRightAfterItsFirstAck) {
  // n1 paused and cut off; n2 leads at the next probe and is paused and cut off from everyone;
  // n1 wakes and rejoins n3; the first ack after that kills n1; n2 wakes alone and rejoins after
  // the hold (with its newer last entry) while n1 is down; n1 restarts at the end.
  auto log = RunMove("figure-8", 3, 1, nullptr);
  EXPECT_EQ(log,
            (std::vector<std::string>{"pause n1", "partition leader n1", "pause n2",
                                      "partition all-apart n2", "resume n1", "partition leader n2",
                                      "ack", "kill n1", "resume n2", "heal", "restart n1"}));
}

TEST(MixTest, EveryPlanOfThirtySecondsOrMoreHasAFigure8InEachSlice) {
  const int f8 = MoveIndex("figure-8"), wake = MoveIndex("pause-leader-wake-apart");
  // Per slice: whether a figure-8 starts in it, and whether a move that the rule may replace
  // does (one that is no power cut and no other rule's move).
  auto slices = [&](const std::vector<PlannedMove>& plan, double duration_s) {
    std::vector<std::pair<bool, bool>> out(kFigure8Slices, {false, false});
    double t = 0;
    for (const PlannedMove& pm : plan) {
      if (t >= duration_s) break;
      auto& [has, replaceable] =
          out[std::min(static_cast<size_t>(t / (duration_s / kFigure8Slices)), out.size() - 1)];
      has = has || pm.move == f8;
      replaceable =
          replaceable || (pm.move != wake && !pm.params.strongest && !IsPowerCut(pm.move));
      t += pm.params.hold_s + pm.quiet_s;
    }
    return out;
  };
  int lacking = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    MixOptions o;
    o.seed = seed;
    o.duration_s = seed % 2 ? 60 : 30;
    auto plan = PlanMix(o);
    for (auto [has, replaceable] : slices(plan, o.duration_s))
      EXPECT_TRUE(has || !replaceable) << "seed " << seed << ": " << DescribeMix(plan).dump();
    // The other rules still hold beside it.
    EXPECT_TRUE(HasStrongestCrashMajority(EarlyMoves(plan, o.duration_s))) << "seed " << seed;
    EXPECT_TRUE(std::any_of(plan.begin(), plan.end(),
                            [&](const PlannedMove& pm) { return pm.move == wake; }))
        << "seed " << seed;
    ExpectHoldsInRange(plan);
    // Without pauses the move cannot run, and none is added.
    MixOptions no_pauses = o;
    no_pauses.pauses = false;
    for (const PlannedMove& pm : PlanMix(no_pauses)) EXPECT_NE(pm.move, f8);
    MixOptions short_run = o;
    short_run.duration_s = kPowerCutCoverageMinS - 1;
    for (auto [has, replaceable] : slices(PlanMix(short_run), short_run.duration_s))
      lacking += !has;
  }
  // Not vacuous: short runs keep the pure draw, and most of their slices lack the move.
  EXPECT_GT(lacking, 300);
}

TEST(MixTest, CrashMajorityKillsAMajorityWithTheLeader) {
  for (int n : {3, 5}) {
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      auto log = RunMove("crash-majority", n, seed, nullptr);
      int kills = 0;
      bool leader = false;
      for (const auto& l : log) {
        kills += l.rfind("kill ", 0) == 0;
        leader = leader || l == "kill n1";
      }
      EXPECT_EQ(kills, n / 2 + 1) << ::testing::PrintToString(log);
      EXPECT_TRUE(leader) << ::testing::PrintToString(log);
    }
  }
}

// Three times in four the old leader (n1 in the sim) restarts last, so the others must elect
// from what their own recovery kept; the rest of the time the order is random.
TEST(MixTest, CrashMajorityRestartsTheOldLeaderLastMostOfTheTime) {
  int last = 0, runs = 0;
  for (int n : {3, 5}) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      auto log = RunMove("crash-majority", n, seed, nullptr);
      std::string final_restart;
      for (const auto& l : log)
        if (l.rfind("restart ", 0) == 0) final_restart = l;
      last += final_restart == "restart n1";
      ++runs;
    }
  }
  EXPECT_GE(last, runs * 6 / 10) << last << " of " << runs;
  EXPECT_LT(last, runs) << "never random: the other orders are no longer tried";
}

// The coverage move's form: a follower cut off before the power cut, the old leader back last.
TEST(MixTest, StrongestCrashMajorityIsolatesAFollowerAndRestartsTheOldLeaderLast) {
  int isolated_random = 0, runs = 0;
  for (int n : {3, 5}) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      auto log = RunMove("crash-majority", n, seed, nullptr, /*strongest=*/true);
      std::string final_restart;
      bool isolated = false;
      for (const auto& l : log) {
        if (l.rfind("restart ", 0) == 0) final_restart = l;
        isolated |= l.rfind("partition one", 0) == 0;
      }
      EXPECT_TRUE(isolated) << "n=" << n << " seed " << seed << ": "
                            << ::testing::PrintToString(log);
      EXPECT_EQ(final_restart, "restart n1") << "n=" << n << " seed " << seed;
      auto plain = RunMove("crash-majority", n, seed, nullptr);
      isolated_random += std::any_of(plain.begin(), plain.end(), [](const std::string& l) {
        return l.rfind("partition one", 0) == 0;
      });
      ++runs;
    }
  }
  EXPECT_LT(isolated_random, runs) << "the plain move never skips the isolation";
}

// A crash the mix aims (at the leader, a majority, every node) waits for the next acknowledged
// write, so that it lands while that write is most exposed; the control move (a random minority)
// and the second kill of kill-new-leader (the moment a new leader is elected) do not wait.
TEST(MixTest, AimedCrashesLandRightAfterAnAcknowledgedWrite) {
  for (const MoveInfo& m : Moves()) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      auto log = RunMove(m.name, 3, seed, nullptr);
      auto kill = std::find_if(log.begin(), log.end(),
                               [](const std::string& l) { return l.rfind("kill ", 0) == 0; });
      const bool aimed = m.kills && m.name != "minority-fault";
      if (!aimed) {
        EXPECT_EQ(std::count(log.begin(), log.end(), "ack"), 0) << m.name;
        continue;
      }
      ASSERT_NE(kill, log.end()) << m.name << " killed nothing";
      ASSERT_NE(kill, log.begin()) << m.name;
      EXPECT_EQ(*std::prev(kill), "ack")
          << m.name << " seed " << seed << ": " << ::testing::PrintToString(log);
      EXPECT_EQ(std::count(log.begin(), log.end(), "ack"), 1) << m.name;
    }
  }
}

// Only the moves that model a power failure cut the power (which, where the run mounts
// tidemark-lazyfs, also drops what the nodes had not fsynced); every other kill is a crash.
TEST(MixTest, CrashMajorityAndRestartAllCutThePowerAndNoOtherMoveDoes) {
  for (const MoveInfo& m : Moves()) {
    SimActions a(3, 1000);
    Rng rng(7);
    ASSERT_TRUE(m.run(a, rng, MoveParams{m.max_hold_s, 7})) << m.name;
    const bool power = m.name == "crash-majority" || m.name == "restart-all";
    EXPECT_EQ(a.power_cuts(), power ? 1 : 0) << m.name;
  }
}

TEST(MixTest, RunMixStopsWhenTheRunStops) {
  MixOptions o;
  o.seed = 3;
  auto plan = PlanMix(o);
  SimActions a(3, 5);  // the run stops after 5 simulated seconds
  RunMix(plan, a);
  EXPECT_GE(a.clock(), 5);
  EXPECT_LT(a.clock(), 5 + 6) << "kept going after the stop";
  EXPECT_FALSE(a.log().empty());
}

// A real Nemesis thread running a plan: each action is a recorded nemesis event, and the final
// heal undoes what the interrupted move left (here: a leader isolated for a long hold).
TEST(MixTest, NemesisRunsThePlanRecordsAndHeals) {
  testing::FakeCluster fake;
  NemesisOptions o;
  PlannedMove pm;
  pm.move = MoveIndex("isolate-leader");
  pm.params.hold_s = 30;
  o.mix = {pm};
  Nemesis nem(fake.Hooks(), o, &fake);
  nem.Start();
  for (int i = 0; i < 200 && fake.Fs().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(nem.StopAndHealAll().ok());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"start-partition", "stop-partition"}));
  EXPECT_FALSE(fake.applied.has_value());
  ASSERT_FALSE(fake.events.empty());
  EXPECT_EQ(fake.events[0].value["focus"], nlohmann::json::array({"n1"}));
}

}  // namespace
}  // namespace tidemark::nemesis
