// STORE/index.html: every run in the store, newest first, coloured by verdict
// (docs/architecture.md).
//
// Self-contained (inline CSS, no script needed, no request to any other file or host). Each row
// links with a relative URL to the run's report.html (or, when the run has no report yet, to its
// directory) and shows the test name, start time, seed, verdict and op counts read from the
// run's test.json and results.json; a run without results.json is listed as "incomplete".
//
// Threading: no shared state; two concurrent writers for the same store both write a complete
// file (the last rename wins).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "runstore/store.h"

namespace tidemark::reports {

// A run whose test.json and results.json the caller holds (`tidemark run`, for the run it just
// wrote): its row is drawn from these, not read back. An empty path names no run.
struct KnownRun {
  std::string path;  // the run directory, as store::ListRuns spells it
  nlohmann::json test;
  nlohmann::json results;
};

// Writes STORE/index.html atomically. Errors: store_root is not a directory, or the file cannot
// be written.
Status WriteStoreIndex(const std::string& store_root, const KnownRun& known = {});

// The index page for `runs` (in the order given; ListRuns gives newest first).
std::string RenderStoreIndex(const std::vector<store::RunDir>& runs, const KnownRun& known = {});

}  // namespace tidemark::reports
