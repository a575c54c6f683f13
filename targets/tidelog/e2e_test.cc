// End to end: three real tidelog processes on loopback. Appends through the leader, SIGKILLs
// the leader, and checks that every acknowledged append is on the new leader, in order; then
// restarts the old leader and cross-checks the replicas' committed prefixes with `tidelog dump`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "test_cluster.h"

namespace tidemark::tidelog {
namespace {

using nlohmann::json;
using testkit::HttpClient;
using testkit::HttpResult;
using testkit::LocalCluster;

std::string BaseDir(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tidelog_e2e_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// All client values of [0, hwm) read linearizably from node i, paging as the protocol says.
std::vector<std::pair<uint64_t, std::string>> ReadAll(LocalCluster& c, int i) {
  std::vector<std::pair<uint64_t, std::string>> out;
  HttpClient h(c.port(i), 3000);
  uint64_t from = 0;
  for (;;) {
    HttpResult r = h.Post("/v1/log/read", {{"from", from}});
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    if (r.status != 200) return out;
    for (const json& e : r.body["entries"])
      out.emplace_back(e[0].get<uint64_t>(), e[1].get<std::string>());
    uint64_t to = r.body["to"].get<uint64_t>();
    if (to >= r.body["hwm"].get<uint64_t>() || to == from) return out;
    from = to;
  }
}

std::string RunDump(const std::string& dir) {
  std::string cmd = std::string(TIDELOG_BINARY) + " dump " + dir;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

TEST(TidelogE2eTest, AcknowledgedAppendsSurviveLeaderKill) {
  LocalCluster c(TIDELOG_BINARY, 3, BaseDir("kill"));
  ASSERT_TRUE(c.StartAll());
  auto leader = c.WaitForLeader(10000);
  ASSERT_TRUE(leader) << "no leader within 10 s";
  HttpClient h(c.port(*leader), 3000);
  std::vector<std::pair<uint64_t, std::string>> acked;
  for (uint64_t seq = 1; seq <= 60; ++seq) {
    std::string v = "v" + std::to_string(seq);
    HttpResult r = h.Post("/v1/log/append", {{"value", v}, {"client_id", "e2e"}, {"seq", seq}});
    ASSERT_EQ(r.status, 200) << r.body << r.error;
    uint64_t off = r.body["offset"].get<uint64_t>();
    ASSERT_LT(off, r.body["hwm"].get<uint64_t>());
    EXPECT_EQ(r.body["node"], c.id(*leader));
    acked.emplace_back(off, v);
  }
  // A retry of the last append is answered with the original offset, not appended again.
  HttpResult again =
      h.Post("/v1/log/append", {{"value", "v60"}, {"client_id", "e2e"}, {"seq", 60}});
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body["offset"].get<uint64_t>(), acked.back().first);
  HttpResult st = h.Post("/v1/status", json::object());
  uint64_t gen = st.body["generation"].get<uint64_t>();

  c.Kill(*leader, SIGKILL);
  auto next = c.WaitForLeader(10000, gen);
  ASSERT_TRUE(next) << "no new leader within 10 s of the kill";
  ASSERT_NE(*next, *leader);
  auto log = ReadAll(c, *next);
  EXPECT_EQ(log, acked) << "every acknowledged append, at its offset, in order, nothing else";

  // The followers refuse writes with a hint, and the old leader catches up after a restart.
  int follower = 3 - *leader - *next;
  HttpClient f(c.port(follower), 3000);
  HttpResult refused =
      f.Post("/v1/log/append", {{"value", "x"}, {"client_id", "e2e"}, {"seq", 100}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body["error"]["leader"], c.id(*next));
  ASSERT_TRUE(c.Start(*leader));
  HttpClient n(c.port(*next), 3000);
  HttpResult hw = n.Post("/v1/log/hwm", json::object());
  uint64_t target = hw.body["hwm"].get<uint64_t>();
  bool caught_up = false;
  for (int t = 0; t < 100 && !caught_up; ++t) {
    HttpClient o(c.port(*leader), 1000);
    HttpResult r = o.Post("/v1/log/read", {{"from", 0}, {"consistency", "local"}});
    caught_up = r.status == 200 && r.body["hwm"].get<uint64_t>() >= target;
    if (caught_up) {
      std::vector<std::pair<uint64_t, std::string>> got;
      for (const json& e : r.body["entries"])
        got.emplace_back(e[0].get<uint64_t>(), e[1].get<std::string>());
      EXPECT_EQ(got, acked);
    }
    ::usleep(100000);
  }
  EXPECT_TRUE(caught_up);
  // Replica cross-check: the committed prefix of every WAL is identical.
  c.Kill(0, SIGTERM);
  c.Kill(1, SIGTERM);
  c.Kill(2, SIGTERM);
  std::vector<json> dumps;
  for (int i = 0; i < 3; ++i) {
    json d = json::parse(RunDump(c.data_dir(i)), nullptr, false);
    ASSERT_FALSE(d.is_discarded()) << "dump of " << c.id(i);
    dumps.push_back(d);
  }
  for (int i = 0; i < 3; ++i)
    for (uint64_t k = 0; k < target && k < dumps[i]["entries"].size(); ++k)
      EXPECT_EQ(dumps[i]["entries"][k], dumps[*next]["entries"][k]) << c.id(i) << " @" << k;
}

TEST(TidelogE2eTest, BadRequestsGetDefinite4xxAndTheNodeSurvives) {
  LocalCluster c(TIDELOG_BINARY, 1, BaseDir("bad"));
  ASSERT_TRUE(c.StartAll());
  ASSERT_TRUE(c.WaitForLeader(10000));
  HttpClient h(c.port(0), 3000);
  HttpResult r =
      h.Post("/v1/log/append", {{"value", "v"}, {"client_id", "c"}, {"seq", 1}, {"bogus", true}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["definite"], true);
  r = h.Post("/v1/no/such/call", json::object());
  EXPECT_EQ(r.status, 404);
  r = h.Post("/v1/log/append",
             {{"value", std::string(2 << 20, 'x')}, {"client_id", "c"}, {"seq", 2}});
  EXPECT_EQ(r.status, 413);
  HttpClient h2(c.port(0), 3000);
  r = h2.Post("/v1/log/append", {{"value", "v"}, {"client_id", "c"}, {"seq", 3}});
  EXPECT_EQ(r.status, 200) << r.body << r.error;
}

TEST(TidelogE2eTest, CorruptWalTailIsReportedCutAndNeverServed) {
  LocalCluster c(TIDELOG_BINARY, 1, BaseDir("corrupt"));
  ASSERT_TRUE(c.StartAll());
  ASSERT_TRUE(c.WaitForLeader(10000));
  {
    HttpClient h(c.port(0), 3000);
    for (uint64_t seq = 1; seq <= 5; ++seq)
      ASSERT_EQ(h.Post("/v1/log/append",
                       {{"value", "c" + std::to_string(seq)}, {"client_id", "c"}, {"seq", seq}})
                    .status,
                200);
  }
  c.Kill(0, SIGKILL);
  {
    // A torn record: a header promising more bytes than follow.
    std::FILE* f = std::fopen((c.data_dir(0) + "/wal").c_str(), "ab");
    ASSERT_TRUE(f);
    const char junk[] = "\x40\x00\x00\x00\xde\xad\xbe\xefgarbage";
    std::fwrite(junk, 1, sizeof junk - 1, f);
    std::fclose(f);
  }
  ASSERT_TRUE(c.Start(0));
  ASSERT_TRUE(c.WaitForLeader(10000));
  HttpClient h(c.port(0), 3000);
  HttpResult r = h.Post("/v1/log/read", {{"from", 0}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["entries"].size(), 5u) << r.body;
  json d = json::parse(RunDump(c.data_dir(0)), nullptr, false);
  EXPECT_TRUE(d["corruption"].is_null()) << "the tail was cut on recovery: " << d["corruption"];
  std::FILE* log =
      std::fopen((std::filesystem::path(c.data_dir(0)).parent_path() / "n1.log").c_str(), "r");
  ASSERT_TRUE(log);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), log));
  std::fclose(log);
  EXPECT_NE(text.find("cutting"), std::string::npos) << text;
}

TEST(TidelogE2eTest, ValuesNearTheBodyLimitReplicate) {
  // Concurrent near-1 MiB appends make peer batches far above the client body limit.
  LocalCluster c(TIDELOG_BINARY, 3, BaseDir("large"),
                 {"--commit-timeout-ms", "20000", "--election-timeout-ms", "1000..2000"});
  ASSERT_TRUE(c.StartAll());
  auto leader = c.WaitForLeader(10000);
  ASSERT_TRUE(leader);
  std::vector<std::thread> threads;
  std::vector<int> status(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      HttpClient h(c.port(*leader), 30000);
      std::string v(600 * 1000, static_cast<char>('a' + t));
      status[static_cast<size_t>(t)] =
          h.Post("/v1/log/append", {{"value", v}, {"client_id", "big"}, {"seq", t + 1}}).status;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(status[static_cast<size_t>(t)], 200) << t;
  // Every follower stores them all (its local HWM covers them).
  for (int i = 0; i < 3; ++i) {
    bool ok = false;
    for (int tries = 0; tries < 50 && !ok; ++tries) {
      HttpClient h(c.port(i), 3000);
      HttpResult r = h.Post("/v1/log/read", {{"from", 0}, {"consistency", "local"}});
      ok = r.status == 200 && r.body["entries"].size() == 4;
      if (!ok) ::usleep(100000);
    }
    EXPECT_TRUE(ok) << c.id(i);
  }
}

}  // namespace
}  // namespace tidemark::tidelog
