#include "harness/suite/trend.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "reports/html.h"
#include "runstore/store.h"

namespace tidemark::suite {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// 20261122T101500.123Z -> 2026-11-22 10:15 (unchanged if it has another shape).
std::string ShortTime(const std::string& ts) {
  if (ts.size() < 13 || ts[8] != 'T') return ts;
  return ts.substr(0, 4) + "-" + ts.substr(4, 2) + "-" + ts.substr(6, 2) + " " + ts.substr(9, 2) +
         ":" + ts.substr(11, 2);
}

std::optional<Night> ReadNight(const fs::path& dir) {
  auto doc = store::ReadJsonFile((dir / filename::kSuiteJson).string());
  if (!doc.ok() || !doc->is_object() || !(*doc).contains("cells") || !(*doc)["cells"].is_array())
    return std::nullopt;
  const json& options = (*doc).value("options", json::object());
  if (options.is_object() && options.contains("shard") && options["shard"].is_string() &&
      !options["shard"].get<std::string>().empty())
    return std::nullopt;
  if (options.is_object() && options.value("interrupted", false)) return std::nullopt;
  Night n;
  n.timestamp = dir.filename().string();
  n.dir = dir.string();
  for (const json& c : (*doc)["cells"]) {
    if (!c.is_object()) continue;
    CellSummary s;
    s.cell = c.value("cell", "");
    s.expect = c.value("expect", "");
    s.observed = c.value("observed", "-");
    s.runs = c.value("runs", 0);
    s.valid = c.value("valid", 0);
    s.invalid = c.value("invalid", 0);
    s.unknown = c.value("unknown", 0);
    s.errors = c.value("errors", 0);
    s.pass = c.value("pass", false);
    n.cells.push_back(std::move(s));
  }
  return n;
}

const CellSummary* Find(const Night& n, const std::string& cell) {
  for (const CellSummary& c : n.cells)
    if (c.cell == cell && c.runs > 0) return &c;
  return nullptr;
}

}  // namespace

std::vector<Night> LoadNights(const std::string& store, const std::string& name) {
  std::vector<Night> out;
  fs::path root = fs::path(store) / filename::kSuiteDir / name;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_symlink(ec) || !entry.is_directory(ec)) continue;
    if (auto n = ReadNight(entry.path())) out.push_back(std::move(*n));
  }
  std::sort(out.begin(), out.end(),
            [](const Night& a, const Night& b) { return a.timestamp < b.timestamp; });
  return out;
}

std::map<std::string, std::string> Changes(const Night& prev, const Night& cur) {
  std::map<std::string, std::string> out;
  for (const CellSummary& c : cur.cells) {
    const CellSummary* p = Find(prev, c.cell);
    if (c.runs == 0 || p == nullptr || p->observed == c.observed) continue;
    out[c.cell] = p->observed + " -> " + c.observed + " (previous night " + prev.timestamp + ")";
  }
  return out;
}

std::map<std::string, std::string> FirstChanged(const std::vector<Night>& nights) {
  std::map<std::string, std::string> out;
  if (nights.empty()) return out;
  for (const CellSummary& c : nights.back().cells) {
    if (c.runs == 0) continue;
    // Walk back while the verdict is the same; the night after the first difference began it.
    std::string since = nights.back().timestamp;
    bool changed = false;
    for (size_t i = nights.size() - 1; i-- > 0;) {
      const CellSummary* p = Find(nights[i], c.cell);
      if (p == nullptr) continue;
      if (p->observed != c.observed) {
        changed = true;
        break;
      }
      since = nights[i].timestamp;
    }
    if (changed) out[c.cell] = since;
  }
  return out;
}

std::string RenderTrendHtml(const std::string& name, const std::vector<Night>& nights) {
  using reports::EscapeHtml;
  std::ostringstream out;
  out << "<!doctype html><html><head><meta charset=\"utf-8\"><title>tidemark suite "
      << EscapeHtml(name)
      << " trend</title><style>body{font:14px system-ui,sans-serif;margin:2em}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
         "text-align:left}td.pass{background:#e6f4ea}td.fail{background:#fce8e6}"
         "td.changed{font-weight:bold;outline:2px solid #c5221f}a{color:inherit}"
         "</style></head><body><h1>suite "
      << EscapeHtml(name) << ": trend</h1>\n";
  if (nights.empty()) {
    out << "<p>No complete night of this suite yet.</p></body></html>\n";
    return out.str();
  }
  std::vector<std::string> cells;  // every cell of any night, latest night's order first
  std::set<std::string> seen;
  for (size_t i = nights.size(); i-- > 0;)
    for (const CellSummary& c : nights[i].cells)
      if (seen.insert(c.cell).second) cells.push_back(c.cell);
  std::map<std::string, std::string> first = FirstChanged(nights);
  std::map<std::string, std::string> last = nights.size() > 1
                                                ? Changes(nights[nights.size() - 2], nights.back())
                                                : std::map<std::string, std::string>{};
  if (!last.empty()) {
    out << "<p id=\"changes\">Changed since the previous night:</p><ul>";
    for (const auto& [cell, what] : last)
      out << "<li class=\"change\"><b>" << EscapeHtml(cell) << "</b>: " << EscapeHtml(what)
          << "</li>";
    out << "</ul>\n";
  } else {
    out << "<p id=\"changes\">Nothing changed since the previous night.</p>\n";
  }
  out << "<table id=\"trend\"><tr><th>cell</th><th>expect</th><th>current verdict since</th>";
  for (const Night& n : nights)
    out << "<th><a href=\"" << EscapeHtml(n.timestamp) << "/" << filename::kIndex << "\">"
        << EscapeHtml(ShortTime(n.timestamp)) << "</a></th>";
  out << "</tr>\n";
  for (const std::string& cell : cells) {
    std::string expect;
    for (const Night& n : nights)
      if (const CellSummary* c = Find(n, cell)) expect = c->expect;
    auto f = first.find(cell);
    out << "<tr data-cell=\"" << EscapeHtml(cell) << "\"><td>" << EscapeHtml(cell) << "</td><td>"
        << EscapeHtml(expect) << "</td><td class=\"since\">"
        << (f == first.end() ? "(never changed)" : EscapeHtml(ShortTime(f->second))) << "</td>";
    const CellSummary* prev = nullptr;
    for (const Night& n : nights) {
      const CellSummary* c = Find(n, cell);
      if (c == nullptr) {
        out << "<td>-</td>";
        continue;
      }
      bool changed = prev != nullptr && prev->observed != c->observed;
      out << "<td class=\"" << (c->pass ? "pass" : "fail") << (changed ? " changed" : "")
          << "\"><a href=\"" << EscapeHtml(n.timestamp) << "/" << filename::kIndex << "\">"
          << EscapeHtml(c->observed) << "</a> " << c->invalid << "/" << c->runs << "</td>";
      prev = c;
    }
    out << "</tr>\n";
  }
  out << "</table><p>Each cell shows the observed verdict and invalid runs / runs; red: the "
         "verdict differs from the expectation; outlined: changed from the night before.</p>"
         "</body></html>\n";
  return out.str();
}

Result<TrendResult> WriteTrend(const std::string& store, const std::string& name) {
  TrendResult r;
  r.nights = LoadNights(store, name);
  if (r.nights.size() > 1) r.changes = Changes(r.nights[r.nights.size() - 2], r.nights.back());
  r.path = (fs::path(store) / filename::kSuiteDir / name / filename::kTrend).string();
  if (Status s = WriteFileAtomic(r.path, RenderTrendHtml(name, r.nights)); !s.ok())
    return s.error();
  return r;
}

}  // namespace tidemark::suite
