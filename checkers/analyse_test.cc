// Tests of Analyse: the model picks the checkers, the history alone decides the log checkers'
// options, counts and faults come with every verdict, and a broken history or checker says
// unknown rather than valid.
#include "checkers/analyse.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tidemark::checkers
