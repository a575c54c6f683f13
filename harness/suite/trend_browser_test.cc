// Opens a suite's trend page in headless Chromium: three nights, the third flips the `correct`
// cell. Checks, in the DOM Chromium rendered, that the change is listed and named, that the
// flipped cell of the third night is marked failed and changed, that every night's column
// links to its matrix, and that the page names no http(s) URL. A screenshot is kept in
// TIDEMARK_ARTIFACT_DIR. Skips with the reason when /usr/bin/chromium is absent, except under
// CI=true, where it fails (CI installs chromium). CTest label: e2e.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "base/filename.h"
#include "harness/suite/trend.h"

namespace tidemark::suite {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kChromium = "/usr/bin/chromium";

// Runs headless Chromium on a file (no sandbox: tests run as root) and returns its stdout.
std::string Chromium(const fs::path& profile, const std::string& mode, const fs::path& html,
                     int* exit_code) {
  std::string cmd = "timeout -k 5 120 " + std::string(kChromium) +
                    " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                    " --disable-background-networking --window-size=1200,800 --user-data-dir='" +
                    profile.string() + "' " + mode + " 'file://" + html.string() + "' 2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

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

TEST(TrendBrowserTest, ThirdNightFlipIsShownAndNamed) {
  if (::access(kChromium, X_OK) != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
      FAIL() << kChromium << " is absent under CI=true (apt-get install -y chromium)";
    GTEST_SKIP() << kChromium << " is absent (apt-get install -y chromium)";
  }
  fs::path store =
      fs::temp_directory_path() / ("tidemark_trend_browser_" + std::to_string(getpid()));
  fs::remove_all(store);
  const std::vector<std::pair<std::string, std::string>> nights = {
      {"20261201T010000.000Z", "valid"},
      {"20261202T010000.000Z", "valid"},
      {"20261203T010000.000Z", "invalid"}};
  for (const auto& [ts, correct] : nights) {
    fs::path dir = store / "suite" / "nightly" / ts;
    fs::create_directories(dir);
    std::ofstream(dir / filename::kSuiteJson) << json{
        {"options", {{"shard", ""}}},
        {"cells",
         {CellJson("correct", "valid", correct), CellJson("lazy-fsync", "invalid", "invalid")}}};
    std::ofstream(dir / filename::kIndex) << "<!doctype html><title>night</title>";
  }
  auto trend = WriteTrend(store.string(), "nightly");
  ASSERT_TRUE(trend.ok()) << trend.error().message;

  int rc = -1;
  std::string dom = Chromium(store / "profile", "--dump-dom", trend->path, &rc);
  ASSERT_EQ(rc, 0) << "chromium --dump-dom failed";
  // The change, named.
  EXPECT_NE(dom.find("<li class=\"change\"><b>correct</b>: valid -&gt; invalid (previous night "
                     "20261202T010000.000Z)</li>"),
            std::string::npos)
      << dom;
  // The flipped cell: the third night's column failed and changed; the bug row never changed.
  std::smatch row;
  std::string html = dom;
  ASSERT_TRUE(std::regex_search(html, row, std::regex(R"(<tr data-cell="correct">.*?</tr>)")))
      << dom;
  std::string correct_row = row.str();
  EXPECT_NE(correct_row.find("2026-12-03 01:00"), std::string::npos) << correct_row;
  EXPECT_NE(correct_row.find("<td class=\"fail changed\"><a href=\"20261203T010000.000Z/"
                             "index.html\">invalid</a>"),
            std::string::npos)
      << correct_row;
  ASSERT_TRUE(std::regex_search(html, row, std::regex(R"(<tr data-cell="lazy-fsync">.*?</tr>)")));
  EXPECT_NE(row.str().find("(never changed)"), std::string::npos) << row.str();
  EXPECT_EQ(row.str().find("changed\""), std::string::npos) << row.str();
  for (const auto& [ts, correct] : nights)
    EXPECT_NE(dom.find("href=\"" + ts + "/index.html\""), std::string::npos) << ts;
  EXPECT_FALSE(std::regex_search(dom, std::regex(R"((src|href)="https?:)"))) << dom;

  fs::path artifacts = TIDEMARK_ARTIFACT_DIR;
  fs::create_directories(artifacts);
  Chromium(store / "profile",
           "--screenshot='" + (artifacts / "suite-trend.png").string() + "' --hide-scrollbars",
           trend->path, &rc);
  EXPECT_TRUE(fs::exists(artifacts / "suite-trend.png"));
  if (!HasFailure()) fs::remove_all(store);
}

}  // namespace
}  // namespace tidemark::suite
