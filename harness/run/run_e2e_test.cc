// End-to-end tests of `tidemark run`: real tidelog processes on loopback, the real binary.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "harness/testing/run_command.h"
#include "harness/testing/tidemark_run.h"

namespace {
namespace fs = std::filesystem;

using tidemark::test_util::CliRun;

CliRun Tidemark(const std::string& args) {
  return tidemark::test_util::RunCommand(std::string(TIDEMARK_BIN) + " " + args);
}

using tidemark::test_util::ReadJsonFile;
using tidemark::test_util::SurvivingNodes;

// `tidemark run` (60 s, seed) in the background, once its history holds more than `min_bytes`.
std::pair<pid_t, fs::path> StartRunAndWaitForHistory(const std::string& store, const char* seed,
                                                     uintmax_t min_bytes) {
  auto r = tidemark::test_util::StartRunInBackground(
      TIDEMARK_BIN, store, {"--time-limit", "60", "--seed", seed}, min_bytes);
  return {r.pid, r.history};
}

class RunE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = tidemark::test_util::FreshTestStore("tidemark_run_e2e"); }
  void TearDown() override {
    EXPECT_EQ(SurvivingNodes(store_), 0) << "tidelog nodes left running";
    if (!HasFailure()) fs::remove_all(store_);
  }
  std::string store_;
};

TEST_F(RunE2ETest, LogWorkloadRunsChecksAndStoresEverything) {
  CliRun r = Tidemark(
      "run --workload log --time-limit 8 --rate 300 --concurrency 8 --seed 7 "
      "--store " +
      store_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("seed: 7", 0), 0u) << "the seed must be printed first:\n" << r.output;
  EXPECT_NE(r.output.find("verdict: valid"), std::string::npos) << r.output;
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  EXPECT_EQ(fs::canonical(fs::path(store_) / "tidelog-log-none" / "latest"), run);
  for (const char* f :
       {"test.json", "history.jsonl", "results.json", "nodes/n1/stderr.log", "nodes/n3/dump.json"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  nlohmann::json test = ReadJsonFile(run / "test.json");
  EXPECT_EQ(test["seed"], 7);
  EXPECT_NE(test["repeat"].get<std::string>().find("--seed 7"), std::string::npos);
  EXPECT_EQ(test["nodes"].size(), 3u);
  nlohmann::json results = ReadJsonFile(run / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_GT(results["counts"]["ok"].get<int>(), 1000);  // thousands of ops
  // Every invoke was paired with a completion.
  EXPECT_EQ(results["counts"]["invoke"].get<int>(), results["counts"]["ok"].get<int>() +
                                                        results["counts"]["fail"].get<int>() +
                                                        results["counts"]["info"].get<int>());
  std::vector<std::string> checkers;
  for (const auto& c : results["checkers"]) checkers.push_back(c["checker"]);
  EXPECT_EQ(checkers, (std::vector<std::string>{"log-prefix", "log-replicas"}));
  // The recorded history checks offline to the same verdict.
  CliRun again = Tidemark("check " + (run / "history.jsonl").string());
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(RunE2ETest, RegisterWorkloadIsLinearizable) {
  CliRun r = Tidemark(
      "run --workload register --time-limit 4 --rate 150 --concurrency 6 "
      "--seed 11 --store " +
      store_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json results = ReadJsonFile(fs::path(store_) / "latest" / "results.json");
  EXPECT_EQ(results["checkers"][0]["checker"], "linearizability");
  EXPECT_EQ(results["verdict"], "valid");
}

TEST_F(RunE2ETest, LaterFlagOverridesEarlierSoWrappersCanSetDefaults) {
  // scripts/run.sh passes its defaults first and the user's flags after them.
  CliRun r = Tidemark(
      "run --workload register --time-limit 60 --store /nonexistent/x --workload log "
      "--time-limit 2 --rate 50 --store " +
      store_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(fs::path(store_) / "tidelog-log-none" / "latest" / "results.json"));
}

// The README's main job uses the default `--store store`, relative to where it is run; the
// nodes run with their own directory as cwd, so the paths handed to them must not be relative.
TEST_F(RunE2ETest, RelativeStoreWorksLikeTheReadmeMainJob) {
  fs::create_directories(store_);
  CliRun r = tidemark::test_util::RunCommand("cd " + store_ + " && " + std::string(TIDEMARK_BIN) +
                                             " run --time-limit 2 --rate 50 --store rel-store");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(fs::path(store_) / "rel-store" / "latest" / "results.json")) << r.output;
}

// #17: a run whose cluster cannot start still leaves a complete run directory that says why.
TEST_F(RunE2ETest, NodeThatCannotStartLeavesACompleteRunDirectoryWithTheCause) {
  fs::create_directories(store_);
  std::string desc = store_ + "/broken.json";
  {
    std::ofstream f(desc);
    f << R"({"name":"broken","adapter":"tidelog-http",
             "start":{"argv":["/bin/sh","-c","echo cannot open data dir >&2; exit 3","{node}"]},
             "ready":{"timeout_s":5}})";
  }
  CliRun r = Tidemark("run --target " + desc + " --time-limit 2 --store " + store_);
  EXPECT_EQ(r.exit_code, 255) << r.output;
  EXPECT_NE(r.output.find("exited during start-up (exit 3)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot open data dir"), std::string::npos) << r.output;

  // `latest` moved to the run, which holds results, report and junit.
  fs::path run = fs::canonical(fs::path(store_) / "latest");
  EXPECT_EQ(fs::canonical(fs::path(store_) / "broken-log-none" / "latest"), run);
  nlohmann::json results = ReadJsonFile(run / "results.json");
  ASSERT_FALSE(results.is_discarded()) << "no results.json in " << run;
  EXPECT_EQ(results["verdict"], "unknown");
  EXPECT_EQ(results["checkers"], nlohmann::json::array());
  const nlohmann::json& cause = results["cause"];
  EXPECT_EQ(cause["phase"], "start");
  EXPECT_EQ(cause["node"], "n1");
  EXPECT_NE(cause["message"].get<std::string>().find("n1 exited during start-up (exit 3)"),
            std::string::npos)
      << cause.dump(2);
  EXPECT_NE(cause["log_tail"].get<std::string>().find("cannot open data dir"), std::string::npos)
      << cause.dump(2);

  std::ifstream report_file(run / "report.html");
  std::string report((std::istreambuf_iterator<char>(report_file)), {});
  size_t cause_at = report.find("id=\"cause\"");
  ASSERT_NE(cause_at, std::string::npos) << "the report does not show the cause";
  EXPECT_LT(cause_at, report.find("id=\"checkers\"")) << "the cause must come first";
  EXPECT_NE(report.find("cannot open data dir", cause_at), std::string::npos);
  EXPECT_EQ(report.find("crashed or interrupted"), std::string::npos);

  std::ifstream junit_file(run / "junit.xml");
  std::string junit((std::istreambuf_iterator<char>(junit_file)), {});
  EXPECT_NE(junit.find("errors=\"1\""), std::string::npos) << junit;
  EXPECT_NE(
      junit.find(
          "<error type=\"start\" message=\"the cluster did not start: n1 exited during start-up"),
      std::string::npos)
      << junit;

  std::ifstream index_file(fs::path(store_) / "index.html");
  std::string index((std::istreambuf_iterator<char>(index_file)), {});
  EXPECT_NE(index.find("broken-log-none"), std::string::npos) << "the store index lacks the run";
  EXPECT_NE(index.find("v-unknown"), std::string::npos);
}

TEST_F(RunE2ETest, BadUsageExits254) {
  EXPECT_EQ(Tidemark("run --workload bank --store " + store_).exit_code, 254);
  EXPECT_EQ(Tidemark("run --nodes 0 --store " + store_).exit_code, 254);
  // A target that does not exist is bad usage (254), refused before any run directory exists.
  CliRun r = Tidemark("run --target nosuch --store " + store_);
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_FALSE(std::filesystem::exists(store_ + "/latest")) << r.output;
  EXPECT_NE(r.output.find("no target descriptor 'nosuch'"), std::string::npos) << r.output;
}

TEST_F(RunE2ETest, KilledControllerTakesEveryNodeWithItAndLeavesACheckableHistory) {
  auto [pid, history] = StartRunAndWaitForHistory(store_, "9", 5000);
  ASSERT_GT(pid, 0);
  ASSERT_FALSE(history.empty()) << "the run never started recording";
  ASSERT_GT(SurvivingNodes(store_), 0) << "nodes should be running before the kill";
  kill(pid, SIGKILL);  // no handler, no teardown: only PR_SET_PDEATHSIG stands between us and
  int status = 0;      // orphaned nodes
  waitpid(pid, &status, 0);
  int left = 0;
  for (int i = 0; i < 100; ++i) {
    left = SurvivingNodes(store_);
    if (left == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, 0) << "nodes outlived their controller";
  CliRun again = Tidemark("check " + history.string() + " --quiet");
  EXPECT_NE(again.exit_code, 255) << "the history written up to the kill must be readable: "
                                  << again.output;
  EXPECT_NE(again.exit_code, 254) << again.output;
}

TEST_F(RunE2ETest, SigintTearsDownAndKeepsTheHistory) {
  // Wait until the main phase is recording, then interrupt.
  auto [pid, history] = StartRunAndWaitForHistory(store_, "5", 2000);
  ASSERT_GT(pid, 0);
  ASSERT_FALSE(history.empty()) << "the run never started recording";
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  nlohmann::json results = ReadJsonFile(history.parent_path() / "results.json");
  EXPECT_EQ(results["interrupted"], true);
  EXPECT_NE(results["verdict"], "valid");  // an interrupted run proves nothing
  CliRun again = Tidemark("check " + history.string() + " --quiet");
  EXPECT_NE(again.exit_code, 255) << "the history left behind must be readable: " << again.output;
}

// What only a live run can know, left out when a run's results.json is compared with what
// `tidemark check` writes for its history: the run's own fields (test, seed, interrupted,
// harness timings and CPU, history_write_error, cause), the check's own (file, format, warnings,
// seconds), the log-replicas checker (it reads the replicas' dumps and final HWMs, which only
// the live cluster has) and the linearizability checker's elapsed_s (a timing).
nlohmann::json WithoutLiveOnlyFields(nlohmann::json results) {
  for (const char* key : {"test", "seed", "interrupted", "harness", "history_write_error", "cause",
                          "file", "format", "warnings", "seconds"})
    results.erase(key);
  nlohmann::json checkers = nlohmann::json::array();
  for (nlohmann::json c : results["checkers"]) {
    if (c["checker"] == "log-replicas") continue;
    if (c["details"].is_object()) c["details"].erase("elapsed_s");
    checkers.push_back(std::move(c));
  }
  results["checkers"] = checkers;
  return results;
}

// #14: `tidemark check` on a stored run writes the run's own results.json schema, fault summary
// included, with the same content.
void ExpectCheckWritesTheRunsResults(const std::string& store, const std::string& run_args) {
  CliRun r = Tidemark("run " + run_args + " --store " + store);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path run = fs::canonical(fs::path(store) / "latest");
  nlohmann::json live = ReadJsonFile(run / "results.json");
  fs::path checked_path = fs::path(store) / "checked.json";
  CliRun check =
      Tidemark("check " + (run / "history.jsonl").string() + " --results " + checked_path.string());
  ASSERT_EQ(check.exit_code, 0) << check.output;
  nlohmann::json checked = ReadJsonFile(checked_path);
  ASSERT_TRUE(live.contains("faults") && checked.contains("faults")) << checked.dump(2);
  EXPECT_EQ(checked["file"], (run / "history.jsonl").string());
  EXPECT_EQ(WithoutLiveOnlyFields(checked), WithoutLiveOnlyFields(live))
      << "check:\n"
      << WithoutLiveOnlyFields(checked).dump(2) << "\nrun:\n"
      << WithoutLiveOnlyFields(live).dump(2);
}

TEST_F(RunE2ETest, CheckOfAStoredLogRunWritesTheRunsResults) {
  ExpectCheckWritesTheRunsResults(store_, "--workload log --time-limit 3 --rate 200 --seed 21");
}

TEST_F(RunE2ETest, CheckOfAStoredRegisterRunWritesTheRunsResults) {
  ExpectCheckWritesTheRunsResults(store_,
                                  "--workload register --time-limit 3 --rate 100 --seed 22");
}

}  // namespace
