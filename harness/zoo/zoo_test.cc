// The zoo's pure part: reading finished runs (hand-made run directories), the pass/fail rule of
// each row, the renderings, and that the catalogue covers the whole bug zoo.
#include "harness/zoo/zoo.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "nemesis/scenario.h"

namespace tidemark::zoo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ZooTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tm-zoo-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A run directory whose history has events 0..n-1 at 1 s + i × 0.5 s.
  std::string MakeRun(const std::string& name, const json& results, int events = 10) {
    fs::path dir = root_ / name;
    fs::create_directories(dir);
    std::ofstream(dir / "results.json") << results.dump();
    std::ofstream h(dir / "history.jsonl");
    for (int i = 0; i < events; ++i)
      h << json{{"index", i},
                {"time", 1'000'000'000LL + i * 500'000'000LL},
                {"process", 0},
                {"type", "invoke"},
                {"f", "read"}}
               .dump()
        << "\n";
    return dir.string();
  }
  fs::path root_;
};

json Invalid(const json& examples_by_anomaly) {
  json anomalies = json::object(), counts = json::object();
  for (const auto& [name, evs] : examples_by_anomaly.items()) {
    json ex = json::array();
    for (const auto& e : evs) ex.push_back({{"events", e}});
    anomalies[name] = {{"count", evs.size()}, {"examples", ex}};
    counts[name] = evs.size();
  }
  return {{"verdict", "invalid"},
          {"checkers",
           {{{"checker", "log-prefix"},
             {"verdict", "invalid"},
             {"details", {{"anomalies", anomalies}, {"counts", counts}}}}}}};
}

TEST_F(ZooTest, ReadRunTakesAnomaliesAndTheEarliestCompleteEvidence) {
  // lost-write cites events 2 and 8 (complete at event 8: 4 s after the first event);
  // inconsistent-offsets cites 5 and 6 (complete at 3 s): the first detection is 3 s.
  std::string dir = MakeRun(
      "r1", Invalid({{"lost-write", {{2, 8}}}, {"inconsistent-offsets", {{5, 6}, {7, 9}}}}));
  RunRecord r = ReadRun(dir);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.verdict, "invalid");
  EXPECT_EQ(r.anomalies.at("lost-write"), 1);
  EXPECT_EQ(r.anomalies.at("inconsistent-offsets"), 2);
  ASSERT_TRUE(r.first_detection_s.has_value());
  EXPECT_DOUBLE_EQ(*r.first_detection_s, 3.0);
}

TEST_F(ZooTest, AReplicaOnlyAnomalyIsDetectedAtTheEndOfTheHistory) {
  // The replica cross-check cites the early acks (events 1, 2), but it compares logs dumped
  // after the run: its detection time is the last event (4.5 s), unless the history showed
  // the anomaly earlier.
  json res = {{"verdict", "invalid"},
              {"checkers",
               {{{"checker", "log-prefix"}, {"details", {{"counts", json::object()}}}},
                {{"checker", "log-replicas"},
                 {"details",
                  {{"counts", {{"lost-write", 1}}},
                   {"anomalies",
                    {{"lost-write", {{"count", 1}, {"examples", {{{"events", {1, 2}}}}}}}}}}}}}}};
  RunRecord r = ReadRun(MakeRun("replicas", res));
  EXPECT_EQ(r.anomalies.at("lost-write"), 1);
  ASSERT_TRUE(r.first_detection_s.has_value());
  EXPECT_DOUBLE_EQ(*r.first_detection_s, 4.5);
}

TEST_F(ZooTest, ReadRunOfAValidRunAndOfAMissingOne) {
  std::string dir = MakeRun(
      "ok",
      json{{"verdict", "valid"},
           {"checkers", {{{"checker", "log-prefix"}, {"details", {{"counts", json::object()}}}}}}});
  RunRecord r = ReadRun(dir);
  EXPECT_EQ(r.verdict, "valid");
  EXPECT_TRUE(r.anomalies.empty());
  EXPECT_FALSE(r.first_detection_s.has_value());
  RunRecord missing = ReadRun((root_ / "nope").string());
  EXPECT_TRUE(missing.verdict.empty());
  EXPECT_NE(missing.error.find("results.json"), std::string::npos);
  // A linearizability failure (register workload) has no counts: it is "nonlinearizable".
  std::string lin = MakeRun(
      "lin", json{{"verdict", "invalid"},
                  {"checkers", {{{"checker", "linearizability"}, {"verdict", "invalid"}}}}});
  EXPECT_EQ(ReadRun(lin).anomalies.at("nonlinearizable"), 1);
}

RunRecord Rec(const std::string& row, const std::string& verdict,
              std::map<std::string, int64_t> anomalies = {}, std::optional<double> first = {}) {
  RunRecord r;
  r.row = row;
  r.verdict = verdict;
  r.anomalies = std::move(anomalies);
  r.first_detection_s = first;
  return r;
}

TEST(ZooSummaryTest, ABugRowPassesAtTheThresholdAndNotBelow) {
  std::vector<ZooEntry> rows = {{"b", "b", {}, {"lost-write"}, "s"}};
  std::vector<RunRecord> runs;
  for (int i = 0; i < 9; ++i) runs.push_back(Rec("b", "invalid", {{"lost-write", 2}}, 1.0 + i));
  runs.push_back(Rec("b", "valid"));
  auto s = Summarize(rows, runs, 0.9);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].runs, 10);
  EXPECT_EQ(s[0].detected, 9);
  EXPECT_EQ(s[0].predicted, 9);
  EXPECT_TRUE(s[0].pass);
  EXPECT_DOUBLE_EQ(*s[0].median_first_detection_s, 5.0);
  runs[0].verdict = "valid";
  s = Summarize(rows, runs, 0.9);
  EXPECT_EQ(s[0].detected, 8);
  EXPECT_FALSE(s[0].pass);
  EXPECT_NE(RenderMatrix(s).find("MISSED"), std::string::npos) << RenderMatrix(s);
  EXPECT_NE(RenderJUnit(s, runs).find("<failure"), std::string::npos);
}

TEST(ZooSummaryTest, AnUnpredictedAnomalyDetectsButIsNotPredicted) {
  std::vector<ZooEntry> rows = {{"b", "b", {}, {"duplicate"}, "s"}};
  auto s = Summarize(rows, {Rec("b", "invalid", {{"lost-write", 1}}, 2.0)}, 1.0);
  EXPECT_EQ(s[0].detected, 1);
  EXPECT_EQ(s[0].predicted, 0);
  EXPECT_EQ(s[0].anomaly_runs.at("lost-write"), 1);
}

TEST(ZooSummaryTest, CorrectRowFailsOnAnyAnomalyOrMissingVerdict) {
  std::vector<ZooEntry> rows = {{kCorrectRow, "", {}, {}, "all"}};
  auto ok = Summarize(rows, {Rec(kCorrectRow, "valid"), Rec(kCorrectRow, "valid")}, 0.9);
  EXPECT_TRUE(ok[0].pass);
  auto fp = Summarize(
      rows, {Rec(kCorrectRow, "valid"), Rec(kCorrectRow, "invalid", {{"lost-write", 1}})}, 0.9);
  EXPECT_FALSE(fp[0].pass);
  EXPECT_NE(RenderMatrix(fp).find("FALSE+"), std::string::npos);
  auto err = Summarize(rows, {Rec(kCorrectRow, "")}, 0.9);
  EXPECT_FALSE(err[0].pass) << "a run without a verdict proves nothing";
  EXPECT_EQ(err[0].errors, 1);
  json j = ToJson(fp, {}, {{"runs", 2}});
  EXPECT_FALSE(j["pass"].get<bool>());
  EXPECT_EQ(j["rows"][0]["detected"], 1);
}

TEST(ZooSummaryTest, IndexLinksEachRunRelativeToTheZooDirectoryAndEscapes) {
  std::vector<ZooEntry> rows = {{"b<x>", "b", {}, {}, "s"}};
  RunRecord r = Rec("b<x>", "invalid", {{"lost-write", 1}}, 1.5);
  r.run_dir = "store/zoo-b/20260101T000000Z";
  std::string html = RenderIndexHtml(Summarize(rows, {r}, 1.0), {r}, "store/zoo/20260101T000100Z");
  EXPECT_NE(html.find("href=\"../../zoo-b/20260101T000000Z/report.html\""), std::string::npos)
      << html;
  EXPECT_EQ(html.find("b<x>"), std::string::npos);
  EXPECT_NE(html.find("b&lt;x&gt;"), std::string::npos);
}

// The blind column: a bug row shows its blind rate beside the tailored one, the blind rows
// get a table of their own (and pass or fail on the same threshold), and a bug no default
// client can expose is n/a with its reason — in the text, zoo.json, junit.xml and index.html.
TEST(ZooSummaryTest, BlindColumnSitsBesideTheTailoredOne) {
  std::vector<ZooEntry> rows = {{"b", "b", {"--scenario", "x"}, {"lost-write"}, "scenario x"},
                                {"d", "d", {}, {"duplicate"}, "scenario y", "needs re-sends"}};
  for (const ZooEntry& e : BlindRows()) EXPECT_TRUE(e.blind);
  ZooEntry bb = rows[0], bd = rows[1];
  bb.row = "blind:b";
  bb.blind = true;
  bb.blind_unexposable.clear();
  bb.schedule = "blind: --nemesis all, no scenario, no bug-specific flags";
  bd.row = "blind:d";
  bd.blind = true;
  bd.schedule = bb.schedule;
  rows.push_back(bb);
  rows.push_back(bd);
  std::vector<RunRecord> runs = {Rec("b", "invalid", {{"lost-write", 1}}, 1.0),
                                 Rec("blind:b", "invalid", {{"lost-write", 3}}, 9.0),
                                 Rec("blind:b", "valid")};
  auto s = Summarize(rows, runs, 0.9);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_TRUE(s[0].pass);
  EXPECT_FALSE(s[2].pass) << "1 of 2 blind runs is below 0.9";
  EXPECT_TRUE(s[3].unexposable == "needs re-sends");
  EXPECT_EQ(s[3].runs, 0);
  std::string text = RenderMatrix(s);
  EXPECT_NE(text.find("blind"), std::string::npos) << text;
  // Row b: tailored 1/1 and, in the blind column, 1/2.
  std::regex b_row("\nb +1/1 +1/1 +1\\.0 s +pass +1/2 ");
  EXPECT_TRUE(std::regex_search(text, b_row)) << text;
  std::regex d_row("\nd +- +- +- +- +n/a ");
  EXPECT_TRUE(std::regex_search(text, d_row)) << text;
  EXPECT_NE(text.find("blind:b"), std::string::npos) << text;
  EXPECT_NE(text.find("MISSED"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\nblind:d +n/a: needs re-sends\n"))) << text;
  json j = ToJson(s, runs, {});
  EXPECT_EQ(j["rows"][0]["blind_column"]["detected"], 1);
  EXPECT_EQ(j["rows"][0]["blind_column"]["runs"], 2);
  EXPECT_EQ(j["rows"][1]["blind_column"]["unexposable"], "needs re-sends");
  EXPECT_EQ(j["rows"][2]["blind"], true);
  std::string junit = RenderJUnit(s, runs);
  EXPECT_NE(junit.find("name=\"blind:d\">\n    <skipped message=\"not exposable blind: needs "
                       "re-sends\"/>"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("skipped=\"1\""), std::string::npos) << junit;
  std::string html = RenderIndexHtml(s, runs, "store/zoo/x");
  EXPECT_NE(html.find("not exposable blind: needs re-sends"), std::string::npos);
  EXPECT_NE(html.find("<td>1/2</td></tr>"), std::string::npos) << html;
  // Without blind rows the matrix has no blind column.
  auto plain = Summarize({rows[0]}, runs, 0.9);
  EXPECT_EQ(RenderMatrix(plain).find("blind"), std::string::npos) << RenderMatrix(plain);
}

TEST(ZooCatalogueTest, BlindRowsCoverEveryBugWithTheDefaultMixAndNoBugFlags) {
  auto blind = BlindRows();
  size_t bugs = 0;
  for (const ZooEntry& e : Catalogue()) bugs += e.bug.empty() ? 0 : 1;
  ASSERT_EQ(blind.size(), bugs);
  for (const ZooEntry& e : blind) {
    EXPECT_EQ(e.row, "blind:" + e.bug);
    EXPECT_EQ(e.run_args, (std::vector<std::string>{"--nemesis", "all"})) << e.row;
  }
  EXPECT_EQ(BlindRows("partition,kill,pause")[0].run_args[1], "partition,kill,pause");
  // Only a bug that no default client can reach is left out of the blind column;
  // commit-old-generation is run blind since the mix's figure-8 move (docs/zoo.md).
  std::set<std::string> unexposable;
  for (const ZooEntry& e : blind)
    if (!e.blind_unexposable.empty()) unexposable.insert(e.bug);
  EXPECT_EQ(unexposable, (std::set<std::string>{"no-idempotency"}));
}

TEST(ZooCatalogueTest, EveryBugOfTheZooHasARowWithAKnownScenario) {
  std::ifstream in(std::string(TIDEMARK_SOURCE_DIR) + "/docs/bug-zoo.md");
  ASSERT_TRUE(in) << "docs/bug-zoo.md";
  std::set<std::string> documented;
  std::regex heading("^## `([a-z0-9-]+)`");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) documented.insert(m[1]);
  }
  ASSERT_GE(documented.size(), 9u);
  std::set<std::string> rows;
  bool correct = false;
  for (const ZooEntry& e : Catalogue()) {
    if (e.bug.empty()) {
      correct = true;
      EXPECT_TRUE(e.predicted.empty());
      continue;
    }
    rows.insert(e.bug);
    EXPECT_FALSE(e.predicted.empty()) << e.bug;
    for (size_t i = 0; i + 1 < e.run_args.size(); ++i)
      if (e.run_args[i] == "--scenario") {
        EXPECT_TRUE(nemesis::FindScenario(e.run_args[i + 1]).ok()) << e.bug;
      }
  }
  EXPECT_TRUE(correct);
  EXPECT_EQ(rows, documented);
  for (const ZooEntry& e : CorrectUnderScenarios()) {
    EXPECT_TRUE(e.bug.empty());
    EXPECT_EQ(e.row.rfind("correct:", 0), 0u);
  }
}

}  // namespace
}  // namespace tidemark::zoo
