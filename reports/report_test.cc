#include "reports/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/filename.h"
#include "base/history/jsonl.h"
#include "reports/test_util.h"
#include "runstore/store.h"

namespace tidemark::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kEvil = "</script><script>alert(\"pwned\")</script><!--";

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tm-report-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteHistory(const std::vector<std::string>& lines, const std::string& tail = "") {
    std::ofstream f(dir_ / "history.jsonl");
    for (const auto& l : lines) f << l << "\n";
    f << tail;
  }
  // A small log history: two appends (one acknowledged, one info), a read, a partition.
  std::vector<std::string> LogHistory() {
    json evil_value = kEvil;
    return {
        R"({"index":0,"time":1000000,"process":0,"type":"invoke","f":"append","value":"v0-1","node":"n1"})",
        R"({"index":1,"time":2000000,"process":0,"type":"ok","f":"append","value":{"value":"v0-1","offset":1,"hwm":2},"node":"n1"})",
        R"({"index":2,"time":2500000,"process":"nemesis","type":"info","f":"start-partition","value":{"grudge":{"n1":["n2","n3"]}}})",
        R"({"index":3,"time":3000000,"process":1,"type":"invoke","f":"append","value":)" +
            evil_value.dump() + R"(,"node":"n2\"><b>"})",
        R"({"index":4,"time":4000000,"process":1,"type":"info","f":"append","error":"timeout <i>","node":"n2"})",
        R"({"index":5,"time":6000000,"process":"nemesis","type":"info","f":"stop-partition","value":null})",
        R"({"index":6,"time":7000000,"process":2,"type":"invoke","f":"read","value":{"from":0,"consistency":"linearizable","final":true},"node":"n2"})",
        R"({"index":7,"time":7200000,"process":2,"type":"ok","f":"read","value":{"from":0,"to":3,"hwm":3,"consistency":"linearizable","entries":[[2,"x"]]},"node":"n2"})",
    };
  }
  json Results() {
    return json{{"verdict", "invalid"},
                {"duration_s", 0.0072},
                {"checkers",
                 {{{"checker", "log-prefix"},
                   {"verdict", "invalid"},
                   {"summary", "invalid: lost-write ×1"},
                   {"explanation", "lost " + kEvil},
                   {"details",
                    {{"anomalies",
                      {{"lost-write",
                        {{"count", 1},
                         {"examples",
                          {{{"explanation", "append v0-1 was acknowledged " + kEvil},
                            {"ops", {0, 2}},
                            {"offset", 1},
                            {"events", {0, 1, 6, 7}}}}},
                         {"omitted", 0}}}}}}}}}}};
  }
  void WriteRun(bool with_results = true) {
    ASSERT_TRUE(
        store::WriteJsonFile((dir_ / "test.json").string(),
                             json{{"name", "tidelog-log-" + kEvil},
                                  {"seed", 1234},
                                  {"repeat", "tidemark run --seed 1234 --bug '<x>'"},
                                  {"target", {{"name", "tidelog"}}},
                                  {"workload", {{"name", "log"}, {"rate", 200.0}}},
                                  {"nemesis",
                                   {{"faults", json::array({"partition", "kill"})},
                                    {"interval_s", 2.0},
                                    {"mix", json::array({json{{"move", "kill-leader"}}})}}}})
            .ok());
    WriteHistory(LogHistory());
    if (with_results) {
      ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), Results()).ok());
    }
  }
  std::string Report() {
    Status s = WriteReport(dir_.string());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    std::ifstream f(dir_ / "report.html");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  static json EmbeddedData(const std::string& page) {
    const std::string open = "<script type=\"application/json\" id=\"tm-data\">";
    size_t a = page.find(open);
    if (a == std::string::npos) return json();
    a += open.size();
    size_t b = page.find("</script>", a);
    return json::parse(page.substr(a, b - a), nullptr, false);
  }
  RunData Streamed(const json& test, const json& results, const EmbedOptions& embed);
  void ExpectStreamedReportsWhatTheFilesDo(const std::vector<EmbedOptions>& embeds);
  void WriteManyOps(int64_t n, int64_t gap_ns, const std::vector<int64_t>& named);

  fs::path dir_;
};

TEST_F(ReportTest, HasEveryExpectedSection) {
  WriteRun();
  std::string page = Report();
  for (const char* needle : {"<body data-status=\"loading\">",
                             "id=\"summary\"",
                             "id=\"verdict\">invalid<",
                             "id=\"checkers\"",
                             "id=\"timeline\"",
                             "id=\"latency\"",
                             "id=\"throughput\"",
                             "id=\"involved\"",
                             "id=\"ops-section\"",
                             "id=\"tm-data\"",
                             "class=\"log-drawing\"",
                             "id=\"fact-seed\">1234<",
                             "id=\"repeat\">tidemark run --seed 1234 --bug &#39;&lt;x&gt;&#39;<",
                             "lost-write",
                             "href=\"#op-0\"",
                             "href=\"#op-2\"",
                             "<tr id=\"op-0\"",
                             "<tr id=\"op-2\"",
                             "2 ok</span>",
                             "0 fail</span>",
                             "1 info</span>",
                             "id=\"fact-duration\">7.2 ms<",
                             "id=\"fact-workload\">log, rate 200/s<",
                             "id=\"fact-nemesis\">default mix of 1 move (partition, kill), mean "
                             "quiet gap 2 s<"}) {
    EXPECT_NE(page.find(needle), std::string::npos) << "missing: " << needle;
  }
  EXPECT_EQ(page.find("<!--@"), std::string::npos) << "a placeholder was left unfilled";
}

// Whether the mix's power cuts dropped unsynced writes is part of what the run tried.
TEST_F(ReportTest, TheHeaderSaysWhatThePowerCutsDid) {
  WriteRun();
  const std::string test_json = (dir_ / "test.json").string();
  json t = json::parse(std::ifstream(test_json));
  t["nemesis"]["power_cuts"] = "lose-unfsynced";
  ASSERT_TRUE(store::WriteJsonFile(test_json, t).ok());
  EXPECT_NE(Report().find("quiet gap 2 s; power cuts drop what was not fsynced<"),
            std::string::npos);
  t["nemesis"]["power_cuts"] = "kill";
  t["nemesis"]["power_cuts_why"] = "not root (FUSE mounts need it)";
  ASSERT_TRUE(store::WriteJsonFile(test_json, t).ok());
  EXPECT_NE(Report().find("; power cuts only kill (unsynced writes survive: not root (FUSE mounts "
                          "need it))<"),
            std::string::npos);
}

TEST_F(ReportTest, EveryStringFromTheRunIsEscaped) {
  WriteRun();
  std::string page = Report();
  // kEvil appears in the test name, a value, an explanation: never raw.
  EXPECT_EQ(page.find(kEvil), std::string::npos);
  EXPECT_EQ(page.find("alert(\"pwned\")"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;/script&gt;&lt;script&gt;alert(&quot;pwned&quot;)"), std::string::npos);
  EXPECT_EQ(page.find("n2\"><b>"), std::string::npos);
  EXPECT_EQ(page.find("timeout <i>"), std::string::npos);
  // Exactly the template's two <script> elements and their two closing tags.
  EXPECT_EQ(testing::Count(page, "<script>") + testing::Count(page, "<script "), 2u);
  EXPECT_EQ(testing::Count(page, "</script>"), 2u);
  // The embedded JSON still holds the exact values.
  json data = EmbeddedData(page);
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["ops"].size(), 3u);
  EXPECT_EQ(data["ops"][1][9], kEvil);
  EXPECT_EQ(data["ops"][1][11], "timeout <i>");
}

TEST_F(ReportTest, EmbedsOpsAndNemesisCompactly) {
  WriteRun();
  json data = EmbeddedData(Report());
  ASSERT_TRUE(data.is_object());
  const json& s = data["strings"];
  const json& op0 = data["ops"][0];
  EXPECT_EQ(op0[0], 0);  // process
  EXPECT_EQ(s[op0[1].get<int>()], "append");
  EXPECT_EQ(op0[3], 0);                    // ok
  EXPECT_EQ(op0[4], 1000000);              // call
  EXPECT_EQ(op0[5], 2000000);              // return
  EXPECT_EQ(data["ops"][1][3], 2);         // info
  EXPECT_EQ(data["ops"][1][5], -1);        // no return
  EXPECT_EQ(data["ops"][1][12], 4000000);  // when the client gave up
  ASSERT_EQ(data["nemesis"].size(), 2u);
  EXPECT_EQ(data["nemesis"][0][2], "start-partition");
  EXPECT_EQ(data["end_ns"], 7200000);
  EXPECT_EQ(data["referenced"], json({0, 2}));
}

TEST_F(ReportTest, FaultTableAndLeaderObservations) {
  WriteRun();
  auto lines = LogHistory();
  lines.push_back(
      R"({"index":8,"time":7300000,"process":"nemesis","type":"info","f":"leader","value":{"node":"n2","generation":3}})");
  lines.push_back(
      R"({"index":9,"time":7400000,"process":"nemesis","type":"info","f":"leader","value":{"node":null}})");
  WriteHistory(lines);
  json results = Results();
  results["faults"] = {
      {"leader_changes", 2},
      {"leaderless_observations", 1},
      {"leader_observations", 2},
      {"skipped", 0},
      {"windows",
       {{{"fault", "partition"},
         {"what", kEvil},
         {"start_s", 0.003},
         {"stop_s", 0.006},
         {"stopped", true},
         {"ok", 0},
         {"fail", 0},
         {"info", 17},
         {"recovery_s", 0.25},
         {"leader_s", nullptr}},
        {{"fault", "kill"},
         {"what", "leader n1"},
         {"start_s", 0.007},
         {"stop_s", 0.0072},
         {"stopped", false},
         {"ok", 1},
         {"fail", 0},
         {"info", 0},
         {"recovery_s", nullptr},
         {"leader_s", nullptr}}}},
      {"in_faults", {{"ok", 1}, {"fail", 0}, {"info", 17}}},
      {"outside", {{"ok", 5}, {"fail", 2}, {"info", 0}}},
      {"final_heal",
       {{"time_s", 0.006}, {"first_ok_s", 0.0012}, {"first_ok_f", "read"}, {"leader_s", 0.5}}}};
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
  std::string page = Report();
  for (const char* needle :
       {"id=\"faults\"", "href=\"#faults\">2 leader changes</a>", "2 nemesis events",
        "2 leader changes (1 time no leader seen)", "<table class=\"faults\">",
        "<td class=\"num c-info\">17</td>", "0.25 s", "never stopped",
        "first ok op (read) after 0.0012 s, a leader after 0.5 s", "17 info</span>; outside them",
        "class=\"fault-show\" data-s=\"0.003\" data-e=\"0.006\""}) {
    EXPECT_NE(page.find(needle), std::string::npos) << "missing: " << needle;
  }
  EXPECT_EQ(page.find(kEvil), std::string::npos) << "a fault's target must be escaped";
  // Leader observations reach the page's data (the timeline draws them as ticks).
  json data = EmbeddedData(page);
  ASSERT_EQ(data["nemesis"].size(), 4u);
  EXPECT_EQ(data["nemesis"][2][2], "leader");
  EXPECT_EQ(data["nemesis"][2][3]["node"], "n2");
  // A run without a fault summary has no fault section.
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), Results()).ok());
  EXPECT_EQ(Report().find("id=\"faults\""), std::string::npos);
}

TEST_F(ReportTest, CrashedRunWithTornLineAndNoResultsStillRenders) {
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "test.json").string(), json{{"name", "crashed"}}).ok());
  auto lines = LogHistory();
  lines.resize(7);  // the read's invoke is the last complete line
  WriteHistory(lines, R"({"index":7,"time":7200000,"process":2,"ty)");
  std::string page = Report();
  EXPECT_NE(page.find("results.json is missing"), std::string::npos);
  EXPECT_NE(page.find("history.jsonl:8: dropped an incomplete last line"), std::string::npos);
  EXPECT_NE(page.find("id=\"verdict\">unknown<"), std::string::npos);
  EXPECT_NE(page.find("id=\"timeline\""), std::string::npos);
  json data = EmbeddedData(page);
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["ops"].size(), 3u);
  EXPECT_EQ(data["ops"][2][3], 2);  // the read never completed: info
  EXPECT_EQ(data["ops"][2][8], -1);
}

TEST_F(ReportTest, EmptyDirectoryRendersWarnings) {
  std::string page = Report();
  EXPECT_NE(page.find("test.json is missing"), std::string::npos);
  EXPECT_NE(page.find("results.json is missing"), std::string::npos);
  EXPECT_NE(page.find("history.jsonl cannot be read"), std::string::npos);
  json data = EmbeddedData(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["ops"].size(), 0u);
}

TEST_F(ReportTest, BadLineInTheMiddleStopsTheReadWithAWarning) {
  auto lines = LogHistory();
  lines.insert(lines.begin() + 2, "{not json");
  WriteHistory(lines);
  std::string page = Report();
  EXPECT_NE(page.find("history.jsonl was read up to the error history.jsonl:3:"),
            std::string::npos);
  json data = EmbeddedData(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["ops"].size(), 1u);
}

TEST_F(ReportTest, PartialResultsJsonIsAWarning) {
  WriteRun(false);
  std::ofstream(dir_ / "results.json") << "{\"verdict\": \"inva";
  std::string page = Report();
  EXPECT_NE(page.find("results.json is unreadable"), std::string::npos);
  EXPECT_NE(page.find("id=\"verdict\">unknown<"), std::string::npos);
}

TEST_F(ReportTest, LargeValuesAreShortenedUnlessAChecker_NamesTheOp) {
  std::string big(5000, 'z');
  WriteHistory({
      R"({"index":0,"time":1,"process":0,"type":"invoke","f":"write","value":")" + big + R"("})",
      R"({"index":1,"time":2,"process":0,"type":"ok","f":"write","value":")" + big + R"("})",
      R"({"index":2,"time":3,"process":1,"type":"invoke","f":"write","value":[")" + big + R"("]})",
      R"({"index":3,"time":4,"process":1,"type":"ok","f":"write"})",
  });
  ASSERT_TRUE(
      store::WriteJsonFile((dir_ / "results.json").string(),
                           json{{"verdict", "invalid"},
                                {"checkers",
                                 {{{"checker", "linearizability"},
                                   {"verdict", "invalid"},
                                   {"details",
                                    {{"key", "k"},
                                     {"linearized", json::array()},
                                     {"must", 1},
                                     {"blocked", {{{"op", 1}, {"could_return", "x"}}}}}}}}}})
          .ok());
  json data = EmbeddedData(Report());
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["ops"][0][9], big);                 // a string is primitive: kept
  EXPECT_EQ(data["ops"][1][9], json::array({big}));  // referenced: whole
  data = json();
  // Not referenced any more: shortened.
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(),
                                   json{{"verdict", "valid"}, {"checkers", json::array()}})
                  .ok());
  data = EmbeddedData(Report());
  ASSERT_TRUE(data["ops"][1][9].is_object());
  EXPECT_EQ(data["ops"][1][9]["$truncated"], big.size() + 4);
}

TEST_F(ReportTest, CompactReadsAreEmbeddedAsWrittenExceptTheOnesAnAnomalyNames) {
  // Two compact reads (docs/history-format.md): the second repeats the first's entry 2 and adds
  // entry 3. Only the second (op 1) is named by the checker.
  WriteHistory({
      R"({"index":0,"time":1,"process":0,"type":"invoke","f":"read","value":{"from":0}})",
      R"({"index":1,"time":2,"process":0,"type":"ok","f":"read","value":{"from":0,"head":[[2,"x"]],"hwm":3,"known":0,"tail":[],"to":3}})",
      R"({"index":2,"time":3,"process":0,"type":"invoke","f":"read","value":{"from":1}})",
      R"({"index":3,"time":4,"process":0,"type":"ok","f":"read","value":{"from":1,"hwm":4,"known":1,"tail":[[3,"y"]],"to":4}})",
  });
  json results = Results();
  results["checkers"][0]["details"]["anomalies"]["lost-write"]["examples"][0]["ops"] = {1};
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
  json data = EmbeddedData(Report());
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["ops"][0][10]["known"], 0) << "not named: as written";
  EXPECT_EQ(data["ops"][1][10]["entries"], json::parse(R"([[2,"x"],[3,"y"]])")) << "named: full";
  EXPECT_FALSE(data["ops"][1][10].contains("known"));
}

// `tidemark run` pairs once for the checkers and the report, the values moved into the ops
// (history::PairOpsTakingValues); the report it writes is the one `tidemark report` writes from
// the files.
TEST_F(ReportTest, ARunThatPairedItsEventsAlreadyReportsWhatTheFilesDo) {
  for (bool compact : {false, true}) {
    SCOPED_TRACE(compact ? "compact reads" : "the small log history");
    if (compact) {
      WriteHistory({
          R"({"index":0,"time":1,"process":0,"type":"invoke","f":"read","value":{"from":0}})",
          R"({"index":1,"time":2,"process":0,"type":"ok","f":"read","value":{"from":0,"head":[[2,"x"]],"hwm":3,"known":0,"tail":[],"to":3}})",
          R"({"index":2,"time":3,"process":0,"type":"invoke","f":"read","value":{"from":1}})",
          R"({"index":3,"time":4,"process":0,"type":"ok","f":"read","value":{"from":1,"hwm":4,"known":1,"tail":[[3,"y"]],"to":4}})",
      });
    } else {
      WriteHistory(LogHistory());
    }
    json results = Results();
    results["checkers"][0]["details"]["anomalies"]["lost-write"]["examples"][0]["ops"] = {1};
    ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
    auto from_files = LoadRun(dir_.string());
    ASSERT_TRUE(from_files.ok());
    auto read = history::ReadJsonlFile((dir_ / "history.jsonl").string(), {},
                                       history::LogReads::kAsWritten);
    ASSERT_TRUE(read.ok()) << read.error().message;
    auto ops = history::PairOpsTakingValues(read->events);
    ASSERT_TRUE(ops.ok()) << ops.error().message;
    RunData in_memory = RunInMemory(dir_.string(), from_files->test, results,
                                    std::move(read->events), std::move(*ops));
    EXPECT_EQ(ReportData(in_memory), ReportData(*from_files));
    // A log run analysed as a stream keeps nothing of the ops; the report reads back what it
    // needs, whole or in overview form.
    EmbedOptions whole, overview, window;
    overview.max_full_ops = 1;
    window.window_ns = {{1'500'000, 3'500'000}};
    for (const EmbedOptions& embed : {whole, overview, window}) {
      SCOPED_TRACE("max_full_ops " + std::to_string(embed.max_full_ops) +
                   (embed.window_ns ? ", a window" : ""));
      RunData streamed = Streamed(from_files->test, results, embed);
      EXPECT_EQ(ReportData(streamed, embed), ReportData(*from_files, embed));
      streamed.warnings = from_files->warnings;  // test.json is missing: LoadRun says so
      EXPECT_TRUE(RenderReport(streamed, embed) == RenderReport(*from_files, embed));
    }
  }
}

// What a streamed analysis leaves RunStreamed: the nemesis events and the last event's time.
RunData ReportTest::Streamed(const json& test, const json& results, const EmbedOptions& embed) {
  auto read =
      history::ReadJsonlFile((dir_ / "history.jsonl").string(), {}, history::LogReads::kAsWritten);
  EXPECT_TRUE(read.ok());
  int64_t end_ns = 0;
  for (const history::Event& e : read->events) end_ns = std::max(end_ns, e.time_ns);
  return RunStreamed(dir_.string(), test, results, history::NemesisEvents(read->events), end_ns,
                     embed);
}

// For each of `embeds`: the report of the run in dir_ read as a stream is the one LoadRun makes
// of its files, data and page, and the streamed run holds only the ops it embeds.
void ReportTest::ExpectStreamedReportsWhatTheFilesDo(const std::vector<EmbedOptions>& embeds) {
  auto from_files = LoadRun(dir_.string());
  ASSERT_TRUE(from_files.ok());
  ASSERT_TRUE(from_files->warnings.empty()) << from_files->warnings[0];
  for (const EmbedOptions& embed : embeds) {
    SCOPED_TRACE("max_full_ops " + std::to_string(embed.max_full_ops) +
                 (embed.window_ns ? ", a window" : ""));
    const RunData streamed = Streamed(from_files->test, from_files->results, embed);
    EXPECT_TRUE(streamed.warnings.empty()) << streamed.warnings[0];
    const json data = ReportData(streamed, embed);
    EXPECT_EQ(data, ReportData(*from_files, embed));
    EXPECT_TRUE(RenderReport(streamed, embed) == RenderReport(*from_files, embed));
    EXPECT_EQ(streamed.embedded.size(), data["ops"].size());
  }
}

// `tidemark report RUN` (and `--window`) reads a finished run's files as a stream: the same page
// as LoadRun's, without holding the history; a run whose files are not clean takes LoadRun.
TEST_F(ReportTest, TidemarkReportOfAFinishedRunReadsItAsAStream) {
  WriteRun();
  auto from_files = LoadRun(dir_.string());
  ASSERT_TRUE(from_files.ok());
  auto streamed = LoadRunStreamed(dir_.string(), {});
  ASSERT_TRUE(streamed.has_value());
  EXPECT_TRUE(streamed->streamed);
  EXPECT_TRUE(streamed->ops.empty());
  EXPECT_TRUE(Report() == RenderReport(*from_files));
  EmbedOptions window;
  window.window_ns = {{1'500'000, 3'500'000}};
  auto path = WriteWindowReport(dir_.string(), 0.0015, 0.0035);
  ASSERT_TRUE(path.ok()) << path.error().message;
  std::ifstream f(*path);
  const std::string page((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(page == RenderReport(*from_files, window));
  fs::remove(*path);
  // Without results.json, or with a torn last line, the files are read whole (with warnings).
  fs::remove(dir_ / "results.json");
  EXPECT_FALSE(LoadRunStreamed(dir_.string(), {}).has_value());
  WriteRun();
  WriteHistory(LogHistory(), R"({"index":8,"time":8000000,"proc)");
  EXPECT_FALSE(LoadRunStreamed(dir_.string(), {}).has_value());
}

TEST_F(ReportTest, AStreamedRunReadsBackTheValuesOfWhatItEmbeds) {
  WriteRun();
  auto from_files = LoadRun(dir_.string());
  ASSERT_TRUE(from_files.ok());
  for (size_t max_full_ops : {kMaxFullReportOps, size_t{2}}) {
    EmbedOptions embed;
    embed.max_full_ops = max_full_ops;
    const json streamed = ReportData(Streamed(from_files->test, from_files->results, embed), embed);
    EXPECT_EQ(streamed, ReportData(*from_files, embed)) << "max_full_ops " << max_full_ops;
    size_t with_values = 0;
    for (const json& op : streamed["ops"]) with_values += !op[10].is_null();
    EXPECT_GT(with_values, 0u);
  }
  ExpectStreamedReportsWhatTheFilesDo({EmbedOptions{}, EmbedOptions{2, std::nullopt},
                                       EmbedOptions{kMaxFullReportOps, {{2'500'000, 3'000'000}}}});
  // A history gone since the analysis: the report says the ops are missing.
  std::filesystem::remove(dir_ / "history.jsonl");
  RunData gone = RunStreamed(dir_.string(), from_files->test, from_files->results, {}, 0, {});
  ASSERT_FALSE(gone.warnings.empty());
  EXPECT_NE(gone.warnings.back().find("could not be read back"), std::string::npos);
  EXPECT_EQ(gone.OpCount(), 0u);
  EXPECT_TRUE(gone.embedded.empty());
}

// A register run checked key by key (checkers::AnalyseLinStream) leaves RunStreamed the same
// nemesis events and last time as a log run: its report is the one the files give, whole or in
// overview form, with the ops linearizability names (the core, the blocked op) embedded whole.
TEST_F(ReportTest, AStreamedRegisterRunReportsWhatTheFilesDo) {
  WriteHistory({
      R"({"index":0,"time":1000000,"process":0,"type":"invoke","f":"write","key":"r1","value":3,"node":"n1"})",
      R"({"index":1,"time":1500000,"process":1,"type":"invoke","f":"read","key":"r1","value":null,"node":"n2"})",
      R"({"index":2,"time":2000000,"process":0,"type":"ok","f":"write","key":"r1","value":3,"node":"n1"})",
      R"({"index":3,"time":2100000,"process":"nemesis","type":"info","f":"start-partition","value":{"grudge":{"n1":["n2","n3"]}}})",
      R"({"index":4,"time":2500000,"process":1,"type":"ok","f":"read","key":"r1","value":4,"node":"n2"})",
      R"({"index":5,"time":3000000,"process":2,"type":"invoke","f":"cas","key":"r2","value":[1,2],"node":"n3"})",
      R"({"index":6,"time":3100000,"process":3,"type":"invoke","f":"write","key":"r2","value":5,"node":"n1"})",
      R"({"index":7,"time":3500000,"process":2,"type":"fail","f":"cas","key":"r2","value":[1,2],"node":"n3","error":"precondition"})",
      R"({"index":8,"time":4000000,"process":3,"type":"info","f":"write","key":"r2","value":5,"node":"n1","error":"timeout"})",
      R"({"index":9,"time":4500000,"process":"nemesis","type":"info","f":"stop-partition","value":null})",
      R"({"index":10,"time":5000000,"process":4,"type":"invoke","f":"read","key":"r2","value":null,"node":"n2"})",
      R"({"index":11,"time":5200000,"process":5,"type":"invoke","f":"write","key":"r3","value":1,"node":"n2"})",
      R"({"index":12,"time":5500000,"process":4,"type":"ok","f":"read","key":"r2","value":5,"node":"n2"})",
  });
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "test.json").string(),
                                   json{{"name", "tidelog-register-none"},
                                        {"workload", {{"name", "register"}, {"concurrency", 4}}}})
                  .ok());
  json results = {{"verdict", "invalid"},
                  {"model", "cas-register"},
                  {"duration_s", 0.0055},
                  {"checkers",
                   {{{"checker", "linearizability"},
                     {"verdict", "invalid"},
                     {"summary", "invalid on key \"r1\": read → 4 (op 1) cannot be placed"},
                     {"explanation", "Not linearizable"},
                     {"details",
                      {{"key", "r1"},
                       {"must", 1},
                       {"blocked", {{{"op", 1}, {"could_return", "a read here would return 3"}}}},
                       {"core", {{{"op", 1}}, {{"op", 0}}}},
                       {"core_context", json::array()}}}}}}};
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
  ExpectStreamedReportsWhatTheFilesDo({EmbedOptions{}, EmbedOptions{2, std::nullopt},
                                       EmbedOptions{kMaxFullReportOps, {{2'000'000, 3'200'000}}}});
  auto streamed = LoadRunStreamed(dir_.string(), {});
  ASSERT_TRUE(streamed.has_value());
  EXPECT_EQ(streamed->OpCount(), 6u);
  EXPECT_TRUE(Report() == RenderReport(*LoadRun(dir_.string())));
}

// A log history of n ops by 4 clients: one op invoked every gap_ns, each taking 1.5, 2.5 or 3.5
// gaps, so that they complete out of id order. Every 3rd op is a read written compactly (each
// learns one entry), every 7th other op ends info (its client moves to a new process), every
// 11th fails; ops 1 and 2 are of kinds of their own, the last two never complete; a partition
// starts and stops now and then. The checkers name the ops `named`.
void ReportTest::WriteManyOps(int64_t n, int64_t gap_ns, const std::vector<int64_t>& named) {
  struct Line {
    int64_t time_ns;
    json event;
  };
  std::vector<Line> lines;
  std::vector<int64_t> process = {0, 1, 2, 3};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t call = i * gap_ns, slot = i % 4;
    const bool read = i % 3 == 0;
    const int64_t done = call + gap_ns / 2 + gap_ns * (1 + i % 3);
    json invoke = {{"time", call},
                   {"process", process[static_cast<size_t>(slot)]},
                   {"type", "invoke"},
                   {"f", read     ? "read"
                         : i == 1 ? "zap"
                         : i == 2 ? "bump"
                                  : "append"},
                   {"node", "n" + std::to_string(1 + i % 3)}};
    invoke["value"] = read ? json{{"from", 0}} : json("v" + std::to_string(i));
    json completion = invoke;
    completion["time"] = done;
    if (read) {
      completion["type"] = "ok";
      completion["value"] = nullptr;  // filled in file order below
    } else if (i % 7 == 1) {
      completion["type"] = "info";
      completion.erase("value");
      completion["error"] = "timeout";
      process[static_cast<size_t>(slot)] += 4;
    } else if (i % 11 == 2) {
      completion["type"] = "fail";
      completion["error"] = "not_leader";
    } else {
      completion["type"] = "ok";
      completion["value"] = {{"value", "v" + std::to_string(i)}, {"offset", i}, {"hwm", i + 1}};
    }
    lines.push_back({call, invoke});
    if (i < n - 2) lines.push_back({done, completion});  // the last two never complete
    if (i % 97 == 50)
      lines.push_back({call + 1,
                       {{"time", call + 1},
                        {"process", "nemesis"},
                        {"type", "info"},
                        {"f", i % 2 ? "start-partition" : "stop-partition"},
                        {"value", nullptr}}});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.time_ns < b.time_ns; });
  std::ofstream f(dir_ / "history.jsonl");
  int64_t reads = 0;
  for (size_t index = 0; index < lines.size(); ++index) {
    json& e = lines[index].event;
    e["index"] = index;
    if (e["f"] == "read" && e["type"] == "ok") {
      e["value"] = {{"from", 0},
                    {"hwm", reads + 1},
                    {"known", reads},
                    {"tail", {{reads, "r" + std::to_string(reads)}}},
                    {"to", reads + 1}};
      ++reads;
    }
    f << e.dump() << "\n";
  }
  json results = Results();
  results["checkers"][0]["details"]["anomalies"]["lost-write"]["examples"][0]["ops"] = named;
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "results.json").string(), results).ok());
  ASSERT_TRUE(store::WriteJsonFile((dir_ / "test.json").string(),
                                   json{{"name", "many"}, {"workload", {{"concurrency", 4}}}})
                  .ok());
}

// The overview's windows around the named ops are as wide as half the budget allows: the streamed
// run, counting them as it reads, narrows them exactly as LoadRun does from every op.
TEST_F(ReportTest, AStreamedOverviewNarrowsItsWindowsAsTheFilesDo) {
  // 2,000 ops 5 ms apart: +-1 s around op 1000 holds about 400 ops, +-0.1 s about 40. Op 1503 is
  // a compact read, named too (expanded); op 5000 does not exist.
  WriteManyOps(2000, 5'000'000, {1000, 1503, 5000});
  auto from_files = LoadRun(dir_.string());
  ASSERT_TRUE(from_files.ok());
  ASSERT_EQ(from_files->ops.size(), 2000u);
  ASSERT_EQ(from_files->ops[1503].f, "read");
  for (const auto& [max_full_ops, half] : std::vector<std::pair<size_t, int64_t>>{
           {1900, kAnomalyWindowNs}, {200, kAnomalyWindowNs / 10}, {40, 0}}) {
    EmbedOptions embed;
    embed.max_full_ops = max_full_ops;
    const json data = ReportData(Streamed(from_files->test, from_files->results, embed), embed);
    EXPECT_EQ(data["sampled"]["window_ns"], half) << "max_full_ops " << max_full_ops;
  }
  EmbedOptions window;
  window.max_full_ops = 200;
  window.window_ns = {{2'000'000'000, 2'200'000'000}};
  ExpectStreamedReportsWhatTheFilesDo({EmbedOptions{}, EmbedOptions{1900, std::nullopt},
                                       EmbedOptions{200, std::nullopt},
                                       EmbedOptions{40, std::nullopt}, window});
  // With windows 0 wide, no op beyond the named ones: not even those overlapping them.
  EmbedOptions narrowest;
  narrowest.max_full_ops = 40;
  const json narrow = ReportData(*from_files, narrowest);
  std::set<int64_t> ids;
  for (const json& op : narrow["ops"]) ids.insert(op[13].get<int64_t>());
  ASSERT_LT(from_files->ops[999].call_ns, from_files->ops[1000].call_ns);
  ASSERT_GT(from_files->ops[999].return_ns, from_files->ops[1000].call_ns);
  EXPECT_TRUE(ids.count(1000) && ids.count(1503));
  EXPECT_FALSE(ids.count(999) || ids.count(1001) || ids.count(1502) || ids.count(1504));
  // Names only the throughput counts are interned after the embedded ops', by their first op.
  const json strings =
      ReportData(Streamed(from_files->test, from_files->results, narrowest), narrowest)["strings"];
  ASSERT_GE(strings.size(), 2u);
  EXPECT_EQ(strings[strings.size() - 2], "zap");
  EXPECT_EQ(strings[strings.size() - 1], "bump");
  // The named read is embedded expanded; the others as written.
  const EmbedOptions overview{200, std::nullopt};
  const json data = ReportData(Streamed(from_files->test, from_files->results, overview), overview);
  for (const json& op : data["ops"]) {
    if (data["strings"][op[1].get<size_t>()] != "read" || op[3] != 0) continue;
    EXPECT_EQ(op[10].contains("entries"), op[13] == 1503) << op.dump();
  }
}

TEST_F(ReportTest, NoNetworkUrlsInTheTemplate) {
  WriteRun();
  std::string page = Report();
  EXPECT_FALSE(testing::NamesRemoteUrl(page));
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
}

TEST(NamesRemoteUrlTest, FindsEveryFormAndOnlyThose) {
  EXPECT_TRUE(testing::NamesRemoteUrl("<img src=\"https://x.org/a.png\">"));
  EXPECT_TRUE(testing::NamesRemoteUrl("<a HREF = 'http://x'>"));
  EXPECT_TRUE(testing::NamesRemoteUrl("<script src=//cdn.x/y.js>"));
  EXPECT_FALSE(testing::NamesRemoteUrl("<a href=\"#op-1\">"));
  EXPECT_FALSE(testing::NamesRemoteUrl("<a href=\"run/report.html\">"));
}

TEST(ReportErrorTest, NotADirectory) { EXPECT_FALSE(WriteReport("/nonexistent/run").ok()); }

// 1,000 writes by one process, 10 ms apart, each taking 1 ms; the results name op 500.
RunData ThousandOps() {
  history::History h;
  for (int64_t i = 0; i < 1000; ++i) {
    history::Event inv;
    inv.index = 2 * i;
    inv.time_ns = i * 10'000'000;
    inv.process = 0;
    inv.type = history::EventType::kInvoke;
    inv.f = "write";
    inv.value = i;
    history::Event ok = inv;
    ok.index = 2 * i + 1;
    ok.time_ns += 1'000'000;
    ok.type = history::EventType::kOk;
    h.push_back(inv);
    h.push_back(ok);
  }
  json results = {
      {"verdict", "invalid"},
      {"checkers",
       {{{"checker", "log-prefix"},
         {"verdict", "invalid"},
         {"details", {{"anomalies", {{"lost-write", {{"examples", {{{"ops", {500}}}}}}}}}}}}}}};
  return RunInMemory("/tmp/none", json::object(), results, std::move(h));
}

TEST(ReportOverviewTest, ALargeRunHoldsTheNamedOpsTheirSurroundingsAndASample) {
  const RunData run = ThousandOps();
  EXPECT_FALSE(ReportData(run).contains("sampled")) << "1,000 ops are held whole by default";
  EmbedOptions small;
  small.max_full_ops = 100;
  const json d = ReportData(run, small);
  ASSERT_TRUE(d.contains("sampled"));
  const json& s = d["sampled"];
  EXPECT_EQ(s["ops"], 1000);
  EXPECT_EQ(s["stride"], 20);  // 1,000 ops / (100 / 2)
  // +-1 s around op 500 holds ~200 ops, more than half the budget; +-0.1 s holds ~20.
  EXPECT_EQ(s["window_ns"], kAnomalyWindowNs / 10);
  std::set<int64_t> ids;
  int64_t prev = -1;
  for (const json& op : d["ops"]) {
    ASSERT_EQ(op.size(), 14u);
    const int64_t id = op[13].get<int64_t>();
    EXPECT_GT(id, prev) << "ops keep their order";
    prev = id;
    ids.insert(id);
  }
  EXPECT_EQ(s["embedded"], ids.size());
  for (int64_t id = 490; id <= 510; ++id) EXPECT_TRUE(ids.count(id)) << "op " << id;
  EXPECT_TRUE(ids.count(0) && ids.count(20) && ids.count(980));
  EXPECT_FALSE(ids.count(1) || ids.count(701));
  // Throughput counts every op, held or not.
  int64_t total = 0;
  for (const json& series : d["throughput"]["series"])
    for (const json& c : series[2]) total += c.get<int64_t>();
  EXPECT_EQ(total, 1000);
}

// The budget for the ops around the named ones counts only the ops not held anyway (named, or in
// the window).
TEST(ReportOverviewTest, TheWindowsBudgetLeavesOutTheOpsHeldAnyway) {
  const RunData run = ThousandOps();
  // +-1 s around op 500 (called at 5 s) holds ops 400 to 600: 200 besides op 500.
  for (const auto& [max_full_ops, half] : std::vector<std::pair<size_t, int64_t>>{
           {400, kAnomalyWindowNs}, {398, kAnomalyWindowNs / 10}}) {
    EmbedOptions embed;
    embed.max_full_ops = max_full_ops;
    EXPECT_EQ(ReportData(run, embed)["sampled"]["window_ns"], half) << max_full_ops;
  }
  // A window of 4.0-4.2 s holds 21 of them (ops 400 to 420): 179 remain.
  for (const auto& [max_full_ops, half] : std::vector<std::pair<size_t, int64_t>>{
           {360, kAnomalyWindowNs}, {356, kAnomalyWindowNs / 10}}) {
    EmbedOptions embed;
    embed.max_full_ops = max_full_ops;
    embed.window_ns = {{4'000'000'000, 4'200'000'000}};
    EXPECT_EQ(ReportData(run, embed)["sampled"]["window_ns"], half) << max_full_ops;
  }
}

TEST(ReportOverviewTest, AWindowHoldsEveryOpOverlappingIt) {
  const RunData run = ThousandOps();
  EmbedOptions w;
  w.max_full_ops = 100;  // so that the sample alone (1 op in 20) would miss most of the window
  w.window_ns = {{2'000'000'000, 2'050'000'000}};
  const json d = ReportData(run, w);
  ASSERT_TRUE(d.contains("sampled"));
  std::set<int64_t> ids;
  for (const json& op : d["ops"]) ids.insert(op[13].get<int64_t>());
  for (int64_t id = 200; id <= 205; ++id) EXPECT_TRUE(ids.count(id)) << "op " << id;
  EXPECT_FALSE(ids.count(199)) << "op 199 ended at 1.991 s";
  const std::string page = RenderReport(run, w);
  EXPECT_NE(page.find("This page holds every op of 2.000000–2.050000 s"), std::string::npos);
}

TEST(ReportOverviewTest, WindowReportsAreNamedAfterTheirWindowAndRefuseBadOnes) {
  EXPECT_EQ(filename::ReportWindow("run", 120, 130), "run/report-120-130.html");
  EXPECT_EQ(filename::ReportWindow("run", 1.5, 2.25), "run/report-1.5-2.25.html");
  auto bad = WriteWindowReport("/nonexistent", 5, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("FROM < TO"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::reports
