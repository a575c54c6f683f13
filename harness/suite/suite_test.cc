#include "harness/suite/suite.h"

#include <filesystem>
#include <set>

#include <gtest/gtest.h>

namespace tidemark::suite {
namespace {

const char* kSmall = R"({
  "name": "small",
  "target": "etcd",
  "runs": 2,
  "time_limit_s": 10,
  "cells": [
    {"name": "reg", "workload": "register", "nemesis": "partition", "expect": "valid"},
    {"name": "bug", "bug": "lazy-fsync", "scenario": "kill-all", "runs": 4,
     "args": ["--node-args", "--lazy-flush-ms 2000"], "expect": "invalid", "min_detection": 0.5},
    {"name": "five", "nodes": 5, "time_limit_s": 40, "expect": "valid"}
  ]
})";

Suite Small() {
  auto s = ParseSuite(kSmall, "small.json");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

std::string ErrorOf(const std::string& text) {
  auto s = ParseSuite(text, "f.json");
  return s.ok() ? "(parsed)" : s.error().message;
}

TEST(SuiteParseTest, ReadsCellsWithSuiteDefaults) {
  Suite s = Small();
  ASSERT_EQ(s.cells.size(), 3u);
  EXPECT_EQ(s.target, "etcd");
  EXPECT_EQ(s.cells[0].runs, 2);
  EXPECT_EQ(s.cells[0].time_limit_s, 10);
  EXPECT_EQ(s.cells[1].runs, 4);
  EXPECT_EQ(s.cells[1].min_detection, 0.5);
  EXPECT_EQ(s.cells[2].nodes, 5);
  EXPECT_EQ(s.cells[2].time_limit_s, 40);
}

TEST(SuiteParseTest, UnknownKeyNamesFileKeyAndRemedy) {
  std::string e =
      ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid","nemsis":"kill"}]})");
  EXPECT_NE(e.find("f.json"), std::string::npos) << e;
  EXPECT_NE(e.find("cells[0].nemsis"), std::string::npos) << e;
  EXPECT_NE(e.find("nemesis"), std::string::npos) << e;  // the known keys are listed
  e = ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid"}],"runz":3})");
  EXPECT_NE(e.find("\"runz\""), std::string::npos) << e;
}

TEST(SuiteParseTest, WrongTypesAndValuesAreNamed) {
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid","runs":"3"}]})")
                .find("cells[0].runs\" must be a whole number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"ok"}]})")
                .find("cells[0].expect\" must be \"valid\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid","args":"--x"}]})")
                .find("array of strings"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"expect":"valid"}]})").find("cells[0].name\" is req"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[]})").find("non-empty array"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"Bad Name","cells":[{"name":"a","expect":"valid"}]})")
                .find("\"name\" must be non-empty"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid","nemesis":"kill",
                "scenario":"kill-all"}]})")
                .find("keep one"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"s","cells":[{"name":"a","expect":"valid"},
                {"name":"a","expect":"valid"}]})")
                .find("unique"),
            std::string::npos);
}

TEST(SuiteParseTest, SyntaxErrorNamesLineAndColumn) {
  std::string e = ErrorOf("{\n  \"name\": \"s\",\n  \"cells\": [,]\n}");
  EXPECT_NE(e.find("f.json: not valid JSON at line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("column"), std::string::npos) << e;
}

TEST(SuiteParseTest, ShippedSuitesParse) {
  for (const char* f : {"tidelog-zoo-suite.json", "etcd-suite.json", "tidelog-suite.json"}) {
    auto s = LoadSuite(std::string(TIDEMARK_SOURCE_DIR) + "/targets/" + f);
    EXPECT_TRUE(s.ok()) << f << ": " << s.error().message;
  }
}

TEST(SuitePlanTest, SeedsAreDeterministicPerSuiteCellAndRun) {
  Suite s = Small();
  auto a = Plan(s, std::nullopt);
  auto b = Plan(s, std::nullopt);
  ASSERT_EQ(a.size(), 2u + 4u + 2u);
  std::set<uint64_t> seeds;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].seed, b[i].seed);
    EXPECT_NE(a[i].seed, 0u);
    seeds.insert(a[i].seed);
  }
  EXPECT_EQ(seeds.size(), a.size());
  Suite renamed = s;
  renamed.name = "other";
  EXPECT_NE(Plan(renamed, std::nullopt)[0].seed, a[0].seed);
  // With a base: the zoo's rule.
  auto based = Plan(s, 7);
  EXPECT_EQ(based[0].seed, 7u);
  EXPECT_EQ(based[1].seed, 8u);
  EXPECT_EQ(based[2].seed, 1007u);
  EXPECT_EQ(based[6].seed, 2007u);
}

TEST(SuitePlanTest, RunArgsCarryEveryCellField) {
  Suite s = Small();
  auto plan = Plan(s, 7);
  std::vector<std::string> want = {"run",
                                   "--store",
                                   "st",
                                   "--name",
                                   "small-bug",
                                   "--time-limit",
                                   "10.000",
                                   "--seed",
                                   "1007",
                                   "--net",
                                   "netns",
                                   "--target",
                                   "etcd",
                                   "--bug",
                                   "lazy-fsync",
                                   "--scenario",
                                   "kill-all",
                                   "--node-args",
                                   "--lazy-flush-ms 2000"};
  EXPECT_EQ(RunArgs(s, plan[2], "st", "netns"), want);
  auto reg = RunArgs(s, plan[0], "st", "auto");
  EXPECT_NE(std::find(reg.begin(), reg.end(), "--workload"), reg.end());
  auto five = RunArgs(s, plan[6], "st", "auto");
  EXPECT_NE(std::find(five.begin(), five.end(), "5"), five.end());
}

TEST(SuitePlanTest, ShardsPartitionThePlan) {
  Suite s = Small();
  auto plan = Plan(s, std::nullopt);
  std::multiset<uint64_t> all;
  for (int i = 1; i <= 3; ++i) {
    auto part = Shard(plan, i, 3);
    EXPECT_GE(part.size(), plan.size() / 3);
    EXPECT_LE(part.size(), plan.size() / 3 + 1);
    for (const auto& r : part) all.insert(r.seed);
  }
  std::multiset<uint64_t> want;
  for (const auto& r : plan) want.insert(r.seed);
  EXPECT_EQ(all, want);
  EXPECT_EQ(Shard(plan, 1, 1).size(), plan.size());
}

TEST(SuitePlanTest, BudgetKeepsRoundsFairlyAndSaysWhatItDropped) {
  Suite s = Small();  // costs: reg 30 s x2, bug 30 s x4, five 60 s x2 (overhead 20 s)
  auto plan = Plan(s, std::nullopt);
  auto all = ApplyBudget(s, plan, 1e6, 1);
  EXPECT_EQ(all.kept.size(), plan.size());
  EXPECT_TRUE(all.dropped.empty());
  // 150 s: round 0 (30 + 30 + 60 = 120), then round 1 has room for reg only.
  auto fit = ApplyBudget(s, plan, 150, 1);
  ASSERT_EQ(fit.kept.size(), 4u);
  EXPECT_DOUBLE_EQ(fit.planned_s, 150);
  ASSERT_EQ(fit.dropped.size(), 2u);
  EXPECT_EQ(fit.dropped[0], "bug: 1 of 4 runs kept (dropped 3)");
  EXPECT_EQ(fit.dropped[1], "five: 1 of 2 runs kept (dropped 1)");
  // Three shards of 50 s hold as much as one of 150 s.
  EXPECT_EQ(ApplyBudget(s, plan, 50, 3).kept.size(), 4u);
}

TEST(SuitePlanTest, DurationsAndShards) {
  EXPECT_EQ(*ParseDuration("2h"), 7200);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_EQ(*ParseDuration("10m"), 600);
  EXPECT_EQ(*ParseDuration("90"), 90);
  for (const char* bad : {"", "h", "2x", "-1m", "0"}) EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  EXPECT_EQ(*ParseShard("2/3"), (std::pair<int, int>{2, 3}));
  for (const char* bad : {"0/3", "4/3", "1/0", "1-3", "1/3x", ""})
    EXPECT_FALSE(ParseShard(bad).ok()) << bad;
}

zoo::RunRecord Rec(const std::string& cell, const std::string& verdict) {
  zoo::RunRecord r;
  r.row = cell;
  r.verdict = verdict;
  r.run_dir = "/store/x/" + cell;
  return r;
}

TEST(SuiteSummaryTest, ExpectationsDecidePassAndTheJUnitNamesRegressions) {
  Suite s = Small();
  std::vector<zoo::RunRecord> runs = {Rec("reg", "valid"), Rec("reg", "invalid"),
                                      Rec("bug", "invalid"), Rec("bug", "valid"),
                                      Rec("five", "valid")};
  auto cells = Summarize(s, runs);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_FALSE(cells[0].pass);  // expected valid, one run invalid
  EXPECT_EQ(cells[0].observed, "mixed");
  EXPECT_TRUE(cells[1].pass);  // 1 of 2 >= min_detection 0.5
  EXPECT_TRUE(cells[2].pass);
  EXPECT_FALSE(AllPass(cells));
  std::string junit = RenderJUnit(s, cells, runs, {{"reg", "valid -> mixed (previous night T)"}});
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("expected valid, observed mixed"), std::string::npos) << junit;
  EXPECT_NE(junit.find("changed since the previous night: valid -&gt; mixed"), std::string::npos)
      << junit;
  EXPECT_NE(RenderMatrix(cells).find("REGRESSED"), std::string::npos);
  // An error (no verdict) fails a valid cell; cells without runs do not count.
  auto errs = Summarize(s, {Rec("reg", ""), Rec("reg", "valid")});
  EXPECT_EQ(errs[0].observed, "error");
  EXPECT_FALSE(errs[0].pass);
  EXPECT_EQ(errs[1].observed, "-");
  EXPECT_TRUE(AllPass(Summarize(s, {Rec("five", "valid")})));
}

}  // namespace
}  // namespace tidemark::suite
