// The terminal's account of a verdict: what `tidemark run` and `tidemark check` print under each
// checker's one-line result so that an invalid run tells its story without opening the report:
// the first example of each anomaly in plain words (the op, value, offset, node and time, as the
// report gives them). Everything printed from a history goes through EscapeControls
// (base/text.h): a value holding ESC [ 2 J must not clear the user's screen.
#pragma once

#include <string>

#include "checkers/checker.h"

namespace tidemark::run {

// One line per anomaly, "INDENT<name>: <first example>" (and "(+N more)" when there are more),
// for the log checkers' details.anomalies; for any other invalid result the first lines of its
// explanation. "" for a valid result. Lines end with '\n'; control characters are escaped.
std::string FirstExamples(const checkers::CheckResult& r, const std::string& indent);

}  // namespace tidemark::run
