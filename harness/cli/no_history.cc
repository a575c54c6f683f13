#include "harness/cli/no_history.h"

#include <filesystem>
#include <fstream>

#include "base/text.h"

namespace tidemark::cli {
namespace {

// Lines in the file (a last line without newline counts); 0 when unreadable.
size_t CountLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  size_t lines = 0;
  char last = '\n';
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    auto got = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < got; ++i) lines += chunk[i] == '\n';
    last = chunk[got - 1];
  }
  return lines + (last != '\n');
}

std::string Describe(const std::string& path, const history::LocatedHistory& hist,
                     const std::string& format) {
  const std::string name = Printable(path, 200);
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) return name + " is empty";
  if (!hist.events.empty()) {
    return "only nemesis events (" + std::to_string(hist.events.size()) + "), no client operation";
  }
  size_t lines = CountLines(path);
  std::string as = format == "auto" ? "" : " read as " + format;
  std::string why = format == "auto" ? "" : " (not a " + format + " history?)";
  return "no events in " + CountOf(static_cast<int64_t>(lines), "line", "lines") + as + why;
}

}  // namespace

std::optional<checkers::CheckResult> NoOperations(const std::string& path,
                                                  const history::LocatedHistory& hist,
                                                  const std::vector<history::Op>& ops,
                                                  const std::string& format) {
  if (!ops.empty()) return std::nullopt;
  checkers::CheckResult r;
  r.checker = "history";
  r.verdict = checkers::Verdict::kUnknown;
  r.summary = "no operations to check: " + Describe(path, hist, format);
  r.explanation =
      "A history without client operations proves nothing; check that the path is the run's "
      "history.jsonl and that --format matches the file.";
  r.details = {{"reason", "no-operations"}, {"events", hist.events.size()}};
  return r;
}

}  // namespace tidemark::cli
