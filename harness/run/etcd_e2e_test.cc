// End-to-end tests of the etcd target (targets/etcd.json, adapter etcd-v3): `tidemark run`, the
// real binary, against three real etcd members, each in its own network namespace, with
// partitions and kills from the nemesis. Labels e2e + netns. Each test skips (with the reason)
// when /usr/bin/etcd is missing (scripts/setup.sh installs etcd-server) or when the netns backend
// cannot run (not root, no `ip` or `nft`): etcd's peer URLs cannot be routed through the proxy
// backend, so partitions of etcd need real namespaces.
//
// What they prove: a faulted etcd run is checked valid; ambiguous writes are recorded `info`;
// the leader really changed (read from etcd's own logs: "elected leader <id>"); and teardown
// leaves no etcd process, namespace or bridge behind.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/testing/run_command.h"

namespace {
namespace fs = std::filesystem;

using nlohmann::json;
using tidemark::test_util::CliRun;
using tidemark::test_util::RunCommand;

constexpr const char* kEtcd = "/usr/bin/etcd";

// Why the etcd e2e tests cannot run here, or "" when they can.
std::string WhyNotRunnable() {
  if (!fs::exists(kEtcd))
    return "etcd is not installed (/usr/bin/etcd; scripts/setup.sh installs etcd-server)";
  if (geteuid() != 0) return "not running as root (partitions of etcd need the netns backend)";
  if (RunCommand("ip netns list").exit_code != 0) return "`ip netns` (iproute2) is not usable";
  if (RunCommand("nft --version").exit_code != 0) return "`nft` (nftables) is not usable";
  return "";
}

json ReadJson(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f, nullptr, false);
}

std::vector<json> ReadHistory(const fs::path& p) {
  std::vector<json> events;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) events.push_back(json::parse(line, nullptr, false));
  return events;
}

// etcd processes whose command line names `store` (their --data-dir lives under it).
int SurvivingEtcds(const std::string& store) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream f(e.path() / "cmdline");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::string argv0 = all.substr(0, all.find('\0'));
    if (fs::path(argv0).filename() == "etcd" && all.find(store) != std::string::npos) ++n;
  }
  return n;
}

// The distinct member ids etcd's raft logged as elected leaders, over every node's stderr.
// Ground truth for "the leader changed" that does not depend on the harness's status watcher.
std::set<std::string> ElectedLeaders(const fs::path& run) {
  std::set<std::string> leaders;
  const std::string marker = "elected leader ";
  for (const auto& node : fs::directory_iterator(run / "nodes")) {
    std::ifstream f(node.path() / "stderr.log");
    for (std::string line; std::getline(f, line);) {
      size_t at = line.find(marker);
      if (at == std::string::npos) continue;
      size_t from = at + marker.size();
      leaders.insert(line.substr(from, line.find(' ', from) - from));
    }
  }
  return leaders;
}

class EtcdE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = WhyNotRunnable(); !why.empty()) GTEST_SKIP() << why;
    store_ = (fs::temp_directory_path() /
              ("tidemark_etcd_e2e_" + std::to_string(getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                 .string();
    fs::remove_all(store_);
  }
  void TearDown() override {
    if (store_.empty()) return;  // skipped
    EXPECT_EQ(SurvivingEtcds(store_), 0) << "etcd members left running";
    if (!HasFailure()) fs::remove_all(store_);
  }

  CliRun Run(const std::string& args) {
    return RunCommand(std::string(TIDEMARK_BIN) + " run --target etcd --net netns --store " +
                      store_ + " " + args);
  }

  // Everything the run's netns backend created is gone: its namespaces and bridge no longer
  // exist and its cleanup registry is empty.
  void ExpectNothingLeftBehind(const fs::path& run) {
    json test = ReadJson(run / "test.json");
    ASSERT_TRUE(test.contains("nemesis")) << test.dump();
    const json& backend = test["nemesis"]["backend"];
    ASSERT_EQ(backend.value("backend", ""), "netns") << backend.dump();
    std::string netns = RunCommand("ip netns list").output;
    ASSERT_FALSE(backend["namespaces"].empty());
    for (const auto& ns : backend["namespaces"])
      EXPECT_EQ(netns.find(ns.get<std::string>()), std::string::npos) << ns << " left behind";
    std::string bridge = backend.value("bridge", "");
    ASSERT_FALSE(bridge.empty());
    EXPECT_NE(RunCommand("ip link show " + bridge).exit_code, 0) << bridge << " left behind";
    json cleanup = ReadJson(run / "cleanup.json");
    for (const char* key : {"processes", "namespaces", "links"})
      EXPECT_TRUE(cleanup.value(key, json::array()).empty()) << key << ": " << cleanup.dump();
  }

  std::string store_;
};

TEST_F(EtcdE2ETest, RegisterUnderLeaderFaultsIsLinearizableAndChangesLeader) {
  // Every fault aims at the current leader, so the leader must change (random targets may spare
  // it for a whole run). A partitioned leader's writes time out: `info`, never `fail`.
  CliRun r =
      Run("--workload register --nemesis partition:leader,kill:leader --nemesis-interval 5 "
          "--time-limit 25 --concurrency 8 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: valid"), std::string::npos) << r.output;
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  json results = ReadJson(run / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_EQ(results["checkers"][0]["checker"], "linearizability");

  int ok = 0, info = 0, leader_faults = 0;
  std::set<std::string> watched_leaders;  // from the status watcher's `leader` events, if any
  for (const json& e : ReadHistory(run / "history.jsonl")) {
    ASSERT_FALSE(e.is_discarded());
    if (e["process"] == "nemesis") {
      const json& v = e["value"];
      if (e["f"] == "leader" && v.contains("node") && v["node"].is_string())
        watched_leaders.insert(v["node"].get<std::string>());
      if ((e["f"] == "kill" && v.value("target", "") == "leader") ||
          (e["f"] == "start-partition" && v.value("shape", "") == "leader" && !v.contains("error")))
        ++leader_faults;
      continue;
    }
    if (e["type"] == "ok") ++ok;
    if (e["type"] == "info") {
      ++info;
      EXPECT_NE(e["f"], "read") << "a read is never ambiguous: " << e.dump();
    }
  }
  EXPECT_GT(ok, 500) << "too few ops completed";
  EXPECT_GT(info, 0) << "no ambiguous (info) op under leader partitions and kills";
  EXPECT_GE(leader_faults, 1) << "no fault reached the leader";
  std::set<std::string> leaders = ElectedLeaders(run);
  EXPECT_GE(leaders.size(), 2u) << "etcd never elected a second leader";
  // Runs that record the watcher's view of the leader must have seen the change too.
  if (!watched_leaders.empty()) {
    EXPECT_GE(watched_leaders.size(), 2u) << "the history's leader events name one leader";
  }
  ExpectNothingLeftBehind(run);
}

TEST_F(EtcdE2ETest, LogUnderPartitionsAndKillsIsValid) {
  CliRun r =
      Run("--workload log --nemesis partition,kill --nemesis-interval 3 --time-limit 12 "
          "--concurrency 8 --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  json results = ReadJson(run / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_EQ(results["checkers"][0]["checker"], "log-prefix");

  int ok_appends = 0, ok_reads = 0, faults = 0;
  for (const json& e : ReadHistory(run / "history.jsonl")) {
    ASSERT_FALSE(e.is_discarded());
    if (e["process"] == "nemesis") {
      if (e["f"] == "kill" || e["f"] == "start-partition") ++faults;
      continue;
    }
    if (e["type"] != "ok") continue;
    if (e["f"] == "append") {
      ++ok_appends;
      EXPECT_LT(e["value"]["offset"].get<int64_t>(), e["value"]["hwm"].get<int64_t>()) << e;
    }
    if (e["f"] == "read") ++ok_reads;
  }
  EXPECT_GT(ok_appends, 50);
  EXPECT_GT(ok_reads, 50);
  EXPECT_GE(faults, 1) << "no fault was injected";
  ExpectNothingLeftBehind(run);
}

}  // namespace
