// The worked examples of docs/suite.md, run locally: for each file under examples/ (GitHub
// Actions, GitLab CI, a Kubernetes Indexed Job) the test takes its `tidemark suite` lines as
// written, runs the shard line three times with the variables that scheduler sets (shards 1..3
// of 3), moves the stores as the scheduler would (GitHub: artifacts into shards/), runs the merge
// line, and checks that the merged night holds exactly the unsharded plan's runs (same cells,
// same seeds), each with a verdict. SUITE points at a tiny suite of three 1-second tidelog runs
// so the test takes seconds; the commands are otherwise the files'. CTest label: e2e.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/testing/run_command.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tidemark::test_util::CliRun;
using tidemark::test_util::RunCommand;

const char* kTinySuite = R"({
  "name": "tiny",
  "time_limit_s": 1,
  "cells": [
    {"name": "log", "workload": "log", "runs": 2, "expect": "valid"},
    {"name": "register", "workload": "register", "runs": 1, "expect": "valid"}
  ]
})";

// The example's `tidemark suite` lines, without YAML list/step prefixes and without sudo.
std::vector<std::string> SuiteLines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  static const std::regex kPrefix(R"(^\s*(-\s+)?(run:\s+)?(sudo -E\s+)?)");
  for (std::string line; std::getline(in, line);) {
    if (line.find("tidemark suite") == std::string::npos || line.find('#') == 0) continue;
    if (std::regex_search(line, std::regex(R"(^\s*#)"))) continue;
    out.push_back(std::regex_replace(line, kPrefix, ""));
  }
  return out;
}

struct Example {
  const char* file;
  // Shell assignments the scheduler makes for shard i (1-based) of 3.
  std::string (*env)(int i, const fs::path& dir);
  // What the scheduler does between the shard jobs and the merge job.
  const char* transfer;
  const char* merged_store;  // relative to the work directory
};

// gtest prints a parameter by its file name rather than its bytes.
void PrintTo(const Example& ex, std::ostream* os) { *os << ex.file; }

const Example kExamples[] = {
    {"examples/ci/github-actions-suite.yml",
     [](int i, const fs::path&) { return "SHARD=" + std::to_string(i) + " SHARDS=3"; },
     "mkdir -p shards && mv shard-1 shard-2 shard-3 shards/", "nightly"},
    {"examples/ci/gitlab-suite.yml",
     [](int i, const fs::path&) {
       return "CI_NODE_INDEX=" + std::to_string(i) + " CI_NODE_TOTAL=3";
     },
     "true", "nightly"},
    {"examples/k8s/suite-indexed-job.yaml",
     [](int i, const fs::path& dir) {
       return "JOB_COMPLETION_INDEX=" + std::to_string(i - 1) +
              " STORE_ROOT=" + (dir / "store").string();
     },
     "true", "store/nightly"},
};

class SuiteExamplesTest : public ::testing::TestWithParam<Example> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidemark_suite_examples_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The examples call build/tidemark from a checkout; the work directory plays the checkout.
    fs::create_directory_symlink(fs::path(TIDEMARK_BIN).parent_path(), dir_ / "build");
    std::ofstream(dir_ / "tiny.json") << kTinySuite;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  CliRun Sh(const std::string& env, const std::string& cmd) {
    return RunCommand("cd " + dir_.string() + " && env SUITE=tiny.json " + env + " sh -c '" + cmd +
                      "'");
  }
  fs::path dir_;
};

TEST_P(SuiteExamplesTest, ThreeShardsAndAMergeGiveTheUnshardedPlan) {
  const Example& ex = GetParam();
  std::vector<std::string> lines = SuiteLines(fs::path(TIDEMARK_SOURCE_DIR) / ex.file);
  std::string shard_cmd, merge_cmd;
  for (const std::string& l : lines) {
    if (l.find("--shard") != std::string::npos) shard_cmd = l;
    if (l.find("--from") != std::string::npos) merge_cmd = l;
  }
  ASSERT_FALSE(shard_cmd.empty()) << ex.file << " has no `tidemark suite ... --shard` line";
  ASSERT_FALSE(merge_cmd.empty()) << ex.file << " has no `tidemark suite --from` line";
  ASSERT_EQ(shard_cmd.find('\''), std::string::npos) << shard_cmd;
  ASSERT_EQ(merge_cmd.find('\''), std::string::npos) << merge_cmd;

  for (int i = 1; i <= 3; ++i) {
    CliRun r = Sh(ex.env(i, dir_), shard_cmd);
    ASSERT_EQ(r.exit_code, 0) << shard_cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("(shard " + std::to_string(i) + "/3)"), std::string::npos) << r.output;
  }
  ASSERT_EQ(Sh("", ex.transfer).exit_code, 0);
  CliRun merged = Sh(ex.env(1, dir_), merge_cmd);
  ASSERT_EQ(merged.exit_code, 0) << merge_cmd << "\n" << merged.output;
  EXPECT_NE(merged.output.find("merged 3 runs"), std::string::npos) << merged.output;

  std::ifstream in(dir_ / ex.merged_store / "suite" / "tiny" / "latest" / "suite.json");
  json night = json::parse(in, nullptr, false);
  ASSERT_TRUE(night.is_object()) << "no merged suite.json under " << ex.merged_store;
  std::set<std::pair<std::string, uint64_t>> got;
  for (const json& r : night["runs"]) {
    got.insert({r["cell"].get<std::string>(), r["seed"].get<uint64_t>()});
    EXPECT_EQ(r["verdict"], "valid") << r.dump();
  }
  // The unsharded plan: its cells and seeds.
  CliRun plan = RunCommand(std::string(TIDEMARK_BIN) + " suite " + (dir_ / "tiny.json").string() +
                           " --dry-run --store " + (dir_ / "plan").string());
  std::set<std::pair<std::string, uint64_t>> want;
  static const std::regex kRun(R"(--name tiny-(\S+) .*--seed (\d+))");
  std::istringstream lines_in(plan.output);
  for (std::string line; std::getline(lines_in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kRun)) want.insert({m[1].str(), std::stoull(m[2].str())});
  }
  ASSERT_EQ(want.size(), 3u) << plan.output;
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Examples, SuiteExamplesTest, ::testing::ValuesIn(kExamples),
                         [](const ::testing::TestParamInfo<Example>& param) {
                           std::string name = fs::path(param.param.file).stem().string();
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
