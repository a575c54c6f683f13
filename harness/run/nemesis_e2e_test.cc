// End-to-end tests of the nemesis in `tidemark run`: real tidelog nodes in network namespaces,
// the real binary, root only (labels e2e;netns; they skip with the reason otherwise).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "harness/testing/run_command.h"
#include "harness/testing/tidemark_run.h"
#include "nemesis/clean.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using tidemark::test_util::CliRun;
using tidemark::test_util::ReadJsonFile;
using tidemark::test_util::RunCommand;
using tidemark::test_util::SurvivingNodes;

CliRun Tidemark(const std::string& args) {
  return RunCommand(std::string(TIDEMARK_BIN) + " " + args);
}

// The events of a history.jsonl (torn lines skipped: the file may still be being written).
std::vector<json> ReadHistory(const fs::path& p) {
  std::vector<json> out;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);) {
    json e = json::parse(line, nullptr, false);
    if (e.is_object()) out.push_back(std::move(e));
  }
  return out;
}

bool IsNemesis(const json& e) { return e.value("process", json()) == "nemesis"; }

// Whether `pid` is still the process that started at `start_time` (clock ticks since boot) and
// has not exited: a zombie waiting for init to reap it is dead, whatever /proc still shows.
bool StillRunning(pid_t pid, long long start_time) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  const char state = stat[paren + 2];
  if (state == 'Z' || state == 'X') return false;
  return tidemark::nemesis::ProcStartTime(pid) == start_time;
}

// What a run with the netns backend may have left behind, read from its test.json (the
// backend's namespaces and bridge; every link of the run starts with the bridge's "tm<id>"):
// each item names the leftover. `registry` (the run's cleanup.json as it was before a sweep)
// adds its processes, matched by pid *and* start time so a reused pid is not blamed.
std::vector<std::string> Leftovers(const fs::path& run_dir, const std::string& store,
                                   const json& registry = json()) {
  std::vector<std::string> left;
  json backend = ReadJsonFile(run_dir / "test.json")["nemesis"]["backend"];
  std::string bridge = backend.value("bridge", "");
  if (bridge.size() < 4) {
    left.push_back("test.json names no netns bridge (backend " + backend.dump() + ")");
    return left;
  }
  const std::string prefix = bridge.substr(0, bridge.size() - 2);  // "tm<id>"
  std::string netns = RunCommand("ip netns list").output;
  for (const auto& ns : backend.value("namespaces", json::array()))
    if (netns.find(ns.get<std::string>()) != std::string::npos)
      left.push_back("network namespace " + ns.get<std::string>());
  std::istringstream links(RunCommand("ip -br link").output);
  for (std::string line; std::getline(links, line);)
    if (line.rfind(prefix, 0) == 0) left.push_back("link " + line.substr(0, line.find(' ')));
  // Rules live in the run's namespaces; the root namespace must hold none of the run's.
  std::string ruleset = RunCommand("nft list ruleset").output;
  std::string subnet = backend.value("subnet", "");
  subnet = subnet.substr(0, subnet.rfind('.') + 1);
  if (ruleset.find("tidemark") != std::string::npos ||
      (!subnet.empty() && ruleset.find(subnet) != std::string::npos))
    left.push_back("nft rules in the root namespace:\n" + ruleset);
  if (int n = SurvivingNodes(store); n > 0) left.push_back(std::to_string(n) + " tidelog nodes");
  if (registry.is_object())
    for (const auto& p : registry.value("processes", json::array())) {
      pid_t pid = p.value("pid", 0);
      if (pid > 0 && StillRunning(pid, p.value("start_time", -2LL)))
        left.push_back("recorded process " + std::to_string(pid) + " (" + p.value("cmdline", "") +
                       ")");
    }
  return left;
}

std::string Lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

class NemesisE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the netns backend creates namespaces";
    for (const char* tool : {"ip", "nft"})
      if (RunCommand(std::string("command -v ") + tool).exit_code != 0)
        GTEST_SKIP() << "needs '" << tool << "' for the netns backend";
    store_ = tidemark::test_util::FreshTestStore("tidemark_nemesis_e2e");
  }
  void TearDown() override {
    if (store_.empty()) return;  // skipped
    if (!HasFailure()) fs::remove_all(store_);
  }
  void KillMidPartitionThenClean(const std::string& clean);
  std::string store_;
};

// A correct tidelog under every fault for 30 s: the verdict stays valid, the faults bite (many
// ops end in `info`, leaders change) and the run removes everything it created.
TEST_F(NemesisE2ETest, CorrectTidelogStaysValidUnderAllFaults) {
  const auto t0 = std::chrono::steady_clock::now();
  // Why these flags: tidelog turns most faults into *definite* failures fast — a leader that
  // loses its quorum steps down within about a second, followers answer not_leader, a killed
  // node refuses connections, and the runner stops routing to a node it paused — so an op ends
  // `info` only while it waits on a stalled node, mostly a leader whose followers are paused or
  // cut off, before it steps down. Info ops are then about min(rate, workers / op timeout) per
  // second of stall: with the default 3 s timeout and 10 workers ~3/s (~50 in 30 s). A 0.5 s
  // timeout (healthy appends take < 0.3 s even on this loaded machine), 120 workers (240
  // timeouts/s) and rate 250 make it ~250/s: seed 1 gave 267 and 415 info (its pause of both
  // followers alone 262-276); at 80 workers and rate 200, 206-269.
  CliRun r = Tidemark(
      "run --workload log --nemesis all --nemesis-interval 3 --net netns --time-limit 30 "
      "--op-timeout 0.5 --concurrency 120 --rate 250 --seed 1 --store " +
      store_);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "seed 1, wall " << wall_s << " s\n";
  if (size_t at = r.output.find("faults: "); at != std::string::npos)
    std::cout << r.output.substr(at, r.output.find("\nverdict", at) - at) << "\n";
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verdict: valid"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("faults: "), std::string::npos) << "no fault summary:\n" << r.output;
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  json results = ReadJsonFile(run / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_GE(results["counts"]["info"].get<int>(), 200) << results["counts"] << "\n" << r.output;
  EXPECT_GE(results["counts"]["ok"].get<int>(), 1000) << results["counts"];

  // Leader changes are in the history itself, as nemesis-process "leader" events: the first
  // leader and at least two elected later (a node re-elected in a new generation is a change
  // too: it lost its leadership in between).
  std::set<int64_t> generations;
  int leader_events = 0, faults = 0;
  for (const json& e : ReadHistory(run / "history.jsonl")) {
    if (!IsNemesis(e)) continue;
    if (e["f"] == "leader") {
      ++leader_events;
      EXPECT_EQ(e["type"], "info") << e;
      if (e["value"]["node"].is_string())
        generations.insert(e["value"]["generation"].get<int64_t>());
    } else if (e["f"] != "skip") {
      ++faults;
    }
  }
  EXPECT_GE(leader_events, 3) << r.output;
  EXPECT_GE(generations.size(), 3u) << "fewer than two leader elections seen:\n" << r.output;
  EXPECT_GE(faults, 10) << "expected several start/stop pairs in 30 s at interval 3";
  const json& fs_json = results["faults"];
  EXPECT_GE(fs_json["leader_changes"].get<int>(), 2) << fs_json.dump(1);
  EXPECT_GE(fs_json["windows"].size(), 4u) << fs_json.dump(1);
  EXPECT_GT(fs_json["in_faults"]["info"].get<int>(), 0) << fs_json.dump(1);
  EXPECT_EQ(results["counts"]["leader"], leader_events);

  // The history, leader observations and all, checks valid offline too.
  CliRun again = Tidemark("check " + (run / "history.jsonl").string() + " --quiet");
  EXPECT_EQ(again.exit_code, 0) << again.output;

  std::vector<std::string> left = Leftovers(run, store_);
  EXPECT_TRUE(left.empty()) << "left behind:\n" << Lines(left);
}

// SIGKILL the controller while a partition is in place: nothing can tear down, so namespaces,
// bridge and veths stay; `tidemark clean` must remove them and any recorded process.
// SIGKILLs a controller mid-partition, then runs `clean` (a shell command line); nothing the run
// made may be left.
void NemesisE2ETest::KillMidPartitionThenClean(const std::string& clean) {
  auto run = tidemark::test_util::StartRunInBackground(
      TIDEMARK_BIN, store_,
      {"--nemesis", "partition", "--nemesis-interval", "2", "--net", "netns", "--time-limit", "60",
       "--seed", "3"},
      0);
  ASSERT_GT(run.pid, 0);
  ASSERT_FALSE(run.history.empty()) << "the run never started recording";
  // Wait until a partition is in place: the last partition event is a start.
  auto partitioned = [&] {
    std::string last;
    for (const json& e : ReadHistory(run.history))
      if (IsNemesis(e) && e["f"].get<std::string>().find("-partition") != std::string::npos)
        last = e["f"];
    return last == "start-partition";
  };
  bool in_partition = false;
  for (int i = 0; i < 200 && !(in_partition = partitioned()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fs::path run_dir = run.history.parent_path();
  json registry = ReadJsonFile(run_dir / "cleanup.json");
  kill(run.pid, SIGKILL);  // no handler, no teardown
  int status = 0;
  waitpid(run.pid, &status, 0);
  ASSERT_TRUE(in_partition) << "no partition within 10 s";
  EXPECT_TRUE(partitioned()) << "the partition was healed before the kill; the test proves less";

  // Before the sweep the run's network is still there (else this test could not fail).
  std::vector<std::string> before = Leftovers(run_dir, store_);
  EXPECT_FALSE(before.empty()) << "a SIGKILLed controller left nothing to clean?";
  ASSERT_TRUE(registry.is_object()) << "no readable cleanup.json";
  EXPECT_FALSE(registry["processes"].empty()) << registry.dump(1);
  EXPECT_FALSE(registry["namespaces"].empty()) << registry.dump(1);

  CliRun swept = RunCommand(clean);
  EXPECT_EQ(swept.exit_code, 0) << swept.output;
  std::vector<std::string> left = Leftovers(run_dir, store_, registry);
  EXPECT_TRUE(left.empty()) << "left behind after " << clean << ":\n"
                            << Lines(left) << "clean said:\n"
                            << swept.output;
  json after = ReadJsonFile(run_dir / "cleanup.json");
  EXPECT_TRUE(after.value("namespaces", json::array()).empty()) << after.dump(1);
  EXPECT_TRUE(after.value("links", json::array()).empty()) << after.dump(1);
  // A second sweep has nothing left to do.
  EXPECT_EQ(RunCommand(clean).exit_code, 0);
}

TEST_F(NemesisE2ETest, CleanAfterControllerKilledMidPartitionLeavesNothing) {
  KillMidPartitionThenClean(std::string(TIDEMARK_BIN) + " clean --store " + store_);
}

// The user does not remember where the run kept its store: `tidemark clean` with no arguments,
// from another directory, finds it through the machine-wide list (nemesis/clean.h).
TEST_F(NemesisE2ETest, CleanWithNoArgumentsFromElsewhereFindsTheRun) {
  const fs::path elsewhere = store_ + "-elsewhere";
  fs::create_directories(elsewhere);
  KillMidPartitionThenClean("cd " + elsewhere.string() + " && " + TIDEMARK_BIN + " clean");
  fs::remove_all(elsewhere);
}

}  // namespace
