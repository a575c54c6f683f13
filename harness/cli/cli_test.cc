// Runs the real `tidemark` binary as a user would and checks its exit codes and output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/testing/run_command.h"

#include "harness/cli/check_command.h"

namespace tidemark::cli {
namespace {

using tidemark::test_util::CliRun;

CliRun Tidemark(const std::string& args) {
  return tidemark::test_util::RunCommand(std::string(TIDEMARK_BIN) + " " + args);
}

std::string Example(const std::string& name) {
  return std::string(TIDEMARK_SOURCE_DIR) + "/docs/examples/" + name;
}

TEST(CheckCommandTest, ValidExampleExitsZero) {
  CliRun r = Tidemark("check " + Example("register-valid.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("valid"), std::string::npos) << r.output;
}

TEST(CheckCommandTest, StaleReadExampleExitsOneAndNamesTheKey) {
  CliRun r = Tidemark("check " + Example("register-stale-read.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("k1"), std::string::npos) << r.output;
}

TEST(CheckCommandTest, LogExamplesGetTheirVerdicts) {
  EXPECT_EQ(Tidemark("check " + Example("log-valid.jsonl")).exit_code, 0);
  CliRun r = Tidemark("check " + Example("log-lost-write.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("lost-write"), std::string::npos) << r.output;
}

TEST(CheckCommandTest, WritesResultsJson) {
  auto path = std::filesystem::temp_directory_path() / "tidemark_cli_test_results.json";
  std::filesystem::remove(path);
  CliRun r =
      Tidemark("check " + Example("register-stale-read.jsonl") + " --results " + path.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  std::ifstream f(path);
  auto doc = nlohmann::json::parse(f, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["verdict"], "invalid");
  EXPECT_EQ(doc["checkers"][0]["checker"], "linearizability");
  std::filesystem::remove(path);
}

TEST(CheckCommandTest, ExplainModesChangeOnlyTheCore) {
  CliRun none = Tidemark("check " + Example("register-stale-read.jsonl") + " --explain none");
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("cannot be placed"), std::string::npos) << none.output;
  EXPECT_EQ(none.output.find("Counterexample core"), std::string::npos) << none.output;
  CliRun minimal = Tidemark("check " + Example("register-stale-read.jsonl") + " --explain minimal");
  EXPECT_EQ(minimal.exit_code, 1) << minimal.output;
  EXPECT_NE(minimal.output.find("Counterexample core"), std::string::npos) << minimal.output;
  EXPECT_EQ(minimal.output.find("may not be minimal"), std::string::npos) << minimal.output;
  EXPECT_EQ(Tidemark("check " + Example("register-stale-read.jsonl") + " --explain all").exit_code,
            254);
}

TEST(CheckCommandTest, BadUsageExits254) {
  EXPECT_EQ(Tidemark("check").exit_code, 254);
  EXPECT_EQ(Tidemark("check " + Example("log-valid.jsonl") + " --no-such-flag").exit_code, 254);
  CliRun r = Tidemark("check " + Example("log-valid.jsonl") + " --format yaml");
  EXPECT_EQ(r.exit_code, 254);
  EXPECT_NE(r.output.find("--format"), std::string::npos) << r.output;
  EXPECT_EQ(Tidemark("frobnicate").exit_code, 254);
}

TEST(CheckCommandTest, MalformedInputExits255WithFileAndLine) {
  auto path = std::filesystem::temp_directory_path() / "tidemark_cli_test_bad.jsonl";
  {
    std::ofstream f(path);
    f << R"({"index":0,"time":1,"process":0,"type":"invoke","f":"write","value":1})"
      << "\n";
    f << R"({"index":1,"time":2,"process":0,"type":"ok","f":"write",)"
      << "\n";
  }
  CliRun r = Tidemark("check " + path.string() + " --format jsonl");
  EXPECT_EQ(r.exit_code, 255) << r.output;
  EXPECT_NE(r.output.find(path.filename().string() + ":2"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

TEST(CheckCommandTest, TornLastLineOfACrashedRunIsCheckedWithAWarning) {
  auto path = std::filesystem::temp_directory_path() / "tidemark_cli_test_torn.jsonl";
  {
    std::ofstream f(path);
    f << R"({"index":0,"time":1,"process":0,"type":"invoke","f":"write","key":"k","value":1})"
      << "\n";
    f << R"({"index":1,"time":2,"process":0,"type":"ok","f":"write","key":"k","value":1})"
      << "\n";
    f << R"({"index":2,"time":3,"process":1,"type":"invo)";  // killed mid-write: no newline
  }
  CliRun r = Tidemark("check " + path.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("incomplete last line"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

TEST(CheckCommandTest, HelpTeachesWithExamplesAndExitCodes) {
  CliRun r = Tidemark("check --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Examples:"), std::string::npos);
  EXPECT_NE(r.output.find("254"), std::string::npos);
}

TEST(CheckCommandTest, ChecksAPublishedEtcdHistory) {
  // A golden history (checkers/testdata/golden/): Porcupine's tests assert etcd_001 is not
  // linearizable, and etcd_002 is.
  std::string dir = std::string(TIDEMARK_SOURCE_DIR) + "/checkers/testdata/golden/porcupine-etcd/";
  CliRun bad = Tidemark("check " + dir + "etcd_001.log");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  CliRun good = Tidemark("check " + dir + "etcd_002.log");
  EXPECT_EQ(good.exit_code, 0) << good.output;
}

TEST(ExportCommandTest, ExportsJepsenEdn) {
  CliRun r = Tidemark("export " + Example("register-valid.jsonl") + " --to jepsen-edn");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(":type :invoke"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":process :nemesis"), std::string::npos) << r.output;
}

TEST(CleanCommandTest, SweepsAStoreWithNothingLeftOver) {
  auto store = std::filesystem::temp_directory_path() / "tidemark_cli_test_clean_store";
  std::filesystem::create_directories(store);
  CliRun r = Tidemark("clean --store " + store.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing to clean"), std::string::npos) << r.output;
  std::filesystem::remove_all(store);
}

TEST(ZooCommandTest, UnknownBugIsBadUsage) {
  CliRun r = Tidemark("zoo --bugs lazy-fsync,no-such-bug --dry-run");
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_NE(r.output.find("no-such-bug"), std::string::npos) << r.output;
}

TEST(ZooCommandTest, DryRunPlansEachRunWithItsScheduleAndSeed) {
  auto store = std::filesystem::temp_directory_path() / "tidemark_cli_test_zoo_store";
  CliRun r = Tidemark(
      "zoo --dry-run --bugs lazy-fsync --runs 2 --correct-runs 1 --seed 100 "
      "--store " +
      store.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--bug lazy-fsync --scenario kill-all"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--seed 101"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--nemesis all"), std::string::npos) << r.output;
  std::filesystem::remove_all(store);
}

// Every catalogue row's flags are accepted by `tidemark run` (a typo would be exit 254): the
// runs below get past the flag parser and stop at the missing descriptor (255).
TEST(ZooCommandTest, EveryPlannedRunParses) {
  auto store = std::filesystem::temp_directory_path() / "tidemark_cli_test_zoo_parse";
  CliRun plan = Tidemark("zoo --dry-run --runs 1 --correct-scenarios --store " + store.string());
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  int checked = 0;
  std::istringstream lines(plan.output);
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(" run ");
    if (at == std::string::npos || line.find("--seed") == std::string::npos) continue;
    CliRun r = tidemark::test_util::RunCommand(line + " --target /nonexistent/zoo-test.json");
    EXPECT_EQ(r.exit_code, 255) << line << "\n" << r.output;
    EXPECT_NE(r.output.find("zoo-test.json"), std::string::npos) << r.output;
    ++checked;
  }
  EXPECT_GE(checked, 10) << plan.output;
  std::filesystem::remove_all(store);
}

// --from re-reads finished runs into one matrix: a missed bug makes it exit 1.
TEST(ZooCommandTest, FromRereadsRunsIntoOneMatrix) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / "tidemark_cli_test_zoo_from";
  fs::remove_all(root);
  auto make_run = [&](const std::string& name, const std::string& verdict) {
    fs::path d = root / name;
    fs::create_directories(d);
    std::ofstream(d / "results.json")
        << R"({"verdict":")" << verdict
        << R"(","checkers":[{"checker":"log-prefix","details":{"counts":{"lost-write":)"
        << (verdict == "invalid" ? 3 : 0) << "}}}]}";
    std::ofstream(d / "history.jsonl") << R"({"index":0,"time":5,"process":0,"type":"invoke"})"
                                       << "\n";
    return d.string();
  };
  std::string caught = make_run("caught", "invalid"), missed = make_run("missed", "valid");
  auto zoo_json = [&](const std::string& name, const std::string& second) {
    fs::path p = root / name;
    std::ofstream(p) << R"({"runs":[{"row":"lazy-fsync","seed":1,"run_dir":")" << caught
                     << R"("},{"row":"lazy-fsync","seed":2,"run_dir":")" << second << R"("}]})";
    return p.string();
  };
  CliRun ok = Tidemark("zoo --from " + zoo_json("a.json", caught) + " --store " +
                       (root / "store").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("2/2"), std::string::npos) << ok.output;
  CliRun bad = Tidemark("zoo --from " + zoo_json("b.json", missed) + " --store " +
                        (root / "store").string());
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("MISSED"), std::string::npos) << bad.output;
  EXPECT_TRUE(fs::exists(root / "store" / "zoo"));
  fs::remove_all(root);
}

TEST(ReportCommandTest, RendersARunDirectory) {
  namespace fs = std::filesystem;
  fs::path run =
      fs::temp_directory_path() / "tidemark_cli_test_report" / "t" / "20260101T000000.000Z";
  fs::remove_all(run.parent_path().parent_path());
  fs::create_directories(run);
  fs::copy_file(Example("register-stale-read.jsonl"), run / "history.jsonl");
  {
    std::ofstream f(run / "test.json");
    f << R"({"name":"t","seed":1})";
  }
  CliRun r = Tidemark("report " + run.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(run / "report.html")) << r.output;
  EXPECT_TRUE(fs::exists(run / "junit.xml")) << r.output;
  EXPECT_EQ(Tidemark("report /nonexistent/run").exit_code, 254);
  fs::remove_all(run.parent_path().parent_path());
}

TEST(GuessModelTest, RecognisesWorkloads) {
  auto op = [](std::string f, nlohmann::json v) {
    history::Op o;
    o.f = std::move(f);
    o.value = std::move(v);
    return o;
  };
  EXPECT_EQ(GuessModel({op("append", {{"value", "a"}, {"offset", 1}, {"hwm", 2}})}), "log");
  EXPECT_EQ(GuessModel({op("get", nullptr), op("append", "x")}), "kv");
  EXPECT_EQ(GuessModel({op("read", 1), op("cas", {1, 2})}), "cas-register");
  EXPECT_EQ(GuessModel({op("read", 1), op("write", 2)}), "register");
}

}  // namespace
}  // namespace tidemark::cli
