// "Did you mean ...?" for a mistyped flag or value: the closest known word by edit distance.
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tidemark::cli {

// The choice nearest to `given` (Levenshtein distance, ties to the first), if it is close
// enough to be a typo: at most 2 edits, or a third of the word's length for long words. "" when
// none is.
std::string ClosestMatch(std::string_view given, const std::vector<std::string>& choices);

// " (did you mean 'X'?)" for ClosestMatch, or "" when there is no close match.
std::string DidYouMean(std::string_view given, const std::vector<std::string>& choices);

// "a, b, c": the choices for a message that lists them.
std::string JoinChoices(const std::vector<std::string>& choices);

}  // namespace tidemark::cli
