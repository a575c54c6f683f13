// No history, no verdict: a history with no client operation proves nothing, so `tidemark
// check` (and anything else that checks a file) answers `unknown` with the reason instead of
// letting the checkers call an empty set of operations `valid`. An empty file, a file in the
// wrong format (nothing parsed) and a file whose every line was rejected all land here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/history/history.h"
#include "checkers/checker.h"

namespace tidemark::cli {

// nullopt when `ops` has at least one operation. Otherwise an `unknown` result from checker
// "history" whose summary says what the file held: "FILE is empty", "no events in 12 lines
// read as jepsen-log (not a jepsen-log history?)", "only nemesis events (4), no client
// operation". `path` is read again only to count its lines when nothing was parsed.
std::optional<checkers::CheckResult> NoOperations(const std::string& path,
                                                  const history::LocatedHistory& hist,
                                                  const std::vector<history::Op>& ops,
                                                  const std::string& format);

}  // namespace tidemark::cli
