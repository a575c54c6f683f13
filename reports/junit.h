// RUN_DIR/junit.xml: the run's checker results for CI systems (docs/architecture.md).
//
// One <testsuite> named after the test, one <testcase> per checker in results.json: a valid
// checker passes, an invalid one has a <failure> whose message is the first anomaly's
// explanation (or the checker's summary) and whose text is the full explanation, an unknown one
// is <skipped> with its summary. A run without a readable results.json gives a single testcase
// "results" with an <error> (the run crashed before checking); a run whose results.json names a
// "cause" (it stopped before checking: a node did not start) gives a single testcase "run" with
// an <error> carrying the cause, the node and its log tail. Everything is XML-escaped.
//
// Threading: no shared state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::reports {

// Writes RUN_DIR/junit.xml atomically from RUN_DIR/results.json (and test.json for the name).
// Errors: the file cannot be written.
Status WriteJUnit(const std::string& run_dir);
// The same from a results document the caller holds (`tidemark run`).
Status WriteJUnit(const std::string& run_dir, const std::string& test_name,
                  const nlohmann::json& results);

// The junit.xml text for a test name and a results.json document (null when absent).
std::string RenderJUnit(const std::string& test_name, const nlohmann::json& results);

}  // namespace tidemark::reports
