// Runs the real `tidemark` binary as a user would and checks its exit codes and output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/testing/run_command.h"

#include "base/history/jsonl.h"
#include "checkers/analyse.h"

#include "harness/cli/check_command.h"
#include "harness/cli/progress.h"
#include "harness/cli/run_preflight.h"
#include "harness/cli/suggest.h"
#include "harness/run/test_name.h"
#include "harness/run/verdict_text.h"

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

TEST(ProgressLineTest, ReadingShowsHowFarAndTheTimeLeftAtMostOnceASecondAsLines) {
  double now = 100;
  std::ostringstream err;
  ProgressLine p(err, ProgressMode::kLines, [&] { return now; });
  p.SetSubject("h.jsonl");
  now = 101;
  p.Reading(uint64_t{10} << 20, uint64_t{40} << 20);
  now = 101.5;
  p.Reading(uint64_t{20} << 20, uint64_t{40} << 20);  // too soon after the last line
  now = 102;
  p.Step("checking log-prefix");  // steps always show
  p.Clear();                      // nothing to erase on plain lines
  EXPECT_EQ(err.str(),
            "h.jsonl: reading 10 MiB of 40 MiB (25 %), about 3.0 s left\n"
            "h.jsonl: checking log-prefix (2.0 s so far)\n");
}

TEST(ProgressLineTest, OnATerminalTheLineIsRedrawnInPlaceAndErasedBeforeTheResult) {
  double now = 0;
  std::ostringstream err;
  {
    ProgressLine p(err, ProgressMode::kTerminal, [&] { return now; });
    p.Reading(512, 0);
    now = 0.1;
    p.Reading(1024, 0);  // within 0.2 s: not redrawn
    now = 0.3;
    p.Reading(3u << 20, 0);
  }  // the destructor erases it
  EXPECT_EQ(err.str(), "\r\033[Kreading 512 B\r\033[Kreading 3.0 MiB\r\033[K");
  std::ostringstream off;
  ProgressLine quiet(off, ProgressMode::kOff);
  quiet.Reading(1, 2);
  quiet.Step("checking");
  EXPECT_EQ(off.str(), "");
}

TEST(ProgressLineTest, ModesFollowTheFlagAndTheTerminal) {
  EXPECT_EQ(ParseProgressMode("auto", true), ProgressMode::kTerminal);
  EXPECT_EQ(ParseProgressMode("auto", false), ProgressMode::kOff);
  EXPECT_EQ(ParseProgressMode("always", true), ProgressMode::kTerminal);
  EXPECT_EQ(ParseProgressMode("always", false), ProgressMode::kLines);
  EXPECT_EQ(ParseProgressMode("never", true), ProgressMode::kOff);
  EXPECT_EQ(ParseProgressMode("sometimes", true), std::nullopt);
  EXPECT_EQ(Bytes(1536), "1.5 KiB");
  EXPECT_EQ(Bytes(uint64_t{120} << 20), "120 MiB");
}

TEST(CheckCommandTest, ProgressGoesToStderrAndNamesEveryStep) {
  CheckCommandOptions opts;
  opts.files = {Example("log-lost-write.jsonl")};
  opts.progress = "always";  // stderr here is a string: plain lines
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckCommand(opts, out, err), 1) << err.str();
  // A log history is paired and parsed as it is read (a stream); another is paired after.
  for (const char* step : {"log-lost-write.jsonl: reading ", " (100 %)", ": summarising faults",
                           ": checking log-prefix"})
    EXPECT_NE(err.str().find(step), std::string::npos) << "missing " << step << " in\n"
                                                       << err.str();
  {
    CheckCommandOptions reg = opts;
    reg.files = {Example("register-stale-read.jsonl")};
    std::ostringstream out3, err3;
    EXPECT_EQ(RunCheckCommand(reg, out3, err3), 1) << err3.str();
    // A register history is indexed in one reading and checked key by key in a second.
    for (const char* step : {"register-stale-read.jsonl: reading ", ": indexing the history's keys",
                             ": checking linearizability key by key (reading the history again)"})
      EXPECT_NE(err3.str().find(step), std::string::npos) << "missing " << step << " in\n"
                                                          << err3.str();
  }
  EXPECT_EQ(out.str().find("reading"), std::string::npos) << "progress leaked into stdout";
  EXPECT_NE(out.str().find("lost-write"), std::string::npos) << out.str();
  opts.progress = "never";
  std::ostringstream out2, err2;
  EXPECT_EQ(RunCheckCommand(opts, out2, err2), 1);
  EXPECT_EQ(err2.str(), "");
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

// The default explanation (fast) prints a core within a budget of about the verdict's own time
// and says whether it is minimal, in the text and in --json.
TEST(CheckCommandTest, DefaultExplanationSaysWhetherItsCoreIsMinimal) {
  const std::string file = Example("register-stale-read.jsonl");
  CliRun json = Tidemark("check --json " + file);
  ASSERT_EQ(json.exit_code, 1) << json.output;
  auto doc = nlohmann::json::parse(json.output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.output;
  const nlohmann::json& d = doc["checkers"][0]["details"];
  EXPECT_EQ(d["explain"], "fast") << json.output;
  ASSERT_TRUE(d["core_minimal"].is_boolean()) << json.output;
  EXPECT_GE(d["core"].size(), 1u) << json.output;
  CliRun text = Tidemark("check " + file);
  ASSERT_EQ(text.exit_code, 1) << text.output;
  EXPECT_NE(text.output.find("Counterexample core"), std::string::npos) << text.output;
  bool says_minimal = text.output.find("(minimal: ") != std::string::npos;
  bool says_maybe_not = text.output.find("may not be minimal") != std::string::npos;
  EXPECT_NE(says_minimal, says_maybe_not) << text.output;
  // --explain minimal finishes this small core, and says so.
  CliRun minimal = Tidemark("check --json --explain minimal " + file);
  auto mdoc = nlohmann::json::parse(minimal.output, nullptr, false);
  ASSERT_FALSE(mdoc.is_discarded()) << minimal.output;
  EXPECT_TRUE(mdoc["checkers"][0]["details"]["core_minimal"].get<bool>()) << minimal.output;
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

TEST(CheckCommandTest, SeveralFilesInOneProcessTallyAndExitWithTheWorst) {
  const std::string valid = Example("log-valid.jsonl") + " " + Example("register-valid.jsonl");
  CliRun r = Tidemark("check -q " + valid);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 files: 2 valid, 0 invalid, 0 unknown, 0 unreadable"),
            std::string::npos)
      << r.output;
  r = Tidemark("check -q " + valid + " " + Example("log-lost-write.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid: " + Example("log-lost-write.jsonl")), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("3 files: 2 valid, 1 invalid"), std::string::npos) << r.output;
  // An unreadable file outranks an invalid one, and the others are still checked.
  auto bad = std::filesystem::temp_directory_path() / "tidemark_cli_test_multi_bad.jsonl";
  std::ofstream(bad) << "{\"index\":0,\n";
  r = Tidemark("check -q --format jsonl " + bad.string() + " " + Example("log-lost-write.jsonl"));
  EXPECT_EQ(r.exit_code, 255) << r.output;
  EXPECT_NE(r.output.find("2 files: 0 valid, 1 invalid, 0 unknown, 1 unreadable"),
            std::string::npos)
      << r.output;
  std::filesystem::remove(bad);
  // --json: one document per file, in order; --results takes one file only.
  r = Tidemark("check --json " + valid);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto docs = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(docs.is_array()) << r.output;
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["file"], Example("register-valid.jsonl"));
  r = Tidemark("check " + valid + " --results /tmp/tidemark_cli_test_never.json");
  EXPECT_EQ(r.exit_code, 254) << r.output;
  EXPECT_NE(r.output.find("--results writes one file's results"), std::string::npos) << r.output;
}

// With several files in one process, each file's -q line carries its own time in milliseconds
// with three decimals (a small history takes a tenth of a millisecond, so whole milliseconds
// would read 0): bench/lin_families.sh compares files by it.
TEST(CheckCommandTest, QuietLinesCarryEachFilesTimeWithThreeDecimals) {
  const std::vector<std::string> files = {Example("register-valid.jsonl"),
                                          Example("register-stale-read.jsonl")};
  CliRun r = Tidemark("check -q " + files[0] + " " + files[1]);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::regex line(R"(^(valid|invalid): (\S+) \((\d+) ops, model (\S+), (\d+\.\d{3}) ms\)$)");
  std::istringstream in(r.output);
  std::string l;
  std::vector<std::string> seen;
  while (std::getline(in, l)) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    seen.push_back(m[2]);
    double ms = std::stod(m[5]);
    EXPECT_GT(ms, 0.0) << l;
    EXPECT_LT(ms, 60000.0) << l;
  }
  EXPECT_EQ(seen, files) << r.output;
}

// Checkers other than the log's read every log read in full: a compact history (as `tidemark
// run` writes it) gets the same results under --checker all as the same history in full.
TEST(CheckCommandTest, CheckerAllReadsCompactLogReadsInFull) {
  const std::string full = Example("log-lost-write.jsonl");
  auto compact = std::filesystem::temp_directory_path() / "tidemark_cli_test_compact.jsonl";
  CliRun x = Tidemark("export " + full + " --to jsonl-compact -o " + compact.string());
  ASSERT_EQ(x.exit_code, 0) << x.output;
  std::ifstream in(compact);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(text.find("\"known\""), std::string::npos) << "no compact read to expand:\n" << text;
  auto results = [](const std::string& file) {
    CliRun r = Tidemark("check --checker all --json " + file);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    auto doc = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << r.output;
    for (auto& c : doc["checkers"]) {
      c.erase("seconds");
      c["details"].erase("elapsed_s");  // timing, not a result
    }
    return std::make_pair(doc["verdict"], doc["checkers"]);
  };
  auto a = results(full), b = results(compact.string());
  ASSERT_EQ(a.second.size(), 2u) << a.second.dump();  // no replicas: no log-replicas
  EXPECT_EQ(a.second[0]["checker"], "linearizability");
  EXPECT_EQ(a, b);
  std::filesystem::remove(compact);
}

// A JSONL log history is checked as a stream (checkers::AnalyseLogStream, never held whole): its
// results are the whole-file path's (which --checker all takes), full or compact, and a torn
// last line is still a warning.
TEST(CheckCommandTest, ALogHistoryCheckedAsAStreamGetsTheWholeFilesResults) {
  const std::string full = Example("log-lost-write.jsonl");
  auto compact = std::filesystem::temp_directory_path() / "tidemark_cli_test_stream.jsonl";
  CliRun x = Tidemark("export " + full + " --to jsonl-compact -o " + compact.string());
  ASSERT_EQ(x.exit_code, 0) << x.output;
  auto doc = [](const std::string& args) {
    CliRun r = Tidemark("check --json " + args);
    auto d = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_TRUE(d.is_object()) << r.output;
    for (auto& c : d["checkers"]) {
      c.erase("seconds");
      c["details"].erase("elapsed_s");
    }
    return d;
  };
  for (const std::string& file : {full, compact.string()}) {
    SCOPED_TRACE(file);
    nlohmann::json streamed = doc(file), whole = doc("--checker all " + file);
    ASSERT_EQ(streamed["checkers"].size(), 1u) << streamed.dump();
    ASSERT_EQ(whole["checkers"].size(), 2u) << whole.dump();
    EXPECT_EQ(streamed["checkers"][0], whole["checkers"][1]);
    EXPECT_EQ(streamed["verdict"], "invalid");
    for (const char* k : {"events", "ops", "counts", "faults", "duration_s", "model"})
      EXPECT_EQ(streamed[k], whole[k]) << k;
  }
  std::ifstream in(full);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(compact) << text << R"({"index":9999,"time":1,"pro)";
  CliRun torn = Tidemark("check " + compact.string());
  EXPECT_EQ(torn.exit_code, 1) << torn.output;
  EXPECT_NE(torn.output.find("warning"), std::string::npos) << torn.output;
  std::filesystem::remove(compact);
}

// A register history of many keys, some of them late: key k gets a write of k and two reads,
// and every 40th key's last read returns a value nobody wrote, long after its other ops (while
// other keys come and go), so that a key checked before its last op would be found valid.
std::string ManyKeysHistory(int keys, bool violated) {
  std::ostringstream out;
  int64_t index = 0;
  auto line = [&](int64_t time, int process, const char* type, const char* f,
                  const std::string& key, const nlohmann::json& value) {
    nlohmann::json e = {{"index", index++}, {"time", time}, {"process", process},
                        {"type", type},     {"f", f},       {"key", key}};
    if (!value.is_null() || std::string(type) != "invoke") e["value"] = value;
    out << e.dump() << "\n";
  };
  int64_t t = 1000;
  for (int k = 0; k < keys; ++k, t += 1000) {
    const std::string key = "r" + std::to_string(k);
    const bool late = k % 40 == 0;
    line(t, 0, "invoke", "write", key, k);
    line(t + 100, 0, "ok", "write", key, k);
    line(t + 200, 1, "invoke", "read", key, nullptr);
    line(t + 300, 1, "ok", "read", key, k);
    if (late) {  // process 100 + k reads it now, and answers after 10 more keys
      line(t + 400, 100 + k, "invoke", "read", key, nullptr);
    }
    if (k >= 10 && (k - 10) % 40 == 0) {
      const std::string early = "r" + std::to_string(k - 10);
      line(t + 500, 100 + k - 10, "ok", "read", early, violated && k == 50 ? -1 : k - 10);
    }
  }
  return out.str();
}

// `tidemark check` of a JSONL register history reads it as a stream and checks it key by key;
// its results are Analyse's on the whole file (one thread: the same steps and explanation).
TEST(CheckCommandTest, ARegisterHistoryCheckedKeyByKeyGetsTheWholeFilesResults) {
  auto many = std::filesystem::temp_directory_path() / "tidemark_cli_test_keys.jsonl";
  for (const std::string& file :
       {Example("register-valid.jsonl"), Example("register-stale-read.jsonl"), many.string()}) {
    for (bool violated : {false, true}) {
      if (file == many.string()) {
        std::ofstream(many) << ManyKeysHistory(400, violated);
      } else if (violated) {
        continue;
      }
      SCOPED_TRACE(file + (violated ? " (violated)" : ""));
      CheckCommandOptions opts;
      opts.files = {file};
      opts.json = true;
      opts.threads = 1;
      opts.explain = "minimal";
      opts.progress = "always";
      std::ostringstream out, err;
      const int code = RunCheckCommand(opts, out, err);
      EXPECT_NE(err.str().find("checking linearizability key by key"), std::string::npos)
          << err.str();
      nlohmann::json streamed = nlohmann::json::parse(out.str(), nullptr, false);
      ASSERT_TRUE(streamed.is_object()) << out.str();
      for (const char* k : {"file", "warnings", "format", "seconds"}) streamed.erase(k);
      streamed["checkers"][0]["details"].erase("elapsed_s");

      auto read = history::ReadJsonlFile(file);
      ASSERT_TRUE(read.ok()) << read.error().message;
      auto ops = history::PairOps(read->events);
      ASSERT_TRUE(ops.ok()) << ops.error().message;
      checkers::AnalysisSpec spec;
      spec.model = GuessModel(*ops);
      spec.threads = 1;
      spec.explain = checkers::ExplainMode::kMinimal;
      spec.timeout_s = opts.timeout_s;
      spec.memory_limit_bytes = opts.memory_limit_mb << 20;
      const checkers::Analysis whole = checkers::Analyse(read->events, *ops, spec);
      nlohmann::json want = checkers::ToJson(whole);
      want["checkers"][0]["details"].erase("elapsed_s");
      EXPECT_EQ(streamed, want);
      EXPECT_EQ(code, checkers::ExitCode(whole.verdict));
      if (file == many.string()) {
        EXPECT_EQ(whole.verdict,
                  violated ? checkers::Verdict::kInvalid : checkers::Verdict::kValid);
      }
    }
  }
  std::filesystem::remove(many);
}

// libcurl is opened on first use (curl_post.h), so a check never loads it nor its dozens of
// dependencies. LD_DEBUG=files makes the loader name every library it opens.
TEST(CheckCommandTest, CheckDoesNotLoadLibcurl) {
  CliRun r = tidemark::test_util::RunCommand("LD_DEBUG=files " + std::string(TIDEMARK_BIN) +
                                             " check " + Example("log-valid.jsonl"));
  ASSERT_NE(r.output.find("libc.so"), std::string::npos) << "LD_DEBUG had no effect:\n" << r.output;
  EXPECT_EQ(r.output.find("libcurl"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libssl"), std::string::npos) << r.output;
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

struct BadInputRow {
  std::string file, args, expected;
  int exit_code = -1;
};

std::vector<BadInputRow> ReadBadInputManifest(const std::filesystem::path& dir) {
  std::vector<BadInputRow> rows;
  std::ifstream in(dir / "MANIFEST.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    BadInputRow row;
    std::string code;
    std::getline(fields, row.file, '\t');
    std::getline(fields, row.args, '\t');
    std::getline(fields, code, '\t');
    std::getline(fields, row.expected);
    row.exit_code = std::stoi(code);
    if (row.args == "-") row.args.clear();
    rows.push_back(row);
  }
  return rows;
}

// Every file of testdata/bad-inputs gets its expected exit code and message, and no output line
// is long (long tokens are shortened). No history is never `valid`.
TEST(CheckCommandTest, BadInputTable) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(TIDEMARK_SOURCE_DIR) / "harness/cli/testdata/bad-inputs";
  std::vector<BadInputRow> rows = ReadBadInputManifest(dir);
  std::set<std::string> listed;
  int checked = 0;
  for (const BadInputRow& row : rows) {
    listed.insert(row.file);
    CliRun r = Tidemark("check " + (dir / row.file).string() + " " + row.args);
    EXPECT_EQ(r.exit_code, row.exit_code) << row.file << "\n" << r.output;
    EXPECT_NE(r.output.find(row.expected), std::string::npos) << row.file << "\n" << r.output;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      EXPECT_LE(line.size(), 400u) << row.file << ": an unshortened token?\n" << line;
    ++checked;
  }
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name == "MANIFEST.tsv") continue;
    ++files;
    EXPECT_TRUE(listed.count(name)) << name << " has no row in MANIFEST.tsv";
  }
  EXPECT_GE(checked, 10);
  EXPECT_EQ(checked, files);
}

// A last line with no newline is a torn write only when it is short; a long one (here 1 MiB
// and a bit: a file with no newline at all) is a parse error naming the file and line.
TEST(CheckCommandTest, UnparsableTailLongerThanOneMiBIsAnError) {
  auto path = std::filesystem::temp_directory_path() / "tidemark_cli_test_long_tail.jsonl";
  {
    std::ofstream f(path);
    f << R"({"index":0,"time":1,"process":0,"type":"invoke","f":"write","key":"k","value":1})"
      << "\n";
    f << R"({"index":1,"time":2,"process":0,"type":"ok","f":"write","key":"k","value":1})"
      << "\n";
    f << R"({"index":2,"time":3,"process":1,"type":"invoke","f":"write","value":")"
      << std::string((1 << 20) + 10, 'a');
  }
  CliRun r = Tidemark("check " + path.string());
  EXPECT_EQ(r.exit_code, 255) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find(path.filename().string() + ":3: the last line has no newline"),
            std::string::npos)
      << r.output.substr(0, 2000);
  EXPECT_LT(r.output.size(), 2000u);
  std::filesystem::remove(path);
}

// History values are the system's output: an ESC in one must reach the terminal escaped.
TEST(CheckCommandTest, ControlCharactersInValuesArePrintedEscaped) {
  auto path = std::filesystem::temp_directory_path() / "tidemark_cli_test_escape.jsonl";
  {
    std::ifstream in(Example("log-lost-write.jsonl"));
    std::ofstream out(path);
    for (std::string line; std::getline(in, line);) {
      for (size_t at; (at = line.find("\"v0-2\"")) != std::string::npos;)
        line.replace(at, 6, "\"\\u001b[2Jv0-2\\u009b\"");
      out << line << "\n";
    }
  }
  CliRun r = Tidemark("check " + path.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\xc2\x9b"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\\x1b[2Jv0-2\\u009b"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

TEST(VerdictTextTest, FirstExampleOfEachAnomalyInPlainWordsEscaped) {
  checkers::CheckResult r;
  r.checker = "log-prefix";
  r.verdict = checkers::Verdict::kInvalid;
  r.details["anomalies"]["lost-write"] = {
      {"count", 3},
      {"examples",
       {{{"explanation", "append \x1b[31mv1 acknowledged at offset 4 by n1 at 1.200 s"}}}}};
  r.details["anomalies"]["stale-read"] = {
      {"count", 1}, {"examples", {{{"explanation", "read on n2 at 2.000 s"}}}}};
  EXPECT_EQ(run::FirstExamples(r, "    "),
            "    lost-write: append \\x1b[31mv1 acknowledged at offset 4 by n1 at 1.200 s "
            "(+2 more)\n"
            "    stale-read: read on n2 at 2.000 s\n");
  r.details = nlohmann::json::object();
  r.explanation =
      "key k1: no linearization\nread 3 \x07"
      "cannot be placed";
  EXPECT_EQ(run::FirstExamples(r, "  "),
            "  key k1: no linearization\n  read 3 \\x07cannot be placed\n");
  r.verdict = checkers::Verdict::kValid;
  EXPECT_EQ(run::FirstExamples(r, "  "), "");
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
// runs below get past the flag parser and stop at the missing descriptor (254, before a run).
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
    EXPECT_EQ(r.exit_code, 254) << line << "\n" << r.output;
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

// Usage errors of `tidemark run` exit 254 before anything starts: no run directory, no node.
TEST(RunCommandTest, UsageErrorsExit254BeforeARunDirectoryExists) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / "tidemark_cli_test_usage";
  fs::remove_all(root);
  fs::create_directories(root);
  fs::path bad_json = root / "bad.json";
  std::ofstream(bad_json) << "{\n  \"name\": \"x\"\n  \"adapter\": \"tidelog-http\"\n}\n";
  const fs::path store = root / "store";
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {"--bug no-such-bug", "unknown --bug 'no-such-bug'"},
      {"--bug no-such-bug", "ack-before-quorum, stale-leader-read"},
      {"--bug ack-before-quorm", "did you mean 'ack-before-quorum'?"},
      {"--nemesis partiton,kill", "did you mean 'partition'?"},
      {"--scenario isolate-leadr", "did you mean 'isolate-leader'?"},
      {"--scenario isolate-leader --nemesis kill", "both choose the faults"},
      {"--target /nonexistent/target.json", "/nonexistent/target.json"},
      {"--target " + bad_json.string(), "bad.json:3:11: not valid JSON"},
      {"--workload queue", "workload"},
      {"--concurency 5", "did you mean '--concurrency'?"},
      {"--time-limit 0", "must be a number > 0, got '0'"},
      {"--rate -5", "must be a number >= 0, got '-5'"},
      {"--op-timeout nan", "must be a number > 0"},
  };
  for (const Case& c : cases) {
    CliRun r = Tidemark("run --store " + store.string() + " " + c.args);
    EXPECT_EQ(r.exit_code, 254) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("seed:"), std::string::npos) << c.args << ": a run started\n"
                                                         << r.output;
    EXPECT_FALSE(fs::exists(store)) << c.args << " left a store behind";
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      EXPECT_LE(line.size(), 400u) << c.args << ": unreadable line\n" << line;
  }
  fs::remove_all(root);
}

TEST(CliTest, VersionAndDidYouMeanForCommandsAndValues) {
  CliRun v = Tidemark("--version");
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_EQ(v.output.rfind("tidemark 0.", 0), 0u) << v.output;
  CliRun c = Tidemark("chek " + Example("log-valid.jsonl"));
  EXPECT_EQ(c.exit_code, 254) << c.output;
  EXPECT_NE(c.output.find("did you mean 'check'?"), std::string::npos) << c.output;
  CliRun f = Tidemark("check " + Example("log-valid.jsonl") + " --format jsonll");
  EXPECT_EQ(f.exit_code, 254) << f.output;
  EXPECT_NE(f.output.find("did you mean 'jsonl'?"), std::string::npos) << f.output;
  EXPECT_EQ(ClosestMatch("--concurency", {"--concurrency", "--nodes"}), "--concurrency");
  EXPECT_EQ(ClosestMatch("--xyz", {"--concurrency", "--nodes"}), "");
}

TEST(RunPreflightTest, ABugRunWithoutFaultsWarnsAndNamesTheExposingScenario) {
  run::RunOptions r;
  r.target_search_dirs = {std::string(TIDEMARK_SOURCE_DIR) + "/targets"};
  r.bugs = {"ack-before-quorum"};
  std::ostringstream warn;
  ASSERT_TRUE(PreflightRun(r, warn).ok());
  EXPECT_NE(warn.str().find("warning: --bug ack-before-quorum with no faults"), std::string::npos)
      << warn.str();
  EXPECT_NE(warn.str().find("--scenario isolate-leader"), std::string::npos) << warn.str();
  std::ostringstream quiet;
  r.scenario = "isolate-leader";
  ASSERT_TRUE(PreflightRun(r, quiet).ok());
  EXPECT_EQ(quiet.str(), "");
  EXPECT_EQ(TidelogBugNames().size(), 10u);
}

TEST(TestNameTest, OneSpellingAndBugsAndNodeArgsInTheName) {
  run::RunOptions r;
  EXPECT_EQ(run::DefaultTestName("tidelog", r), "tidelog-log-none");
  r.nemesis = "partition,kill";
  EXPECT_EQ(run::DefaultTestName("tidelog", r), "tidelog-log-partition-kill");
  r.nemesis = "none";
  r.bugs = {"ack-before-quorum"};
  EXPECT_EQ(run::DefaultTestName("tidelog", r), "tidelog-log-none-bug-ack-before-quorum");
  r.bugs.clear();
  r.node_args = {"--heartbeat-ms", "250"};
  EXPECT_EQ(run::DefaultTestName("tidelog", r), "tidelog-log-none-args-heartbeat-ms-250");
  r.test_name = "My Test";
  EXPECT_EQ(run::DefaultTestName("tidelog", r), "my-test");
}

// `report --help` states the report's own exit codes (not the verdict's) and how to report a
// history recorded elsewhere; an invalid run renders with exit 0, as the help says.
TEST(ReportCommandTest, HelpStatesItsOwnExitCodesAndTheForeignHistoryRecipe) {
  CliRun help = Tidemark("report --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Exit codes (of rendering"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("tidemark check run/history.jsonl --results run/results.json"),
            std::string::npos)
      << help.output;
  EXPECT_EQ(help.output.find("1    invalid"), std::string::npos) << help.output;
  namespace fs = std::filesystem;
  fs::path run = fs::temp_directory_path() / "tidemark_cli_test_report_foreign";
  fs::remove_all(run);
  fs::create_directories(run);
  fs::copy_file(Example("log-lost-write.jsonl"), run / "history.jsonl");
  CliRun check = Tidemark("check " + (run / "history.jsonl").string() + " --results " +
                          (run / "results.json").string());
  EXPECT_EQ(check.exit_code, 1) << check.output;
  CliRun r = Tidemark("report " + run.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream html(run / "report.html");
  std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("lost-write"), std::string::npos);
  fs::remove_all(run);
}

// The repository's docs and comments stand alone: they cite files in the repository, never the
// team's notes beside it.
TEST(RepoTest, DocsAndCommentsCiteNoNotesOutsideTheRepo) {
  namespace fs = std::filesystem;
  // The names are spelled in parts so that this file, which forbids them, does not cite them.
  const std::vector<std::string> outside = {
      "DESIGN"
      ".md",
      "PLATFORM"
      "-NOTES",
      "BUG-ZOO"
      "-NOTES",
      "CHECKER"
      "-NOTES",
      "STYLE"
      ".md"};
  const fs::path root(TIDEMARK_SOURCE_DIR);
  int checked = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.rfind("build", 0) == 0 || name[0] == '.' || name == "store")) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string ext = it->path().extension().string();
    if (!it->is_regular_file() || (ext != ".cc" && ext != ".h" && ext != ".md" && ext != ".txt" &&
                                   ext != ".sh" && ext != ".html" && ext != ".js"))
      continue;
    std::ifstream in(it->path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& note : outside) {
      // This test names them on purpose.
      if (it->path().filename() == "cli_test.cc") break;
      EXPECT_EQ(text.find(note), std::string::npos)
          << fs::relative(it->path(), root) << " cites " << note;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
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
