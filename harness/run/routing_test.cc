// Client routing: the mixed default keeps half the clients bound to every node (so reads keep
// reaching a deposed or stalled leader and the other nodes) while the other half follow the
// leader.
#include "harness/run/routing.h"

#include <gtest/gtest.h>

#include <set>

namespace tidemark::run {
namespace {

TEST(RoutingTest, MixedBindsOddProcessesToEveryNodeAndEvenOnesFollowTheLeader) {
  Rng rng(1);
  std::set<int> bound;
  for (int64_t p = 0; p < 10; ++p) {
    int node = RouteOp(Routing::kMixed, p, 3, 2, rng);
    if (p % 2 == 0) {
      EXPECT_EQ(node, 2) << "process " << p << " follows the leader";
    } else {
      EXPECT_EQ(node, (p / 2) % 3) << "process " << p;
      bound.insert(node);
    }
  }
  EXPECT_EQ(bound, (std::set<int>{0, 1, 2})) << "10 clients reach every one of 3 nodes";
  // The bound half does not move when the leader does.
  EXPECT_EQ(RouteOp(Routing::kMixed, 3, 3, 0, rng), 1);
}

TEST(RoutingTest, LeaderAndNodeRouting) {
  Rng rng(1);
  EXPECT_EQ(RouteOp(Routing::kLeader, 7, 3, 1, rng), 1);
  EXPECT_EQ(RouteOp(Routing::kNode, 7, 3, 1, rng), 1);
  EXPECT_EQ(RouteOp(Routing::kNode, 8, 3, 1, rng), 2);
  // No leader known: a node drawn from the rng, within range.
  for (int i = 0; i < 20; ++i) {
    int n = RouteOp(Routing::kLeader, 0, 3, std::nullopt, rng);
    EXPECT_GE(n, 0);
    EXPECT_LT(n, 3);
  }
  EXPECT_EQ(ParseRouting("mixed"), Routing::kMixed);
  EXPECT_EQ(ParseRouting("nodes"), std::nullopt);
}

}  // namespace
}  // namespace tidemark::run
