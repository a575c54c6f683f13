#include "harness/suite/suite.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "base/filename.h"
#include "reports/html.h"
#include "runstore/store.h"

namespace tidemark::suite {
namespace {

using nlohmann::json;

const char* const kSuiteKeys =
    "name, description, target, runs, time_limit_s, min_detection, cells";
const char* const kCellKeys =
    "name, workload, nemesis, scenario, nodes, bug, args, runs, time_limit_s, expect, "
    "min_detection";

std::string Where(const std::string& path, const std::string& key) {
  return path + ": \"" + key + "\"";
}

// Line and column of byte offset `at` in `text` (1-based), for JSON syntax errors.
std::string LineColumn(const std::string& text, size_t at) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

Status CheckKeys(const json& j, const std::string& path, const std::string& prefix,
                 const std::set<std::string>& known, const char* list) {
  for (const auto& [key, value] : j.items())
    if (!known.count(key) && key != "$comment")
      return Error{Where(path, prefix + key) + " is not a suite key here (known: " + list +
                   "); remove it or fix its spelling"};
  return OkStatus();
}

Status GetString(const json& j, const std::string& path, const std::string& key,
                 const std::string& where, std::string* out) {
  if (!j.contains(key)) return OkStatus();
  if (!j[key].is_string()) return Error{Where(path, where) + " must be a string"};
  *out = j[key].get<std::string>();
  return OkStatus();
}

Status GetInt(const json& j, const std::string& path, const std::string& key,
              const std::string& where, int lo, int hi, int* out) {
  if (!j.contains(key)) return OkStatus();
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < lo || j[key].get<int64_t>() > hi)
    return Error{Where(path, where) + " must be a whole number from " + std::to_string(lo) +
                 " to " + std::to_string(hi)};
  *out = j[key].get<int>();
  return OkStatus();
}

Status GetNumber(const json& j, const std::string& path, const std::string& key,
                 const std::string& where, double lo, double hi, double* out) {
  if (!j.contains(key)) return OkStatus();
  if (!j[key].is_number() || j[key].get<double>() < lo || j[key].get<double>() > hi) {
    std::ostringstream range;
    range << lo << " to " << hi;
    return Error{Where(path, where) + " must be a number from " + range.str()};
  }
  *out = j[key].get<double>();
  return OkStatus();
}

// Reads one cell; `defaults` carries the suite-level runs, time limit and detection threshold.
Result<Cell> ParseCell(const json& j, const std::string& path, size_t k, const Cell& defaults) {
  const std::string at = "cells[" + std::to_string(k) + "]";
  if (!j.is_object())
    return Error{Where(path, at) + " must be an object with at least \"name\" and \"expect\""};
  static const std::set<std::string> kKnown = {"name",   "workload",     "nemesis",      "scenario",
                                               "nodes",  "bug",          "args",         "runs",
                                               "expect", "time_limit_s", "min_detection"};
  if (Status s = CheckKeys(j, path, at + ".", kKnown, kCellKeys); !s.ok()) return s.error();
  Cell c = defaults;
  for (const char* required : {"name", "expect"})
    if (!j.contains(required)) return Error{Where(path, at + "." + required) + " is required"};
  for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &c.name},
                          {"workload", &c.workload},
                          {"nemesis", &c.nemesis},
                          {"scenario", &c.scenario},
                          {"bug", &c.bug},
                          {"expect", &c.expect}})
    if (Status s = GetString(j, path, key, at + "." + key, out); !s.ok()) return s.error();
  if (c.name.empty() || store::SafeName(c.name) != c.name)
    return Error{Where(path, at + ".name") +
                 " must be non-empty and use only a-z 0-9 . _ - (it names the runs' directory)"};
  if (c.expect != "valid" && c.expect != "invalid")
    return Error{Where(path, at + ".expect") + " must be \"valid\" (a correct system) or " +
                 "\"invalid\" (a cell that must keep catching a known bug), not \"" + c.expect +
                 "\""};
  if (!c.nemesis.empty() && !c.scenario.empty())
    return Error{Where(path, at) + " sets both \"nemesis\" and \"scenario\"; keep one"};
  if (Status s = GetInt(j, path, "nodes", at + ".nodes", 1, 15, &c.nodes); !s.ok())
    return s.error();
  if (Status s = GetInt(j, path, "runs", at + ".runs", 0, 1000, &c.runs); !s.ok()) return s.error();
  if (Status s =
          GetNumber(j, path, "time_limit_s", at + ".time_limit_s", 0.1, 86400, &c.time_limit_s);
      !s.ok())
    return s.error();
  if (Status s = GetNumber(j, path, "min_detection", at + ".min_detection", 0, 1, &c.min_detection);
      !s.ok())
    return s.error();
  if (j.contains("args")) {
    const json& a = j["args"];
    bool strings = a.is_array() &&
                   std::all_of(a.begin(), a.end(), [](const json& e) { return e.is_string(); });
    if (!strings)
      return Error{Where(path, at + ".args") +
                   " must be an array of strings (extra `tidemark run` arguments, one per "
                   "element: [\"--client-routing\", \"node\"])"};
    c.args = a.get<std::vector<std::string>>();
  }
  return c;
}

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

// FNV-1a, 64 bit: a seed that depends only on the text, on every platform.
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Counts(const CellSummary& c) {
  std::string out = std::to_string(c.valid) + " valid, " + std::to_string(c.invalid) + " invalid";
  if (c.unknown) out += ", " + std::to_string(c.unknown) + " unknown";
  if (c.errors) out += ", " + std::to_string(c.errors) + " without a verdict";
  return out;
}

}  // namespace

Result<Suite> ParseSuite(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error{path + ": not valid JSON at " + LineColumn(text, e.byte ? e.byte - 1 : 0) + " (" +
                 e.what() + ")"};
  }
  if (!j.is_object()) return Error{path + ": a suite file must be a JSON object"};
  static const std::set<std::string> kKnown = {"name",         "description",   "target", "runs",
                                               "time_limit_s", "min_detection", "cells"};
  if (Status s = CheckKeys(j, path, "", kKnown, kSuiteKeys); !s.ok()) return s.error();
  Suite suite;
  suite.source = j;
  for (const char* required : {"name", "cells"})
    if (!j.contains(required)) return Error{Where(path, required) + " is required"};
  for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &suite.name},
                          {"description", &suite.description},
                          {"target", &suite.target}})
    if (Status s = GetString(j, path, key, key, out); !s.ok()) return s.error();
  if (suite.name.empty() || store::SafeName(suite.name) != suite.name)
    return Error{Where(path, "name") +
                 " must be non-empty and use only a-z 0-9 . _ - (it names STORE/suite/NAME/)"};
  Cell defaults;
  if (Status s = GetInt(j, path, "runs", "runs", 0, 1000, &defaults.runs); !s.ok())
    return s.error();
  if (Status s =
          GetNumber(j, path, "time_limit_s", "time_limit_s", 0.1, 86400, &defaults.time_limit_s);
      !s.ok())
    return s.error();
  if (Status s =
          GetNumber(j, path, "min_detection", "min_detection", 0, 1, &defaults.min_detection);
      !s.ok())
    return s.error();
  if (!j["cells"].is_array() || j["cells"].empty())
    return Error{Where(path, "cells") + " must be a non-empty array of cells"};
  std::set<std::string> names;
  for (size_t k = 0; k < j["cells"].size(); ++k) {
    auto c = ParseCell(j["cells"][k], path, k, defaults);
    if (!c.ok()) return c.error();
    if (!names.insert(c->name).second)
      return Error{Where(path, "cells[" + std::to_string(k) + "].name") + ": \"" + c->name +
                   "\" names two cells; cell names must be unique"};
    suite.cells.push_back(std::move(*c));
  }
  return suite;
}

Result<Suite> LoadSuite(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot open the suite file"};
  std::stringstream text;
  text << in.rdbuf();
  return ParseSuite(text.str(), path);
}

std::vector<PlannedRun> Plan(const Suite& suite, std::optional<uint64_t> seed_base) {
  std::vector<PlannedRun> plan;
  for (size_t k = 0; k < suite.cells.size(); ++k) {
    const Cell& c = suite.cells[k];
    for (int i = 0; i < c.runs; ++i) {
      uint64_t seed = 0;
      if (seed_base) {
        seed = *seed_base + 1000 * k + static_cast<uint64_t>(i);
      } else {
        // 40 bits: readable on a command line, and far from 0 (which means "random").
        seed = (Fnv1a(suite.name + '\0' + c.name + '\0' + std::to_string(i)) >> 24) | 1;
      }
      plan.push_back({k, i, seed});
    }
  }
  return plan;
}

std::string TestName(const Suite& suite, const Cell& cell) {
  return store::SafeName(suite.name + "-" + cell.name);
}

std::vector<std::string> RunArgs(const Suite& suite, const PlannedRun& run,
                                 const std::string& store, const std::string& net) {
  const Cell& c = suite.cells[run.cell];
  std::vector<std::string> argv = {"run",
                                   "--store",
                                   store,
                                   "--name",
                                   TestName(suite, c),
                                   "--time-limit",
                                   Fixed(c.time_limit_s, 3),
                                   "--seed",
                                   std::to_string(run.seed),
                                   "--net",
                                   net};
  if (!suite.target.empty()) argv.insert(argv.end(), {"--target", suite.target});
  if (c.nodes > 0) argv.insert(argv.end(), {"--nodes", std::to_string(c.nodes)});
  if (!c.workload.empty()) argv.insert(argv.end(), {"--workload", c.workload});
  if (!c.bug.empty()) argv.insert(argv.end(), {"--bug", c.bug});
  if (!c.scenario.empty()) argv.insert(argv.end(), {"--scenario", c.scenario});
  if (!c.nemesis.empty()) argv.insert(argv.end(), {"--nemesis", c.nemesis});
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  return argv;
}

Result<double> ParseDuration(const std::string& text) {
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(text.substr(i), &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || v < 0 || !std::isfinite(v)) break;
    i += used;
    double unit = 1;
    if (i < text.size()) {
      char u = text[i++];
      unit = u == 'h' ? 3600 : u == 'm' ? 60 : u == 's' ? 1 : -1;
      if (unit < 0) return Error{"bad duration \"" + text + "\" (use e.g. 2h, 90m, 1h30m, 600s)"};
    }
    total += v * unit;
    any = true;
  }
  if (!any || i != text.size() || total <= 0)
    return Error{"bad duration \"" + text + "\" (use e.g. 2h, 90m, 1h30m, 600s)"};
  return total;
}

Result<std::pair<int, int>> ParseShard(const std::string& text) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  std::istringstream in(text);
  if (!(in >> i >> slash >> n) || slash != '/' || (in >> extra) || n < 1 || i < 1 || i > n)
    return Error{"bad shard \"" + text + "\" (use I/N with 1 <= I <= N, e.g. 2/3)"};
  return std::pair{i, n};
}

double EstimatedSeconds(const Suite& suite, const PlannedRun& run) {
  return suite.cells[run.cell].time_limit_s + kRunOverheadS;
}

BudgetResult ApplyBudget(const Suite& suite, const std::vector<PlannedRun>& plan, double budget_s,
                         int shards) {
  const double capacity = budget_s * std::max(shards, 1);
  int rounds = 0;
  for (const PlannedRun& r : plan) rounds = std::max(rounds, r.index + 1);
  std::set<std::pair<size_t, int>> keep;
  double used = 0;
  bool full = false;
  for (int round = 0; round < rounds && !full; ++round) {
    for (const PlannedRun& r : plan) {
      if (r.index != round) continue;
      double cost = EstimatedSeconds(suite, r);
      if (used + cost > capacity) {
        full = true;
        continue;  // later cells of this round may still be cheaper; try them
      }
      used += cost;
      keep.insert({r.cell, r.index});
    }
  }
  BudgetResult out;
  out.planned_s = used;
  std::map<size_t, std::pair<int, int>> per_cell;  // cell -> {planned, kept}
  for (const PlannedRun& r : plan) {
    auto& [planned, kept] = per_cell[r.cell];
    ++planned;
    if (keep.count({r.cell, r.index})) {
      ++kept;
      out.kept.push_back(r);
    }
  }
  for (const auto& [cell, counts] : per_cell)
    if (counts.second < counts.first)
      out.dropped.push_back(suite.cells[cell].name + ": " + std::to_string(counts.second) + " of " +
                            std::to_string(counts.first) + " runs kept (dropped " +
                            std::to_string(counts.first - counts.second) + ")");
  return out;
}

std::vector<PlannedRun> Shard(const std::vector<PlannedRun>& plan, int i, int n) {
  std::vector<PlannedRun> out;
  for (size_t j = 0; j < plan.size(); ++j)
    if (static_cast<int>(j % static_cast<size_t>(n)) == i - 1) out.push_back(plan[j]);
  return out;
}

std::vector<CellSummary> Summarize(const Suite& suite, const std::vector<zoo::RunRecord>& runs) {
  std::vector<CellSummary> out;
  for (const Cell& c : suite.cells) {
    CellSummary s;
    s.cell = c.name;
    s.expect = c.expect;
    for (const zoo::RunRecord& r : runs) {
      if (r.row != c.name) continue;
      ++s.runs;
      if (r.verdict == "valid")
        ++s.valid;
      else if (r.verdict == "invalid")
        ++s.invalid;
      else if (r.verdict == "unknown")
        ++s.unknown;
      else
        ++s.errors;
    }
    if (s.runs == 0)
      s.observed = "-";
    else if (s.errors > 0)
      s.observed = "error";
    else if (s.valid == s.runs)
      s.observed = "valid";
    else if (s.invalid == s.runs)
      s.observed = "invalid";
    else if (s.unknown == s.runs)
      s.observed = "unknown";
    else
      s.observed = "mixed";
    if (c.expect == "valid")
      s.pass = s.runs > 0 && s.valid == s.runs;
    else
      s.pass = s.runs > 0 && static_cast<double>(s.invalid) >=
                                 c.min_detection * static_cast<double>(s.runs) - 1e-9;
    out.push_back(std::move(s));
  }
  return out;
}

bool AllPass(const std::vector<CellSummary>& cells) {
  return std::all_of(cells.begin(), cells.end(),
                     [](const CellSummary& c) { return c.pass || c.runs == 0; });
}

std::string RenderMatrix(const std::vector<CellSummary>& cells) {
  std::ostringstream out;
  out << Pad("cell", 32) << Pad("expect", 8) << Pad("observed", 9) << Pad("result", 10) << "runs\n";
  for (const CellSummary& c : cells) {
    std::string result = c.runs == 0 ? "-" : c.pass ? "pass" : "REGRESSED";
    out << Pad(c.cell, 32) << Pad(c.expect, 8) << Pad(c.observed, 9) << Pad(result, 10)
        << (c.runs == 0 ? "not run" : Counts(c)) << "\n";
  }
  return out.str();
}

json ToJson(const Suite& suite, const std::vector<CellSummary>& cells,
            const std::vector<zoo::RunRecord>& runs, const json& options,
            const std::string& store) {
  json jc = json::array();
  for (const CellSummary& c : cells)
    jc.push_back({{"cell", c.cell},
                  {"expect", c.expect},
                  {"observed", c.observed},
                  {"runs", c.runs},
                  {"valid", c.valid},
                  {"invalid", c.invalid},
                  {"unknown", c.unknown},
                  {"errors", c.errors},
                  {"pass", c.pass}});
  json jr = json::array();
  std::error_code ec;
  for (const zoo::RunRecord& r : runs) {
    std::string rel;
    if (!r.run_dir.empty())
      rel = std::filesystem::relative(r.run_dir, store, ec).lexically_normal().string();
    jr.push_back({{"cell", r.row},
                  {"seed", r.seed},
                  {"exit_code", r.exit_code},
                  {"run_dir", r.run_dir},
                  {"run_in_store", rel},
                  {"verdict", r.verdict},
                  {"anomalies", r.anomalies},
                  {"wall_s", r.wall_s},
                  {"error", r.error}});
  }
  return {{"suite", suite.source},
          {"options", options},
          {"pass", AllPass(cells)},
          {"cells", jc},
          {"runs", jr}};
}

std::string RenderJUnit(const Suite& suite, const std::vector<CellSummary>& cells,
                        const std::vector<zoo::RunRecord>& runs,
                        const std::map<std::string, std::string>& changes) {
  using reports::EscapeXml;
  int tests = 0, failures = 0;
  for (const CellSummary& c : cells) {
    tests += c.runs > 0 ? 1 : 0;
    failures += (c.runs > 0 && !c.pass) ? 1 : 0;
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"tidemark-suite-"
      << EscapeXml(suite.name) << "\" tests=\"" << tests << "\" failures=\"" << failures << "\">\n";
  for (const CellSummary& c : cells) {
    if (c.runs == 0) continue;
    out << "  <testcase classname=\"suite." << EscapeXml(suite.name) << "\" name=\""
        << EscapeXml(c.cell) << "\">\n";
    auto change = changes.find(c.cell);
    if (!c.pass) {
      std::string msg =
          "expected " + c.expect + ", observed " + c.observed + " (" + Counts(c) + ")";
      if (change != changes.end()) msg += "; changed since the previous night: " + change->second;
      out << "    <failure message=\"" << EscapeXml(msg) << "\">";
      for (const zoo::RunRecord& r : runs)
        if (r.row == c.cell)
          out << EscapeXml(r.run_dir + " (seed " + std::to_string(r.seed) +
                           "): " + (r.verdict.empty() ? r.error : r.verdict))
              << "\n";
      out << "</failure>\n";
    }
    std::string note = Counts(c);
    if (change != changes.end()) note += "; changed since the previous night: " + change->second;
    out << "    <system-out>" << EscapeXml(note) << "</system-out>\n  </testcase>\n";
  }
  out << "</testsuite>\n";
  return out.str();
}

std::string RenderIndexHtml(const Suite& suite, const std::vector<CellSummary>& cells,
                            const std::vector<zoo::RunRecord>& runs, const std::string& dir) {
  using reports::EscapeHtml;
  std::ostringstream out;
  out << "<!doctype html><html><head><meta charset=\"utf-8\"><title>tidemark suite "
      << EscapeHtml(suite.name)
      << "</title><style>body{font:14px system-ui,sans-serif;margin:2em}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
         "text-align:left}.pass{background:#e6f4ea}.fail{background:#fce8e6}code{font-size:12px}"
         "</style></head><body><h1>suite "
      << EscapeHtml(suite.name) << "</h1><p>" << EscapeHtml(suite.description)
      << "</p><p><a href=\"../" << filename::kTrend
      << "\">trend across nights</a></p>\n<table><tr><th>cell</th><th>expect</th>"
         "<th>observed</th><th>runs</th><th>result</th></tr>\n";
  for (const CellSummary& c : cells) {
    if (c.runs == 0) continue;
    out << "<tr class=\"" << (c.pass ? "pass" : "fail") << "\"><td>" << EscapeHtml(c.cell)
        << "</td><td>" << c.expect << "</td><td>" << c.observed << "</td><td>"
        << EscapeHtml(Counts(c)) << "</td><td>" << (c.pass ? "pass" : "regressed")
        << "</td></tr>\n";
  }
  out << "</table>\n<h2>Runs</h2>\n<table><tr><th>cell</th><th>seed</th><th>verdict</th>"
         "<th>run</th></tr>\n";
  std::error_code ec;
  for (const zoo::RunRecord& r : runs) {
    std::string link;
    if (!r.run_dir.empty())
      link = std::filesystem::relative(r.run_dir, dir, ec).string() + "/" + filename::kReport;
    out << "<tr><td>" << EscapeHtml(r.row) << "</td><td>" << r.seed << "</td><td>"
        << EscapeHtml(r.verdict.empty() ? "error: " + r.error : r.verdict) << "</td><td>"
        << (link.empty() ? "-"
                         : "<a href=\"" + EscapeHtml(link) + "\"><code>" + EscapeHtml(r.run_dir) +
                               "</code></a>")
        << "</td></tr>\n";
  }
  out << "</table></body></html>\n";
  return out.str();
}

}  // namespace tidemark::suite
