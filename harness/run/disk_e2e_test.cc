// End-to-end tests of the disk faults in `tidemark run`: real tidelog nodes whose data dirs are
// real tidemark-lazyfs mounts. Root and /dev/fuse only (label e2e); they skip with the reason
// elsewhere, and fail instead under CI=true.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "harness/testing/run_command.h"
#include "harness/testing/tidemark_run.h"
#include "nemesis/lazyfs/mount.h"
#include "nemesis/mix.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using tidemark::test_util::CliRun;
using tidemark::test_util::ReadJsonFile;
using tidemark::test_util::RunCommand;

std::vector<json> NemesisEvents(const fs::path& history, const std::string& f) {
  std::vector<json> out;
  std::ifstream in(history);
  for (std::string line; std::getline(in, line);) {
    json e = json::parse(line, nullptr, false);
    if (e.is_object() && e.value("process", json()) == "nemesis" && e.value("f", "") == f)
      out.push_back(std::move(e));
  }
  return out;
}

// How many `name` anomalies the checkers of results.json counted.
int64_t Anomalies(const json& results, const std::string& name) {
  int64_t n = 0;
  for (const json& c : results.value("checkers", json::array())) {
    const json d = c.value("details", json::object());
    if (d.contains("counts") && d["counts"].is_object() && d["counts"].contains(name))
      n += d["counts"][name].get<int64_t>();
  }
  return n;
}

// Mounts of tidemark-lazyfs anywhere under `store` still in /proc/self/mounts.
std::string LeftMounts(const std::string& store) {
  std::ifstream in("/proc/self/mounts");
  std::string left;
  for (std::string line; std::getline(in, line);)
    if (line.find(store) != std::string::npos) left += line + "\n";
  return left;
}

class LoseUnfsyncedE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = tidemark::lazyfs::Unavailable(LAZYFS_BINARY);
    if (why.empty() && geteuid() != 0) why = "mounting FUSE needs root";
    if (!why.empty()) {
      // Under CI=true a FUSE that could be set up must work; only a host without the
      // /dev/fuse device (which no CI step can create) skips, saying so.
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true" && ::access("/dev/fuse", F_OK) == 0)
        FAIL() << "CI=true but FUSE cannot be used: " << why;
      GTEST_SKIP() << why;
    }
    store_ = tidemark::test_util::FreshTestStore("tidemark_disk_e2e");
  }
  void TearDown() override {
    if (store_.empty()) return;
    EXPECT_EQ(LeftMounts(store_), "");
    EXPECT_EQ(tidemark::test_util::SurvivingNodes(store_), 0);
    if (!HasFailure()) fs::remove_all(store_);
  }
  // One short tidelog run; returns its exit code, fills the latest run's directory.
  CliRun Run(const std::string& args, fs::path* run_dir) {
    CliRun r = RunCommand(std::string(TIDEMARK_BIN) +
                          " run --workload log --time-limit 15 --nemesis-interval 3 --seed 1 "
                          "--store " +
                          store_ + " " + args);
    std::error_code ec;
    *run_dir = fs::canonical(fs::path(store_) / "latest", ec);
    return r;
  }
  std::string store_;
};

// The same binary, only the fault differs: skip-fsync passes kills of every node and fails with
// lost writes when the kills also drop what was never fsynced.
TEST_F(LoseUnfsyncedE2eTest, SkipFsyncIsCaughtOnlyWhenUnsyncedWritesAreLost) {
  fs::path run;
  CliRun plain = Run("--bug skip-fsync --nemesis kill:all", &run);
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_TRUE(NemesisEvents(run / "history.jsonl", "lose-unfsynced").empty());

  CliRun lossy = Run("--bug skip-fsync --nemesis lose-unfsynced:all", &run);
  EXPECT_EQ(lossy.exit_code, 1) << lossy.output;
  EXPECT_GT(Anomalies(ReadJsonFile(run / "results.json"), "lost-write"), 0) << lossy.output;
  std::vector<json> drops = NemesisEvents(run / "history.jsonl", "lose-unfsynced");
  ASSERT_FALSE(drops.empty());
  uint64_t bytes = 0;
  for (const json& d : drops)
    for (const auto& [node, what] : d["value"]["dropped"].items()) bytes += what.value("bytes", 0);
  EXPECT_GT(bytes, 0u) << drops.front().dump();
}

// The first seed whose default-mix plan (nemesis/mix.h, as a 20-s run plans it) cuts the power
// within its first three moves, so that a short run surely has one.
uint64_t SeedWithAnEarlyPowerCut() {
  for (uint64_t seed = 1; seed < 1000; ++seed) {
    auto plan = tidemark::nemesis::PlanMix({.seed = seed, .duration_s = 20, .interval_s = 2});
    for (size_t k = 0; k < plan.size() && k < 3; ++k) {
      const std::string& name = tidemark::nemesis::Moves()[static_cast<size_t>(plan[k].move)].name;
      if (name == "crash-majority" || name == "restart-all") return seed;
    }
  }
  return 1;
}

// Blind: the default mix, no scenario, no bug-specific flag. Its power cuts drop what the nodes
// had not fsynced (the data dirs are on tidemark-lazyfs when the run can mount them), so a
// target that never fsyncs fails; with --power-cuts kill the same seed passes.
TEST_F(LoseUnfsyncedE2eTest, TheDefaultMixCutsThePowerAndCatchesSkipFsyncBlind) {
  const std::string seed = std::to_string(SeedWithAnEarlyPowerCut());
  auto run = [&](const std::string& extra, fs::path* dir) {
    CliRun r = RunCommand(std::string(TIDEMARK_BIN) +
                          " run --workload log --bug skip-fsync --nemesis all --time-limit 20 "
                          "--seed " +
                          seed + " --store " + store_ + " " + extra);
    std::error_code ec;
    *dir = fs::canonical(fs::path(store_) / "latest", ec);
    return r;
  };
  fs::path dir;
  CliRun blind = run("", &dir);
  EXPECT_EQ(blind.exit_code, 1) << blind.output;
  EXPECT_EQ(ReadJsonFile(dir / "test.json")["nemesis"]["power_cuts"], "lose-unfsynced");
  EXPECT_FALSE(NemesisEvents(dir / "history.jsonl", "lose-unfsynced").empty()) << blind.output;
  EXPECT_GT(Anomalies(ReadJsonFile(dir / "results.json"), "lost-write"), 0) << blind.output;

  CliRun kills = run("--power-cuts kill", &dir);
  EXPECT_EQ(kills.exit_code, 0) << kills.output;
  EXPECT_EQ(ReadJsonFile(dir / "test.json")["nemesis"]["power_cuts"], "kill");
  EXPECT_TRUE(NemesisEvents(dir / "history.jsonl", "lose-unfsynced").empty());
}

TEST_F(LoseUnfsyncedE2eTest, CorrectTidelogLosesNothingAcknowledged) {
  fs::path run;
  CliRun r = Run("--nemesis lose-unfsynced:all", &run);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(NemesisEvents(run / "history.jsonl", "lose-unfsynced").empty());
  // The data is back in the node's data dir after the unmount.
  EXPECT_TRUE(fs::exists(run / "nodes" / "n1" / "data" / "wal"));
}

TEST_F(LoseUnfsyncedE2eTest, CorrectTidelogRecoversFromACorruptedMinority) {
  fs::path run;
  CliRun r = Run("--nemesis corrupt:one", &run);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<json> corrupt = NemesisEvents(run / "history.jsonl", "corrupt");
  ASSERT_FALSE(corrupt.empty());
  EXPECT_TRUE(corrupt.front()["value"].contains("file")) << corrupt.front().dump();
}

}  // namespace
