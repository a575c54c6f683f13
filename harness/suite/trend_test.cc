#include "harness/suite/trend.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "base/filename.h"

namespace tidemark::suite {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json CellJson(const std::string& cell, const std::string& expect, const std::string& observed) {
  bool invalid = observed == "invalid";
  return {{"cell", cell},
          {"expect", expect},
          {"observed", observed},
          {"runs", 1},
          {"valid", invalid ? 0 : 1},
          {"invalid", invalid ? 1 : 0},
          {"pass", expect == observed}};
}

class TrendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = fs::temp_directory_path() / ("tidemark_trend_test_" + std::to_string(::getpid()));
    fs::remove_all(store_);
  }
  void TearDown() override { fs::remove_all(store_); }

  void Night(const std::string& ts, const std::string& correct, const std::string& shard = "") {
    fs::path dir = store_ / "suite" / "s" / ts;
    fs::create_directories(dir);
    json doc = {
        {"options", {{"shard", shard}}},
        {"cells", {CellJson("correct", "valid", correct), CellJson("bug", "invalid", "invalid")}}};
    std::ofstream(dir / filename::kSuiteJson) << doc.dump();
  }

  fs::path store_;
};

TEST_F(TrendTest, ThirdNightFlipsACell) {
  Night("20261201T010000.000Z", "valid");
  Night("20261202T010000.000Z", "valid");
  Night("20261202T120000.000Z", "invalid", "1/3");  // a shard: part of a night, not a night
  fs::create_directories(store_ / "suite" / "s" / "20261202T130000.000Z");  // interrupted
  std::ofstream(store_ / "suite" / "s" / "20261202T130000.000Z" / filename::kSuiteJson)
      << json{{"options", {{"shard", ""}, {"interrupted", true}}},
              {"cells", {CellJson("correct", "valid", "invalid")}}};
  Night("20261203T010000.000Z", "invalid");
  auto nights = LoadNights(store_.string(), "s");
  ASSERT_EQ(nights.size(), 3u);
  EXPECT_EQ(nights[0].timestamp, "20261201T010000.000Z");
  auto changes = Changes(nights[1], nights[2]);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes["correct"], "valid -> invalid (previous night 20261202T010000.000Z)");
  auto first = FirstChanged(nights);
  EXPECT_EQ(first["correct"], "20261203T010000.000Z");
  EXPECT_EQ(first.count("bug"), 0u);

  auto written = WriteTrend(store_.string(), "s");
  ASSERT_TRUE(written.ok()) << written.error().message;
  std::ifstream in(written->path);
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("<b>correct</b>: valid -&gt; invalid"), std::string::npos) << html;
  EXPECT_NE(html.find("fail changed"), std::string::npos) << html;
  EXPECT_NE(html.find("2026-12-03 01:00"), std::string::npos) << html;
  EXPECT_NE(html.find("20261201T010000.000Z/index.html"), std::string::npos) << html;
}

TEST_F(TrendTest, SteadyNightsNameNoChange) {
  Night("20261201T010000.000Z", "valid");
  Night("20261202T010000.000Z", "valid");
  auto nights = LoadNights(store_.string(), "s");
  ASSERT_EQ(nights.size(), 2u);
  EXPECT_TRUE(Changes(nights[0], nights[1]).empty());
  EXPECT_TRUE(FirstChanged(nights).empty());
  EXPECT_NE(RenderTrendHtml("s", nights).find("Nothing changed"), std::string::npos);
}

TEST_F(TrendTest, ChangeBackIsAlsoAChange) {
  Night("20261201T010000.000Z", "invalid");
  Night("20261202T010000.000Z", "valid");
  Night("20261203T010000.000Z", "valid");
  auto nights = LoadNights(store_.string(), "s");
  EXPECT_TRUE(Changes(nights[1], nights[2]).empty());
  EXPECT_EQ(FirstChanged(nights)["correct"], "20261202T010000.000Z");
}

}  // namespace
}  // namespace tidemark::suite
