// `tidemark zoo`: the bug-zoo detection matrix and the nightly suite (docs/zoo.md).
//
// Runs every selected row of zoo::Catalogue() R times as `tidemark run` child processes (this
// same binary), one after the other, each with its own seed and run directory under --store;
// then prints the matrix and writes STORE/zoo/<UTC time>/ with zoo.json, junit.xml, index.html,
// matrix.txt and one log per run (STORE/zoo/latest points at it). Exit codes: 0 every row
// passed, 1 a bug row was detected in fewer than --min-detection of its runs or a correct row
// showed an anomaly, 130 interrupted (the matrix of the runs so far is still written), 254 bad
// usage, 255 harness error (cannot spawn a run or write the results).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tidemark::cli {

struct ZooCommandOptions {
  std::string bugs = "all";  // comma list of bug names, "all", or "none" (correct rows only)
  int runs = 3;
  int correct_runs = -1;       // -1: same as runs
  double time_limit_s = 30;    // per run (main phase)
  double min_detection = 0.9;  // fraction of runs a bug row must be detected in
  bool correct_scenarios = false;
  bool nightly = false;
  uint64_t seed = 0;  // 0: random
  std::string store = "store";
  std::string net = "auto";
  int nodes = 3;  // cluster size of every run
  // The blind column: every selected bug also under --blind-nemesis (the default mix) with no
  // scenario and no bug-specific flags, --blind-runs times (-1: same as runs).
  bool blind = false;
  int blind_runs = -1;
  std::string blind_nemesis = "all";
  bool dry_run = false;  // print the commands, run nothing
  // Instead of running: re-read the runs listed in these zoo.json files (e.g. zoos run in
  // parallel, or after a checker upgrade) and write one matrix of them all.
  std::vector<std::string> from;
};

CLI::App* AddZooCommand(CLI::App& app, ZooCommandOptions& opts);
// `cmd` tells which options were given (so --nightly's defaults do not override them).
int RunZooCommand(ZooCommandOptions& opts, const CLI::App& cmd);

}  // namespace tidemark::cli
