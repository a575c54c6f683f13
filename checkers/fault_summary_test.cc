#include "checkers/fault_summary.h"

#include <algorithm>
#include <deque>
#include <map>

#include <gtest/gtest.h>

#include "base/history/jsonl.h"
#include "base/rng.h"
#include "checkers/linearizability.h"
#include "checkers/log/log_checker.h"

namespace tidemark::checkers {
namespace {

using history::Event;
using history::EventType;
using history::History;
using history::kNemesisProcess;
using nlohmann::json;

constexpr int64_t kS = 1'000'000'000;  // ns per second

// Builds a history in time order; `At` gives each event its time (ns) and the next index.
class HistoryBuilder {
 public:
  HistoryBuilder& At(double seconds, int64_t process, EventType type, std::string f,
                     json value = nullptr) {
    Event e;
    e.index = static_cast<int64_t>(h_.size());
    e.time_ns = static_cast<int64_t>(seconds * 1e9);
    e.process = process;
    e.type = type;
    e.f = std::move(f);
    e.value = std::move(value);
    h_.push_back(std::move(e));
    return *this;
  }
  // An op from invoke to completion.
  HistoryBuilder& Op(double call_s, double return_s, int64_t process, EventType status,
                     const std::string& f, json value = nullptr) {
    At(call_s, process, EventType::kInvoke, f, value);
    return At(return_s, process, status, f, value);
  }
  HistoryBuilder& Nemesis(double s, const std::string& f, json value = nullptr) {
    return At(s, kNemesisProcess, EventType::kInfo, f, std::move(value));
  }
  HistoryBuilder& Leader(double s, const char* node, int64_t generation) {
    return Nemesis(
        s, "leader",
        node ? json{{"node", node}, {"generation", generation}} : json{{"node", nullptr}});
  }
  const History& h() const { return h_; }

 private:
  History h_;
};

TEST(FaultSummaryTest, CountsTheOpsThatCompletedInsideEachWindow) {
  HistoryBuilder b;
  b.Op(0.5, 0.6, 0, EventType::kOk, "append")  // before the fault
      .Nemesis(1.0, "kill", {{"nodes", {"n1"}}, {"target", "leader"}})
      .Op(1.1, 1.2, 0, EventType::kFail, "append")
      .Op(1.3, 1.5, 1, EventType::kOk, "read")
      .At(1.6, 0, EventType::kInvoke, "append")  // invoked inside, completes after the stop
      .Op(1.7, 1.8, 2, EventType::kInfo, "append")
      .Nemesis(2.0, "start", {{"nodes", {"n1"}}})
      .At(2.5, 0, EventType::kInfo, "append");
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 1u);
  const FaultWindow& w = s.windows[0];
  EXPECT_EQ(w.fault, "kill");
  EXPECT_EQ(w.what, "leader n1");
  EXPECT_TRUE(w.stopped);
  EXPECT_EQ(w.start_ns, 1 * kS);
  EXPECT_EQ(w.stop_ns, 2 * kS);
  EXPECT_EQ(w.start_index, 2);
  EXPECT_EQ(w.stop_index, 10);
  EXPECT_EQ(w.ok, 1);
  EXPECT_EQ(w.fail, 1);
  EXPECT_EQ(w.info, 1);
  EXPECT_EQ(s.ok_in_faults, 1);
  EXPECT_EQ(s.ok_outside, 1);
  EXPECT_EQ(s.info_outside, 1);  // the append that completed after the stop
  EXPECT_EQ(s.fail_outside, 0);
  EXPECT_FALSE(w.recovery_ns) << "no mutating op succeeded after the stop";
  EXPECT_FALSE(w.leader_ns) << "no leader observations in this history";
}

TEST(FaultSummaryTest, RecoveryIsTheFirstOkMutatingOpAfterTheStop) {
  HistoryBuilder b;
  b.Leader(0.1, "n1", 1)
      .Nemesis(1.0, "pause", {{"nodes", {"n1"}}, {"target", "leader"}})
      .Leader(1.2, nullptr, 0)
      .Leader(1.8, "n2", 2)
      .Nemesis(2.0, "resume", {{"nodes", {"n1"}}})
      .Op(2.1, 2.2, 0, EventType::kOk, "read")      // a read proves nothing
      .Op(2.1, 2.3, 1, EventType::kFail, "append")  // nor does a failed append
      .Op(2.4, 2.75, 2, EventType::kOk, "append");
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 1u);
  ASSERT_TRUE(s.windows[0].recovery_ns);
  EXPECT_EQ(*s.windows[0].recovery_ns, 750'000'000);
  ASSERT_TRUE(s.windows[0].leader_ns);
  EXPECT_EQ(*s.windows[0].leader_ns, 0) << "n2 led already when n1 was resumed";
  EXPECT_EQ(s.windows[0].what, "leader n1");
}

TEST(FaultSummaryTest, LeaderAfterAStopWaitsForTheNextLeaderObservation) {
  HistoryBuilder b;
  b.Leader(0.1, "n1", 1)
      .Nemesis(
          1.0, "start-partition",
          {{"shape", "leader"}, {"focus", {"n1"}}, {"one_way", true}, {"grudge", json::object()}})
      .Leader(1.5, nullptr, 0)
      .Nemesis(2.0, "stop-partition", {{"grudge", json::object()}})
      .Leader(2.4, "n3", 2)
      .Op(2.5, 2.6, 0, EventType::kOk, "write", 3);
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].fault, "partition");
  EXPECT_EQ(s.windows[0].what, "leader n1 one-way");
  ASSERT_TRUE(s.windows[0].leader_ns);
  EXPECT_EQ(*s.windows[0].leader_ns, 400'000'000);
  ASSERT_TRUE(s.windows[0].recovery_ns);
  EXPECT_EQ(*s.windows[0].recovery_ns, 600'000'000);
}

TEST(FaultSummaryTest, RecoveryIsLookedForOnlyUntilTheNextFaultStarts) {
  HistoryBuilder b;
  b.Nemesis(1.0, "kill", {{"nodes", {"n2"}}, {"target", "one"}})
      .Nemesis(2.0, "start", {{"nodes", {"n2"}}})
      .Nemesis(3.0, "pause", {{"nodes", {"n3"}}, {"target", "one"}})
      .Op(3.1, 3.2, 0, EventType::kOk, "append")
      .Nemesis(4.0, "resume", {{"nodes", {"n3"}}});
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_FALSE(s.windows[0].recovery_ns) << "the append came during the next fault";
  EXPECT_EQ(s.windows[1].ok, 1);
  EXPECT_FALSE(s.windows[1].recovery_ns);
}

TEST(FaultSummaryTest, LeaderChangesCountNewGenerationsNotFlapsOrTheFirstLeader) {
  HistoryBuilder b;
  b.Leader(0.1, "n1", 1)
      .Leader(0.5, nullptr, 0)  // a poll that found no leader
      .Leader(0.7, "n1", 1)     // the same leader again: no change
      .Leader(1.0, "n2", 2)     // change
      .Leader(1.2, "n1", 1)     // the deposed leader answered and n2 did not: no change
      .Leader(1.4, "n2", 2)
      .Leader(2.0, "n2", 4)  // n2 re-elected in a later generation: change
      .Leader(3.0, nullptr, 0)
      .Leader(3.5, "n3", 5);  // change
  FaultSummary s = SummarizeFaults(b.h());
  EXPECT_EQ(s.leader_changes, 3);
  EXPECT_EQ(s.leaderless_events, 2);
  EXPECT_EQ(s.leader_observations, 9);
  EXPECT_TRUE(s.windows.empty());
  EXPECT_FALSE(s.final_heal);
}

TEST(FaultSummaryTest, LeaderChangesWithoutGenerationsCountNewNodes) {
  HistoryBuilder b;
  b.Nemesis(0.1, "leader", {{"node", "n1"}})
      .Nemesis(0.2, "leader", {{"node", "n1"}})
      .Nemesis(0.3, "leader", {{"node", "n2"}});
  EXPECT_EQ(SummarizeFaults(b.h()).leader_changes, 1);
}

TEST(FaultSummaryTest, AWindowNeverStoppedEndsAtTheLastEvent) {
  HistoryBuilder b;
  b.Nemesis(1.0, "pause", {{"nodes", {"n1", "n2"}}, {"target", "majority"}})
      .Op(1.5, 4.0, 0, EventType::kInfo, "append");
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_FALSE(s.windows[0].stopped);
  EXPECT_EQ(s.windows[0].stop_ns, 4 * kS);
  EXPECT_EQ(s.windows[0].stop_index, -1);
  EXPECT_EQ(s.windows[0].info, 1);
  EXPECT_EQ(s.windows[0].what, "majority n1,n2");
  EXPECT_FALSE(s.final_heal);
  EXPECT_NE(FormatFaultSummary(s).find("never stopped"), std::string::npos);
}

// A partition that replaces another (the mix's repartition-in-election) ends the first window;
// the stop that follows closes the second.
TEST(FaultSummaryTest, ANewPartitionEndsThePartitionItReplaces) {
  HistoryBuilder b;
  b.Nemesis(1.0, "start-partition", {{"shape", "leader"}, {"focus", {"n1"}}})
      .Nemesis(2.0, "start-partition", {{"shape", "leader"}, {"focus", {"n2"}}})
      .Op(2.5, 2.6, 0, EventType::kOk, "append")
      .Nemesis(3.0, "stop-partition");
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_TRUE(s.windows[0].stopped);
  EXPECT_EQ(s.windows[0].stop_ns, 2 * kS);
  EXPECT_EQ(s.windows[0].ok, 0);
  EXPECT_TRUE(s.windows[1].stopped);
  EXPECT_EQ(s.windows[1].stop_ns, 3 * kS);
  EXPECT_EQ(s.windows[1].ok, 1);
}

TEST(FaultSummaryTest, FinalHealIsTheLastStopAndCountsAnyOkOp) {
  HistoryBuilder b;
  b.Leader(0.1, "n1", 1)
      .Nemesis(1.0, "kill", {{"nodes", {"n1"}}, {"target", "leader"}})
      .Leader(1.1, nullptr, 0)
      .Op(1.2, 1.3, 0, EventType::kFail, "append")
      .Nemesis(2.0, "start", {{"nodes", {"n1"}}})  // the heal after the main phase
      .Op(2.1, 2.25, 1, EventType::kOk, "read",
          {{"from", 0}, {"consistency", "local"}, {"final", true}})
      .Leader(2.5, "n2", 2)
      .Nemesis(3.0, "skip", {{"fault", "kill:leader"}, {"reason", "no leader"}});
  FaultSummary s = SummarizeFaults(b.h());
  ASSERT_TRUE(s.final_heal);
  EXPECT_EQ(s.final_heal->time_ns, 2 * kS);
  ASSERT_TRUE(s.final_heal->first_ok_ns);
  EXPECT_EQ(*s.final_heal->first_ok_ns, 250'000'000);
  EXPECT_EQ(s.final_heal->first_ok_f, "read");
  ASSERT_TRUE(s.final_heal->leader_ns);
  EXPECT_EQ(*s.final_heal->leader_ns, 500'000'000);
  EXPECT_EQ(s.skipped, 1);
  EXPECT_EQ(s.leader_changes, 1);
}

TEST(FaultSummaryTest, JsonAndTextCarryEveryFigure) {
  HistoryBuilder b;
  b.Leader(0.1, "n1", 1)
      .Nemesis(1.0, "kill", {{"nodes", {"n1"}}, {"target", "leader"}})
      .Op(1.1, 1.2, 0, EventType::kInfo, "append")
      .Leader(1.4, "n3", 2)
      .Nemesis(2.0, "start", {{"nodes", {"n1"}}})
      .Op(2.1, 2.5, 1, EventType::kOk, "append");
  FaultSummary s = SummarizeFaults(b.h());
  json j = FaultSummaryToJson(s);
  EXPECT_EQ(j["leader_changes"], 1);
  ASSERT_EQ(j["windows"].size(), 1u);
  EXPECT_EQ(j["windows"][0]["fault"], "kill");
  EXPECT_EQ(j["windows"][0]["info"], 1);
  EXPECT_DOUBLE_EQ(j["windows"][0]["start_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["windows"][0]["recovery_s"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["windows"][0]["leader_s"].get<double>(), 0.0);
  EXPECT_EQ(j["in_faults"], (json{{"ok", 0}, {"fail", 0}, {"info", 1}}));
  EXPECT_EQ(j["outside"], (json{{"ok", 1}, {"fail", 0}, {"info", 0}}));
  EXPECT_DOUBLE_EQ(j["final_heal"]["first_ok_s"].get<double>(), 0.5);
  EXPECT_EQ(j["final_heal"]["first_ok_f"], "append");
  std::string text = FormatFaultSummary(s);
  EXPECT_NE(text.find("faults: 1 window, 1 leader change ("), std::string::npos) << text;
  EXPECT_NE(text.find("kill leader n1"), std::string::npos) << text;
  EXPECT_NE(text.find("ok 0 fail 0 info 1  recovered after 0.50 s, leader after 0.00 s"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("final heal at 2.00 s: first ok op (append) after 0.50 s"), std::string::npos)
      << text;
  EXPECT_EQ(FormatFaultSummary(SummarizeFaults(History{})), "");
  HistoryBuilder quiet;  // --nemesis none: one leader, no fault
  quiet.Leader(0.1, "n1", 1).Op(0.2, 0.3, 0, EventType::kOk, "append");
  EXPECT_EQ(FormatFaultSummary(SummarizeFaults(quiet.h())),
            "faults: 0 windows, 0 leader changes (0 leaderless observations)\n");
}

// Leader observations are nemesis-process events: pairing, the JSONL reader and both checker
// families must ignore them, so a history full of them checks exactly as one without.
TEST(FaultSummaryTest, LeaderObservationsLeaveEveryCheckerVerdictAlone) {
  auto log_history = [](bool with_leaders) {
    HistoryBuilder b;
    if (with_leaders) b.Leader(0.05, "n1", 1);
    b.Op(0.1, 0.2, 0, EventType::kOk, "append", "v0-1");
    if (with_leaders) b.Leader(0.25, nullptr, 0).Leader(0.3, "n2", 2);
    b.At(0.4, 1, EventType::kInvoke, "read", {{"from", 0}, {"consistency", "linearizable"}})
        .At(0.5, 1, EventType::kOk, "read",
            {{"from", 0},
             {"to", 1},
             {"hwm", 1},
             {"consistency", "linearizable"},
             {"entries", {{0, "v0-1"}}}});
    return b.h();
  };
  // The appends' ok value carries the offset and hwm (docs/history-format.md).
  auto fix_append = [](History h) {
    for (Event& e : h)
      if (e.f == "append" && e.type == EventType::kOk)
        e.value = {{"value", "v0-1"}, {"offset", 0}, {"hwm", 1}};
    return h;
  };
  History with = fix_append(log_history(true)), without = fix_append(log_history(false));
  // Through the JSONL text, as `tidemark check` reads it.
  std::string text;
  for (const Event& e : with) text += history::ToJsonLine(e) + "\n";
  auto read = history::ReadJsonlText(text, "with-leaders.jsonl");
  ASSERT_TRUE(read.ok()) << read.error().message;
  auto ops_with = history::PairOps(*read);
  auto ops_without = history::PairOps(without);
  ASSERT_TRUE(ops_with.ok()) << ops_with.error().message;
  ASSERT_TRUE(ops_without.ok());
  ASSERT_EQ(ops_with->size(), ops_without->size());
  EXPECT_EQ(history::NemesisEvents(read->events).size(), 3u);
  auto verdict = checkers::CheckLogPrefix(*ops_with).verdict;
  EXPECT_EQ(verdict, checkers::Verdict::kValid);
  EXPECT_EQ(verdict, checkers::CheckLogPrefix(*ops_without).verdict);

  HistoryBuilder reg;
  reg.Leader(0.05, "n1", 1)
      .Op(0.1, 0.2, 0, EventType::kOk, "write", 3)
      .Leader(0.25, "n2", 2)
      .Op(0.3, 0.4, 1, EventType::kOk, "read", 3);
  auto reg_ops = history::PairOps(reg.h());
  ASSERT_TRUE(reg_ops.ok());
  checkers::LinearizabilityOptions lo;
  lo.model = "cas-register";
  EXPECT_EQ(checkers::CheckLinearizability(*reg_ops, lo).verdict, checkers::Verdict::kValid);
  // And the checker still finds a violation among leader observations (the test can fail).
  HistoryBuilder bad;
  bad.Op(0.1, 0.2, 0, EventType::kOk, "write", 3)
      .Leader(0.25, "n2", 2)
      .Op(0.3, 0.4, 1, EventType::kOk, "read", 4);
  auto bad_ops = history::PairOps(bad.h());
  ASSERT_TRUE(bad_ops.ok());
  EXPECT_EQ(checkers::CheckLinearizability(*bad_ops, lo).verdict, checkers::Verdict::kInvalid);
}

// The oracle for the streamed trace: SummarizeFaults as it was when FaultTrace kept every
// completion (~16 bytes each), before it folded each event in as it arrived. It holds the whole
// history and, per window, scans its positions, then looks forward from each stop to the next
// start. Positions are file order among the nemesis events and completions; invokes are dropped.
namespace reference {

bool IsMutating(const std::string& f) { return f != "read" && f != "get"; }
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
std::string JoinNodes(const json& v) {
  std::string out;
  if (!v.is_array()) return out;
  for (const json& n : v) {
    if (!n.is_string()) continue;
    if (!out.empty()) out += ',';
    out += n.get<std::string>();
  }
  return out;
}
std::string What(const json& v) {
  if (!v.is_object()) return "";
  std::string kind;
  if (v.contains("shape") && v["shape"].is_string()) {
    kind = v["shape"].get<std::string>();
  } else if (v.contains("target") && v["target"].is_string()) {
    kind = v["target"].get<std::string>();
  }
  std::string nodes = JoinNodes(v.contains("focus") ? v["focus"] : v.value("nodes", json()));
  std::string out = kind;
  if (!nodes.empty() && nodes != kind) out += (out.empty() ? "" : " ") + nodes;
  if (v.value("one_way", false)) out += " one-way";
  if (v.contains("error")) out += " (error)";
  return out;
}

FaultSummary Summarize(const History& whole) {
  FaultSummary s;
  std::vector<const Event*> h;
  for (const Event& e : whole)
    if (e.process == kNemesisProcess || e.type != EventType::kInvoke) h.push_back(&e);
  const size_t end = h.size();
  auto nemesis = [&](size_t p) { return h[p]->process == kNemesisProcess; };
  std::vector<bool> leader_known(end, false);
  bool any_observation = false;
  {
    bool known = false;
    std::optional<int64_t> max_generation;
    std::optional<std::string> last_named;
    for (size_t p = 0; p < end; ++p) {
      const Event& e = *h[p];
      if (nemesis(p) && e.f == "leader") {
        any_observation = true;
        ++s.leader_observations;
        std::optional<std::string> node;
        if (e.value.is_object() && e.value.contains("node") && e.value["node"].is_string())
          node = e.value["node"].get<std::string>();
        known = node.has_value();
        if (!node) {
          ++s.leaderless_events;
        } else {
          bool is_new;
          if (e.value.contains("generation") && e.value["generation"].is_number_integer()) {
            int64_t g = e.value["generation"].get<int64_t>();
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
  struct Span {
    size_t start, stop;  // stop == end: never stopped
  };
  std::vector<Span> spans;
  std::map<std::string, std::deque<size_t>> open;
  auto stop = [&](size_t i, size_t p) {
    spans[i].stop = p;
    s.windows[i].stopped = true;
    s.windows[i].stop_ns = h[p]->time_ns;
    s.windows[i].stop_index = h[p]->index;
  };
  for (size_t p = 0; p < end; ++p) {
    if (!nemesis(p)) continue;
    const Event& e = *h[p];
    if (e.f == "skip") {
      ++s.skipped;
    } else if (std::string f = Opens(e.f); !f.empty()) {
      for (; f == "partition" && !open[f].empty(); open[f].pop_front()) stop(open[f].front(), p);
      open[f].push_back(spans.size());
      spans.push_back({p, end});
      FaultWindow w;
      w.fault = f;
      w.what = What(e.value);
      w.start_ns = e.time_ns;
      w.start_index = e.index;
      s.windows.push_back(std::move(w));
    } else if (std::string c = Closes(e.f); !c.empty() && !open[c].empty()) {
      stop(open[c].front(), p);
      open[c].pop_front();
    }
  }
  const int64_t last_ns = whole.empty() ? 0 : whole.back().time_ns;
  auto next_start = [&](size_t p) {
    size_t next = end;
    for (const Span& sp : spans)
      if (sp.start > p) next = std::min(next, sp.start);
    return next;
  };
  auto leader_after = [&](size_t p, size_t limit) -> std::optional<int64_t> {
    if (!any_observation) return std::nullopt;
    for (size_t q = p; q < limit; ++q)
      if (leader_known[q]) return h[q]->time_ns - h[p]->time_ns;
    return std::nullopt;
  };
  auto count = [](int64_t& ok, int64_t& fail, int64_t& info, EventType type) {
    ++(type == EventType::kOk ? ok : type == EventType::kFail ? fail : info);
  };
  for (size_t i = 0; i < spans.size(); ++i) {
    FaultWindow& w = s.windows[i];
    if (!w.stopped) w.stop_ns = std::max(w.start_ns, last_ns);
    for (size_t p = spans[i].start; p < std::min(end, spans[i].stop + 1); ++p)
      if (!nemesis(p)) count(w.ok, w.fail, w.info, h[p]->type);
    if (!w.stopped) continue;
    const size_t at = spans[i].stop, limit = next_start(at);
    for (size_t p = at + 1; p < limit; ++p) {
      if (!nemesis(p) && h[p]->type == EventType::kOk && IsMutating(h[p]->f)) {
        w.recovery_ns = h[p]->time_ns - h[at]->time_ns;
        break;
      }
    }
    w.leader_ns = leader_after(at, limit);
  }
  for (size_t p = 0; p < end; ++p) {
    if (nemesis(p)) continue;
    bool inside = std::any_of(spans.begin(), spans.end(),
                              [&](const Span& sp) { return sp.start <= p && p <= sp.stop; });
    if (inside) {
      count(s.ok_in_faults, s.fail_in_faults, s.info_in_faults, h[p]->type);
    } else {
      count(s.ok_outside, s.fail_outside, s.info_outside, h[p]->type);
    }
  }
  std::optional<size_t> last_stop;
  for (const Span& sp : spans)
    if (sp.stop < end && (!last_stop || sp.stop > *last_stop)) last_stop = sp.stop;
  if (last_stop) {
    FinalHeal fh;
    fh.time_ns = h[*last_stop]->time_ns;
    for (size_t p = *last_stop + 1; p < end; ++p) {
      if (!nemesis(p) && h[p]->type == EventType::kOk) {
        fh.first_ok_ns = h[p]->time_ns - fh.time_ns;
        fh.first_ok_f = h[p]->f;
        break;
      }
    }
    fh.leader_ns = leader_after(*last_stop, end);
    s.final_heal = fh;
  }
  return s;
}

}  // namespace reference

// Every field of a summary to the nanosecond (FaultSummaryToJson rounds to the millisecond).
json Exact(const FaultSummary& s) {
  auto ns = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(); };
  json windows = json::array();
  for (const FaultWindow& w : s.windows)
    windows.push_back({w.fault, w.what, w.start_ns, w.stop_ns, w.stopped, w.start_index,
                       w.stop_index, w.ok, w.fail, w.info, ns(w.recovery_ns), ns(w.leader_ns)});
  json out = {s.leader_changes, s.leaderless_events, s.leader_observations, s.skipped,
              windows,          s.ok_in_faults,      s.fail_in_faults,      s.info_in_faults,
              s.ok_outside,     s.fail_outside,      s.info_outside,        nullptr};
  if (s.final_heal)
    out.back() = {s.final_heal->time_ns, ns(s.final_heal->first_ok_ns), s.final_heal->first_ok_f,
                  ns(s.final_heal->leader_ns)};
  return out;
}

// A random history of faults, leader observations and client ops: overlapping windows of every
// kind, windows never stopped, stops with nothing open, skips, replaced partitions, odd nemesis
// events, equal times and, when `backwards`, times that sometimes go back.
History RandomHistory(Rng& rng, bool backwards) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  auto some_nodes = [&]() {
    json list = json::array();
    for (const std::string& n : nodes)
      if (rng.Bernoulli(0.35)) list.push_back(n);
    if (rng.Bernoulli(0.05)) list.push_back(7);  // not a name: left out
    return list;
  };
  auto fault_value = [&]() -> json {
    switch (rng.Uniform(5)) {
      case 0:
        return {{"shape", rng.Bernoulli(0.5) ? "leader" : "halves"},
                {"focus", some_nodes()},
                {"one_way", rng.Bernoulli(0.3)}};
      case 1:
        return {{"target", rng.Bernoulli(0.5) ? "leader" : "majority"}, {"nodes", some_nodes()}};
      case 2:
        return {{"nodes", some_nodes()}, {"error", "boom"}};
      case 3:
        return nullptr;
      default:
        return {{"nodes", some_nodes()}};
    }
  };
  const std::vector<std::string> starts = {"start-partition", "kill", "pause", "start-clock"};
  const std::vector<std::string> stops = {"stop-partition", "start", "resume", "stop-clock"};
  const std::vector<std::string> odd = {"start-", "stop-", "heal", "skip", "resume-all"};
  const std::vector<std::string> fs = {"append", "read", "get", "write", "cas"};
  const std::vector<EventType> completions = {EventType::kOk, EventType::kOk, EventType::kFail,
                                              EventType::kInfo};
  History h;
  const size_t n = rng.Uniform(160);
  int64_t t = static_cast<int64_t>(rng.Uniform(1000));
  int64_t generation = 0;
  for (size_t i = 0; i < n; ++i) {
    if (rng.Bernoulli(0.7)) t += static_cast<int64_t>(rng.Uniform(50'000'000));  // else equal
    if (backwards && rng.Bernoulli(0.1)) t -= static_cast<int64_t>(rng.Uniform(80'000'000));
    Event e;
    e.index = static_cast<int64_t>(i);
    e.time_ns = t;
    const uint64_t kind = rng.Uniform(100);
    if (kind < 10) {
      e.process = kNemesisProcess;
      e.type = rng.Bernoulli(0.1) ? EventType::kInvoke : EventType::kInfo;
      e.f = starts[rng.Uniform(starts.size())];
      e.value = fault_value();
    } else if (kind < 20) {
      e.process = kNemesisProcess;
      e.type = EventType::kInfo;
      e.f = stops[rng.Uniform(stops.size())];
      e.value = fault_value();
    } else if (kind < 32) {
      e.process = kNemesisProcess;
      e.type = EventType::kInfo;
      e.f = "leader";
      switch (rng.Uniform(6)) {
        case 0:
          e.value = {{"node", nullptr}};
          break;
        case 1:
          e.value = {{"node", nodes[rng.Uniform(nodes.size())]}};  // no generation
          break;
        case 2:
          e.value = rng.Bernoulli(0.5) ? json("n1") : json();  // not an object
          break;
        default:
          if (rng.Bernoulli(0.4)) generation += static_cast<int64_t>(rng.Uniform(3));
          e.value = {{"node", nodes[rng.Uniform(nodes.size())]},
                     {"generation", generation - static_cast<int64_t>(rng.Uniform(2))}};
      }
    } else if (kind < 35) {
      e.process = kNemesisProcess;
      e.type = EventType::kInfo;
      e.f = odd[rng.Uniform(odd.size())];
    } else {
      e.process = static_cast<int64_t>(rng.Uniform(6));
      e.type =
          rng.Bernoulli(0.4) ? EventType::kInvoke : completions[rng.Uniform(completions.size())];
      e.f = fs[rng.Uniform(fs.size())];
    }
    h.push_back(std::move(e));
  }
  return h;
}

// The streamed trace against the whole-history oracle, on random histories; also summarised
// part-way, since a trace can be summarised after any event.
TEST(FaultTraceTest, EqualsTheWholeHistoryAlgorithmOnRandomHistories) {
  constexpr uint64_t kSeed = 18;
  Rng rng(kSeed);
  int64_t windows = 0, unstopped = 0, replaced = 0, recovered = 0, led = 0, led_later = 0,
          final_ok = 0, final_leader = 0, in_faults = 0, backwards_histories = 0;
  for (int round = 0; round < 3000; ++round) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + ", history " + std::to_string(round));
    const bool backwards = round % 4 == 3;
    const History h = RandomHistory(rng, backwards);
    const FaultSummary want = reference::Summarize(h);
    const size_t cut = h.empty() ? 0 : rng.Uniform(h.size());
    FaultTrace trace;
    for (size_t i = 0; i < h.size(); ++i) {
      if (i == cut) {
        const History prefix(h.begin(), h.begin() + static_cast<ptrdiff_t>(cut));
        ASSERT_EQ(Exact(SummarizeFaults(trace)), Exact(reference::Summarize(prefix)))
            << "after " << cut << " events";
      }
      trace.Add(h[i]);
    }
    const FaultSummary got = SummarizeFaults(trace);
    ASSERT_EQ(Exact(got), Exact(want));
    ASSERT_EQ(FaultSummaryToJson(got), FaultSummaryToJson(want));
    ASSERT_EQ(Exact(SummarizeFaults(h)), Exact(want));
    ASSERT_EQ(FormatFaultSummary(got), FormatFaultSummary(want));

    for (const FaultWindow& w : want.windows) {
      ++windows;
      unstopped += !w.stopped;
      recovered += w.recovery_ns.has_value();
      led += w.leader_ns.has_value();
      led_later += w.leader_ns.value_or(0) != 0;
    }
    for (size_t i = 0; i + 1 < want.windows.size(); ++i)
      replaced += want.windows[i].fault == "partition" && want.windows[i].stopped &&
                  want.windows[i].stop_index == want.windows[i + 1].start_index;
    if (want.final_heal) {
      final_ok += want.final_heal->first_ok_ns.has_value();
      final_leader += want.final_heal->leader_ns.has_value();
    }
    in_faults += want.ok_in_faults + want.fail_in_faults + want.info_in_faults;
    backwards_histories +=
        std::adjacent_find(h.begin(), h.end(), [](const Event& a, const Event& b) {
          return b.time_ns < a.time_ns;
        }) != h.end();
  }
  // The histories exercise every rule, so agreeing means something.
  EXPECT_GT(windows, 20000);
  EXPECT_GT(unstopped, 5000);
  EXPECT_GT(replaced, 500);
  EXPECT_GT(recovered, 3000);
  EXPECT_GT(led, 5000);
  EXPECT_GT(led_later, 1000);
  EXPECT_GT(final_ok, 1000);
  EXPECT_GT(final_leader, 1000);
  EXPECT_GT(in_faults, 50000);
  EXPECT_GT(backwards_histories, 500);
}

// The trace holds the windows, not the ops: a million completions (and their invokes and leader
// observations) outside any fault, then a million inside one, leave its size as it was.
TEST(FaultTraceTest, MemoryDoesNotGrowWithClientCompletions) {
  FaultTrace trace;
  int64_t index = 0;
  auto add = [&](int64_t process, EventType type, const std::string& f, json value = nullptr) {
    Event e;
    e.index = index;
    e.time_ns = index * 1000;
    e.process = process;
    e.type = type;
    e.f = f;
    e.value = std::move(value);
    trace.Add(e);
    ++index;
  };
  auto leader = [&](const char* node) {
    add(kNemesisProcess, EventType::kInfo, "leader", {{"node", node}, {"generation", 1}});
  };
  leader("n1");
  add(kNemesisProcess, EventType::kInfo, "kill", {{"nodes", {"n1"}}, {"target", "leader"}});
  add(kNemesisProcess, EventType::kInfo, "start", {{"nodes", {"n1"}}});
  const std::vector<std::string> fs = {"append", "read", "cas"};
  const std::vector<EventType> types = {EventType::kOk, EventType::kFail, EventType::kInfo};
  auto completions = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string& f = fs[static_cast<size_t>(i) % fs.size()];
      add(i % 8, EventType::kInvoke, f);
      add(i % 8, types[static_cast<size_t>(i / 3) % types.size()], f);
      if (i % 1000 == 0) leader(i % 2000 == 0 ? "n1" : "n2");
    }
  };
  const size_t before = trace.BytesHeld();
  completions(1'000'000);
  EXPECT_EQ(trace.BytesHeld(), before) << "no fault open";
  add(kNemesisProcess, EventType::kInfo, "start-partition", {{"shape", "halves"}});
  const size_t with_window = trace.BytesHeld();
  completions(1'000'000);
  EXPECT_EQ(trace.BytesHeld(), with_window) << "a fault open";

  FaultSummary s = SummarizeFaults(trace);
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_EQ(s.ok_outside + s.fail_outside + s.info_outside, 1'000'000);
  EXPECT_EQ(s.windows[1].ok + s.windows[1].fail + s.windows[1].info, 1'000'000);
  EXPECT_FALSE(s.windows[1].stopped);
  ASSERT_TRUE(s.windows[0].recovery_ns);
  EXPECT_EQ(*s.windows[0].recovery_ns, 2000) << "the first append, two events after the stop";
  // And the measure is not blind: windows do cost memory.
  for (int i = 0; i < 1000; ++i) {
    add(kNemesisProcess, EventType::kInfo, "pause", {{"nodes", {"n2"}}, {"target", "one"}});
    add(kNemesisProcess, EventType::kInfo, "resume", {{"nodes", {"n2"}}});
  }
  EXPECT_GT(trace.BytesHeld(), with_window + 1000 * sizeof(FaultWindow));
}

}  // namespace
}  // namespace tidemark::checkers
