#include "reports/report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "base/text.h"
#include "reports/html.h"
#include "reports/kReportTemplate.inc"

namespace tidemark::reports {
namespace {

using history::EventType;
using nlohmann::json;

// The text of j[key] for display: strings as is, other JSON compact, "" when absent or null.
std::string Text(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// j[key] as an integer, 0 when absent or not a number.
int64_t Int(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<int64_t>();
}

// A header fact as words: numbers without trailing zeros (200, 2.5), lists joined with commas
// ("partition, kill"), strings as they are.
std::string Words(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  const json& v = j[key];
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  if (v.is_array()) {
    std::string out;
    for (const json& e : v) {
      if (!out.empty()) out += ", ";
      out += e.is_string() ? e.get<std::string>()
                           : e.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return out;
  }
  return Text(j, key);
}

std::string Compact(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Seconds(int64_t ns) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(ns) / 1e9);
  return buf;
}

// A duration for people: "7.2 ms", "751 ms", "30.75 s", "3725.4 s".
std::string HumanDuration(double s) {
  char buf[64];
  if (s < 0.01)
    std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  else if (s < 1)
    std::snprintf(buf, sizeof buf, "%.0f ms", s * 1e3);
  else if (s < 100)
    std::snprintf(buf, sizeof buf, "%.2f s", s);
  else
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

const char* StatusName(EventType t) {
  return t == EventType::kOk ? "ok" : t == EventType::kFail ? "fail" : "info";
}

// "p3 append v3-17 → ok": a short, escaped label for an op link.
std::string OpLabel(const RunData& run, int64_t id) {
  const history::Op* whole = id < 0 ? nullptr : run.Whole(static_cast<size_t>(id));
  if (!whole) return "op " + std::to_string(id);
  const history::Op& op = *whole;
  std::string label = "op " + std::to_string(id) + " (p" + std::to_string(op.process) + " " + op.f +
                      (op.key ? " " + *op.key : "") + " " + Shorten(Compact(op.invoke_value), 40) +
                      " → " + StatusName(op.status);
  if (op.status == EventType::kOk && op.value != op.invoke_value)
    label += " " + Shorten(Compact(op.value), 40);
  return label + ")";
}

std::string OpLink(const RunData& run, int64_t id) {
  std::string n = std::to_string(id);
  return "<a class=\"oplink\" href=\"#op-" + n + "\" data-op=\"" + n + "\">" +
         EscapeHtml(OpLabel(run, id)) + "</a>";
}

std::string OpLinks(const RunData& run, const json& ids) {
  std::string out;
  if (!ids.is_array()) return out;
  for (const auto& x : ids) {
    int64_t id = -1;
    if (x.is_number_integer()) id = x.get<int64_t>();
    if (x.is_object() && x.contains("op") && x["op"].is_number_integer())
      id = x["op"].get<int64_t>();
    if (id < 0) continue;
    if (!out.empty()) out += " ";
    out += OpLink(run, id);
  }
  return out;
}

std::string VerdictBadge(const std::string& v) {
  std::string safe = v == "valid" || v == "invalid" ? v : "unknown";
  return "<span class=\"badge v-" + safe + "\">" + EscapeHtml(safe) + "</span>";
}

std::string Header(const RunData& run) {
  const json& t = run.test;
  const json& r = run.results;
  std::string verdict = OverallVerdict(run);
  const size_t ok = run.tally.ok(), fail = run.tally.fail(), info = run.tally.info();
  size_t nemesis = 0, leader = 0;  // fault actions; the watcher's leader observations
  int64_t last_ns = run.end_ns;
  for (const auto& e : run.events) {
    if (e.process == history::kNemesisProcess) ++(e.f == "leader" ? leader : nemesis);
    last_ns = std::max(last_ns, e.time_ns);
  }
  std::string duration = r.is_object() && r.contains("duration_s") && r["duration_s"].is_number()
                             ? HumanDuration(r["duration_s"].get<double>())
                             : HumanDuration(static_cast<double>(last_ns) / 1e9) + " (last event)";
  std::string name = Text(t, "name");
  if (name.empty()) name = Text(r, "test");
  if (name.empty()) name = std::filesystem::path(run.run_dir).filename().string();
  json workload = t.is_object() && t.contains("workload") ? t["workload"] : json();
  std::string workload_text = Text(workload, "name");
  if (std::string c = Words(workload, "concurrency"); !c.empty())
    workload_text += ", concurrency " + c;
  if (std::string rate = Words(workload, "rate"); !rate.empty())
    workload_text += ", rate " + rate + "/s";
  if (std::string limit = Words(workload, "time_limit_s"); !limit.empty())
    workload_text += ", time limit " + limit + " s";
  json nem = t.is_object() && t.contains("nemesis") ? t["nemesis"] : json();
  std::string nemesis_text = Words(nem, "faults");
  const bool mix = nem.is_object() && nem.contains("mix") && nem["mix"].is_array();
  if (mix) {
    const size_t moves = nem["mix"].size();
    nemesis_text = "default mix of " + CountOf(static_cast<int64_t>(moves), "move", "moves") +
                   (nemesis_text.empty() ? "" : " (" + nemesis_text + ")");
  }
  if (nem.is_object() && nem.contains("interval_s"))
    nemesis_text += (mix ? ", mean quiet gap " : ", interval ") + Words(nem, "interval_s") + " s";
  // What the mix's power cuts did: a user reading a valid verdict must know whether unsynced
  // writes were ever put at risk.
  if (std::string cuts = Text(nem, "power_cuts"); cuts == "lose-unfsynced") {
    nemesis_text += "; power cuts drop what was not fsynced";
  } else if (cuts == "kill") {
    std::string why = Text(nem, "power_cuts_why");
    nemesis_text += "; power cuts only kill (unsynced writes survive" +
                    (why.empty() ? std::string(")") : ": " + why + ")");
  }
  json target = t.is_object() && t.contains("target") ? t["target"] : json();
  std::string target_text = Text(target, "name");
  if (t.is_object() && t.contains("cluster"))
    target_text += ", " + Text(t["cluster"], "nodes") + " nodes";
  if (t.is_object() && t.contains("cluster") && t["cluster"].is_object() &&
      t["cluster"].contains("bugs") && t["cluster"]["bugs"].is_array() &&
      !t["cluster"]["bugs"].empty())
    target_text += ", bugs " + Compact(t["cluster"]["bugs"]);
  std::string seed = Text(t, "seed");
  if (seed.empty()) seed = Text(r, "seed");

  std::ostringstream h;
  h << "<header id=\"summary\" class=\"v-" << verdict << "\">\n"
    << "<div class=\"verdict\" id=\"verdict\">" << EscapeHtml(verdict) << "</div>\n"
    << "<div class=\"title\"><h1>" << EscapeHtml(name) << "</h1>";
  if (r.is_object() && r.contains("interrupted") && r["interrupted"] == true)
    h << "<p class=\"warn\">The run was interrupted.</p>";
  h << "</div>\n<dl class=\"facts\">\n";
  auto fact = [&](const std::string& k, const std::string& v, const std::string& id = "") {
    h << "<dt>" << k << "</dt><dd" << (id.empty() ? "" : " id=\"" + id + "\"") << ">"
      << (v.empty() ? "<span class=\"dim\">unknown</span>" : EscapeHtml(v)) << "</dd>\n";
  };
  fact("target", target_text, "fact-target");
  fact("workload", workload_text, "fact-workload");
  fact("nemesis", nemesis_text, "fact-nemesis");
  fact("seed", seed, "fact-seed");
  fact("started", Text(t, "started"));
  fact("duration", duration, "fact-duration");
  h << "<dt>ops</dt><dd id=\"fact-ops\"><span class=\"c-ok\">" << ok
    << " ok</span> · <span class=\"c-fail\">" << fail << " fail</span> · <span class=\"c-info\">"
    << info << " info</span> · " << run.OpCount() << " total · " << nemesis << " nemesis events";
  if (leader > 0) {
    std::string changes =
        r.is_object() && r.contains("faults") ? Text(r["faults"], "leader_changes") : "";
    h << " · <a href=\"#faults\">"
      << (changes.empty()
              ? CountOf(leader, "leader observation", "leader observations")
              : CountOf(Int(r["faults"], "leader_changes"), "leader change", "leader changes"))
      << "</a>";
  }
  h << "</dd>\n</dl>\n";
  std::string repeat = Text(t, "repeat");
  if (!repeat.empty())
    h << "<div class=\"repeat\">repeat this run: <code id=\"repeat\">" << EscapeHtml(repeat)
      << "</code> <button type=\"button\" id=\"copy-repeat\">copy</button></div>\n";
  h << "</header>\n";
  for (const auto& w : run.warnings) h << "<p class=\"warning\">⚠ " << EscapeHtml(w) << "</p>\n";
  return h.str();
}

std::string LogAnomalies(const RunData& run, const json& d, size_t checker_index) {
  std::ostringstream h;
  for (const auto& [name, a] : d["anomalies"].items()) {
    if (!a.is_object()) continue;
    h << "<div class=\"anomaly\" id=\"anomaly-" << checker_index << "-" << EscapeHtml(name)
      << "\"><h4>" << EscapeHtml(name) << " <span class=\"count\">×" << EscapeHtml(Text(a, "count"))
      << "</span></h4>\n";
    if (a.contains("examples") && a["examples"].is_array()) {
      h << "<ol class=\"examples\">\n";
      size_t j = 0;
      for (const auto& ex : a["examples"]) {
        h << "<li><p class=\"explanation\">" << EscapeHtml(Text(ex, "explanation")) << "</p>";
        if (ex.is_object() && ex.contains("ops"))
          h << "<p class=\"ops\">ops: " << OpLinks(run, ex["ops"]) << "</p>";
        if (ex.is_object() && ex.contains("events"))
          h << "<p class=\"dim\">history events: " << EscapeHtml(Compact(ex["events"])) << "</p>";
        h << "<div class=\"log-drawing\" data-checker=\"" << checker_index << "\" data-anomaly=\""
          << EscapeHtml(name) << "\" data-example=\"" << j << "\"></div></li>\n";
        ++j;
      }
      h << "</ol>\n";
    }
    if (a.contains("summary") && a["summary"].is_object()) {
      const json& s = a["summary"];
      h << "<div class=\"rest\"><p>" << EscapeHtml(Text(a, "omitted"))
        << " more not explained in full";
      if (s.contains("offsets") && s["offsets"].is_array())
        h << "; offsets " << EscapeHtml(Compact(s["offsets"]));
      if (s.contains("time_s") && !s["time_s"].is_null())
        h << "; time (s) " << EscapeHtml(Compact(s["time_s"]));
      if (s.contains("by_node")) h << "; by node " << EscapeHtml(Compact(s["by_node"]));
      h << ".</p>";
      if (s.contains("ops"))
        h << "<details><summary>their ops"
          << (s.value("ops_truncated", false) ? " (truncated)" : "")
          << "</summary><p class=\"ops\">" << OpLinks(run, s["ops"]) << "</p></details>";
      h << "</div>\n";
    }
    h << "</div>\n";
  }
  return h.str();
}

std::string Linearizability(const RunData& run, const json& d, size_t checker_index) {
  std::ostringstream h;
  if (d.contains("key"))
    h << "<p>Failing key: <code id=\"lin-key\">" << EscapeHtml(Text(d, "key")) << "</code>";
  if (d.contains("linearized_ok"))
    h << " — the search placed at most " << EscapeHtml(Text(d, "linearized_ok")) << " of "
      << EscapeHtml(Text(d, "ok_ops")) << " completed ops";
  h << "</p>\n";
  if (d.contains("blocked") && d["blocked"].is_array()) {
    h << "<p>Could not be placed next (model state <code>" << EscapeHtml(Text(d, "state"))
      << "</code>):</p><ul class=\"blocked\">";
    for (const auto& b : d["blocked"]) {
      int64_t id = b.is_object() && b.contains("op") && b["op"].is_number_integer()
                       ? b["op"].get<int64_t>()
                       : -1;
      h << "<li>" << OpLink(run, id) << ": " << EscapeHtml(Text(b, "could_return")) << "</li>";
    }
    h << "</ul>\n";
  }
  if (d.contains("must") && d["must"].is_number_integer())
    h << "<p>It returned first, so it had to be placed next: "
      << OpLink(run, d["must"].get<int64_t>()) << "</p>\n";
  if (d.contains("linearized") && d["linearized"].is_array())
    h << "<details><summary>Deepest linearization found (" << d["linearized"].size()
      << " ops, in order)</summary><p class=\"ops\">" << OpLinks(run, d["linearized"])
      << "</p></details>\n";
  if (d.contains("core") && d["core"].is_array())
    h << "<p>Counterexample core"
      << (d.value("core_verified", false) ? " (re-checked invalid)" : "") << ": "
      << OpLinks(run, d["core"]) << "</p>\n";
  h << "<div class=\"lin-drawing\" data-checker=\"" << checker_index << "\"></div>\n";
  return h.str();
}

std::string Checkers(const RunData& run) {
  std::ostringstream h;
  h << "<section id=\"checkers\"><h2>Checkers</h2>\n";
  const json& r = run.results;
  if (!r.is_object() || !r.contains("checkers") || !r["checkers"].is_array() ||
      r["checkers"].empty()) {
    h << "<p class=\"dim\">No checker results" << (r.is_object() ? "" : " (no results.json)")
      << ".</p>";
  } else {
    size_t i = 0;
    for (const auto& c : r["checkers"]) {
      std::string v = Text(c, "verdict");
      h << "<div class=\"checker v-" << (v == "valid" || v == "invalid" ? v : "unknown")
        << "\" id=\"checker-" << i << "\"><h3>" << EscapeHtml(Text(c, "checker")) << " "
        << VerdictBadge(v) << "</h3>\n<p class=\"summary\">" << EscapeHtml(Text(c, "summary"))
        << "</p>\n";
      json d = c.is_object() && c.contains("details") ? c["details"] : json::object();
      if (!d.is_object()) d = json::object();
      if (d.contains("reason"))
        h << "<p>reason: <code>" << EscapeHtml(Text(d, "reason")) << "</code></p>\n";
      if (d.contains("anomalies") && d["anomalies"].is_object() && !d["anomalies"].empty())
        h << LogAnomalies(run, d, i);
      if (v == "invalid" && d.contains("linearized")) h << Linearizability(run, d, i);
      std::string expl = Text(c, "explanation");
      if (!expl.empty())
        h << "<details><summary>Full explanation</summary><pre>" << EscapeHtml(expl)
          << "</pre></details>\n";
      h << "<details><summary>Raw details (JSON)</summary><pre>"
        << EscapeHtml(d.dump(1, ' ', false, json::error_handler_t::replace))
        << "</pre></details>\n</div>\n";
      ++i;
    }
  }
  h << "</section>\n";
  return h.str();
}

std::string InvolvedOps(const RunData& run) {
  std::set<int64_t> ids = ReferencedOps(run.results);
  std::ostringstream h;
  h << "<section id=\"involved\"><h2>Ops involved in the results</h2>\n";
  if (ids.empty()) {
    h << "<p class=\"dim\">None.</p></section>\n";
    return h.str();
  }
  h << "<table class=\"ops\"><thead><tr><th>op</th><th>process</th><th>node</th><th>f</th>"
       "<th>key</th><th>invoked</th><th>status</th><th>result</th><th>error</th><th>call s</th>"
       "<th>return s</th><th>events</th></tr></thead><tbody>\n";
  auto cell = [&](const std::string& s) {
    if (s.size() <= 160) return "<td>" + EscapeHtml(s) + "</td>";
    return "<td><details><summary>" + EscapeHtml(Shorten(s, 80)) + "</summary><code>" +
           EscapeHtml(s) + "</code></details></td>";
  };
  for (int64_t id : ids) {
    const history::Op* whole = id < 0 ? nullptr : run.Whole(static_cast<size_t>(id));
    if (!whole) continue;
    const history::Op& op = *whole;
    h << "<tr id=\"op-" << id << "\" class=\"s-" << StatusName(op.status) << "\"><td>"
      << "<a class=\"oplink\" href=\"#op-" << id << "\" data-op=\"" << id << "\">" << id
      << "</a></td><td>" << op.process << "</td>" << cell(op.node.value_or("")) << cell(op.f)
      << cell(op.key.value_or("")) << cell(Compact(op.invoke_value)) << "<td>"
      << StatusName(op.status) << "</td>" << cell(Compact(op.value)) << cell(op.error.value_or(""))
      << "<td>" << Seconds(op.call_ns) << "</td><td>"
      << (op.return_ns == history::kNever ? "never" : Seconds(op.return_ns)) << "</td><td>"
      << op.invoke_index << "–" << op.complete_index << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
  return h.str();
}

// Does the nemesis bite? results.json "faults" (checkers/fault_summary.h) as a table: one
// row per fault window with the ops that completed inside it and the time to recover.
std::string Faults(const RunData& run) {
  const json& r = run.results;
  if (!r.is_object() || !r.contains("faults") || !r["faults"].is_object()) return "";
  const json& f = r["faults"];
  const json windows = f.contains("windows") && f["windows"].is_array() ? f["windows"] : json();
  std::ostringstream h;
  h << "<section id=\"faults\"><h2>Faults</h2>\n<p id=\"faults-summary\">"
    << CountOf(Int(f, "leader_changes"), "leader change", "leader changes") << " ("
    << CountOf(Int(f, "leaderless_observations"), "time", "times") << " no leader seen)";
  auto counts = [&](const char* key) {
    const json c = f.contains(key) ? f[key] : json();
    return "<span class=\"c-ok\">" + EscapeHtml(Text(c, "ok")) +
           " ok</span> · <span class=\"c-fail\">" + EscapeHtml(Text(c, "fail")) +
           " fail</span> · <span class=\"c-info\">" + EscapeHtml(Text(c, "info")) + " info</span>";
  };
  h << "; ops completed during faults: " << counts("in_faults")
    << "; outside them: " << counts("outside");
  if (std::string skipped = Text(f, "skipped"); !skipped.empty() && skipped != "0")
    h << "; " << EscapeHtml(skipped) << " scheduled faults skipped";
  h << ".</p>\n";
  auto secs = [&](const json& j, const char* key) {
    std::string t = Text(j, key);
    return t.empty() ? std::string("<span class=\"dim\">never</span>") : EscapeHtml(t) + " s";
  };
  if (f.contains("final_heal") && f["final_heal"].is_object()) {
    const json& fh = f["final_heal"];
    h << "<p id=\"faults-final\">After the final heal at " << EscapeHtml(Text(fh, "time_s"))
      << " s: first ok op "
      << (Text(fh, "first_ok_f").empty() ? "" : "(" + EscapeHtml(Text(fh, "first_ok_f")) + ") ")
      << "after " << secs(fh, "first_ok_s") << ", a leader after " << secs(fh, "leader_s")
      << ".</p>\n";
  }
  if (windows.empty()) {
    h << "<p class=\"dim\">No fault windows.</p></section>\n";
    return h.str();
  }
  h << "<table class=\"faults\"><thead><tr><th>#</th><th>fault</th><th>target</th>"
       "<th>start s</th><th>stop s</th><th>ok</th><th>fail</th><th>info</th>"
       "<th title=\"from the stop to the first ok mutating op (until the next fault)\">recovered"
       " after</th><th title=\"from the stop until a leader was seen\">leader after</th></tr>"
       "</thead><tbody>\n";
  size_t i = 0;
  for (const auto& w : windows) {
    bool stopped = w.is_object() && w.value("stopped", false);
    h << "<tr><td class=\"num\">" << ++i
      << " <button type=\"button\" class=\"fault-show\" data-s=\"" << EscapeHtml(Text(w, "start_s"))
      << "\" data-e=\"" << EscapeHtml(Text(w, "stop_s"))
      << "\" title=\"show this window in the timeline\">show</button></td><td>"
      << EscapeHtml(Text(w, "fault")) << "</td><td>" << EscapeHtml(Text(w, "what"))
      << "</td><td class=\"num\">" << EscapeHtml(Text(w, "start_s")) << "</td><td class=\"num\">"
      << (stopped ? EscapeHtml(Text(w, "stop_s")) : "never stopped") << "</td>";
    for (const char* k : {"ok", "fail", "info"})
      h << "<td class=\"num c-" << k << "\">" << EscapeHtml(Text(w, k)) << "</td>";
    h << "<td class=\"num\">" << (stopped ? secs(w, "recovery_s") : "") << "</td><td class=\"num\">"
      << (stopped ? secs(w, "leader_s") : "") << "</td></tr>\n";
  }
  h << "</tbody></table>\n<p class=\"dim\">Ops are counted by when they completed; an "
       "<em>info</em> op may still take effect later. \"recovered after\": from the stop to the "
       "first <em>ok</em> op that changes state (not a read), looked for until the next fault "
       "starts. \"leader after\": until the runner's status watcher saw a leader (0: one was "
       "known at the stop).</p></section>\n";
  return h.str();
}

// Why the run ended before it could be checked (results.json "cause", written when the cluster
// did not start or the harness failed): shown first, above everything the run did record.
std::string Cause(const RunData& run) {
  const json& r = run.results;
  if (!r.is_object() || !r.contains("cause") || !r["cause"].is_object()) return "";
  const json& c = r["cause"];
  std::ostringstream h;
  h << "<section id=\"cause\" class=\"cause\">\n<h2>The run stopped during "
    << EscapeHtml(Text(c, "phase")) << "</h2>\n<p id=\"cause-message\">"
    << EscapeHtml(Text(c, "message")) << "</p>\n";
  if (std::string node = Text(c, "node"); !node.empty())
    h << "<p>node: <code id=\"cause-node\">" << EscapeHtml(node) << "</code></p>\n";
  if (std::string tail = Text(c, "log_tail"); !tail.empty())
    h << "<p>the last lines of its log:</p>\n<pre id=\"cause-log\">" << EscapeHtml(tail)
      << "</pre>\n";
  h << "</section>\n";
  return h.str();
}

}  // namespace

// What an overview page (ReportData's "sampled") holds, and how to see the rest.
std::string OverviewNote(const RunData& run, const json& sampled) {
  if (!sampled.is_object()) return "";
  std::ostringstream h;
  h << "<p class=\"warning\" id=\"overview-note\">";
  if (sampled["window"].is_array()) {
    h << "This page holds every op of " << EscapeHtml(Seconds(sampled["window"][0].get<int64_t>()))
      << "–" << EscapeHtml(Seconds(sampled["window"][1].get<int64_t>())) << " s";
  } else {
    h << "Large run: " << sampled["ops"].get<int64_t>() << " ops. To stay small, this page holds "
      << sampled["embedded"].get<int64_t>() << " of them";
  }
  h << ": every op a checker names";
  if (sampled["window_ns"].get<int64_t>() > 0)
    h << " and every op within " << static_cast<double>(sampled["window_ns"].get<int64_t>()) / 1e9
      << " s of them";
  if (sampled["stride"].get<int64_t>() > 1)
    h << ", and one op in " << sampled["stride"].get<int64_t>() << " elsewhere";
  h << ". Throughput is counted over every op; the timeline, latency and op list show the ops "
       "held here. Every op of a time window: <code>tidemark report "
    << EscapeHtml(run.run_dir) << " --window FROM-TO</code> (seconds).</p>\n";
  return h.str();
}

std::string RenderReport(const RunData& run, const EmbedOptions& embed) {
  std::string page(kReportTemplate);
  const json data = ReportData(run, embed);
  std::string title = Text(run.test, "name");
  if (title.empty()) title = std::filesystem::path(run.run_dir).filename().string();
  // Inserted text is escaped, so it can hold no placeholder (they all start with '<').
  ReplaceAll(page, "<!--@TITLE@-->", EscapeHtml(OverallVerdict(run) + " — " + title));
  ReplaceAll(page, "<!--@HEADER@-->",
             Header(run) + OverviewNote(run, data.value("sampled", json())) + Cause(run));
  ReplaceAll(page, "<!--@CHECKERS@-->", Checkers(run));
  ReplaceAll(page, "<!--@FAULTS@-->", Faults(run));
  ReplaceAll(page, "<!--@INVOLVED@-->", InvolvedOps(run));
  ReplaceAll(page, "<!--@DATA@-->", ScriptJson(data));
  return page;
}

Status WriteReport(const std::string& run_dir) {
  if (auto streamed = LoadRunStreamed(run_dir, {})) return WriteReport(*streamed);
  auto run = LoadRun(run_dir);
  if (!run.ok()) return run.error();
  return WriteReport(*run);
}

Status WriteReport(const RunData& run) {
  return WriteFileAtomic(filename::Report(run.run_dir), RenderReport(run));
}

Result<std::string> WriteWindowReport(const std::string& run_dir, double from_s, double to_s) {
  if (!(from_s >= 0) || !(to_s > from_s)) {
    return Error{"--window wants FROM-TO in seconds with 0 <= FROM < TO, e.g. 120-130"};
  }
  EmbedOptions embed;
  embed.window_ns = {static_cast<int64_t>(from_s * 1e9), static_cast<int64_t>(to_s * 1e9)};
  const std::string path = filename::ReportWindow(run_dir, from_s, to_s);
  std::optional<RunData> streamed = LoadRunStreamed(run_dir, embed);
  Result<RunData> run = streamed ? Result<RunData>(std::move(*streamed)) : LoadRun(run_dir);
  if (!run.ok()) return run.error();
  if (auto s = WriteFileAtomic(path, RenderReport(*run, embed)); !s.ok()) return s.error();
  return path;
}

}  // namespace tidemark::reports
