#include "nemesis/proxy.h"

#include <gtest/gtest.h>

#include "nemesis/test_util.h"

namespace tidemark::nemesis {
namespace {

using testing::ConnectTo;
using testing::EchoServer;
using testing::RecvFor;
using testing::SendAll;

// A negative check ("nothing arrives while cut") waits this long; positive ones wait 5 s.
constexpr int kQuietMs = 300;
constexpr int kWaitMs = 5000;

struct ProxyFixture {
  EchoServer n1, n2, n3;
  std::unique_ptr<NetBackend> proxy;
  explicit ProxyFixture(bool reset = false) {
    NetOptions o;
    o.run_id = "test";
    o.nodes = 3;
    o.proxy_reset = reset;
    proxy = MakeProxyBackend(o);
    NetCluster c;
    c.peer_port = "peer";
    int i = 1;
    for (EchoServer* e : {&n1, &n2, &n3}) {
      targets::NodeAddress a;
      a.name = "n" + std::to_string(i);
      a.index = i++;
      a.host = "127.0.0.1";
      a.ports = {{"client", 1}, {"peer", e->port()}};
      c.nodes.push_back(a);
    }
    Status s = proxy->Prepare(c);
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  ~ProxyFixture() { proxy->Teardown(); }
  // Opens a connection over link from → to (0-based).
  int Dial(int from, int to) {
    targets::NodeAddress a = proxy->PeerAddress()(from, to);
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.ports.at("client"), 1) << "only the peer port is redirected";
    return ConnectTo(a.host, a.ports.at("peer"), kWaitMs);
  }
};

TEST(ProxyTest, ForwardsWhenHealedHoldsWhenCutDeliversAfterHeal) {
  ProxyFixture f;
  int fd = f.Dial(0, 1);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "hello"));
  EXPECT_EQ(RecvFor(fd, 5, kWaitMs), "hello");

  ASSERT_TRUE(f.proxy->Apply({{1, {0}}}).ok());  // cut n1 -> n2
  ASSERT_TRUE(SendAll(fd, "held"));
  EXPECT_EQ(RecvFor(fd, 4, kQuietMs), "") << "bytes crossed a cut link";
  int fresh = f.Dial(0, 1);  // a new connection on a cut link is accepted but held
  ASSERT_GE(fresh, 0);
  ASSERT_TRUE(SendAll(fresh, "new"));
  EXPECT_EQ(RecvFor(fresh, 3, kQuietMs), "");

  ASSERT_TRUE(f.proxy->Heal().ok());
  EXPECT_EQ(RecvFor(fd, 4, kWaitMs), "held") << "held bytes not delivered after the heal";
  EXPECT_EQ(RecvFor(fresh, 3, kWaitMs), "new");
  ASSERT_TRUE(SendAll(fd, "again"));
  EXPECT_EQ(RecvFor(fd, 5, kWaitMs), "again");
  close(fd);
  close(fresh);
}

TEST(ProxyTest, OneWayCutDropsOnlyThatLink) {
  ProxyFixture f;
  ASSERT_TRUE(f.proxy->Apply({{1, {0}}}).ok());  // n1 -> n2 cut only
  int cut = f.Dial(0, 1);
  int back = f.Dial(1, 0);
  int other = f.Dial(0, 2);
  ASSERT_GE(cut, 0);
  ASSERT_GE(back, 0);
  ASSERT_GE(other, 0);
  ASSERT_TRUE(SendAll(back, "b"));
  ASSERT_TRUE(SendAll(other, "o"));
  ASSERT_TRUE(SendAll(cut, "c"));
  EXPECT_EQ(RecvFor(back, 1, kWaitMs), "b") << "n2 -> n1 must still flow";
  EXPECT_EQ(RecvFor(other, 1, kWaitMs), "o") << "n1 -> n3 must still flow";
  EXPECT_EQ(RecvFor(cut, 1, kQuietMs), "") << "n1 -> n2 must be cut";
  close(cut);
  close(back);
  close(other);
}

TEST(ProxyTest, SymmetricGrudgeCutsBothDirections) {
  ProxyFixture f;
  ASSERT_TRUE(f.proxy->Apply(IsolateNode(3, 2)).ok());
  for (auto [from, to] : std::vector<std::pair<int, int>>{{0, 2}, {2, 0}, {1, 2}, {2, 1}}) {
    int fd = f.Dial(from, to);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "x"));
    EXPECT_EQ(RecvFor(fd, 1, 100), "") << from << "->" << to;
    close(fd);
  }
  int ok = f.Dial(0, 1);
  ASSERT_TRUE(SendAll(ok, "y"));
  EXPECT_EQ(RecvFor(ok, 1, kWaitMs), "y");
  close(ok);
}

TEST(ProxyTest, ResetModeClosesConnectionsOfACutLink) {
  ProxyFixture f(/*reset=*/true);
  int fd = f.Dial(0, 1);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "a"));
  EXPECT_EQ(RecvFor(fd, 1, kWaitMs), "a");
  ASSERT_TRUE(f.proxy->Apply({{1, {0}}}).ok());
  bool eof = false;
  EXPECT_EQ(RecvFor(fd, 1, kWaitMs, &eof), "");
  EXPECT_TRUE(eof) << "the connection of a cut link was not reset";
  close(fd);
  ASSERT_TRUE(f.proxy->Heal().ok());
  int again = f.Dial(0, 1);
  ASSERT_TRUE(SendAll(again, "b"));
  EXPECT_EQ(RecvFor(again, 1, kWaitMs), "b");
  close(again);
}

TEST(ProxyTest, TeardownIsIdempotentAndClosesListeners) {
  ProxyFixture f;
  targets::NodeAddress a = f.proxy->PeerAddress()(0, 1);
  f.proxy->Teardown();
  f.proxy->Teardown();
  int err = 0;
  EXPECT_LT(ConnectTo(a.host, a.ports.at("peer"), kWaitMs, &err), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  EXPECT_TRUE(f.proxy->Heal().ok()) << "Heal after Teardown is a no-op";
  EXPECT_FALSE(f.proxy->Apply({{1, {0}}}).ok());
}

}  // namespace
}  // namespace tidemark::nemesis
