#include "harness/cli/suggest.h"

#include <algorithm>

namespace tidemark::cli {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestMatch(std::string_view given, const std::vector<std::string>& choices) {
  const size_t allowed = std::max<size_t>(2, given.size() / 3);
  std::string best;
  size_t best_distance = allowed + 1;
  for (const std::string& choice : choices) {
    size_t d = EditDistance(given, choice);
    if (d < best_distance) {
      best = choice;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view given, const std::vector<std::string>& choices) {
  std::string best = ClosestMatch(given, choices);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string JoinChoices(const std::vector<std::string>& choices) {
  std::string out;
  for (const std::string& c : choices) out += (out.empty() ? "" : ", ") + c;
  return out;
}

}  // namespace tidemark::cli
