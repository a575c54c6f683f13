#include "checkers/fault_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  last_ns_ = e.time_ns;
  if (!IsNemesis(e)) {
    if (e.type == EventType::kInvoke) return;  // SummarizeFaults reads no invoke
    const bool ok = e.type == EventType::kOk;
    const bool inside = open_windows_ > 0;
    ++(ok ? completions_.ok : e.type == EventType::kFail ? completions_.fail : completions_.info);
    ++(ok                           ? (inside ? s_.ok_in_faults : s_.ok_outside)
       : e.type == EventType::kFail ? (inside ? s_.fail_in_faults : s_.fail_outside)
                                    : (inside ? s_.info_in_faults : s_.info_outside));
    if (!ok) return;
    if (IsMutating(e.f)) {
      for (size_t i : awaiting_recovery_)
        s_.windows[i].recovery_ns = e.time_ns - s_.windows[i].stop_ns;
      awaiting_recovery_.clear();
    }
    if (final_awaiting_ok_) {
      final_awaiting_ok_ = false;
      s_.final_heal->first_ok_ns = e.time_ns - s_.final_heal->time_ns;
      s_.final_heal->first_ok_f = e.f;
    }
    return;
  }

  if (e.f == "leader") {
    ++s_.leader_observations;
    auto node = LeaderNode(e);
    leader_known_ = node.has_value();
    if (!node) {
      ++s_.leaderless_events;
      return;
    }
    bool is_new;
    if (e.value.contains("generation") && e.value["generation"].is_number_integer()) {
      int64_t g = e.value["generation"].get<int64_t>();
      is_new = !max_generation_ || g > *max_generation_;
      if (is_new) max_generation_ = g;
    } else {
      is_new = last_named_ != node;
    }
    if (is_new && last_named_) ++s_.leader_changes;
    last_named_ = std::move(node);
    for (size_t i : awaiting_leader_) s_.windows[i].leader_ns = e.time_ns - s_.windows[i].stop_ns;
    awaiting_leader_.clear();
    if (final_awaiting_leader_) {
      final_awaiting_leader_ = false;
      s_.final_heal->leader_ns = e.time_ns - s_.final_heal->time_ns;
    }
    return;
  }

  auto open_of = [this](const std::string& fault) -> std::deque<size_t>& {
    auto it = std::find_if(open_.begin(), open_.end(),
                           [&](const auto& kind) { return kind.first == fault; });
    return it != open_.end() ? it->second : open_.emplace_back(fault, std::deque<size_t>()).second;
  };
  if (e.f == "skip") {
    ++s_.skipped;
  } else if (std::string f = Opens(e.f); !f.empty()) {
    // A fault that starts ends the search for the recoveries and leaders of the faults stopped
    // before it (not of a partition it replaces: that one's quiet gap runs to the next start).
    awaiting_recovery_.clear();
    awaiting_leader_.clear();
    std::deque<size_t>& open = open_of(f);
    // One partition is in force at a time: a new one (a scenario or a mix move re-cutting the
    // network mid-election) replaces, and so ends, the one before.
    for (; f == "partition" && !open.empty(); open.pop_front()) Stop(open.front(), e);
    open.push_back(s_.windows.size());
    ++open_windows_;
    at_start_.push_back(completions_);
    FaultWindow w;
    w.fault = std::move(f);
    w.what = What(e.value);
    w.start_ns = e.time_ns;
    w.start_index = e.index;
    s_.windows.push_back(std::move(w));
  } else if (std::string c = Closes(e.f); !c.empty()) {
    std::deque<size_t>& open = open_of(c);
    if (!open.empty()) {
      Stop(open.front(), e);
      open.pop_front();
    }
  }
}

// Window `i` is stopped by `e`; it becomes the final heal until a later stop.
void FaultTrace::Stop(size_t i, const Event& e) {
  FaultWindow& w = s_.windows[i];
  w.stopped = true;
  w.stop_ns = e.time_ns;
  w.stop_index = e.index;
  w.ok = completions_.ok - at_start_[i].ok;
  w.fail = completions_.fail - at_start_[i].fail;
  w.info = completions_.info - at_start_[i].info;
  --open_windows_;
  awaiting_recovery_.push_back(i);
  if (leader_known_) {
    w.leader_ns = 0;
  } else {
    awaiting_leader_.push_back(i);
  }
  FinalHeal fh;
  fh.time_ns = e.time_ns;
  if (leader_known_) fh.leader_ns = 0;
  s_.final_heal = std::move(fh);
  final_awaiting_ok_ = true;
  final_awaiting_leader_ = !leader_known_;
}

size_t FaultTrace::BytesHeld() const {
  auto string_bytes = [](const std::string& str) {
    // Short strings live inside the object, longer ones on the heap.
    return str.capacity() > std::string().capacity() ? str.capacity() + 1 : 0;
  };
  size_t n = sizeof(*this) + s_.windows.capacity() * sizeof(FaultWindow) +
             at_start_.capacity() * sizeof(Counts) + open_.capacity() * sizeof(open_[0]) +
             (awaiting_recovery_.capacity() + awaiting_leader_.capacity()) * sizeof(size_t);
  for (const FaultWindow& w : s_.windows) n += string_bytes(w.fault) + string_bytes(w.what);
  for (const auto& [fault, open] : open_) {
    // A deque holds a map of block pointers and the blocks; at least one block once used.
    constexpr size_t kBlock = 512;
    n += string_bytes(fault) + (open.size() * sizeof(size_t) / kBlock + 1) * kBlock +
         8 * sizeof(void*);
  }
  if (s_.final_heal) n += string_bytes(s_.final_heal->first_ok_f);
  if (last_named_) n += string_bytes(*last_named_);
  return n;
}

FaultSummary SummarizeFaults(const History& h) {
  FaultTrace t;
  for (const Event& e : h) t.Add(e);
  return SummarizeFaults(t);
}

FaultSummary SummarizeFaults(const FaultTrace& t) {
  FaultSummary s = t.s_;
  // A window never stopped ends at the last event and holds every completion since its start.
  for (size_t i = 0; i < s.windows.size(); ++i) {
    FaultWindow& w = s.windows[i];
    if (w.stopped) continue;
    w.stop_ns = std::max(w.start_ns, t.last_ns_);
    w.ok = t.completions_.ok - t.at_start_[i].ok;
    w.fail = t.completions_.fail - t.at_start_[i].fail;
    w.info = t.completions_.info - t.at_start_[i].info;
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
