// RUN_DIR/junit.xml: the run's checker results for CI systems (docs/architecture.md).
//
// One <testsuite> named after the test, one <testcase> per checker in results.json: a valid
// checker passes, an invalid one has a <failure> whose message is the first anomaly's
// explanation (or the checker's summary) and whose text is the full explanation, an unknown one
// is <skipped> with its summary. A run without a readable results.json gives a single testcase
// "results" with an <error> (the run crashed before checking). Everything is XML-escaped.
//
// Threading: no shared state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::reports {

// Writes RUN_DIR/junit.xml atomically. Errors: the file cannot be written.
Status WriteJUnit(const std::string& run_dir);

// The junit.xml text for a test name and a results.json document (null when absent).
std::string RenderJUnit(const std::string& test_name, const nlohmann::json& results);

}  // namespace tidemark::reports
