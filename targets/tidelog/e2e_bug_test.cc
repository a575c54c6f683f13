// Process-level demonstrations of bug switches whose fault schedules need only signals
// (docs/bug-zoo.md): each runs the same schedule with and without the bug; the correct node
// must lose nothing, the buggy one must lose acknowledged appends.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "test_cluster.h"

namespace tidemark::tidelog {
namespace {

using nlohmann::json;
using testkit::HttpClient;
using testkit::HttpResult;
using testkit::LocalCluster;

std::string BaseDir(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tidelog_e2e_bug_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::set<std::string> ReadValues(LocalCluster& c, int i) {
  std::set<std::string> out;
  HttpClient h(c.port(i), 3000);
  HttpResult r = h.Post("/v1/log/read", {{"from", 0}});
  EXPECT_EQ(r.status, 200) << r.body << r.error;
  if (r.status == 200)
    for (const json& e : r.body["entries"]) out.insert(e[1].get<std::string>());
  return out;
}

// Acknowledged values that the final log lacks.
size_t Lost(const std::vector<std::string>& acked, const std::set<std::string>& final_log) {
  size_t lost = 0;
  for (const auto& v : acked) lost += final_log.count(v) ? 0 : 1;
  return lost;
}

// Pause both followers, append through the leader, kill the leader, resume the followers.
size_t AckBeforeQuorumSchedule(bool bug) {
  std::vector<std::string> extra = {"--commit-timeout-ms", "400"};
  if (bug) extra.insert(extra.end(), {"--bug", "ack-before-quorum"});
  LocalCluster c(TIDELOG_BINARY, 3, BaseDir(bug ? "abq_bug" : "abq_ok"), extra);
  EXPECT_TRUE(c.StartAll());
  auto leader = c.WaitForLeader(10000);
  EXPECT_TRUE(leader);
  if (!leader) return 0;
  HttpClient h(c.port(*leader), 3000);
  uint64_t gen = h.Post("/v1/status", json::object()).body["generation"].get<uint64_t>();
  std::vector<std::string> acked;
  for (int i = 0; i < 3; ++i)
    if (i != *leader) c.Kill(i, SIGSTOP);
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    std::string v = "p" + std::to_string(seq);
    HttpResult r = h.Post("/v1/log/append", {{"value", v}, {"client_id", "b"}, {"seq", seq}});
    if (r.status == 200) acked.push_back(v);
    if (!bug) {
      // 504 while it still leads, 409 once it stepped down for lack of a quorum.
      EXPECT_TRUE(r.status == 504 || r.status == 409) << r.status << " " << r.body;
    }
  }
  if (bug) {
    EXPECT_EQ(acked.size(), 5u) << "the bug acknowledges local-only appends";
  }
  c.Kill(*leader, SIGKILL);
  for (int i = 0; i < 3; ++i)
    if (i != *leader) c.Kill(i, SIGCONT);
  auto next = c.WaitForLeader(10000, gen);
  EXPECT_TRUE(next);
  if (!next) return 0;
  return Lost(acked, ReadValues(c, *next));
}

TEST(TidelogBugE2eTest, AckBeforeQuorumLosesAcknowledgedAppends) {
  EXPECT_EQ(AckBeforeQuorumSchedule(false), 0u);
  EXPECT_GT(AckBeforeQuorumSchedule(true), 0u);
}

// A power cut of every node (SIGKILL all at once) right after appends were acknowledged.
size_t LazyFsyncSchedule(bool bug) {
  std::vector<std::string> extra;
  if (bug) extra = {"--bug", "lazy-fsync", "--lazy-flush-ms", "5000"};
  LocalCluster c(TIDELOG_BINARY, 3, BaseDir(bug ? "lazy_bug" : "lazy_ok"), extra);
  EXPECT_TRUE(c.StartAll());
  auto leader = c.WaitForLeader(10000);
  EXPECT_TRUE(leader);
  if (!leader) return 0;
  HttpClient h(c.port(*leader), 3000);
  std::vector<std::string> acked;
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    std::string v = "z" + std::to_string(seq);
    HttpResult r = h.Post("/v1/log/append", {{"value", v}, {"client_id", "z"}, {"seq", seq}});
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    if (r.status == 200) acked.push_back(v);
  }
  for (int i = 0; i < 3; ++i) c.Kill(i, SIGKILL);
  EXPECT_TRUE(c.StartAll());
  auto next = c.WaitForLeader(10000);
  EXPECT_TRUE(next);
  if (!next) return 0;
  return Lost(acked, ReadValues(c, *next));
}

TEST(TidelogBugE2eTest, LazyFsyncLosesAcknowledgedAppendsOnAPowerCut) {
  EXPECT_EQ(LazyFsyncSchedule(false), 0u);
  EXPECT_GT(LazyFsyncSchedule(true), 0u);
}

}  // namespace
}  // namespace tidemark::tidelog
