// End to end: the tidelog-http adapter against ONE real tidelog node (a single-node cluster) on a
// free loopback port. Label e2e. The node is killed by its PID in TearDown.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "targets/adapters/client.h"

extern char** environ;

namespace tidemark::targets {
namespace {

using history::EventType;
using nlohmann::json;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class TidelogE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tidemark-adapters-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    port_ = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    std::vector<std::string> args = {
        TIDELOG_BINARY, "--id",        "n1", "--listen", "127.0.0.1:" + std::to_string(port_),
        "--data-dir",   dir_ + "/data"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = dir_ + "/node.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ), 0)
        << "could not start " << TIDELOG_BINARY;
    posix_spawn_file_actions_destroy(&fa);

    // Ready = /v1/status answers and the node leads (a single node elects itself). Bounded
    // wait; the test fails with the node's log path if it never gets there.
    auto status = MakeStatusClient("tidelog-http", 500);
    ASSERT_TRUE(status.ok()) << status.error().message;
    for (int i = 0; i < 400; ++i) {
      auto st = (*status)->Status(url_);
      if (st.ok() && st->role == "leader") {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(ready_) << "tidelog did not become leader; see " << log;
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!HasFailure() && !dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  std::unique_ptr<Client> NewClient() {
    ClientOptions o;
    o.client_id = "e2e-w0";
    o.timeout_ms = 5000;
    auto c = MakeClient("tidelog-http", o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return std::move(c).value();
  }

  std::string dir_;
  int port_ = 0;
  std::string url_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

OpRequest Op(std::string f, json value, std::optional<std::string> key = std::nullopt) {
  OpRequest op;
  op.f = std::move(f);
  op.value = std::move(value);
  op.key = std::move(key);
  return op;
}

TEST_F(TidelogE2eTest, AppendsAndReadsHaveTheHistoryShapes) {
  auto c = NewClient();
  std::vector<int64_t> offsets;
  for (int i = 0; i < 3; ++i) {
    const std::string v = "v0-" + std::to_string(i);
    Completion a = c->Invoke(Op("append", v), "n1", url_);
    ASSERT_EQ(a.type, EventType::kOk) << a.error.value_or("");
    ASSERT_TRUE(a.value.is_object()) << a.value;
    EXPECT_EQ(a.value["value"], v);
    EXPECT_LT(a.value["offset"].get<int64_t>(), a.value["hwm"].get<int64_t>()) << a.value;
    EXPECT_EQ(a.value.size(), 3u) << a.value;
    offsets.push_back(a.value["offset"].get<int64_t>());
  }
  EXPECT_LT(offsets[0], offsets[1]);
  EXPECT_LT(offsets[1], offsets[2]);

  for (const char* consistency : {"linearizable", "local"}) {
    SCOPED_TRACE(consistency);
    Completion r = c->Invoke(
        Op("read", {{"from", 0}, {"consistency", consistency}, {"final", true}}), "n1", url_);
    ASSERT_EQ(r.type, EventType::kOk) << r.error.value_or("");
    EXPECT_EQ(r.value["from"], 0);
    EXPECT_EQ(r.value["consistency"], consistency);
    EXPECT_LE(r.value["to"].get<int64_t>(), r.value["hwm"].get<int64_t>());
    json want = json::array();
    for (int i = 0; i < 3; ++i)
      want.push_back({offsets[static_cast<size_t>(i)], "v0-" + std::to_string(i)});
    // The entries come as text (Completion::value_text), the rest in value as well.
    EXPECT_EQ(FullValue(r)["entries"], want);
    EXPECT_EQ(FullValue(r)["from"], 0);
  }
}

TEST_F(TidelogE2eTest, RegisterOpsAndFailedCas) {
  auto c = NewClient();
  Completion unset = c->Invoke(Op("read", nullptr, "k1"), "n1", url_);
  ASSERT_EQ(unset.type, EventType::kOk) << unset.error.value_or("");
  EXPECT_TRUE(unset.value.is_null());
  Completion w = c->Invoke(Op("write", 1, "k1"), "n1", url_);
  ASSERT_EQ(w.type, EventType::kOk) << w.error.value_or("");
  EXPECT_EQ(w.value, 1);
  Completion cas = c->Invoke(Op("cas", json::array({1, 2}), "k1"), "n1", url_);
  ASSERT_EQ(cas.type, EventType::kOk) << cas.error.value_or("");
  EXPECT_EQ(cas.value, json::array({1, 2}));
  Completion bad = c->Invoke(Op("cas", json::array({1, 3}), "k1"), "n1", url_);
  EXPECT_EQ(bad.type, EventType::kFail);
  EXPECT_EQ(bad.error.value_or(""), "cas_failed (current 2)");
  Completion r = c->Invoke(Op("read", nullptr, "k1"), "n1", url_);
  ASSERT_EQ(r.type, EventType::kOk) << r.error.value_or("");
  EXPECT_EQ(r.value, 2);
}

TEST_F(TidelogE2eTest, StatusAndAKilledNodeRefuses) {
  auto st = QueryStatus("tidelog-http", url_);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->node, "n1");
  EXPECT_EQ(st->role, "leader");
  EXPECT_EQ(st->leader, "n1");

  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  auto c = NewClient();
  Completion a = c->Invoke(Op("append", "v0-9"), "n1", url_);
  EXPECT_EQ(a.type, EventType::kFail);
  EXPECT_EQ(a.error.value_or(""), "connection refused");
}

}  // namespace
}  // namespace tidemark::targets
