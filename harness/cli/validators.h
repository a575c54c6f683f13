// Option checks for CLI11 whose errors a person can read. CLI11's own PositiveNumber says
// "Value 0 not in range 2.22507e-308 to 1.79769e+308" (and NonNegativeNumber prints DBL_MAX in
// full, 309 digits); these say what is wanted: "must be a number > 0, got '0'".
#pragma once

#include <CLI/CLI.hpp>

namespace tidemark::cli {

// A finite number > 0 (seconds, MiB, ...).
CLI::Validator PositiveNumber();
// A finite number >= 0.
CLI::Validator NonNegativeNumber();

// Runs a parse of `app` and turns CLI11's errors into tidemark's: an unknown flag gains a
// "did you mean" from the flags of the subcommand it was given to. Returns -1 when parsing
// succeeded, else the exit code (0 for --help/--version, 254 for bad usage) after printing.
int ParseCommandLine(CLI::App& app, int argc, char** argv);

}  // namespace tidemark::cli
