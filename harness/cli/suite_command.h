// `tidemark suite FILE.json`: a suite of runs for any target (docs/suite.md).
//
// Plans every run of every cell (harness/suite/suite.h), optionally fits the plan into a time
// budget and keeps one shard of it, runs each as a `tidemark run` child (harness/cli/
// child_run.h, as the zoo does), and writes STORE/suite/NAME/<UTC time>/ (suite.json, junit.xml,
// index.html, matrix.txt, logs/) after every run, so an interrupted suite keeps its partial
// matrix. An unsharded run (or a --from merge of shards) is one "night": it also rewrites
// STORE/suite/NAME/trend.html and prints what changed since the previous night.
//
// Exit codes: 0 every cell that ran met its expectation, 1 a regression (a cell whose verdict
// differs from its expectation), 130 interrupted, 254 bad usage or an invalid suite file,
// 255 harness error (a run could not be started, results could not be written).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tidemark::cli {

struct SuiteCommandOptions {
  std::string file;
  std::string store = "store";
  std::string net = "auto";
  uint64_t seed_base = 0;  // used only when --seed-base is given
  std::string shard;       // "I/N", empty: the whole plan
  std::string budget;      // "2h", empty: no budget
  bool dry_run = false;
  std::vector<std::string> from;  // shards' suite.json files to merge into one night
};

CLI::App* AddSuiteCommand(CLI::App& app, SuiteCommandOptions& opts);
// `cmd` tells which options were given (--seed-base 0 is a valid base).
int RunSuiteCommand(const SuiteCommandOptions& opts, const CLI::App& cmd);

}  // namespace tidemark::cli
