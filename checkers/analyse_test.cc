// Tests of Analyse: the model picks the checkers, the history alone decides the log checkers'
// options, counts and faults come with every verdict, and a broken history or checker says
// unknown rather than valid.
#include "checkers/analyse.h"

#include <iostream>
#include <iterator>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/history/compact_reads.h"
#include "checkers/log/log_sim.h"
#include "checkers/log/log_test_util.h"
#include "checkers/model.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using nlohmann::json;
using testing::LogHistory;

std::vector<std::string> Names(const Analysis& a) {
  std::vector<std::string> out;
  for (const CheckResult& r : a.checks) out.push_back(r.checker);
  return out;
}

// Two appends, a local read on n2 that sees both, then one that sees only the first.
LogHistory LocalReadGoesBack() {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "b"}}, 5, 6, "n2", "local");
  h.Read(2, 0, 1, 1, {{0, "a"}}, 7, 8, "n2", "local");
  h.FinalRead(3, 2, {{0, "a"}, {1, "b"}}, 30, 31);
  return h;
}

AnalysisSpec LogSpec() {
  AnalysisSpec spec;
  spec.model = "log";
  return spec;
}

TEST(AnalyseTest, LogModelRunsLogPrefixAndLeavesOutReplicasItWasNotGiven) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).FinalRead(1, 1, {{0, "a"}}, 3, 4);
  Analysis a = Analyse(h.Build(), LogSpec());
  EXPECT_EQ(Names(a), std::vector<std::string>{"log-prefix"});
  EXPECT_EQ(a.verdict, Verdict::kValid);
  EXPECT_EQ(a.ops, 2);
  EXPECT_EQ(a.events, 4);
  EXPECT_EQ(a.counts.invoke, 2);
  EXPECT_EQ(a.counts.ok, 2);
  EXPECT_EQ(a.end_ns, 4'000'000);
}

TEST(AnalyseTest, ReplicasThatCouldNotBeReadMakeTheVerdictUnknown) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  AnalysisSpec spec = LogSpec();
  spec.replicas = Result<std::vector<ReplicaLog>>(Error{"n2: dump timed out"});
  Analysis a = Analyse(h.Build(), spec);
  EXPECT_EQ(Names(a), (std::vector<std::string>{"log-prefix", "log-replicas"}));
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_NE(a.checks[1].summary.find("n2: dump timed out"), std::string::npos);
}

TEST(AnalyseTest, ALocalReadThatGoesBackIsInvalidUnlessANodeWasKilled) {
  EXPECT_EQ(Analyse(LocalReadGoesBack().Build(), LogSpec()).verdict, Verdict::kInvalid);
  LogHistory killed = LocalReadGoesBack();
  killed.Raw(history::kNemesisProcess, EventType::kInfo, "kill", json{{"nodes", {"n2"}}}, 6);
  killed.Raw(history::kNemesisProcess, EventType::kInfo, "start", json{{"nodes", {"n2"}}}, 7);
  Analysis a = Analyse(killed.Build(), LogSpec());
  EXPECT_EQ(a.verdict, Verdict::kValid) << ToJson(a).dump(2);
  EXPECT_EQ(a.counts.nemesis, 2);
  EXPECT_EQ(a.faults.windows.size(), 1u);
}

TEST(AnalyseTest, RegisterModelRunsLinearizabilityAndFindsAStaleRead) {
  history::History h;
  auto add = [&](int64_t p, EventType type, const char* f, json v, int64_t t) {
    history::Event e;
    e.index = static_cast<int64_t>(h.size());
    e.time_ns = t;
    e.process = p;
    e.type = type;
    e.f = f;
    e.value = std::move(v);
    h.push_back(std::move(e));
  };
  add(0, EventType::kInvoke, "write", 1, 1);
  add(0, EventType::kOk, "write", 1, 2);
  add(1, EventType::kInvoke, "read", nullptr, 3);
  add(1, EventType::kOk, "read", 0, 4);  // 1 was written before the read began
  AnalysisSpec spec;
  spec.model = "cas-register";
  Analysis a = Analyse(h, spec);
  EXPECT_EQ(Names(a), std::vector<std::string>{"linearizability"});
  EXPECT_EQ(a.verdict, Verdict::kInvalid);
  json j = ToJson(a);
  EXPECT_EQ(j["verdict"], "invalid");
  EXPECT_EQ(j["model"], "cas-register");
  EXPECT_EQ(j["checkers"][0]["checker"], "linearizability");
  for (const char* key : {"events", "ops", "counts", "duration_s", "faults"})
    EXPECT_TRUE(j.contains(key)) << key;
}

TEST(AnalyseTest, AHistoryThatDoesNotPairIsUnknownNotValid) {
  LogHistory h;
  h.Raw(0, EventType::kOk, "append", json{{"value", "a"}, {"offset", 0}, {"hwm", 1}}, 1);
  Analysis a = Analyse(h.Build(), LogSpec());
  EXPECT_EQ(Names(a), std::vector<std::string>{"history"});
  EXPECT_EQ(a.verdict, Verdict::kUnknown);
  EXPECT_NE(a.checks[0].summary.find("no outstanding invoke"), std::string::npos);
}

TEST(AnalyseTest, UnknownModelOrCheckerIsUnknown) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  AnalysisSpec spec;
  spec.model = "bank";
  EXPECT_EQ(Analyse(h.Build(), spec).verdict, Verdict::kUnknown);
  spec = LogSpec();
  spec.checkers = {"no-such-checker"};
  EXPECT_EQ(Analyse(h.Build(), spec).verdict, Verdict::kUnknown);
}

TEST(AnalyseTest, TheModelTableNamesEveryModel) {
  for (const std::string& model : ModelNames()) EXPECT_NE(CheckersFor(model), nullptr) << model;
  ASSERT_NE(CheckersFor("log"), nullptr);
  EXPECT_EQ(*CheckersFor("log"), (std::vector<std::string>{"log-prefix", "log-replicas"}));
  EXPECT_EQ(CheckersFor("bank"), nullptr);
}

// The events of `h` from the start, one at a time, at each opening (copies: h is compared after).
// *opened counts the openings.
EventSourceOpener Opener(const history::History& h, int* opened = nullptr) {
  return [&h, opened]() -> Result<EventSource> {
    if (opened) ++*opened;
    auto next = std::make_shared<size_t>(0);
    return EventSource([&h, next]() -> Result<std::optional<history::Event>> {
      if (*next == h.size()) return std::optional<history::Event>();
      return std::optional<history::Event>(h[(*next)++]);
    });
  };
}

// AnalyseLogStream over the events of `h`.
Result<Analysis> Streamed(const history::History& h, const AnalysisSpec& spec,
                          StreamedHistory* kept, int* opened = nullptr) {
  return AnalyseLogStream(Opener(h, opened), spec, kept);
}

// `h` with every ok read written compact, as `tidemark run` records it.
history::History Compacted(history::History h) {
  history::KnownLog known;
  for (history::Event& e : h) {
    if (e.type != EventType::kOk || e.f != "read" || !e.value.contains("entries")) continue;
    std::vector<std::string> texts;
    for (const json& pair : e.value["entries"]) texts.push_back(pair[1].dump());
    std::vector<history::KnownLog::EntryView> views;
    for (size_t i = 0; i < texts.size(); ++i)
      views.push_back({e.value["entries"][i][0].get<int64_t>(), texts[i]});
    const std::string consistency =
        e.value.contains("consistency") ? e.value["consistency"].dump() : "";
    e.value = json::parse(
        history::CompactLogRead(known, e.value["from"].get<int64_t>(), e.value["to"].get<int64_t>(),
                                e.value["hwm"].get<int64_t>(), consistency, views));
  }
  return h;
}

// Simulated logs, correct and with each injected fault, with kills and full or compact reads:
// the streamed analysis says exactly what the whole-history one says, and keeps the nemesis
// events.
TEST(AnalyseLogStreamTest, SaysWhatAnalyseSaysOnCorrectAndFaultyLogs) {
  int invalid = 0, screened_clean = 0, focused = 0;
  int64_t kept_reads = 0, dropped_reads = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    logsim::SimOptions o;
    o.seed = seed;
    o.ops = 400;
    history::History base = logsim::Simulate(o);
    std::vector<history::History> cases = {base};
    for (logsim::Fault f : logsim::kAllFaults) {
      history::History faulty = base;
      std::string what;
      if (logsim::InjectFault(&faulty, f, seed, &what)) cases.push_back(std::move(faulty));
    }
    for (history::History& h : cases) {
      // A kill of n2 a third of the way in (the local-read rule reads kill times).
      history::Event kill = h[h.size() / 3];
      kill.process = history::kNemesisProcess;
      kill.type = EventType::kInfo;
      kill.f = "kill";
      kill.key.reset();
      kill.node.reset();
      kill.value = json{{"nodes", {"n2"}}};
      h.insert(h.begin() + static_cast<std::ptrdiff_t>(h.size() / 3), kill);
      for (size_t i = 0; i < h.size(); ++i) h[i].index = static_cast<int64_t>(i);
      for (const history::History& form : {h, Compacted(h)}) {
        const Analysis whole = Analyse(form, LogSpec());
        StreamedHistory kept;
        int opened = 0;
        auto streamed = Streamed(form, LogSpec(), &kept, &opened);
        ASSERT_TRUE(streamed.ok()) << streamed.error().message;
        EXPECT_EQ(ToJson(*streamed), ToJson(whole)) << "seed " << seed;
        invalid += whole.verdict == Verdict::kInvalid;
        // Screened clean: read once; doubted (every invalid one): read again and checked whole.
        if (whole.verdict != Verdict::kValid) {
          EXPECT_TRUE(kept.screen_doubt) << "seed " << seed;
        }
        EXPECT_EQ(opened, kept.screen_doubt ? 2 : 1) << "seed " << seed;
        screened_clean += !kept.screen_doubt;
        // A doubt of an anomaly is local: the second reading keeps only the reads near it.
        if (kept.screen_doubt) {
          EXPECT_TRUE(kept.focused) << "seed " << seed << ": " << *kept.screen_doubt;
          focused += kept.focused;
          kept_reads += kept.reads_kept;
          dropped_reads += kept.reads_dropped;
        }
        const history::History nemesis = history::NemesisEvents(form);
        ASSERT_EQ(kept.nemesis.size(), nemesis.size());
        for (size_t i = 0; i < nemesis.size(); ++i) {
          EXPECT_EQ(kept.nemesis[i].index, nemesis[i].index);
          EXPECT_EQ(kept.nemesis[i].value, nemesis[i].value);
        }
      }
    }
  }
  EXPECT_GT(invalid, 6);          // the faults were found, both ways
  EXPECT_GE(screened_clean, 10);  // the correct ones (12: 6 seeds, full and compact) were screened
  std::cout << focused << " doubted logs checked focused, keeping " << kept_reads << " ok reads of "
            << kept_reads + dropped_reads << "\n";
  EXPECT_GE(focused, invalid);
  EXPECT_GT(dropped_reads, kept_reads);
}

// A correct client history whose replicas lost an ack: the screen passes it, log-replicas finds
// the loss, and the second reading, focused on nothing, keeps the final reads only and still
// gives Analyse's results.
TEST(AnalyseLogStreamTest, AReplicaThatLostAnAckIsCheckedFocusedOnTheFinalReads) {
  logsim::SimOptions o;
  o.seed = 3;
  o.ops = 400;
  const history::History h = logsim::Simulate(o);
  auto ops = history::PairOps(h);
  ASSERT_TRUE(ops.ok());
  std::map<int64_t, std::string> acked;
  int64_t finals = 0;
  for (const history::Op& op : *ops) {
    if (op.status != EventType::kOk) continue;
    if (op.f == "append") {
      acked.emplace(op.value["offset"].get<int64_t>(), op.invoke_value.get<std::string>());
    }
    finals += op.f == "read" && op.invoke_value.value("final", false);
  }
  ASSERT_GT(acked.size(), 10u);
  ReplicaLog n1{"n1", acked.rbegin()->first + 1, {}}, n2{"n2", n1.hwm, {}};
  const int64_t middle =
      std::next(acked.begin(), static_cast<std::ptrdiff_t>(acked.size() / 2))->first;
  for (const auto& [offset, value] : acked) {
    n1.entries.push_back(ReplicaEntry{offset, 1, value});
    if (offset != middle) n2.entries.push_back(ReplicaEntry{offset, 1, value});
  }
  AnalysisSpec spec = LogSpec();
  spec.replicas = Result<std::vector<ReplicaLog>>(std::vector<ReplicaLog>{n1, n2});
  const Analysis whole = Analyse(h, spec);
  ASSERT_EQ(whole.checks.size(), 2u);
  EXPECT_EQ(whole.checks[0].verdict, Verdict::kValid);
  EXPECT_EQ(whole.checks[1].verdict, Verdict::kInvalid);
  StreamedHistory kept;
  auto streamed = Streamed(h, spec, &kept);
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  EXPECT_EQ(ToJson(*streamed), ToJson(whole));
  EXPECT_EQ(kept.screen_doubt, "a checker found something in the acks");
  EXPECT_TRUE(kept.focused);
  EXPECT_EQ(kept.reads_kept, finals);
  EXPECT_GT(kept.reads_dropped, 0);
}

TEST(AnalyseLogStreamTest, AHistoryThatDoesNotPairOrCannotBeReadIsAnError) {
  LogHistory h;
  h.Raw(0, EventType::kOk, "append", json{{"value", "a"}, {"offset", 0}, {"hwm", 1}}, 1);
  StreamedHistory kept;
  auto a = Streamed(h.Build(), LogSpec(), &kept);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("no outstanding invoke"), std::string::npos);
  auto bad = AnalyseLogStream(
      []() -> Result<EventSource> {
        return EventSource(
            []() -> Result<std::optional<history::Event>> { return Error{"h.jsonl:3: bad line"}; });
      },
      LogSpec(), &kept);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "h.jsonl:3: bad line");
}

TEST(AnalyseLogStreamTest, AnOpOfAnotherWorkloadMakesTheLogPrefixVerdictUnknown) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  h.Raw(1, EventType::kInvoke, "write", 3, 3).Raw(1, EventType::kOk, "write", 3, 4);
  h.FinalRead(2, 1, {{0, "a"}}, 5, 6);
  const Analysis whole = Analyse(h.Build(), LogSpec());
  StreamedHistory kept;
  auto streamed = Streamed(h.Build(), LogSpec(), &kept);
  ASSERT_TRUE(streamed.ok());
  EXPECT_EQ(streamed->verdict, Verdict::kUnknown);
  EXPECT_EQ(ToJson(*streamed), ToJson(whole));
  EXPECT_NE(streamed->checks[0].summary.find("'write' is not an op of the log workload"),
            std::string::npos);
}

// Out of memory while reading (tidemark check caps the process at --memory-limit): unknown,
// saying so, and nothing half-read is kept.
TEST(AnalyseLogStreamTest, RunningOutOfMemoryWhileReadingIsUnknown) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(1, "b", 1, 2, 3, 4);
  const history::History events = h.Build();
  size_t next = 0;
  StreamedHistory kept;
  auto a = AnalyseLogStream(
      [&]() -> Result<EventSource> {
        return EventSource([&]() -> Result<std::optional<history::Event>> {
          if (next == 3) throw std::bad_alloc();
          return std::optional<history::Event>(events[next++]);
        });
      },
      LogSpec(), &kept);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verdict, Verdict::kUnknown);
  ASSERT_EQ(a->checks.size(), 1u);
  EXPECT_NE(a->checks[0].summary.find("ran out of memory"), std::string::npos);
  EXPECT_TRUE(kept.out_of_memory);
  EXPECT_TRUE(kept.nemesis.empty());
}

}  // namespace
}  // namespace tidemark::checkers
