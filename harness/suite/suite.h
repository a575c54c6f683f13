// Suites: a matrix of `tidemark run`s for any target, planned, sharded, budgeted and summarised
// (`tidemark suite FILE.json`, docs/suite.md).
//
// A suite file names a target and a list of cells; each cell is a workload under a fault mix or
// a named scenario, run R times with its own seeds, and the verdict it must keep giving: `valid`
// for a correct system, `invalid` for a cell that must keep catching a known bug. This file is
// the pure part: parsing and validating the file, the plan (every run's seed and `tidemark run`
// arguments), the shard slice, the budget, the per-cell summary and its renderings. Spawning the
// runs is harness/cli/suite_command.cc (through harness/cli/child_run.h, shared with the zoo);
// the trend across nights is harness/suite/trend.h.
//
// Threading: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "harness/zoo/zoo.h"

namespace tidemark::suite {

struct Cell {
  std::string name;               // unique within the suite; the runs' test name is SUITE-NAME
  std::string workload;           // --workload; empty: the run's default
  std::string nemesis;            // --nemesis MIX; empty when scenario is set (or no faults)
  std::string scenario;           // --scenario NAME
  int nodes = 0;                  // --nodes; 0: the run's default
  std::string bug;                // --bug (tidelog's bug zoo); empty: none
  std::vector<std::string> args;  // further `tidemark run` arguments, verbatim
  int runs = 1;
  double time_limit_s = 30;
  std::string expect;          // "valid" | "invalid"
  double min_detection = 0.9;  // for expect invalid: fraction of runs that must be invalid
};

struct Suite {
  std::string name;  // a safe path component (STORE/suite/NAME/)
  std::string description;
  std::string target;  // --target NAME|PATH; empty: tidelog
  std::vector<Cell> cells;
  nlohmann::json source;  // the file as read, kept in suite.json so --from needs no file
};

// Parses and validates a suite file. Errors name the file, the key (cells[2].expect) and what
// to do; a JSON syntax error names the line and column.
Result<Suite> ParseSuite(const std::string& text, const std::string& path);
Result<Suite> LoadSuite(const std::string& path);

struct PlannedRun {
  size_t cell = 0;  // index into Suite::cells
  int index = 0;    // run index within the cell, 0-based
  uint64_t seed = 0;
};

// Every run of every cell, cell by cell. Seeds: with a base seed S, run i of cell k uses
// S + 1000 k + i (the zoo's rule, so a suite of the zoo's rows repeats `tidemark zoo --seed S`);
// without one, a hash of (suite name, cell name, i), so the same file plans the same seeds on
// every machine and every night.
std::vector<PlannedRun> Plan(const Suite& suite, std::optional<uint64_t> seed_base);

// The `tidemark run` arguments of one planned run (without the program name).
std::vector<std::string> RunArgs(const Suite& suite, const PlannedRun& run,
                                 const std::string& store, const std::string& net);
// The test name of a cell's runs: SafeName(suite name + "-" + cell name).
std::string TestName(const Suite& suite, const Cell& cell);

// "2h", "90m", "1h30m", "600s", "600" (seconds) -> seconds. Errors name the bad text.
Result<double> ParseDuration(const std::string& text);
// "2/3" -> {2, 3} (1-based shard of N). Errors name the bad text.
Result<std::pair<int, int>> ParseShard(const std::string& text);

// Seconds one run is expected to take beyond its time limit: cluster start, heal, recovery,
// final reads, dumps and checking (docs/zoo.md measured 10-20 s per run on tidelog).
inline constexpr double kRunOverheadS = 20;
double EstimatedSeconds(const Suite& suite, const PlannedRun& run);

struct BudgetResult {
  std::vector<PlannedRun> kept;      // in plan order
  std::vector<std::string> dropped;  // one line per cell that lost runs
  double planned_s = 0;              // estimate of what was kept (over all shards)
};
// Fits `plan` into `shards` machines of `budget_s` each. Runs are kept round by round (run 0 of
// every cell, then run 1 of every cell, ...), so every cell keeps as many runs as the others
// before any gets more; within the round that no longer fits, earlier cells win.
BudgetResult ApplyBudget(const Suite& suite, const std::vector<PlannedRun>& plan, double budget_s,
                         int shards);

// Shard i of n (1-based): every n-th run of the plan starting at the (i-1)-th, so each shard
// gets a fair share of every cell and the n shards together are exactly the plan.
std::vector<PlannedRun> Shard(const std::vector<PlannedRun>& plan, int i, int n);

// Per cell: what its runs said and whether that met the expectation.
struct CellSummary {
  std::string cell;
  std::string expect;
  int runs = 0;
  int valid = 0;
  int invalid = 0;
  int unknown = 0;
  int errors = 0;  // no verdict
  bool pass = false;
  // "valid", "invalid", "mixed", "unknown", "error" or "-" (no runs): what the trend compares.
  std::string observed;
};

std::vector<CellSummary> Summarize(const Suite& suite, const std::vector<zoo::RunRecord>& runs);
// Whether every cell that ran met its expectation.
bool AllPass(const std::vector<CellSummary>& cells);

std::string RenderMatrix(const std::vector<CellSummary>& cells);
// suite.json: the suite as read, options, cells, runs (each run's directory also relative to
// the store, so a store copied elsewhere, e.g. a CI artifact, still resolves).
nlohmann::json ToJson(const Suite& suite, const std::vector<CellSummary>& cells,
                      const std::vector<zoo::RunRecord>& runs, const nlohmann::json& options,
                      const std::string& store);
// junit.xml: one testcase per cell; a failure names the runs and, when given, what changed
// since the previous night (`changes`: cell -> "valid -> invalid since 20261203T...").
std::string RenderJUnit(const Suite& suite, const std::vector<CellSummary>& cells,
                        const std::vector<zoo::RunRecord>& runs,
                        const std::map<std::string, std::string>& changes);
std::string RenderIndexHtml(const Suite& suite, const std::vector<CellSummary>& cells,
                            const std::vector<zoo::RunRecord>& runs, const std::string& dir);

}  // namespace tidemark::suite
