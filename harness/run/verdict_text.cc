#include "harness/run/verdict_text.h"

#include "base/text.h"

namespace tidemark::run {
namespace {

constexpr size_t kMaxExplanationLines = 8;
constexpr size_t kMaxLineChars = 400;

std::string AnomalyLines(const nlohmann::json& anomalies, const std::string& indent) {
  std::string out;
  for (const auto& [name, group] : anomalies.items()) {
    if (!group.is_object()) continue;
    const nlohmann::json& examples = group.value("examples", nlohmann::json::array());
    if (!examples.is_array() || examples.empty()) continue;
    const nlohmann::json& first = examples[0];
    std::string text =
        first.is_object() && first.contains("explanation") && first["explanation"].is_string()
            ? first["explanation"].get<std::string>()
            : first.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += indent + name + ": " + Printable(text, kMaxLineChars);
    int64_t count = group.value("count", static_cast<int64_t>(examples.size()));
    if (count > 1) out += " (+" + std::to_string(count - 1) + " more)";
    out += "\n";
  }
  return out;
}

std::string ExplanationLines(const std::string& explanation, const std::string& indent) {
  std::string out;
  size_t lines = 0, start = 0;
  while (start < explanation.size() && lines < kMaxExplanationLines) {
    size_t end = explanation.find('\n', start);
    if (end == std::string::npos) end = explanation.size();
    out += indent + Printable(explanation.substr(start, end - start), kMaxLineChars) + "\n";
    ++lines;
    start = end + 1;
  }
  if (start < explanation.size()) out += indent + "... (the report has the rest)\n";
  return out;
}

}  // namespace

std::string FirstExamples(const checkers::CheckResult& r, const std::string& indent) {
  if (r.verdict == checkers::Verdict::kValid) return "";
  if (r.details.is_object() && r.details.contains("anomalies") &&
      r.details["anomalies"].is_object() && !r.details["anomalies"].empty())
    return AnomalyLines(r.details["anomalies"], indent);
  return ExplanationLines(r.explanation, indent);
}

}  // namespace tidemark::run
