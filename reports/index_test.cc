#include "reports/index.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tidemark::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class StoreIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tm-index-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void AddRun(const std::string& test, const std::string& ts, const json& results, bool report,
              const json& nemesis = json()) {
    fs::path p = root_ / test / ts;
    fs::create_directories(p);
    ASSERT_TRUE(store::WriteJsonFile((p / "test.json").string(),
                                     json{{"name", test + "<i>"},
                                          {"seed", 42},
                                          {"nemesis", nemesis},
                                          {"cluster", {{"bugs", {"ack-before-quorum"}}}}})
                    .ok());
    if (!results.is_null()) {
      ASSERT_TRUE(store::WriteJsonFile((p / "results.json").string(), results).ok());
    }
    if (report) std::ofstream(p / "report.html") << "x";
  }
  std::string Page() {
    EXPECT_TRUE(WriteStoreIndex(root_.string()).ok());
    std::ifstream f(root_ / "index.html");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  fs::path root_;
};

TEST_F(StoreIndexTest, NewestFirstWithRelativeLinksAndVerdicts) {
  json valid = {{"verdict", "valid"}, {"counts", {{"ok", 10}, {"fail", 1}, {"info", 2}}}};
  json invalid = {{"verdict", "invalid"}, {"counts", {{"ok", 5}, {"fail", 0}, {"info", 0}}}};
  AddRun("alpha", "20261122T100000.000Z", valid, true);
  AddRun("beta", "20261122T120000.000Z", invalid, true);
  AddRun("alpha", "20261122T110000.000Z", json(), false);
  std::string page = Page();
  size_t beta = page.find("href=\"beta/20261122T120000.000Z/report.html\"");
  size_t crashed = page.find("href=\"alpha/20261122T110000.000Z/\"");
  size_t alpha = page.find("href=\"alpha/20261122T100000.000Z/report.html\"");
  ASSERT_NE(beta, std::string::npos) << page;
  ASSERT_NE(crashed, std::string::npos) << page;
  ASSERT_NE(alpha, std::string::npos) << page;
  EXPECT_LT(beta, crashed);
  EXPECT_LT(crashed, alpha);
  EXPECT_NE(page.find("<tr class=\"v-invalid\">"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"v-valid\">"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"v-incomplete\">"), std::string::npos);
  EXPECT_NE(page.find("beta&lt;i&gt;"), std::string::npos);
  EXPECT_EQ(page.find("beta<i>"), std::string::npos);
  EXPECT_NE(page.find("3 runs"), std::string::npos);
  EXPECT_NE(page.find("bug: ack-before-quorum"), std::string::npos);
  EXPECT_NE(page.find("2026-11-22 12:00:00 UTC"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

// The faults column reads as words, never as JSON.
TEST_F(StoreIndexTest, FaultsAreWords) {
  json valid = {{"verdict", "valid"}};
  AddRun("list", "20261122T100000.000Z", valid, true,
         {{"faults", {"partition", "kill"}}, {"mix", nullptr}, {"scenario", nullptr}});
  AddRun("mix", "20261122T110000.000Z", valid, true,
         {{"faults", {"partition", "kill", "pause"}}, {"mix", json::array({json::object()})}});
  AddRun("scenario", "20261122T120000.000Z", valid, true,
         {{"faults", json::array()}, {"scenario", "isolate-leader"}});
  AddRun("none", "20261122T130000.000Z", valid, true, {{"faults", json::array()}});
  std::string page = Page();
  for (const char* words : {"<td>partition, kill</td>", "<td>default mix</td>",
                            "<td>scenario isolate-leader</td>", "<td>none</td>"})
    EXPECT_NE(page.find(words), std::string::npos) << words << " missing in\n" << page;
  EXPECT_EQ(page.find("[&quot;"), std::string::npos) << "raw JSON in the faults column";
}

TEST_F(StoreIndexTest, EmptyStoreSaysSo) {
  EXPECT_NE(Page().find("No runs yet."), std::string::npos);
}

TEST(StoreIndexErrorTest, MissingRootIsAnError) {
  EXPECT_FALSE(WriteStoreIndex("/nonexistent/tidemark-store").ok());
}

}  // namespace
}  // namespace tidemark::reports
