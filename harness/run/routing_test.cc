// Client routing: the mixed default keeps two thirds of the clients bound to nodes — one reader
// and at least one reader-writer per node with 10 clients on 3 nodes — while a third follow the
// leader; roles belong to slots, so a retired process's successor keeps its slot's role.
#include "harness/run/routing.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace tidemark::run {
namespace {

TEST(RoutingTest, MixedGivesEveryNodeAReaderAndAWriterAndAThirdFollowTheLeader) {
  Rng rng(1);
  std::map<int, int> readers, writers;
  int followers = 0;
  for (int64_t p = 0; p < 10; ++p) {
    int node = RouteOp(Routing::kMixed, p, 10, 3, 2, rng);
    if (BoundIndex(p, 10) < 0) {
      EXPECT_EQ(node, 2) << "process " << p << " follows the leader";
      ++followers;
    } else {
      ++(IsNodeReader(p, 10, 3) ? readers : writers)[node];
    }
  }
  EXPECT_EQ(followers, 4);
  EXPECT_EQ(readers, (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}}));
  EXPECT_EQ(writers, (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}}));
  // The bound ones do not move when the leader does.
  EXPECT_EQ(RouteOp(Routing::kMixed, 1, 10, 3, 0, rng), 0);
  EXPECT_EQ(RouteOp(Routing::kMixed, 1, 10, 3, 1, rng), 0);
}

TEST(RoutingTest, ARetiredProcessKeepsItsSlotsRole) {
  Rng rng(1);
  for (int64_t p = 0; p < 10; ++p) {
    EXPECT_EQ(BoundIndex(p + 10, 10), BoundIndex(p, 10));
    EXPECT_EQ(IsNodeReader(p + 30, 10, 3), IsNodeReader(p, 10, 3));
    if (BoundIndex(p, 10) >= 0) {
      EXPECT_EQ(RouteOp(Routing::kMixed, p + 20, 10, 3, 0, rng),
                RouteOp(Routing::kMixed, p, 10, 3, 0, rng));
    }
  }
}

TEST(RoutingTest, LeaderAndNodeRouting) {
  Rng rng(1);
  EXPECT_EQ(RouteOp(Routing::kLeader, 7, 10, 3, 1, rng), 1);
  EXPECT_EQ(RouteOp(Routing::kNode, 7, 10, 3, 1, rng), 1);
  EXPECT_EQ(RouteOp(Routing::kNode, 8, 10, 3, 1, rng), 2);
  // No leader known: a node drawn from the rng, within range.
  std::set<int> drawn;
  for (int i = 0; i < 50; ++i) drawn.insert(RouteOp(Routing::kLeader, 0, 10, 3, std::nullopt, rng));
  EXPECT_EQ(drawn, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(ParseRouting("mixed"), Routing::kMixed);
  EXPECT_EQ(ParseRouting("nodes"), std::nullopt);
}

}  // namespace
}  // namespace tidemark::run
