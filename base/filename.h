// The names of every file tidemark writes into a store, in one place (as LevelDB's filename.h
// owns a database directory's names). Code that reads or writes a run directory asks here for a
// path instead of spelling a literal, so a name changes in one line and a reader finds the whole
// layout on one page:
//
//   STORE/index.html                       every run, newest first (reports/index.h)
//   STORE/latest -> TEST/TIME              the newest run of any test
//   STORE/TEST/latest -> TIME              the newest run of TEST
//   STORE/TEST/TIME/                       one run (runstore/store.h):
//     test.json        the configuration, seed and the command that repeats the run
//     history.jsonl    every event, flushed as it happens (docs/history-format.md)
//     results.json     the verdict and the checkers' findings
//     report.html      the report (reports/report.h)
//     junit.xml        the verdict for a CI server
//     cleanup.json     what the nemesis installed, for `tidemark clean` after a crash
//     nodes/NAME/      each node's data directory, stdout, stderr and dump
//     client/          an exec client's stderr (ops.stderr, status.stderr) and client.log
//                      (starts, crashes, late replies; docs/client-protocol.md)
//   STORE/zoo/TIME/                        one bug-zoo matrix (docs/zoo.md):
//     zoo.json, junit.xml, index.html, matrix.txt
//   STORE/suite/NAME/TIME/                 one night of a suite (docs/suite.md):
//     suite.json, junit.xml, index.html, matrix.txt, logs/
//   STORE/suite/NAME/trend.html            every night of the suite, cell by cell
#pragma once

#include <string>

namespace tidemark::filename {

inline constexpr char kTestJson[] = "test.json";
inline constexpr char kHistory[] = "history.jsonl";
inline constexpr char kResults[] = "results.json";
inline constexpr char kReport[] = "report.html";
inline constexpr char kJUnit[] = "junit.xml";
inline constexpr char kCleanup[] = "cleanup.json";
inline constexpr char kNodesDir[] = "nodes";
inline constexpr char kClientDir[] = "client";
inline constexpr char kClientLog[] = "client.log";
inline constexpr char kLatest[] = "latest";
inline constexpr char kIndex[] = "index.html";
inline constexpr char kZooDir[] = "zoo";
inline constexpr char kZooJson[] = "zoo.json";
inline constexpr char kMatrix[] = "matrix.txt";
inline constexpr char kSuiteDir[] = "suite";
inline constexpr char kSuiteJson[] = "suite.json";
inline constexpr char kTrend[] = "trend.html";

inline std::string In(const std::string& dir, const char* name) { return dir + "/" + name; }

inline std::string TestJson(const std::string& run_dir) { return In(run_dir, kTestJson); }
inline std::string History(const std::string& run_dir) { return In(run_dir, kHistory); }
inline std::string Results(const std::string& run_dir) { return In(run_dir, kResults); }
inline std::string Report(const std::string& run_dir) { return In(run_dir, kReport); }
inline std::string JUnit(const std::string& run_dir) { return In(run_dir, kJUnit); }
// A report holding every op of a time window (`tidemark report RUN --window 120-130`):
// report-120-130.html (seconds as given, at most 3 decimals, trailing zeros dropped).
inline std::string ReportWindow(const std::string& run_dir, double from_s, double to_s) {
  auto num = [](double s) {
    std::string t = std::to_string(static_cast<long long>(s * 1000 + 0.5) / 1000);
    long long ms = static_cast<long long>(s * 1000 + 0.5) % 1000;
    if (ms == 0) return t;
    std::string frac = std::to_string(1000 + ms).substr(1);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return t + "." + frac;
  };
  return run_dir + "/report-" + num(from_s) + "-" + num(to_s) + ".html";
}
inline std::string Cleanup(const std::string& run_dir) { return In(run_dir, kCleanup); }
inline std::string NodeDir(const std::string& run_dir, const std::string& node) {
  return In(run_dir, kNodesDir) + "/" + node;
}
inline std::string ClientDir(const std::string& run_dir) { return In(run_dir, kClientDir); }
// The stderr of one exec client process: role "ops" (the one serving ops) or "status".
inline std::string ClientStderr(const std::string& run_dir, const std::string& role) {
  return ClientDir(run_dir) + "/" + role + ".stderr";
}
inline std::string ClientLog(const std::string& run_dir) {
  return In(ClientDir(run_dir), kClientLog);
}
inline std::string StoreIndex(const std::string& store_root) { return In(store_root, kIndex); }

}  // namespace tidemark::filename
