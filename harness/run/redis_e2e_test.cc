// End-to-end tests of the Redis target (targets/redis.json: redis-server primary and replicas,
// one redis-sentinel per node, adapter `redis`) under `tidemark run`, the real binary. Labels
// e2e + netns.
//
// What they prove: partitioning the primary away makes Sentinel promote a replica while the old
// primary keeps acknowledging writes, and the log checker reports those writes `lost-write`
// (docs/redis.md); every redis-server and redis-sentinel is gone after the run, and after the
// controller is SIGKILLed.
//
// Skips (with the reason) when redis-server or redis-sentinel is not installed; under CI=true a
// missing package fails instead (scripts/setup.sh installs them). The partition test also needs
// root for network namespaces.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/testing/run_command.h"
#include "harness/testing/tidemark_run.h"

namespace {
namespace fs = std::filesystem;

using nlohmann::json;
using tidemark::test_util::CliRun;
using tidemark::test_util::RunCommand;

// Why Redis cannot run here, or "".
std::string WhyNoRedis() {
  for (const char* bin : {"/usr/bin/redis-server", "/usr/bin/redis-sentinel"})
    if (!fs::exists(bin))
      return std::string(bin) + " is not installed (scripts/setup.sh installs redis-server and " +
             "redis-sentinel)";
  return "";
}

bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Processes whose working directory lies under `store`: the nodes' processes run in their node
// directory (redis-server rewrites its command line, so that cannot be matched).
int ProcessesUnder(const std::string& store) {
  int n = 0;
  std::error_code ec;
  const std::string root = fs::weakly_canonical(store, ec).string();
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::error_code link_ec;
    fs::path cwd = fs::read_symlink(e.path() / "cwd", link_ec);
    if (!link_ec && cwd.string().rfind(root, 0) == 0) ++n;
  }
  return n;
}

// Waits up to `seconds` for every process under `store` to be gone; returns how many remain.
int WaitGone(const std::string& store, int seconds) {
  for (int i = 0; i < seconds * 10 && ProcessesUnder(store) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return ProcessesUnder(store);
}

class RedisE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = WhyNoRedis(); !why.empty()) {
      if (UnderCi()) FAIL() << "CI=true but " << why;
      GTEST_SKIP() << why;
    }
    store_ = tidemark::test_util::FreshTestStore("tidemark_redis_e2e");
  }
  void TearDown() override {
    if (store_.empty()) return;
    EXPECT_EQ(WaitGone(store_, 5), 0) << "redis processes left running under " << store_;
    if (!HasFailure()) fs::remove_all(store_);
  }
  std::string store_;
};

TEST_F(RedisE2ETest, PartitionedPrimaryLosesAcknowledgedWrites) {
  if (geteuid() != 0) GTEST_SKIP() << "partitions of Redis need the netns backend (root)";
  CliRun r = RunCommand(std::string(TIDEMARK_BIN) +
                        " run --target redis --workload log --nemesis partition:leader --net netns"
                        " --nemesis-interval 5 --time-limit 30 --concurrency 8 --seed 11 --store " +
                        store_);
  EXPECT_EQ(r.exit_code, 1) << r.output;  // invalid
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  json results = tidemark::test_util::ReadJsonFile(run / "results.json");
  ASSERT_FALSE(results.is_discarded());
  EXPECT_EQ(results["verdict"], "invalid") << r.output;
  EXPECT_NE(r.output.find("lost-write"), std::string::npos) << r.output;
  // Sentinel really failed over: some replica was promoted (its own log says so).
  bool promoted = false;
  for (const auto& node : fs::directory_iterator(run / "nodes")) {
    std::ifstream f(node.path() / "sentinel.stdout.log");
    for (std::string line; !promoted && std::getline(f, line);)
      promoted = line.find("+switch-master") != std::string::npos;
  }
  EXPECT_TRUE(promoted) << "no Sentinel logged +switch-master";
}

TEST_F(RedisE2ETest, KilledControllerTakesEveryRedisProcessWithIt) {
  auto bg = tidemark::test_util::StartRunInBackground(
      TIDEMARK_BIN, store_,
      {"--target", "redis", "--workload", "register", "--time-limit", "60", "--seed", "3"}, 2000);
  ASSERT_GT(bg.pid, 0);
  EXPECT_FALSE(bg.history.empty()) << "the run never got going";
  EXPECT_EQ(ProcessesUnder(store_), 6) << "3 redis-server + 3 redis-sentinel expected";
  ::kill(bg.pid, SIGKILL);
  int status = 0;
  ::waitpid(bg.pid, &status, 0);
  EXPECT_EQ(WaitGone(store_, 10), 0) << "redis processes outlived the SIGKILLed controller";
}

}  // namespace
