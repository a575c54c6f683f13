// Child runs: `tidemark run` started as a child process of this same binary, its console output
// to a log file, and what the finished run showed read back from its run directory. Shared by
// `tidemark zoo` and `tidemark suite`, which both run a matrix of runs one after the other.
//
// Interrupts: after InstallInterruptForwarding(), SIGINT/SIGTERM set Interrupted() and are
// passed on to the running child, which tears its cluster down and exits 130 with what it
// recorded; the caller stops starting runs and writes what it has.
#pragma once

#include <string>
#include <vector>

#include "harness/zoo/zoo.h"

namespace tidemark::cli {

void InstallInterruptForwarding();
bool Interrupted();

// The argv as one shell-quoted line (for --dry-run and logs).
std::string JoinArgs(const std::vector<std::string>& argv);

// The path of this binary (/proc/self/exe), or "" when it cannot be read.
std::string SelfPath();

// Runs argv (argv[0]: the binary) with stdout and stderr to `log` and reads the run it made:
// verdict and anomalies (zoo::ReadRun), exit code, wall time, and an error text when the run
// could not start, was rejected (254), failed (255) or left no run directory. The verdict of an
// interrupted run is cleared: it proves nothing. `row` and `seed` are copied into the record.
zoo::RunRecord RunChild(const std::vector<std::string>& argv, const std::string& log,
                        const std::string& row, uint64_t seed);

}  // namespace tidemark::cli
