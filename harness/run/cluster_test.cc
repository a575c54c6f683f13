// Cluster with a descriptor whose nodes run more than one process (`processes`) and get rendered
// files (`files`): real short-lived processes (sleep, false) under a real Supervisor; each test
// takes well under a second.
#include "harness/run/cluster.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace tidemark::run {
namespace {

namespace fs = std::filesystem;

targets::Descriptor Sidecar(const std::string& side_program) {
  auto d = targets::ParseDescriptor(R"({
    "name": "t", "adapter": "redis",
    "start": {"argv": ["sleep", "30"]},
    "processes": [{"name": "side", "argv": [")" +
                                        side_program + R"(", "30"]}],
    "files": [{"path": "node.conf", "lines": ["me {node}", "primary {first_host}"]}],
    "stop": {"grace_s": 0}
  })",
                                    "t.json");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : targets::Descriptor{};
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// 'T' when the process is stopped (SIGSTOP), from /proc/<pid>/stat.
char ProcState(pid_t pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

// Polls the process's state for up to 2 s until `stopped` matches (signals land asynchronously).
bool BecomesStopped(pid_t pid, bool stopped) {
  for (int i = 0; i < 200; ++i) {
    if ((ProcState(pid) == 'T') == stopped) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("tidemark_cluster_test_" + std::to_string(getpid())))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  ClusterOptions Options(const std::string& side_program) {
    ClusterOptions o;
    o.descriptor = Sidecar(side_program);
    o.nodes = 2;
    o.run_dir = dir_;
    return o;
  }
  std::string dir_;
};

TEST_F(ClusterTest, KillAndPauseHitEveryProcessOfTheNode) {
  process::Supervisor sup;
  Cluster c(sup, Options("sleep"));
  ASSERT_TRUE(c.Prepare().ok());
  ASSERT_TRUE(c.StartAll([](int) { return true; }).ok());
  NodeState n1 = c.State(0);
  ASSERT_EQ(n1.extra_pids.size(), 1u);
  const pid_t side = n1.extra_pids[0];
  EXPECT_TRUE(sup.Running(side));
  EXPECT_EQ(Slurp(fs::path(n1.dir) / "node.conf"), "me n1\nprimary 127.0.0.1\n");

  ASSERT_TRUE(c.Pause(0));
  EXPECT_TRUE(BecomesStopped(side, true));
  EXPECT_TRUE(BecomesStopped(n1.pid, true));
  ASSERT_TRUE(c.Resume(0));
  EXPECT_TRUE(BecomesStopped(side, false));
  EXPECT_TRUE(BecomesStopped(n1.pid, false));

  ASSERT_TRUE(c.Kill(0));
  EXPECT_FALSE(sup.Running(side));
  EXPECT_FALSE(c.Running(0));
  EXPECT_TRUE(c.Running(1));  // the other node is untouched
  EXPECT_EQ(c.State(0).exits.size(), 2u);
  EXPECT_EQ(c.State(0).exits[0], "side: killed by SIGKILL");

  c.StopAll();
  EXPECT_FALSE(sup.Running(c.State(1).extra_pids.empty() ? -1 : c.State(1).extra_pids[0]));
}

TEST_F(ClusterTest, ARestartKeepsTheFileAsTheNodeLeftItAndRestartsEveryProcess) {
  process::Supervisor sup;
  Cluster c(sup, Options("sleep"));
  ASSERT_TRUE(c.Prepare().ok());
  ASSERT_TRUE(c.StartAll([](int) { return true; }).ok());
  const fs::path conf = fs::path(c.State(1).dir) / "node.conf";
  { std::ofstream(conf) << "rewritten by the node\n"; }
  ASSERT_TRUE(c.Kill(1));
  ASSERT_TRUE(c.Start(1).ok());
  EXPECT_EQ(Slurp(conf), "rewritten by the node\n");
  EXPECT_TRUE(c.Running(1));
  ASSERT_EQ(c.State(1).extra_pids.size(), 1u);
  EXPECT_TRUE(sup.Running(c.State(1).extra_pids[0]));
}

TEST_F(ClusterTest, AFurtherProcessThatExitsAtStartIsAnError) {
  process::Supervisor sup;
  Cluster c(sup, Options("false"));
  ASSERT_TRUE(c.Prepare().ok());
  Status s = c.StartAll([](int) { return false; });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("side exited during start-up"), std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace tidemark::run
