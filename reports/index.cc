#include "reports/index.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "reports/html.h"
#include "reports/kIndexTemplate.inc"

namespace tidemark::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump(-1, ' ', false, json::error_handler_t::replace);
}

// A run's faults as words: "partition, kill", "default mix", "scenario isolate-leader", "none".
std::string NemesisWords(const json& test) {
  if (!test.is_object() || !test.contains("nemesis") || !test["nemesis"].is_object()) return "";
  const json& n = test["nemesis"];
  if (n.contains("scenario") && n["scenario"].is_string())
    return "scenario " + n["scenario"].get<std::string>();
  if (n.contains("mix") && n["mix"].is_array()) return "default mix";
  if (!n.contains("faults") || !n["faults"].is_array()) return Str(n, "faults");
  std::string words;
  for (const json& f : n["faults"])
    words += (words.empty() ? "" : ", ") + (f.is_string() ? f.get<std::string>() : f.dump());
  return words.empty() ? "none" : words;
}

// Percent-encodes one path component for a relative URL.
std::string UrlComponent(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// 20261122T101500.123Z -> 2026-11-22 10:15:00 UTC (unchanged if it has another shape).
std::string ReadableTime(const std::string& ts) {
  if (ts.size() < 15 || ts[8] != 'T') return ts;
  return ts.substr(0, 4) + "-" + ts.substr(4, 2) + "-" + ts.substr(6, 2) + " " + ts.substr(9, 2) +
         ":" + ts.substr(11, 2) + ":" + ts.substr(13, 2) + " UTC";
}

}  // namespace

std::string RenderStoreIndex(const std::vector<store::RunDir>& runs, const KnownRun& known) {
  std::ostringstream rows;
  std::map<std::string, int> totals;
  for (const auto& run : runs) {
    json test, results;
    if (!known.path.empty() && run.path == known.path) {
      test = known.test;
      results = known.results;
    } else {
      if (auto t = store::ReadJsonFile(filename::TestJson(run.path)); t.ok()) test = *t;
      if (auto r = store::ReadJsonFile(filename::Results(run.path)); r.ok()) results = *r;
    }
    std::string verdict = Str(results, "verdict");
    if (verdict != "valid" && verdict != "invalid" && verdict != "unknown")
      verdict = results.is_object() ? "unknown" : "incomplete";
    ++totals[verdict];
    std::string base = UrlComponent(run.test) + "/" + UrlComponent(run.timestamp) + "/";
    std::error_code ec;
    bool has_report = fs::exists(filename::Report(run.path), ec);
    std::string href = has_report ? base + filename::kReport : base;
    std::string name = Str(test, "name");
    if (name.empty()) name = run.test;
    std::string counts = "<td class=\"num\"></td><td class=\"num\"></td><td class=\"num\"></td>";
    if (results.is_object() && results.contains("counts") && results["counts"].is_object()) {
      const json& c = results["counts"];
      counts = "<td class=\"num c-ok\">" + EscapeHtml(Str(c, "ok")) +
               "</td><td class=\"num c-fail\">" + EscapeHtml(Str(c, "fail")) +
               "</td><td class=\"num c-info\">" + EscapeHtml(Str(c, "info")) + "</td>";
    }
    std::string duration = Str(results, "duration_s");
    if (!duration.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f s", results["duration_s"].get<double>());
      duration = results["duration_s"].is_number() ? buf : duration;
    }
    std::string nemesis = NemesisWords(test);
    std::string bugs;
    if (test.is_object() && test.contains("cluster") && test["cluster"].is_object() &&
        test["cluster"].contains("bugs") && test["cluster"]["bugs"].is_array())
      for (const auto& b : test["cluster"]["bugs"])
        if (b.is_string()) bugs += (bugs.empty() ? "" : ", ") + b.get<std::string>();
    if (!bugs.empty()) bugs = " <span class=\"bug\">bug: " + EscapeHtml(bugs) + "</span>";
    rows << "<tr class=\"v-" << verdict << "\"><td><span class=\"badge v-" << verdict << "\">"
         << verdict << "</span></td><td><a href=\"" << EscapeHtml(href) << "\">" << EscapeHtml(name)
         << "</a>" << bugs << (has_report ? "" : " <span class=\"dim\">(no report)</span>")
         << "</td><td>" << EscapeHtml(ReadableTime(run.timestamp)) << "</td><td>"
         << EscapeHtml(nemesis) << "</td><td class=\"num\">" << EscapeHtml(Str(test, "seed"))
         << "</td>" << counts << "<td class=\"num\">" << EscapeHtml(duration) << "</td></tr>\n";
  }
  std::ostringstream summary;
  summary << runs.size() << " run" << (runs.size() == 1 ? "" : "s");
  for (const auto& [v, n] : totals) summary << " · " << n << " " << v;
  std::string page(kIndexTemplate);
  ReplaceAll(page, "<!--@SUMMARY@-->", EscapeHtml(summary.str()));
  ReplaceAll(
      page, "<!--@ROWS@-->",
      runs.empty() ? "<tr><td colspan=\"9\" class=\"dim\">No runs yet.</td></tr>" : rows.str());
  return page;
}

Status WriteStoreIndex(const std::string& store_root, const KnownRun& known) {
  std::error_code ec;
  if (!fs::is_directory(store_root, ec)) return Error{store_root + ": not a store directory"};
  std::string page = RenderStoreIndex(store::ListRuns(store_root), known);
  return WriteFileAtomic(filename::StoreIndex(store_root), page);
}

}  // namespace tidemark::reports
