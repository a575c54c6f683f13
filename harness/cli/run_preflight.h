// What `tidemark run` checks before anything starts: before a run directory exists, before a
// node is spawned. Every failure here is bad usage (exit 254) and leaves nothing on disk: an
// unreadable or invalid target descriptor, a workload the target does not support, an unknown
// fault or scenario, an unknown --bug (the message lists tidelog's bugs).
#pragma once

#include <iosfwd>

#include "base/result.h"
#include "harness/run/runner.h"

namespace tidemark::cli {

// Errors read as the message after "tidemark run: ". Warnings go to `warn`: a --bug run with no
// faults is told which scenario exposes the bug (from the zoo catalogue, docs/zoo.md).
Status PreflightRun(const run::RunOptions& opts, std::ostream& warn);

// The names tidelog accepts after --bug, from the zoo catalogue.
std::vector<std::string> TidelogBugNames();

}  // namespace tidemark::cli
