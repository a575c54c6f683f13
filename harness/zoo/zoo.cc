#include "harness/zoo/zoo.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <unordered_map>

#include "base/filename.h"
#include "reports/html.h"

namespace tidemark::zoo {
namespace {

using nlohmann::json;

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string AnomalyList(const std::map<std::string, int>& m) {
  std::string out;
  for (const auto& [name, runs] : m)
    out += (out.empty() ? "" : ", ") + name + " (" + std::to_string(runs) + ")";
  return out.empty() ? "-" : out;
}

std::string Rate(const RowSummary& r) {
  return std::to_string(r.detected) + "/" + std::to_string(r.runs);
}

}  // namespace

const std::vector<ZooEntry>& Catalogue() {
  // The schedules: docs/bug-zoo.md (why each is needed) and nemesis/scenario.h (what it does).
  static const std::vector<ZooEntry> kRows = {
      {"ack-before-quorum",
       "ack-before-quorum",
       {"--scenario", "isolate-leader"},
       {"lost-write", "inconsistent-offsets"},
       "scenario isolate-leader"},
      {"stale-leader-read",
       "stale-leader-read",
       {"--scenario", "isolate-leader-long", "--client-routing", "node"},
       {"stale-read"},
       "scenario isolate-leader-long, clients bound to nodes"},
      {"read-above-hwm",
       "read-above-hwm",
       {"--scenario", "isolate-leader"},
       {"dirty-read", "inconsistent-offsets", "aborted-read"},
       "scenario isolate-leader"},
      {"commit-old-generation",
       "commit-old-generation",
       {"--scenario", "figure8", "--node-args", "--commit-timeout-ms 10000", "--op-timeout", "12"},
       {"lost-write", "inconsistent-offsets"},
       "scenario figure8, commit timeout 10 s"},
      {"vote-without-log-check",
       "vote-without-log-check",
       {"--scenario", "stale-follower-wins"},
       {"lost-write", "inconsistent-offsets"},
       "scenario stale-follower-wins"},
      {"no-generation-fence",
       "no-generation-fence",
       {"--scenario", "split-brain", "--client-routing", "node"},
       {"inconsistent-offsets", "lost-write"},
       "scenario split-brain, clients bound to nodes"},
      {"truncate-to-local-hwm",
       "truncate-to-local-hwm",
       {"--scenario", "restart-follower-kill-leader"},
       {"lost-write", "inconsistent-offsets"},
       "scenario restart-follower-kill-leader"},
      {"lazy-fsync",
       "lazy-fsync",
       {"--scenario", "kill-all", "--node-args", "--lazy-flush-ms 2000"},
       {"lost-write", "inconsistent-offsets"},
       "scenario kill-all, flush every 2 s"},
      {"skip-fsync",
       "skip-fsync",
       {"--nemesis", "lose-unfsynced:all", "--nemesis-interval", "5"},
       {"lost-write", "inconsistent-offsets"},
       "--nemesis lose-unfsynced:all (kill every node, drop what was not fsynced)"},
      {"no-idempotency",
       "no-idempotency",
       {"--scenario", "pause-followers-brief", "--retry-writes", "3", "--op-timeout", "0.2"},
       {"duplicate"},
       "scenario pause-followers-brief, clients re-send timed-out appends",
       "needs a client that re-sends a timed-out append with the same client id and sequence "
       "number (--retry-writes); tidemark's default client never re-sends, so no default run can "
       "apply an append twice"},
      {kCorrectRow,
       "",
       {"--nemesis", "all"},
       {},
       "--nemesis all (the default mix: leader-aware moves, nemesis/mix.h)"},
  };
  return kRows;
}

std::vector<ZooEntry> CorrectUnderScenarios() {
  std::vector<ZooEntry> out;
  std::set<std::string> seen;
  for (const ZooEntry& e : Catalogue()) {
    if (e.bug.empty()) continue;
    // The bug row's flags minus nothing: same faults, same timing, no --bug.
    auto it = std::find(e.run_args.begin(), e.run_args.end(), "--scenario");
    if (it == e.run_args.end() || it + 1 == e.run_args.end()) continue;
    std::string key;
    for (const auto& a : e.run_args) key += a + " ";
    if (!seen.insert(key).second) continue;
    out.push_back({"correct:" + e.bug, "", e.run_args, {}, "correct tidelog, " + e.schedule});
  }
  return out;
}

std::vector<ZooEntry> BlindRows(const std::string& nemesis) {
  std::vector<ZooEntry> out;
  for (const ZooEntry& e : Catalogue()) {
    if (e.bug.empty()) continue;
    ZooEntry b;
    b.row = kBlindPrefix + e.bug;
    b.bug = e.bug;
    b.run_args = {"--nemesis", nemesis};
    b.predicted = e.predicted;
    b.schedule = "blind: --nemesis " + nemesis + ", no scenario, no bug-specific flags";
    b.blind_unexposable = e.blind_unexposable;
    b.blind = true;
    out.push_back(std::move(b));
  }
  return out;
}

RunRecord ReadRun(const std::string& run_dir) {
  RunRecord r;
  r.run_dir = run_dir;
  std::ifstream in(filename::Results(run_dir));
  if (!in) {
    r.error = "no results.json in " + run_dir;
    return r;
  }
  json res = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (res.is_discarded() || !res.is_object()) {
    r.error = run_dir + "/results.json is not valid JSON";
    return r;
  }
  r.verdict = res.value("verdict", "");
  // The events each anomaly example cites; their times come from the history.
  std::vector<std::vector<int64_t>> examples;
  bool from_replicas = false;  // an anomaly seen only in the stored logs, after the run
  for (const json& c : res.value("checkers", json::array())) {
    const std::string checker = c.value("checker", "");
    // The replica cross-check compares the nodes' logs dumped after the run: its examples cite
    // the acks involved, but the evidence is complete only at the end of the history.
    if (checker == "log-replicas") {
      const json d = c.value("details", json::object());
      if (d.contains("counts") && d["counts"].is_object())
        for (const auto& [name, n] : d["counts"].items())
          if (n.is_number_integer() && n.get<int64_t>() > 0) {
            r.anomalies[name] += n.get<int64_t>();
            from_replicas = true;
          }
      continue;
    }
    const json details = c.value("details", json::object());
    if (details.contains("counts") && details["counts"].is_object()) {
      for (const auto& [name, n] : details["counts"].items())
        if (n.is_number_integer() && n.get<int64_t>() > 0) r.anomalies[name] += n.get<int64_t>();
    } else if (checker == "linearizability" && c.value("verdict", "") == "invalid") {
      r.anomalies["nonlinearizable"] += 1;
    }
    if (details.contains("anomalies") && details["anomalies"].is_object()) {
      for (const auto& [name, a] : details["anomalies"].items())
        for (const json& ex : a.value("examples", json::array()))
          if (ex.contains("events") && ex["events"].is_array()) {
            std::vector<int64_t> ev;
            for (const json& i : ex["events"])
              if (i.is_number_integer()) ev.push_back(i.get<int64_t>());
            if (!ev.empty()) examples.push_back(std::move(ev));
          }
    }
  }
  if (examples.empty() && !from_replicas) return r;
  std::unordered_map<int64_t, int64_t> time_of;
  std::set<int64_t> wanted;
  for (const auto& ex : examples) wanted.insert(ex.begin(), ex.end());
  std::ifstream h(filename::History(run_dir));
  std::optional<int64_t> t0;
  int64_t t_end = 0;
  for (std::string line; std::getline(h, line);) {
    json e = json::parse(line, nullptr, false);
    if (!e.is_object() || !e.contains("time") || !e["time"].is_number_integer()) continue;
    int64_t t = e["time"].get<int64_t>();
    if (!t0) t0 = t;
    t_end = std::max(t_end, t);
    int64_t idx = e.value("index", int64_t{-1});
    if (wanted.count(idx)) time_of[idx] = t;
  }
  for (const auto& ex : examples) {
    int64_t last = -1;
    bool all = true;
    for (int64_t i : ex) {
      auto it = time_of.find(i);
      if (it == time_of.end()) {
        all = false;
        break;
      }
      last = std::max(last, it->second);
    }
    if (!all || !t0) continue;
    double s = static_cast<double>(last - *t0) / 1e9;
    if (!r.first_detection_s || s < *r.first_detection_s) r.first_detection_s = s;
  }
  if (from_replicas && !r.first_detection_s && t0)
    r.first_detection_s = static_cast<double>(t_end - *t0) / 1e9;
  return r;
}

std::vector<RowSummary> Summarize(const std::vector<ZooEntry>& rows,
                                  const std::vector<RunRecord>& runs, double min_detection) {
  std::vector<RowSummary> out;
  for (const ZooEntry& e : rows) {
    RowSummary s;
    s.row = e.row;
    s.schedule = e.schedule;
    s.correct = e.bug.empty();
    s.blind = e.blind;
    if (e.blind) s.unexposable = e.blind_unexposable;
    std::vector<double> firsts;
    for (const RunRecord& r : runs) {
      if (r.row != e.row) continue;
      ++s.runs;
      if (r.verdict == "invalid") {
        ++s.detected;
        if (r.first_detection_s) firsts.push_back(*r.first_detection_s);
      } else if (r.verdict == "unknown") {
        ++s.unknown;
      } else if (r.verdict != "valid") {
        ++s.errors;
      }
      bool predicted = false;
      for (const auto& [name, n] : r.anomalies) {
        if (n <= 0) continue;
        ++s.anomaly_runs[name];
        if (std::find(e.predicted.begin(), e.predicted.end(), name) != e.predicted.end())
          predicted = true;
      }
      if (predicted) ++s.predicted;
    }
    if (!firsts.empty()) {
      std::sort(firsts.begin(), firsts.end());
      size_t m = firsts.size() / 2;
      s.median_first_detection_s = firsts.size() % 2 ? firsts[m] : (firsts[m - 1] + firsts[m]) / 2;
    }
    if (s.correct)
      s.pass = s.runs > 0 && s.detected == 0 && s.errors == 0;
    else
      s.pass = s.runs > 0 && static_cast<double>(s.detected) >=
                                 min_detection * static_cast<double>(s.runs) - 1e-9;
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

// The blind row of bug row `r`, if the zoo has one.
const RowSummary* BlindOf(const std::vector<RowSummary>& rows, const RowSummary& r) {
  for (const RowSummary& b : rows)
    if (b.blind && b.row == kBlindPrefix + r.row) return &b;
  return nullptr;
}

bool HasBlind(const std::vector<RowSummary>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const RowSummary& r) { return r.blind; });
}

// The blind column's cell for a bug row: detected/runs, "n/a" (unexposable), or "-".
std::string BlindCell(const RowSummary* b) {
  if (!b) return "-";
  if (!b->unexposable.empty()) return "n/a";
  return b->runs ? Rate(*b) : "-";
}

std::string ResultText(const RowSummary& r) {
  if (r.runs == 0) return "-";
  return r.pass ? "pass" : (r.correct ? "FALSE+" : "MISSED");
}

// One fixed-width table of `rows` (the tailored table, with a blind column when `blind`).
void RenderTable(std::ostringstream& out, const std::vector<RowSummary>& all,
                 const std::vector<const RowSummary*>& rows, bool blind) {
  out << Pad("row", 36) << Pad("detected", 10) << Pad("predicted", 11) << Pad("first (med)", 13)
      << Pad("result", 8) << (blind ? Pad("blind", 8) : "") << "anomalies (runs)\n";
  for (const RowSummary* r : rows) {
    std::string first =
        r->median_first_detection_s ? Fixed(*r->median_first_detection_s, 1) + " s" : "-";
    out << Pad(r->row, 36) << Pad(r->runs ? Rate(*r) : "-", 10)
        << Pad(r->correct || !r->runs
                   ? "-"
                   : std::to_string(r->predicted) + "/" + std::to_string(r->runs),
               11)
        << Pad(first, 13) << Pad(ResultText(*r), 8)
        << (blind ? Pad(r->correct ? "" : BlindCell(BlindOf(all, *r)), 8) : "")
        << AnomalyList(r->anomaly_runs);
    if (r->unknown || r->errors)
      out << "  [" << r->unknown << " unknown, " << r->errors << " without a verdict]";
    out << "\n";
  }
}

}  // namespace

std::string RenderMatrix(const std::vector<RowSummary>& rows) {
  std::ostringstream out;
  const bool blind = HasBlind(rows);
  std::vector<const RowSummary*> tailored, blind_rows;
  for (const RowSummary& r : rows) (r.blind ? blind_rows : tailored).push_back(&r);
  RenderTable(out, rows, tailored, blind);
  if (!blind) return out.str();
  out << "\nblind: every bug under " << blind_rows.front()->schedule.substr(7) << "\n";
  std::vector<const RowSummary*> ran;
  for (const RowSummary* b : blind_rows)
    if (b->unexposable.empty()) ran.push_back(b);
  RenderTable(out, rows, ran, false);
  for (const RowSummary* b : blind_rows)
    if (!b->unexposable.empty()) out << Pad(b->row, 36) << "n/a: " << b->unexposable << "\n";
  return out.str();
}

namespace {

// For a bug row that has a blind row: {"runs", "detected", "pass", "unexposable"}; else null.
json BlindJson(const std::vector<RowSummary>& rows, const RowSummary& r) {
  const RowSummary* b = r.blind || r.correct ? nullptr : BlindOf(rows, r);
  if (!b) return json();
  return {{"runs", b->runs},
          {"detected", b->detected},
          {"pass", b->pass},
          {"unexposable", b->unexposable.empty() ? json() : json(b->unexposable)}};
}

}  // namespace

json ToJson(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs,
            const json& options) {
  json jr = json::array();
  for (const RowSummary& r : rows)
    jr.push_back({{"row", r.row},
                  {"schedule", r.schedule},
                  {"correct", r.correct},
                  {"runs", r.runs},
                  {"detected", r.detected},
                  {"predicted", r.predicted},
                  {"unknown", r.unknown},
                  {"errors", r.errors},
                  {"median_first_detection_s",
                   r.median_first_detection_s ? json(*r.median_first_detection_s) : json()},
                  {"anomaly_runs", r.anomaly_runs},
                  {"pass", r.pass},
                  {"blind", r.blind},
                  {"unexposable", r.unexposable.empty() ? json() : json(r.unexposable)},
                  {"blind_column", BlindJson(rows, r)}});
  json jruns = json::array();
  for (const RunRecord& r : runs)
    jruns.push_back(
        {{"row", r.row},
         {"seed", r.seed},
         {"exit_code", r.exit_code},
         {"run_dir", r.run_dir},
         {"verdict", r.verdict},
         {"anomalies", r.anomalies},
         {"first_detection_s", r.first_detection_s ? json(*r.first_detection_s) : json()},
         {"wall_s", r.wall_s},
         {"error", r.error}});
  return {{"options", options}, {"pass", AllPass(rows)}, {"rows", jr}, {"runs", jruns}};
}

bool AllPass(const std::vector<RowSummary>& rows) {
  return std::all_of(rows.begin(), rows.end(),
                     [](const RowSummary& r) { return r.pass || r.runs == 0; });
}

std::string RenderJUnit(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs) {
  using reports::EscapeXml;
  int failures = 0;
  for (const RowSummary& r : rows) failures += (!r.pass && r.runs > 0) ? 1 : 0;
  std::ostringstream out;
  int skipped = 0;
  for (const RowSummary& r : rows) skipped += r.unexposable.empty() ? 0 : 1;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuite name=\"tidemark-zoo\" tests=\"" << rows.size() << "\" failures=\"" << failures
      << "\" skipped=\"" << skipped << "\">\n";
  for (const RowSummary& r : rows) {
    if (!r.unexposable.empty()) {
      out << "  <testcase classname=\"zoo\" name=\"" << EscapeXml(r.row) << "\">\n"
          << "    <skipped message=\"" << EscapeXml("not exposable blind: " + r.unexposable)
          << "\"/>\n  </testcase>\n";
      continue;
    }
    if (r.runs == 0) continue;
    out << "  <testcase classname=\"zoo\" name=\"" << EscapeXml(r.row) << "\">\n";
    if (!r.pass) {
      std::string msg = r.correct ? "correct tidelog: anomalies in " + Rate(r) + " runs"
                                  : "detected in only " + Rate(r) + " runs";
      out << "    <failure message=\"" << EscapeXml(msg) << "\">";
      for (const RunRecord& run : runs)
        if (run.row == r.row)
          out << EscapeXml(run.run_dir + ": " + (run.verdict.empty() ? run.error : run.verdict))
              << "\n";
      out << "</failure>\n";
    }
    out << "    <system-out>"
        << EscapeXml(r.schedule + "; anomalies: " + AnomalyList(r.anomaly_runs))
        << "</system-out>\n  </testcase>\n";
  }
  out << "</testsuite>\n";
  return out.str();
}

std::string RenderIndexHtml(const std::vector<RowSummary>& rows, const std::vector<RunRecord>& runs,
                            const std::string& zoo_dir) {
  using reports::EscapeHtml;
  std::ostringstream out;
  out << "<!doctype html><html><head><meta charset=\"utf-8\"><title>tidemark zoo</title><style>"
         "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
         ".pass{background:#e6f4ea}.fail{background:#fce8e6}code{font-size:12px}"
         "</style></head><body><h1>tidemark bug-zoo matrix</h1>\n<table><tr><th>row</th>"
         "<th>schedule</th><th>detected</th><th>predicted</th><th>first detection (median)</th>"
         "<th>anomalies (runs)</th><th>result</th><th>blind (default mix)</th></tr>\n";
  for (const RowSummary& r : rows) {
    if (!r.unexposable.empty()) {
      out << "<tr><td>" << EscapeHtml(r.row) << "</td><td>" << EscapeHtml(r.schedule)
          << "</td><td colspan=\"6\">not exposable blind: " << EscapeHtml(r.unexposable)
          << "</td></tr>\n";
      continue;
    }
    if (r.runs == 0) continue;
    out << "<tr class=\"" << (r.pass ? "pass" : "fail") << "\"><td>" << EscapeHtml(r.row)
        << "</td><td>" << EscapeHtml(r.schedule) << "</td><td>" << Rate(r) << "</td><td>"
        << (r.correct ? "-" : std::to_string(r.predicted) + "/" + std::to_string(r.runs))
        << "</td><td>"
        << (r.median_first_detection_s ? Fixed(*r.median_first_detection_s, 1) + " s" : "-")
        << "</td><td>" << EscapeHtml(AnomalyList(r.anomaly_runs)) << "</td><td>"
        << (r.pass ? "pass" : (r.correct ? "false positive" : "missed")) << "</td><td>"
        << (r.correct || r.blind ? "" : BlindCell(BlindOf(rows, r))) << "</td></tr>\n";
  }
  out << "</table>\n<h2>Runs</h2>\n<table><tr><th>row</th><th>seed</th><th>verdict</th>"
         "<th>anomalies</th><th>first detection</th><th>run</th></tr>\n";
  std::error_code ec;
  for (const RunRecord& r : runs) {
    std::string link;
    if (!r.run_dir.empty()) {
      std::string rel = r.run_dir;
      // Relative to the zoo directory when both live under the same store.
      std::string base = zoo_dir;
      if (!base.empty() && base.back() != '/') base += '/';
      size_t common = 0;
      while (common < rel.size() && common < base.size() && rel[common] == base[common]) ++common;
      common = rel.rfind('/', common ? common - 1 : 0) + 1;
      std::string up;
      for (size_t i = common; i < base.size(); ++i)
        if (base[i] == '/') up += "../";
      link = up + rel.substr(common) + std::string("/") + filename::kReport;
    }
    std::string anomalies;
    for (const auto& [name, n] : r.anomalies)
      anomalies += (anomalies.empty() ? "" : ", ") + name + " ×" + std::to_string(n);
    out << "<tr><td>" << EscapeHtml(r.row) << "</td><td>" << r.seed << "</td><td>"
        << EscapeHtml(r.verdict.empty() ? "error: " + r.error : r.verdict) << "</td><td>"
        << EscapeHtml(anomalies.empty() ? "-" : anomalies) << "</td><td>"
        << (r.first_detection_s ? Fixed(*r.first_detection_s, 1) + " s" : "-") << "</td><td>"
        << (link.empty() ? "-"
                         : "<a href=\"" + EscapeHtml(link) + "\"><code>" + EscapeHtml(r.run_dir) +
                               "</code></a>")
        << "</td></tr>\n";
  }
  out << "</table></body></html>\n";
  return out.str();
}

}  // namespace tidemark::zoo
