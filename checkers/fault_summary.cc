#include "checkers/fault_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>

#include <range/v3/algorithm/min.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/join.hpp>
#include <range/v3/view/transform.hpp>

#include "base/text.h"

namespace tidemark::checkers {
namespace {

using history::Event;
using history::EventType;
using history::History;
using nlohmann::json;

bool IsNemesis(const Event& e) { return e.process == history::kNemesisProcess; }
bool IsCompletion(const Event& e) { return !IsNemesis(e) && e.type != EventType::kInvoke; }
bool IsMutating(const std::string& f) { return f != "read" && f != "get"; }

// The fault a start event opens ("" if it opens none) and the one a stop event closes.
std::string Opens(const std::string& f) {
  if (f.rfind("start-", 0) == 0) return f.substr(6);
  if (f == "kill" || f == "pause") return f;
  return "";
}
std::string Closes(const std::string& f) {
  if (f.rfind("stop-", 0) == 0) return f.substr(5);
  if (f == "start") return "kill";
  if (f == "resume") return "pause";
  return "";
}

// "n1,n3" from ["n1", "n3"]; entries that are not names are left out.
std::string JoinNodes(const json& v) {
  if (!v.is_array()) return "";
  return v | ranges::views::filter([](const json& n) { return n.is_string(); }) |
         ranges::views::transform([](const json& n) { return n.get<std::string>(); }) |
         ranges::views::join(',') | ranges::to<std::string>();
}

// "leader n1", "halves n3 one-way", "followers n2,n3": the shape or target, then the nodes.
std::string What(const json& v) {
  if (!v.is_object()) return "";
  std::string kind = v.contains("shape") && v["shape"].is_string() ? v["shape"].get<std::string>()
                     : v.contains("target") && v["target"].is_string()
                         ? v["target"].get<std::string>()
                         : "";
  std::string nodes = JoinNodes(v.contains("focus") ? v["focus"] : v.value("nodes", json()));
  std::string out = kind;
  if (!nodes.empty() && nodes != kind) out += (out.empty() ? "" : " ") + nodes;
  if (v.value("one_way", false)) out += " one-way";
  if (v.contains("error")) out += " (error)";
  return out;
}

std::optional<std::string> LeaderNode(const Event& e) {
  if (e.value.is_object() && e.value.contains("node") && e.value["node"].is_string())
    return e.value["node"].get<std::string>();
  return std::nullopt;
}

}  // namespace

void FaultTrace::Add(const Event& e) {
  any_ = true;
  last_ns_ = e.time_ns;
  Item item;
  item.time_ns = e.time_ns;
  item.type = e.type;
  if (IsNemesis(e)) {
    item.nemesis = static_cast<int32_t>(nemesis_.size());
    nemesis_.push_back(e);
  } else if (IsCompletion(e)) {
    auto it = std::find(fs_.begin(), fs_.end(), e.f);
    if (it == fs_.end()) it = fs_.insert(fs_.end(), e.f);
    item.f = static_cast<uint16_t>(std::min<ptrdiff_t>(it - fs_.begin(), UINT16_MAX));
  } else {
    return;  // an invoke: SummarizeFaults reads none
  }
  items_.push_back(item);
}

FaultSummary SummarizeFaults(const History& h) {
  FaultTrace t;
  for (const Event& e : h) t.Add(e);
  return SummarizeFaults(t);
}

FaultSummary SummarizeFaults(const FaultTrace& t) {
  FaultSummary s;
  const std::vector<FaultTrace::Item>& h = t.items_;
  const size_t end = h.size();
  // The nemesis event at position p, or nullptr for a client completion.
  auto nemesis = [&](size_t p) -> const Event* {
    return h[p].nemesis >= 0 ? &t.nemesis_[static_cast<size_t>(h[p].nemesis)] : nullptr;
  };
  auto ok_mutating = [&](size_t p) {
    return !nemesis(p) && h[p].type == EventType::kOk && IsMutating(t.fs_[h[p].f]);
  };
  // Per position: is a leader known just after this event (from the leader observations)?
  std::vector<bool> leader_known(end, false);
  bool any_observation = false;
  {
    bool known = false;
    std::optional<int64_t> max_generation;
    std::optional<std::string> last_named;
    for (size_t p = 0; p < end; ++p) {
      const Event* e = nemesis(p);
      if (e && e->f == "leader") {
        any_observation = true;
        ++s.leader_observations;
        auto node = LeaderNode(*e);
        known = node.has_value();
        if (!node) {
          ++s.leaderless_events;
        } else {
          bool is_new;
          if (e->value.contains("generation") && e->value["generation"].is_number_integer()) {
            int64_t g = e->value["generation"].get<int64_t>();
            is_new = !max_generation || g > *max_generation;
            if (is_new) max_generation = g;
          } else {
            is_new = last_named != node;
          }
          if (is_new && last_named) ++s.leader_changes;
          last_named = node;
        }
      }
      leader_known[p] = known;
    }
  }

  // Fault windows, as positions in h.
  struct Span {
    size_t start, stop;  // stop == end: never stopped
  };
  std::vector<Span> spans;
  std::map<std::string, std::deque<size_t>> open;  // fault -> indices into spans
  for (size_t p = 0; p < end; ++p) {
    const Event* e = nemesis(p);
    if (!e) continue;
    if (e->f == "skip") {
      ++s.skipped;
    } else if (std::string f = Opens(e->f); !f.empty()) {
      // One partition is in force at a time: a new one (a scenario or a mix move re-cutting
      // the network mid-election) replaces, and so ends, the one before.
      for (; f == "partition" && !open[f].empty(); open[f].pop_front()) {
        size_t i = open[f].front();
        spans[i].stop = p;
        s.windows[i].stopped = true;
        s.windows[i].stop_ns = e->time_ns;
        s.windows[i].stop_index = e->index;
      }
      open[f].push_back(spans.size());
      spans.push_back({p, end});
      FaultWindow w;
      w.fault = f;
      w.what = What(e->value);
      w.start_ns = e->time_ns;
      w.start_index = e->index;
      s.windows.push_back(std::move(w));
    } else if (std::string c = Closes(e->f); !c.empty() && !open[c].empty()) {
      size_t i = open[c].front();
      open[c].pop_front();
      spans[i].stop = p;
      s.windows[i].stopped = true;
      s.windows[i].stop_ns = e->time_ns;
      s.windows[i].stop_index = e->index;
    }
  }
  const int64_t last_ns = t.any_ ? t.last_ns_ : 0;
  // The first fault start after position p (end if none).
  auto next_start = [&](size_t p) {
    auto later = spans | ranges::views::transform([](const Span& sp) { return sp.start; }) |
                 ranges::views::filter([p](size_t start) { return start > p; });
    return later.begin() == later.end() ? end : std::min(end, ranges::min(later));
  };
  // Time from h[p] until a leader is known, looking until position `limit`.
  auto leader_after = [&](size_t p, size_t limit) -> std::optional<int64_t> {
    if (!any_observation) return std::nullopt;
    for (size_t q = p; q < limit; ++q)
      if (leader_known[q]) return h[q].time_ns - h[p].time_ns;
    return std::nullopt;
  };

  for (size_t i = 0; i < spans.size(); ++i) {
    FaultWindow& w = s.windows[i];
    if (!w.stopped) w.stop_ns = std::max(w.start_ns, last_ns);
    for (size_t p = spans[i].start; p < std::min(end, spans[i].stop + 1); ++p) {
      if (nemesis(p)) continue;
      (h[p].type == EventType::kOk ? w.ok : h[p].type == EventType::kFail ? w.fail : w.info)++;
    }
    if (!w.stopped) continue;
    const size_t stop = spans[i].stop, limit = next_start(stop);
    for (size_t p = stop + 1; p < limit; ++p) {
      if (ok_mutating(p)) {
        w.recovery_ns = h[p].time_ns - h[stop].time_ns;
        break;
      }
    }
    w.leader_ns = leader_after(stop, limit);
  }

  // Totals: a completion inside any window counts once.
  for (size_t p = 0; p < end; ++p) {
    if (nemesis(p)) continue;
    bool inside = std::any_of(spans.begin(), spans.end(),
                              [&](const Span& sp) { return sp.start <= p && p <= sp.stop; });
    int64_t& n = h[p].type == EventType::kOk     ? (inside ? s.ok_in_faults : s.ok_outside)
                 : h[p].type == EventType::kFail ? (inside ? s.fail_in_faults : s.fail_outside)
                                                 : (inside ? s.info_in_faults : s.info_outside);
    ++n;
  }

  std::optional<size_t> last_stop;
  for (const Span& sp : spans)
    if (sp.stop < end && (!last_stop || sp.stop > *last_stop)) last_stop = sp.stop;
  if (last_stop) {
    FinalHeal fh;
    fh.time_ns = h[*last_stop].time_ns;
    for (size_t p = *last_stop + 1; p < end; ++p) {
      if (!nemesis(p) && h[p].type == EventType::kOk) {
        fh.first_ok_ns = h[p].time_ns - fh.time_ns;
        fh.first_ok_f = t.fs_[h[p].f];
        break;
      }
    }
    fh.leader_ns = leader_after(*last_stop, end);
    s.final_heal = fh;
  }
  return s;
}

namespace {

json Seconds(int64_t ns) { return std::round(static_cast<double>(ns) / 1e6) / 1e3; }
json Seconds(const std::optional<int64_t>& ns) { return ns ? Seconds(*ns) : json(); }
json Counts(int64_t ok, int64_t fail, int64_t info) {
  return {{"ok", ok}, {"fail", fail}, {"info", info}};
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
std::string Sec(int64_t ns) { return Fmt("%.2f", static_cast<double>(ns) / 1e9); }
std::string After(const std::optional<int64_t>& ns) {
  return ns ? "after " + Sec(*ns) + " s" : "never";
}

}  // namespace

json FaultSummaryToJson(const FaultSummary& s) {
  json windows = json::array();
  for (const FaultWindow& w : s.windows) {
    json j = {{"fault", w.fault},
              {"what", w.what},
              {"start_s", Seconds(w.start_ns)},
              {"stop_s", Seconds(w.stop_ns)},
              {"stopped", w.stopped},
              {"start_index", w.start_index},
              {"stop_index", w.stop_index},
              {"ok", w.ok},
              {"fail", w.fail},
              {"info", w.info},
              {"recovery_s", Seconds(w.recovery_ns)},
              {"leader_s", Seconds(w.leader_ns)}};
    windows.push_back(std::move(j));
  }
  json out = {{"leader_changes", s.leader_changes},
              {"leaderless_observations", s.leaderless_events},
              {"leader_observations", s.leader_observations},
              {"skipped", s.skipped},
              {"windows", std::move(windows)},
              {"in_faults", Counts(s.ok_in_faults, s.fail_in_faults, s.info_in_faults)},
              {"outside", Counts(s.ok_outside, s.fail_outside, s.info_outside)},
              {"final_heal", json()}};
  if (s.final_heal) {
    const FinalHeal& f = *s.final_heal;
    out["final_heal"] = {{"time_s", Seconds(f.time_ns)},
                         {"first_ok_s", Seconds(f.first_ok_ns)},
                         {"first_ok_f", f.first_ok_ns ? json(f.first_ok_f) : json()},
                         {"leader_s", Seconds(f.leader_ns)}};
  }
  return out;
}

std::string FormatFaultSummary(const FaultSummary& s) {
  if (s.windows.empty() && s.leader_observations == 0 && s.skipped == 0) return "";
  std::string out =
      "faults: " + CountOf(static_cast<int64_t>(s.windows.size()), "window", "windows") + ", " +
      CountOf(s.leader_changes, "leader change", "leader changes") + " (" +
      CountOf(s.leaderless_events, "leaderless observation", "leaderless observations") + ")";
  if (s.skipped > 0) out += ", " + std::to_string(s.skipped) + " skipped";
  out += "\n";
  if (s.windows.empty()) return out;  // e.g. --nemesis none: the leader line is all there is
  for (const FaultWindow& w : s.windows) {
    std::string name = w.fault + (w.what.empty() ? "" : " " + w.what);
    if (name.size() < 24) name.resize(24, ' ');
    out += "  " + name + " " + Sec(w.start_ns) + "–" + Sec(w.stop_ns) + " s  ok " +
           std::to_string(w.ok) + " fail " + std::to_string(w.fail) + " info " +
           std::to_string(w.info);
    if (w.stopped) {
      out += "  recovered " + After(w.recovery_ns) + ", leader " + After(w.leader_ns);
    } else {
      out += "  never stopped";
    }
    out += "\n";
  }
  out += "  during faults: ok " + std::to_string(s.ok_in_faults) + " fail " +
         std::to_string(s.fail_in_faults) + " info " + std::to_string(s.info_in_faults) +
         "; outside: ok " + std::to_string(s.ok_outside) + " fail " +
         std::to_string(s.fail_outside) + " info " + std::to_string(s.info_outside) + "\n";
  if (s.final_heal) {
    const FinalHeal& f = *s.final_heal;
    out += "  final heal at " + Sec(f.time_ns) + " s: first ok op " +
           (f.first_ok_ns ? "(" + f.first_ok_f + ") " : "") + After(f.first_ok_ns) + ", leader " +
           After(f.leader_ns) + "\n";
  }
  return out;
}

}  // namespace tidemark::checkers
