// The bug-zoo detection matrix (`tidemark zoo`, docs/zoo.md).
//
// For every tidelog --bug the catalogue names the fault schedule that exposes it (a named
// scenario, nemesis/scenario.h, and any node or client flags it needs) and the anomalies
// docs/bug-zoo.md predicts. `tidemark zoo` runs each row R times as ordinary `tidemark run`
// child processes (so every run is a normal run directory with its own report), plus correct
// tidelog under the full fault mix, and summarises: per row, detected runs / runs, runs that
// showed a predicted anomaly, the median time from the start of the main phase to the first
// detection, and which anomalies were seen. A bug row passes when its detection rate reaches the
// threshold; the correct row passes only with zero anomalies (a false positive is a failure).
//
// This file is the pure part: the catalogue, reading a finished run, the summary, and the
// renderings (text matrix, zoo.json, junit.xml, index.html). Spawning runs is in
// harness/cli/zoo_command.cc.
//
// Threading: value types and pure functions (ReadRun reads files).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidemark::zoo {

inline constexpr const char* kCorrectRow = "correct";

struct ZooEntry {
  std::string row;                     // the bug name, or kCorrectRow / "correct:<scenario>"
  std::string bug;                     // the --bug switch; empty for correct tidelog
  std::vector<std::string> run_args;   // extra `tidemark run` arguments (faults, timing flags)
  std::vector<std::string> predicted;  // anomalies docs/bug-zoo.md predicts (empty: none)
  std::string schedule;                // one line for the matrix: what the faults are
  // Bug rows: why the blind column (the default mix, no bug-specific flags) cannot expose this
  // bug with tidemark's default client; empty when it can. Blind rows copy it and are not run.
  std::string blind_unexposable{};
  bool blind = false;  // a row of the blind column ("blind:<bug>")
};

inline constexpr const char* kBlindPrefix = "blind:";

// One entry per tidelog bug, in docs/bug-zoo.md order, then the correct row.
const std::vector<ZooEntry>& Catalogue();
// The correct tidelog under each bug's named schedule (the schedules double as hard tests).
std::vector<ZooEntry> CorrectUnderScenarios();
// The blind column: every bug of the catalogue under `nemesis` (default "all", the default mix)
// with no scenario and no bug-specific flags, row "blind:<bug>", as a user who does not know
// the bug would run it.
std::vector<ZooEntry> BlindRows(const std::string& nemesis = "all");

// What one finished run showed.
struct RunRecord {
  std::string row;
  uint64_t seed = 0;
  int exit_code = -1;                        // of `tidemark run`
  std::string run_dir;                       // empty when the run never got one
  std::string verdict;                       // valid | invalid | unknown | "" (no results.json)
  std::map<std::string, int64_t> anomalies;  // name -> count, over every checker
  std::optional<double> first_detection_s;   // seconds after the first event of the history
  double wall_s = 0;
  std::string error;  // harness error / bad usage text, or why results could not be read
};

// Reads RUN_DIR/results.json (verdict, each checker's details.counts; a linearizability
// failure counts as "nonlinearizable") and, for the time of first detection, RUN_DIR/
// history.jsonl: for each anomaly example, the time of the last event it cites (when the
// evidence was complete); the earliest of those, relative to the first event. Leaves
// `error` set when results.json is missing or unreadable.
RunRecord ReadRun(const std::string& run_dir);

struct RowSummary {
  std::string row;
  std::string schedule;
  bool correct = false;     // a correct-tidelog row (passes only with zero detections)
  bool blind = false;       // a row of the blind column
  std::string unexposable;  // blind rows: why it was not run (ZooEntry::blind_unexposable)
  int runs = 0;
  int detected = 0;   // verdict invalid
  int predicted = 0;  // showed at least one predicted anomaly (bug rows)
  int unknown = 0;    // verdict unknown
  int errors = 0;     // no verdict (harness error, interrupted)
  std::optional<double> median_first_detection_s;
  std::map<std::string, int> anomaly_runs;  // anomaly -> runs that showed it
  bool pass = false;
};

// Summarises the runs per row, rows in catalogue order. A bug row passes when detected / runs
// >= min_detection (and runs > 0); a correct row passes when detected == 0 and errors == 0.
std::vector<RowSummary> Summarize(const std::vector<ZooEntry>& rows,
                                  const std::vector<RunRecord>& runs, double min_detection);

// Whether every row that ran passed (rows without runs do not count).
bool AllPass(const std::vector<RowSummary>& rows);

// The matrix as a fixed-width text table (printed at the end and saved as matrix.txt). When
// blind rows are present, the bug rows gain a "blind" column (detected/runs, or n/a when the
// bug is unexposable blind) and the blind rows follow in a table of their own.
std::string RenderMatrix(const std::vector<RowSummary>& rows);
// zoo.json: options, rows, runs.
nlohmann::json ToJson(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs,
                      const nlohmann::json& options);
// junit.xml: one testcase per row; a failure names the runs and the rate.
std::string RenderJUnit(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs);
// index.html: the matrix and every run linked (relative to the zoo directory) to its report.
std::string RenderIndexHtml(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs,
                            const std::string& zoo_dir);

}  // namespace tidemark::zoo
