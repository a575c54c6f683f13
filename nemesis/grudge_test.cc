#include "nemesis/grudge.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tidemark::nemesis {
namespace {

// Every test walks many seeds; a failure names the seed that produced it.
constexpr uint64_t kSeeds = 200;

std::set<int> All(int n) {
  std::set<int> s;
  for (int i = 0; i < n; ++i) s.insert(i);
  return s;
}

// The links of `g` are exactly: a → b cut iff expect(a, b).
template <typename F>
void ExpectLinks(const Grudge& g, int n, F expect, const std::string& ctx) {
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      EXPECT_EQ(Cut(g, a, b), a != b && expect(a, b))
          << ctx << ": link n" << a + 1 << " -> n" << b + 1 << " in " << GrudgeToJson(g).dump();
}

TEST(GrudgeTest, CompletePartitionCutsExactlyCrossComponentLinks) {
  Grudge g = CompletePartition(5, {{0, 1}, {2, 3}});  // node 4 in no component: keeps all links
  auto comp = [](int x) { return x < 2 ? 0 : x < 4 ? 1 : -1; };
  ExpectLinks(
      g, 5, [&](int a, int b) { return comp(a) >= 0 && comp(b) >= 0 && comp(a) != comp(b); },
      "complete");
  EXPECT_TRUE(Symmetric(g));
}

TEST(GrudgeTest, IsolateNodeAndOneWay) {
  for (int n : {2, 3, 5, 7}) {
    for (int x = 0; x < n; ++x) {
      Grudge g = IsolateNode(n, x);
      ExpectLinks(
          g, n, [&](int a, int b) { return a == x || b == x; }, "isolate");
      EXPECT_EQ(Sees(g, n, x), std::set<int>{x});
    }
  }
  Grudge g = OneWayCut({0}, {1, 2});
  ExpectLinks(
      g, 3, [](int a, int b) { return a == 0 && b != 0; }, "one-way");
  EXPECT_FALSE(Symmetric(g));
}

TEST(GrudgeTest, HalvesAreMinorityAndMajority) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    for (int n : {2, 3, 4, 5, 6, 7}) {
      Rng rng(seed);
      auto plan = PlanPartition(PartitionShape::kHalves, false, n, std::nullopt, rng);
      ASSERT_TRUE(plan.ok()) << plan.error().message;
      std::set<int> minority(plan->focus.begin(), plan->focus.end());
      ASSERT_EQ(static_cast<int>(minority.size()), n / 2) << "seed " << seed;
      ExpectLinks(
          plan->grudge, n, [&](int a, int b) { return minority.count(a) != minority.count(b); },
          "halves seed " + std::to_string(seed));
      // Majority side sees a majority, minority side does not.
      for (int i = 0; i < n; ++i) {
        auto s = Sees(plan->grudge, n, i);
        EXPECT_EQ(minority.count(i) ? n / 2 : n - n / 2, static_cast<int>(s.size()))
            << "seed " << seed;
      }
    }
  }
}

TEST(GrudgeTest, MajoritiesRingEveryNodeSeesADistinctMajority) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    for (int n : {3, 4, 5, 6, 7, 9}) {
      Rng rng(seed);
      Grudge g = MajoritiesRing(n, rng);
      std::set<std::set<int>> seen;
      for (int i = 0; i < n; ++i) {
        std::set<int> s = Sees(g, n, i);
        EXPECT_EQ(static_cast<int>(s.size()), n / 2 + 1) << "n=" << n << " seed " << seed;
        EXPECT_TRUE(s.count(i)) << "a node always hears itself";
        seen.insert(s);
      }
      EXPECT_EQ(static_cast<int>(seen.size()), n)
          << "two nodes see the same majority, n=" << n << " seed " << seed << " "
          << GrudgeToJson(g).dump();
      if ((n / 2 + 1) % 2 == 1) {
        EXPECT_TRUE(Symmetric(g)) << "n=" << n << " seed " << seed;
      }
    }
  }
}

TEST(GrudgeTest, MajoritiesRingFiveNodesIsARing) {
  // For 5 nodes every node sees exactly its two ring neighbours: the "sees" relation is a
  // 5-cycle (each node has degree 2, connected).
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Rng rng(seed);
    Grudge g = MajoritiesRing(5, rng);
    std::set<int> reached = {0};
    std::vector<int> frontier = {0};
    while (!frontier.empty()) {
      int x = frontier.back();
      frontier.pop_back();
      for (int y : Sees(g, 5, x))
        if (reached.insert(y).second) frontier.push_back(y);
    }
    EXPECT_EQ(reached, All(5)) << "seed " << seed;
  }
}

TEST(GrudgeTest, BridgeSeesBothHalvesAndHalvesDoNotSeeEachOther) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    for (int n : {3, 4, 5, 7}) {
      Rng rng(seed), rng2(seed);
      int b = -1;
      Grudge g = Bridge(n, rng, &b);
      BridgeSplit split = SplitForBridge(n, rng2);
      ASSERT_EQ(split.bridge, b);
      EXPECT_EQ(Sees(g, n, b), All(n)) << "seed " << seed;
      std::set<int> a(split.a.begin(), split.a.end()), c(split.c.begin(), split.c.end());
      ExpectLinks(
          g, n,
          [&](int x, int y) { return (a.count(x) && c.count(y)) || (c.count(x) && a.count(y)); },
          "bridge seed " + std::to_string(seed));
      // For odd n both sides plus the bridge are majorities.
      if (n % 2 == 1) {
        EXPECT_EQ(static_cast<int>(a.size()) + 1, n / 2 + 1);
        EXPECT_EQ(static_cast<int>(c.size()) + 1, n / 2 + 1);
      }
    }
  }
}

TEST(GrudgeTest, LeaderShapeNeedsALeaderAndIsolatesIt) {
  Rng rng(1);
  EXPECT_FALSE(PlanPartition(PartitionShape::kLeader, false, 3, std::nullopt, rng).ok());
  auto p = PlanPartition(PartitionShape::kLeader, false, 3, 2, rng);
  ASSERT_TRUE(p.ok());
  ExpectLinks(
      p->grudge, 3, [](int a, int b) { return a == 2 || b == 2; }, "leader");
  auto q = PlanPartition(PartitionShape::kLeader, true, 3, 2, rng);
  ASSERT_TRUE(q.ok());
  // One-way: the leader's messages are lost; it still hears the others.
  ExpectLinks(
      q->grudge, 3, [](int a, int b) { return a == 2 && b != 2; }, "leader one-way");
}

TEST(GrudgeTest, OneWayVariantsCutOnlyFromTheFocusSide) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Rng r1(seed), r2(seed);
    auto two = PlanPartition(PartitionShape::kHalves, false, 5, std::nullopt, r1);
    auto one = PlanPartition(PartitionShape::kHalves, true, 5, std::nullopt, r2);
    ASSERT_TRUE(two.ok() && one.ok());
    std::set<int> minority(one->focus.begin(), one->focus.end());
    ExpectLinks(
        one->grudge, 5, [&](int a, int b) { return minority.count(a) && !minority.count(b); },
        "one-way halves seed " + std::to_string(seed));
    // The one-way cut is half of the two-way one.
    for (int a = 0; a < 5; ++a)
      for (int b = 0; b < 5; ++b)
        if (Cut(one->grudge, a, b)) {
          EXPECT_TRUE(Cut(two->grudge, a, b));
        }
  }
  Rng rng(3);
  EXPECT_FALSE(PlanPartition(PartitionShape::kMajoritiesRing, true, 5, std::nullopt, rng).ok());
}

TEST(GrudgeTest, ExplicitGrudgeIsValidatedAndKept) {
  Rng rng(1);
  Grudge g = {{0, {1}}, {2, {}}};
  auto p = PlanPartition(PartitionShape::kExplicit, false, 3, std::nullopt, rng, &g);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->grudge, (Grudge{{0, {1}}}));
  EXPECT_TRUE(p->one_way);
  Grudge self = {{1, {1}}};
  EXPECT_FALSE(PlanPartition(PartitionShape::kExplicit, false, 3, std::nullopt, rng, &self).ok());
  Grudge out = {{0, {5}}};
  EXPECT_FALSE(PlanPartition(PartitionShape::kExplicit, false, 3, std::nullopt, rng, &out).ok());
}

TEST(GrudgeTest, JsonRoundTripAndErrors) {
  Grudge g = {{0, {1, 2}}, {1, {0}}, {2, {0}}};
  nlohmann::json j = GrudgeToJson(g);
  EXPECT_EQ(j.dump(), R"({"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]})");
  auto back = GrudgeFromJson(j, 3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, g);
  EXPECT_FALSE(GrudgeFromJson(nlohmann::json::parse(R"({"n4":["n1"]})"), 3).ok());
  EXPECT_FALSE(GrudgeFromJson(nlohmann::json::parse(R"({"n1":["n1"]})"), 3).ok());
  EXPECT_FALSE(GrudgeFromJson(nlohmann::json::parse(R"({"n1":"n2"})"), 3).ok());
  EXPECT_FALSE(GrudgeFromJson(nlohmann::json::parse(R"(["n1"])"), 3).ok());
}

TEST(SelectTargetsTest, SizesAndLeaderRules) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    for (int n : {1, 2, 3, 5, 7}) {
      Rng rng(seed);
      auto check = [&](ProcessTarget t, std::optional<int> leader, size_t size) {
        auto v = SelectTargets(t, n, leader, rng);
        EXPECT_EQ(v.size(), size) << ToString(t) << " n=" << n << " seed " << seed;
        EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
        EXPECT_EQ(std::set<int>(v.begin(), v.end()).size(), v.size()) << "duplicates";
        for (int x : v) EXPECT_TRUE(x >= 0 && x < n);
        return v;
      };
      check(ProcessTarget::kOne, std::nullopt, 1);
      auto minority = check(ProcessTarget::kMinority, std::nullopt,
                            static_cast<size_t>(std::max(1, (n - 1) / 2)));
      if (n >= 3) {
        EXPECT_LT(static_cast<int>(minority.size()), n / 2 + 1);
      }
      check(ProcessTarget::kMajority, std::nullopt, static_cast<size_t>(n / 2 + 1));
      check(ProcessTarget::kAll, std::nullopt, static_cast<size_t>(n));
      check(ProcessTarget::kLeader, std::nullopt, 0);
      check(ProcessTarget::kFollowers, std::nullopt, 0);
      int leader = n - 1;
      EXPECT_EQ(check(ProcessTarget::kLeader, leader, 1), std::vector<int>{leader});
      auto f = check(ProcessTarget::kFollowers, leader, static_cast<size_t>(n - 1));
      EXPECT_EQ(std::count(f.begin(), f.end(), leader), 0);
    }
  }
}

TEST(SelectTargetsTest, DeterministicForASeedAndNotConstant) {
  std::set<std::vector<int>> distinct;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng a(seed), b(seed);
    auto x = SelectTargets(ProcessTarget::kMinority, 7, std::nullopt, a);
    EXPECT_EQ(x, SelectTargets(ProcessTarget::kMinority, 7, std::nullopt, b)) << "seed " << seed;
    distinct.insert(x);
  }
  EXPECT_GT(distinct.size(), 5u) << "selection does not depend on the rng";
}

TEST(ShapeNamesTest, RoundTrip) {
  for (PartitionShape s : RandomPartitionShapes()) EXPECT_EQ(ParsePartitionShape(ToString(s)), s);
  EXPECT_EQ(ParsePartitionShape("explicit"), PartitionShape::kExplicit);
  EXPECT_FALSE(ParsePartitionShape("ring").has_value());
  EXPECT_EQ(ParseProcessTarget("followers"), ProcessTarget::kFollowers);
  EXPECT_FALSE(ParseProcessTarget("primary").has_value());
}

}  // namespace
}  // namespace tidemark::nemesis
