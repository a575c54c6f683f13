// Scenarios against a simulated cluster: who leads follows the actions (killing or isolating the
// leader hands leadership to a connected, running node after the next sleep), and every round
// must leave the cluster healed. Also a scenario run by a real Nemesis thread over fake hooks.
#include "nemesis/scenario.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "nemesis/fake_cluster.h"
#include "nemesis/nemesis.h"
#include "nemesis/sim_actions.h"

namespace tidemark::nemesis {
namespace {

using testing::SimActions;

// One round of `name` (the budget ends the run right after the first round's quiet gap).
std::vector<std::string> OneRound(const std::string& name, SimActions& a) {
  auto s = FindScenario(name);
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return {};
  Rng rng(7);
  EXPECT_TRUE((*s)->round(a, rng) || true);
  return a.log();
}

TEST(ScenarioTest, UnknownNameListsTheKnownOnes) {
  auto s = FindScenario("isolate-the-moon");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("isolate-leader"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("figure8"), std::string::npos) << s.error().message;
  std::set<std::string> names;
  for (const auto& sc : Scenarios()) {
    EXPECT_TRUE(names.insert(sc.name).second) << "duplicate " << sc.name;
    EXPECT_FALSE(sc.summary.empty());
    EXPECT_TRUE(sc.round) << sc.name;
  }
}

TEST(ScenarioTest, EveryRoundEndsHealedWithEveryNodeBack) {
  for (const auto& sc : Scenarios()) {
    SimActions a(3, 1000);
    Rng rng(1);
    for (int round = 0; round < 3; ++round) {
      ASSERT_TRUE(sc.round(a, rng)) << sc.name;
      EXPECT_TRUE(a.Clean()) << sc.name << " round " << round << " left a fault in place";
    }
    EXPECT_FALSE(a.log().empty()) << sc.name << " did nothing";
  }
}

TEST(ScenarioTest, IsolateLeaderIsolatesTheCurrentLeader) {
  SimActions a(3, 1000);
  a.leader_ = 1;
  auto log = OneRound("isolate-leader", a);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "partition leader n2");
  EXPECT_EQ(log[1], "heal");
}

TEST(ScenarioTest, StaleFollowerWinsIsolatesAFollowerThenKillsTheLeader) {
  SimActions a(3, 1000);
  auto log = OneRound("stale-follower-wins", a);
  ASSERT_GE(log.size(), 4u);
  EXPECT_TRUE(log[0] == "partition one n2" || log[0] == "partition one n3") << log[0];
  EXPECT_EQ(log[1], "kill n1");
  EXPECT_EQ(log[2], "heal");
  EXPECT_EQ(log.back(), "restart n1");
}

TEST(ScenarioTest, RestartFollowerKillLeaderCrashesLeaderAndConnectedFollowerTogether) {
  SimActions a(3, 1000);
  auto log = OneRound("restart-follower-kill-leader", a);
  // partition one <away>; kill <stay>; kill n1; restart <stay>; heal; restart n1
  ASSERT_EQ(log.size(), 6u) << ::testing::PrintToString(log);
  std::string away = log[0].substr(log[0].size() - 2);
  std::string stay = away == "n2" ? "n3" : "n2";
  EXPECT_EQ(log[1], "kill " + stay);
  EXPECT_EQ(log[2], "kill n1");
  EXPECT_EQ(log[3], "restart " + stay);
  EXPECT_EQ(log[4], "heal");
  EXPECT_EQ(log[5], "restart n1");
}

TEST(ScenarioTest, Figure8FollowsTheLeaderItCreates) {
  SimActions a(3, 1000);
  auto log = OneRound("figure8", a);
  // n1 leads; all isolated; n1 isolated → the sim elects n2, frozen at once, isolated,
  // resumed; kill n2; heal → n1
  // leads again (n3 and n1 see a majority); kill n1; restart n2; final restore restarts n1.
  std::vector<std::string> want = {"partition all-isolated n1",
                                   "partition leader n1",
                                   "pause n2",
                                   "partition all-isolated n2",
                                   "resume n2",
                                   "kill n2",
                                   "heal",
                                   "kill n1",
                                   "restart n2",
                                   "restart n1"};
  EXPECT_EQ(log, want);
}

TEST(ScenarioTest, NoLeaderMeansAnIdleRound) {
  SimActions a(3, 1000);
  a.leader_.reset();
  // Nobody can be elected while every node is killed; the sim elects n1 at the first sleep
  // otherwise, so cut everyone off first.
  (void)a.Kill({0, 1, 2}, "all");
  auto log = OneRound("isolate-leader", a);
  EXPECT_EQ(log.size(), 3u) << "only the three kills: no partition without a leader";
}

TEST(ScenarioTest, WaitForLeaderGivesUpAtTheTimeoutOrTheStop) {
  SimActions a(3, 1000);
  (void)a.Kill({0, 1, 2}, "all");
  EXPECT_FALSE(WaitForLeader(a, 1.0).has_value());
  SimActions b(3, 0.2);  // the run stops after 0.2 s
  (void)b.Kill({0, 1, 2}, "all");
  EXPECT_FALSE(WaitForLeader(b, 100).has_value());
  SimActions c(3, 1000);
  EXPECT_EQ(WaitForLeader(c, 1.0, [](int i) { return i == 0; }), std::optional<int>(0));
}

// A scenario run by the Nemesis thread: its actions are recorded as nemesis events and the
// final heal undoes what the interrupted round left.
TEST(ScenarioTest, NemesisRunsTheScenarioAndHealsWhatARoundLeft) {
  testing::FakeCluster fake;
  NemesisOptions o;
  auto sc = FindScenario("stale-follower-wins");
  ASSERT_TRUE(sc.ok());
  o.scenario = *sc;
  Nemesis nem(fake.Hooks(), o, &fake);
  nem.Start();
  // The round isolates a follower at once and kills the leader 3 s later; stop in between.
  for (int i = 0; i < 100 && fake.Fs().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(nem.ActiveFaults().find("stale-follower-wins"), std::string::npos)
      << nem.ActiveFaults();
  ASSERT_TRUE(nem.StopAndHealAll().ok());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"start-partition", "stop-partition"}));
  EXPECT_FALSE(fake.applied.has_value());
  EXPECT_EQ(nem.ActiveFaults(), "");
}

}  // namespace
}  // namespace tidemark::nemesis
