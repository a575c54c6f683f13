// `tidemark run`: start a target cluster, drive a workload with faults, record, check, store.
//
// Registers the subcommand's options on a CLI11 app (grouped as cluster / workload / nemesis /
// checker / output) and runs it. Prints the seed first, a live status line, then the verdict
// and where the results are. Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad usage,
// 255 harness error, 130 interrupted by SIGINT (after tearing down and writing what was
// recorded).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "harness/run/runner.h"

namespace tidemark::cli {

struct RunCommandOptions {
  run::RunOptions run;
  bool seed_given = false;
  int test_count = 1;
};

CLI::App* AddRunCommand(CLI::App& app, RunCommandOptions& opts);

// argv0: how tidemark was invoked (to find targets/ and the tidelog binary beside it).
int RunRunCommand(RunCommandOptions& opts, int argc, char** argv);

}  // namespace tidemark::cli
