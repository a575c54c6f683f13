#include "nemesis/schedule.h"

#include <gtest/gtest.h>

namespace tidemark::nemesis {
namespace {

TEST(ParseNemesisTest, Vocabulary) {
  auto none = ParseNemesis("none");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto all = ParseNemesis("all");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].kind, FaultKind::kPartition);
  EXPECT_EQ((*all)[1].kind, FaultKind::kKill);
  EXPECT_EQ((*all)[2].kind, FaultKind::kPause);

  auto list = ParseNemesis("partition:bridge, kill:leader,pause,partition:leader:one-way");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].shape, PartitionShape::kBridge);
  EXPECT_FALSE((*list)[0].one_way);
  EXPECT_EQ((*list)[1].kind, FaultKind::kKill);
  EXPECT_EQ((*list)[1].target, ProcessTarget::kLeader);
  EXPECT_EQ((*list)[2].kind, FaultKind::kPause);
  EXPECT_FALSE((*list)[2].target.has_value());
  EXPECT_EQ((*list)[3].shape, PartitionShape::kLeader);
  EXPECT_TRUE((*list)[3].one_way);
  for (const auto& f : *list) {
    auto again = ParseNemesis(ToString(f));
    ASSERT_TRUE(again.ok()) << ToString(f);
    EXPECT_EQ((*again)[0], f) << ToString(f);
  }
}

TEST(ParseNemesisTest, DiskFaultsAreKillsWithADiskEffect) {
  auto list = ParseNemesis("lose-unfsynced,corrupt:one,lose-unfsynced:all");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  for (const auto& f : *list) EXPECT_EQ(f.kind, FaultKind::kKill);
  EXPECT_EQ((*list)[0].disk, DiskFault::kLoseUnfsynced);
  EXPECT_FALSE((*list)[0].target.has_value());
  EXPECT_EQ((*list)[1].disk, DiskFault::kCorrupt);
  EXPECT_EQ((*list)[1].target, ProcessTarget::kOne);
  EXPECT_EQ(ToString((*list)[2]), "lose-unfsynced:all");
  for (const auto& f : *list) EXPECT_EQ((*ParseNemesis(ToString(f)))[0], f) << ToString(f);
  EXPECT_FALSE(ParseNemesis("corrupt:one:two").ok());
  EXPECT_FALSE(ParseNemesis("lose-unfsynced:everyone").ok());
}

// Corrupting a majority at once can lose acknowledged data anywhere: never chosen at random.
TEST(ScheduleTest, RandomCorruptTargetsAreNeverAMajority) {
  auto faults = *ParseNemesis("corrupt");
  for (uint64_t seed = 1; seed <= 20; ++seed)
    for (const Step& s : MakeSchedule(faults, {.seed = seed, .interval_s = 1, .duration_s = 60})) {
      ASSERT_TRUE(s.fault.target.has_value());
      EXPECT_NE(*s.fault.target, ProcessTarget::kFollowers);
      EXPECT_NE(*s.fault.target, ProcessTarget::kMajority);
      EXPECT_NE(*s.fault.target, ProcessTarget::kAll);
    }
}

TEST(ParseNemesisTest, ErrorsNameTheItem) {
  for (const char* bad : {"partiton", "kill:everyone", "partition:ring", "none,kill", "kill,,pause",
                          "partition:one-way:bridge", "partition:majorities-ring:one-way",
                          "kill:one:two", "partition:explicit"}) {
    auto r = ParseNemesis(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("--nemesis"), std::string::npos) << r.error().message;
  }
  auto r = ParseNemesis("kill,crash");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'crash'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("partition[:SHAPE]"), std::string::npos);
}

TEST(ParseIntervalTest, PositiveSecondsOnly) {
  EXPECT_DOUBLE_EQ(*ParseInterval("2.5"), 2.5);
  EXPECT_DOUBLE_EQ(*ParseInterval("10"), 10);
  for (const char* bad : {"", "0", "-1", "ten", "5s", "inf", "nan"})
    EXPECT_FALSE(ParseInterval(bad).ok()) << bad;
}

TEST(ScheduleTest, DeterministicForASeedAndIndependentPerSeed) {
  auto faults = *ParseNemesis("all");
  ScheduleOptions o{.seed = 42, .interval_s = 5, .duration_s = 300};
  auto a = MakeSchedule(faults, o);
  auto b = MakeSchedule(faults, o);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].at_s, b[i].at_s);
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].fault, b[i].fault);
  }
  o.seed = 43;
  auto c = MakeSchedule(faults, o);
  EXPECT_TRUE(c.empty() || c[0].at_s != a[0].at_s) << "seed 43 gives seed 42's schedule";
}

TEST(ScheduleTest, AlternatesRespectsIntervalAndUsesOnlyChosenFaults) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    auto faults = *ParseNemesis("kill:one,partition");
    ScheduleOptions o{.seed = seed, .interval_s = 4, .duration_s = 200};
    auto steps = MakeSchedule(faults, o);
    ASSERT_FALSE(steps.empty()) << "seed " << seed;
    double prev = 0;
    double total_gap = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& s = steps[i];
      EXPECT_EQ(s.start, i % 2 == 0) << "seed " << seed << " step " << i;
      double g = s.at_s - prev;
      EXPECT_GE(g, 0.5 * o.interval_s) << "seed " << seed << " step " << i;
      EXPECT_LE(g, 1.5 * o.interval_s) << "seed " << seed << " step " << i;
      EXPECT_LT(s.at_s, o.duration_s);
      total_gap += g;
      prev = s.at_s;
      if (s.fault.kind == FaultKind::kKill) {
        EXPECT_EQ(s.fault.target, ProcessTarget::kOne) << "seed " << seed;
      } else {
        EXPECT_EQ(s.fault.kind, FaultKind::kPartition) << "seed " << seed;
        EXPECT_TRUE(s.fault.shape.has_value()) << "random shape not resolved, seed " << seed;
      }
      if (!s.start) {
        EXPECT_EQ(s.fault, steps[i - 1].fault) << "stop differs from its start";
      }
    }
    // Roughly the interval on average (uniform in [0.5, 1.5] × 4 s over ~50 gaps).
    double mean = total_gap / static_cast<double>(steps.size());
    EXPECT_GT(mean, 3.0) << "seed " << seed;
    EXPECT_LT(mean, 5.0) << "seed " << seed;
  }
}

TEST(ScheduleTest, RandomChoicesCoverEveryKindAndShape) {
  auto faults = *ParseNemesis("all");
  auto steps = MakeSchedule(faults, {.seed = 7, .interval_s = 1, .duration_s = 2000});
  std::set<std::string> seen;
  for (const auto& s : steps) seen.insert(ToString(s.fault));
  for (const char* want :
       {"partition:one", "partition:halves", "partition:majorities-ring", "partition:bridge",
        "partition:leader", "kill:one", "kill:leader", "pause:followers", "pause:minority"})
    EXPECT_TRUE(seen.count(want)) << want << " never scheduled (seed 7)";
  EXPECT_FALSE(seen.count("kill:all")) << "kill:all is only scheduled when asked for";
}

TEST(ScheduleTest, EmptyWhenNoFaults) {
  EXPECT_TRUE(MakeSchedule({}, {.seed = 1, .interval_s = 1, .duration_s = 100}).empty());
  EXPECT_TRUE(
      MakeSchedule(*ParseNemesis("kill"), {.seed = 1, .interval_s = 0, .duration_s = 100}).empty());
}

}  // namespace
}  // namespace tidemark::nemesis
