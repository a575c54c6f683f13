#include "reports/junit.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "reports/html.h"
#include "runstore/store.h"

namespace tidemark::reports {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump(-1, ' ', false, json::error_handler_t::replace);
}

// The first anomaly example's explanation, "" if there is none.
std::string FirstAnomaly(const json& checker) {
  if (!checker.contains("details") || !checker["details"].is_object()) return "";
  const json& d = checker["details"];
  if (!d.contains("anomalies") || !d["anomalies"].is_object()) return "";
  for (const auto& [name, a] : d["anomalies"].items()) {
    if (a.is_object() && a.contains("examples") && a["examples"].is_array() &&
        !a["examples"].empty()) {
      std::string e = Str(a["examples"][0], "explanation");
      if (!e.empty()) return name + ": " + e;
    }
    return name;
  }
  return "";
}

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomic(path, text);
}

}  // namespace

std::string RenderJUnit(const std::string& test_name, const json& results) {
  std::ostringstream cases;
  int tests = 0, failures = 0, skipped = 0, errors = 0;
  std::string classname = "tidemark." + test_name;
  if (results.is_object() && results.contains("cause") && results["cause"].is_object()) {
    // The run stopped before it could be checked: one error case with the cause.
    const json& cause = results["cause"];
    std::string node = Str(cause, "node");
    ++tests;
    ++errors;
    cases << "    <testcase classname=\"" << EscapeXml(classname) << "\" name=\"run\">\n"
          << "      <error type=\"" << EscapeXml(Str(cause, "phase")) << "\" message=\""
          << EscapeXml(Str(cause, "message")) << "\">"
          << EscapeXml((node.empty() ? "" : "node " + node + "\n") + Str(cause, "log_tail"))
          << "</error>\n    </testcase>\n";
  } else if (!results.is_object() || !results.contains("checkers") ||
             !results["checkers"].is_array()) {
    ++tests;
    ++errors;
    cases << "    <testcase classname=\"" << EscapeXml(classname) << "\" name=\"results\">\n"
          << "      <error message=\"no readable results.json: the run did not finish "
             "checking\"/>\n    </testcase>\n";
  } else {
    for (const auto& c : results["checkers"]) {
      ++tests;
      std::string verdict = Str(c, "verdict");
      cases << "    <testcase classname=\"" << EscapeXml(classname) << "\" name=\""
            << EscapeXml(Str(c, "checker")) << "\"";
      if (verdict == "valid") {
        cases << "/>\n";
        continue;
      }
      cases << ">\n";
      if (verdict == "invalid") {
        ++failures;
        std::string message = FirstAnomaly(c);
        if (message.empty()) message = Str(c, "summary");
        cases << "      <failure type=\"invalid\" message=\"" << EscapeXml(message) << "\">"
              << EscapeXml(Str(c, "summary") + "\n" + Str(c, "explanation")) << "</failure>\n";
      } else {
        ++skipped;
        cases << "      <skipped message=\"" << EscapeXml("unknown: " + Str(c, "summary"))
              << "\"/>\n";
      }
      cases << "    </testcase>\n";
    }
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"tidemark\" tests=\"" << tests << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\">\n"
    << "  <testsuite name=\"" << EscapeXml(test_name) << "\" tests=\"" << tests << "\" failures=\""
    << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\"";
  if (results.is_object() && results.contains("duration_s") && results["duration_s"].is_number())
    x << " time=\"" << results["duration_s"].get<double>() << "\"";
  x << ">\n" << cases.str() << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

Status WriteJUnit(const std::string& run_dir, const std::string& test_name, const json& results) {
  return WriteText(filename::JUnit(run_dir), RenderJUnit(test_name, results));
}

Status WriteJUnit(const std::string& run_dir) {
  json results;
  if (auto r = store::ReadJsonFile(filename::Results(run_dir)); r.ok()) results = *r;
  std::string name;
  if (auto t = store::ReadJsonFile(filename::TestJson(run_dir)); t.ok()) name = Str(*t, "name");
  if (name.empty()) name = Str(results, "test");
  if (name.empty()) name = std::filesystem::path(run_dir).parent_path().filename().string();
  return WriteText(filename::JUnit(run_dir), RenderJUnit(name, results));
}

}  // namespace tidemark::reports
