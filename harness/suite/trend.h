// The trend of a suite across nights (docs/suite.md): every complete run of the suite kept in
// STORE/suite/NAME/TIME/ is one "night"; the trend page STORE/suite/NAME/trend.html shows each
// cell's observed verdict night by night, the first night of its current verdict when that
// verdict changed, and links to each night's matrix. Shards (suite.json options.shard set) are
// parts of a night, not nights: only unsharded runs and --from merges count, and not those that
// were interrupted (options.interrupted).
//
// Threading: pure functions over files; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "harness/suite/suite.h"

namespace tidemark::suite {

struct Night {
  std::string timestamp;  // the directory name, 20261204T010000.000Z
  std::string dir;
  std::vector<CellSummary> cells;
};

// Every night of suite `name` under `store`, oldest first. Unreadable suite.json files are
// skipped (a night being written right now is incomplete, not an error).
std::vector<Night> LoadNights(const std::string& store, const std::string& name);

// What changed from `prev` to `cur`: cell -> "valid -> invalid (previous night TIME)". A cell
// absent or not run in either night is not a change.
std::map<std::string, std::string> Changes(const Night& prev, const Night& cur);

// For each cell of the latest night: the first night of its current observed verdict, when an
// earlier night showed a different one (cells that never changed are absent).
std::map<std::string, std::string> FirstChanged(const std::vector<Night>& nights);

// The page: one row per cell, one column per night (oldest left), links relative to
// STORE/suite/NAME/.
std::string RenderTrendHtml(const std::string& name, const std::vector<Night>& nights);

struct TrendResult {
  std::vector<Night> nights;
  std::map<std::string, std::string> changes;  // latest night vs the one before
  std::string path;                            // trend.html
};
// Loads the nights, writes STORE/suite/NAME/trend.html, and returns what changed last night.
Result<TrendResult> WriteTrend(const std::string& store, const std::string& name);

}  // namespace tidemark::suite
