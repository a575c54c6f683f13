#include "checkers/fault_summary.h"

#include <gtest/gtest.h>

#include "base/history/jsonl.h"
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

}  // namespace
}  // namespace tidemark::checkers
