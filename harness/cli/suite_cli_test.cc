// `tidemark suite` as a user runs it: validation messages, the zoo as a suite, shards against the
// unsharded plan, and the trend over three nights where the third flips a cell. Nothing here
// starts a cluster: plans are compared with --dry-run and the nights are hand-made run
// directories (results.json only), which is all the merge and the trend read.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/testing/run_command.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tidemark::test_util::CliRun;

CliRun Tidemark(const std::string& args) {
  return tidemark::test_util::RunCommand(std::string(TIDEMARK_BIN) + " " + args);
}

std::string Source(const std::string& rel) { return std::string(TIDEMARK_SOURCE_DIR) + "/" + rel; }

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The `tidemark run` command lines a --dry-run printed (lines starting with the binary).
std::vector<std::string> Commands(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("/", 0) == 0 && line.find(" run ") != std::string::npos) out.push_back(line);
  return out;
}

class SuiteCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidemark_suite_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(SuiteCliTest, InvalidSuiteFileExits254NamingFileAndKey) {
  fs::path f = dir_ / "bad.json";
  std::ofstream(f) << R"({"name": "s", "cells": [{"name": "a", "expect": "valid", "rusn": 2}]})";
  CliRun r = Tidemark("suite " + f.string() + " --dry-run");
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_NE(r.output.find(f.string() + ": \"cells[0].rusn\" is not a suite key"), std::string::npos)
      << r.output;
  std::ofstream(f, std::ios::trunc) << "{\n  \"name\": \"s\"\n  \"cells\": []\n}\n";
  r = Tidemark("suite " + f.string() + " --dry-run");
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_NE(r.output.find("not valid JSON at line 3"), std::string::npos) << r.output;
  r = Tidemark("suite " + Source("targets/etcd-suite.json") + " --dry-run --shard 4/3");
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_NE(r.output.find("--shard: bad shard \"4/3\""), std::string::npos) << r.output;
}

TEST_F(SuiteCliTest, ZooSuitePlansExactlyTheZoosRuns) {
  const std::string store = (dir_ / "store").string();
  CliRun zoo = Tidemark("zoo --dry-run --seed 424242 --store " + store);
  ASSERT_EQ(zoo.exit_code, 0) << zoo.output;
  CliRun suite = Tidemark("suite " + Source("targets/tidelog-zoo-suite.json") +
                          " --dry-run --seed-base 424242 --store " + store);
  ASSERT_EQ(suite.exit_code, 0) << suite.output;
  std::vector<std::string> a = Commands(zoo.output), b = Commands(suite.output);
  ASSERT_EQ(a.size(), 33u) << zoo.output;  // 10 bugs + correct, 3 runs each
  EXPECT_EQ(a, b);
  // --nightly's shape too: 10 runs per bug, 20 correct, 60 s.
  zoo =
      Tidemark("zoo --dry-run --seed 5 --runs 2 --correct-runs 2 --time-limit 60 --store " + store);
  fs::path night = dir_ / "zoo-60.json";
  json doc = json::parse(Slurp(Source("targets/tidelog-zoo-suite.json")));
  doc["runs"] = 2;
  doc["time_limit_s"] = 60;
  std::ofstream(night) << doc.dump();
  suite = Tidemark("suite " + night.string() + " --dry-run --seed-base 5 --store " + store);
  EXPECT_EQ(Commands(zoo.output), Commands(suite.output));
}

TEST_F(SuiteCliTest, ThreeShardsPlanExactlyTheUnshardedRuns) {
  const std::string file = Source("targets/tidelog-suite.json");
  const std::string store = (dir_ / "store").string();
  CliRun whole = Tidemark("suite " + file + " --dry-run --store " + store);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  std::vector<std::string> want = Commands(whole.output), got;
  ASSERT_GT(want.size(), 3u);
  for (int i = 1; i <= 3; ++i) {
    CliRun part = Tidemark("suite " + file + " --dry-run --shard " + std::to_string(i) +
                           "/3 --store " + store);
    ASSERT_EQ(part.exit_code, 0) << part.output;
    for (const std::string& c : Commands(part.output)) got.push_back(c);
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST_F(SuiteCliTest, BudgetDropsRunsAndSaysWhich) {
  CliRun r = Tidemark("suite " + Source("targets/tidelog-suite.json") +
                      " --dry-run --budget 5m --store " + (dir_ / "store").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("budget 5m: 6 of 16 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dropped: log-ack-before-quorum: 0 of 2 runs kept"), std::string::npos)
      << r.output;
  EXPECT_EQ(Commands(r.output).size(), 6u);
}

// A run directory holding only what the merge reads: results.json with a verdict.
std::string FakeRun(const fs::path& store, const std::string& test, const std::string& verdict) {
  fs::path dir = store / test / "20261203T010500.000Z";
  fs::create_directories(dir);
  std::ofstream(dir / "results.json") << json{{"verdict", verdict}, {"checkers", json::array()}};
  return dir.string();
}

json CellJson(const std::string& cell, const std::string& expect) {
  return {{"cell", cell},
          {"expect", expect},
          {"observed", expect},
          {"runs", 1},
          {"valid", expect == "valid" ? 1 : 0},
          {"invalid", expect == "invalid" ? 1 : 0},
          {"pass", true}};
}

TEST_F(SuiteCliTest, ThirdNightFlipsACellAndEverythingNamesIt) {
  const fs::path store = dir_ / "nightly";
  const json suite = {{"name", "demo"},
                      {"cells",
                       {{{"name", "correct"}, {"nemesis", "all"}, {"expect", "valid"}},
                        {{"name", "lazy-fsync"}, {"bug", "lazy-fsync"}, {"expect", "invalid"}}}}};
  // Nights 1 and 2: both cells as expected.
  for (const char* ts : {"20261201T010000.000Z", "20261202T010000.000Z"}) {
    fs::create_directories(store / "suite" / "demo" / ts);
    std::ofstream(store / "suite" / "demo" / ts / "suite.json")
        << json{{"suite", suite},
                {"options", {{"shard", ""}}},
                {"cells", {CellJson("correct", "valid"), CellJson("lazy-fsync", "invalid")}}};
  }
  // Night 3 comes from one shard's store (e.g. a CI artifact): the correct cell now fails,
  // as it would with a bug flag added to it.
  const fs::path shard = dir_ / "shard-1";
  json runs = json::array();
  for (auto [cell, verdict] : {std::pair{"correct", "invalid"}, {"lazy-fsync", "invalid"}}) {
    std::string run = FakeRun(shard, std::string("demo-") + cell, verdict);
    runs.push_back({{"cell", cell},
                    {"seed", 1},
                    {"run_dir", "/gone/" + std::string(cell)},  // where the shard ran it
                    {"run_in_store", fs::relative(run, shard).string()}});
  }
  fs::path shard_json = shard / "suite" / "demo" / "20261203T010000.000Z" / "suite.json";
  fs::create_directories(shard_json.parent_path());
  std::ofstream(shard_json) << json{
      {"suite", suite}, {"options", {{"shard", "1/1"}}}, {"runs", runs}};

  CliRun r = Tidemark("suite --from " + shard_json.string() + " --store " + store.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("changed since the previous night:\n  correct: valid -> invalid "
                          "(previous night 20261202T010000.000Z)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("REGRESSION: correct: expected valid, observed invalid"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("REGRESSION: lazy-fsync"), std::string::npos) << r.output;

  std::string junit = Slurp(store / "suite" / "demo" / "latest" / "junit.xml");
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<testcase classname=\"suite.demo\" name=\"correct\">\n    <failure "
                       "message=\"expected valid, observed invalid (0 valid, 1 invalid); changed "
                       "since the previous night: valid -&gt; invalid"),
            std::string::npos)
      << junit;

  std::string trend = Slurp(store / "suite" / "demo" / "trend.html");
  EXPECT_NE(trend.find("<b>correct</b>: valid -&gt; invalid"), std::string::npos) << trend;
  EXPECT_NE(trend.find("fail changed"), std::string::npos) << trend;
  EXPECT_NE(trend.find("20261201T010000.000Z/index.html"), std::string::npos) << trend;
  // The merged night found the runs through the shard's store, not the paths it recorded.
  json merged = json::parse(Slurp(store / "suite" / "demo" / "latest" / "suite.json"));
  EXPECT_EQ(merged["runs"][0]["run_dir"].get<std::string>().rfind(shard.string(), 0), 0u)
      << merged.dump(1);
}

}  // namespace
