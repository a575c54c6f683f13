// Replica cross-check: committed prefixes agree and hold every acknowledged append; a replica
// that diverged is reported even when no client read it.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_test_util.h"

namespace tidemark::checkers {
namespace {

using nlohmann::json;
using testing::AnomalyCount;
using testing::LogHistory;
using testing::Names;
using V = std::vector<std::string>;

ReplicaLog Rep(const std::string& node, int64_t hwm, std::vector<ReplicaEntry> entries) {
  return ReplicaLog{node, hwm, std::move(entries)};
}

LogHistory TwoAcks() {
  LogHistory h;
  h.AppendOk(0, "a", 1, 2, 1, 2).AppendOk(0, "b", 2, 3, 3, 4);
  return h;
}

// ReplicaEntries keeps offsets and generations as runs: random logs (gaps, terms, entries with
// no client value) read back entry by entry, and LowerBound agrees with a search of the plain
// offsets at every offset around them.
TEST(ReplicaEntriesTest, RunsReadBackAsThePlainEntries) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<ReplicaEntry> plain;
    int64_t offset = static_cast<int64_t>(rng() % 5), generation = 1;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      if (rng() % 7 == 0) offset += 1 + static_cast<int64_t>(rng() % 4);  // a gap
      if (rng() % 9 == 0) ++generation;                                   // a new term
      ReplicaEntry e{offset++, generation, std::nullopt};
      if (rng() % 5 != 0) e.value = "v" + std::to_string(rng() % 20);
      plain.push_back(e);
    }
    const ReplicaEntries entries(plain);
    ASSERT_EQ(entries.size(), plain.size());
    std::vector<int64_t> offsets;
    for (size_t i = 0; i < plain.size(); ++i) {
      const ReplicaEntry e = entries[i];
      EXPECT_EQ(e.offset, plain[i].offset) << "trial " << trial << " entry " << i;
      EXPECT_EQ(e.generation, plain[i].generation) << "trial " << trial << " entry " << i;
      EXPECT_EQ(e.value, plain[i].value) << "trial " << trial << " entry " << i;
      offsets.push_back(plain[i].offset);
    }
    for (int64_t o = -1; o <= offset + 1; ++o) {
      const auto want = static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), o) -
                                            offsets.begin());
      EXPECT_EQ(entries.LowerBound(o), want) << "trial " << trial << " offset " << o;
    }
  }
}

TEST(ReplicaCheckTest, AgreeingReplicasAreValid) {
  std::vector<ReplicaLog> reps = {
      Rep("n1", 3, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}, {3, 2, "uncommitted"}}),
      Rep("n2", 3, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}}),
      Rep("n3", 2, {{0, 1, std::nullopt}, {1, 1, "a"}}),  // lags: a prefix
  };
  auto r = CheckReplicas(reps, TwoAcks().Ops());
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.explanation;
  EXPECT_EQ(r.checker, "log-replicas");
}

TEST(ReplicaCheckTest, SilentlyDivergedReplicaIsReported) {
  std::vector<ReplicaLog> reps = {
      Rep("n1", 3, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}}),
      Rep("n2", 3, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}}),
      Rep("n3", 3, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 2, "c"}}),
  };
  auto r = CheckReplicas(reps, TwoAcks().Ops());
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(Names(r), (V{"inconsistent-offsets", "lost-write"})) << r.explanation;
  const json& ex = r.details["anomalies"]["inconsistent-offsets"]["examples"][0];
  EXPECT_EQ(ex["offset"], 2);
  EXPECT_EQ(ex["replicas"]["n3"], "c");
  EXPECT_NE(ex["explanation"].get<std::string>().find("n3 (hwm 3) holds c"), std::string::npos)
      << ex.dump(2);
  EXPECT_EQ(r.details["anomalies"]["lost-write"]["examples"][0]["nodes"], json::array({"n3"}));
}

// The replica cross-check knows offsets, not times: its summary of the instances beyond the
// examples gives offsets and no time range (offsets once showed up as seconds in time_s).
TEST(ReplicaCheckTest, SummaryOfManyDivergencesHasOffsetsNotTimes) {
  std::vector<ReplicaEntry> good = {{0, 1, std::nullopt}}, bad = {{0, 1, std::nullopt}};
  for (int64_t o = 1; o <= 20; ++o) {
    good.push_back({o, 1, "v" + std::to_string(o)});
    bad.push_back({o, 2, "w" + std::to_string(o)});
  }
  std::vector<ReplicaLog> reps = {Rep("n1", 21, good), Rep("n2", 21, good), Rep("n3", 21, bad)};
  auto r = CheckReplicas(reps, LogHistory().Ops());
  const json& group = r.details["anomalies"]["inconsistent-offsets"];
  ASSERT_GT(group["omitted"].get<int>(), 0) << group.dump(2);
  EXPECT_TRUE(group["summary"]["time_s"].is_null()) << group["summary"].dump();
  EXPECT_EQ(group["summary"]["offsets"].back(), 20) << group["summary"].dump();
  EXPECT_EQ(r.explanation.find(" s)"), std::string::npos) << r.explanation;
}

TEST(ReplicaCheckTest, SameValueDifferentGenerationIsDivergence) {
  std::vector<ReplicaLog> reps = {
      Rep("n1", 2, {{0, 1, std::nullopt}, {1, 1, "a"}}),
      Rep("n2", 2, {{0, 1, std::nullopt}, {1, 2, "a"}}),
  };
  LogHistory h;
  h.AppendOk(0, "a", 1, 2, 1, 2);
  auto r = CheckReplicas(reps, h.Ops());
  EXPECT_EQ(Names(r), V{"inconsistent-offsets"}) << r.explanation;
}

TEST(ReplicaCheckTest, AcknowledgedAppendCommittedNowhereIsLost) {
  std::vector<ReplicaLog> reps = {
      Rep("n1", 2, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}}),  // b not committed
      Rep("n2", 2, {{0, 1, std::nullopt}, {1, 1, "a"}}),
  };
  auto r = CheckReplicas(reps, TwoAcks().Ops());
  EXPECT_EQ(Names(r), V{"lost-write"}) << r.explanation;
  EXPECT_EQ(AnomalyCount(r, "lost-write"), 1);
}

TEST(ReplicaCheckTest, DuplicateInOneReplica) {
  std::vector<ReplicaLog> reps = {
      Rep("n1", 4, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}, {3, 1, "b"}}),
      Rep("n2", 4, {{0, 1, std::nullopt}, {1, 1, "a"}, {2, 1, "b"}, {3, 1, "b"}}),
  };
  auto r = CheckReplicas(reps, TwoAcks().Ops());
  EXPECT_EQ(Names(r), V{"duplicate"}) << r.explanation;
  EXPECT_EQ(AnomalyCount(r, "duplicate"), 2);  // once per replica
}

TEST(ReplicaCheckTest, FromJsonShapes) {
  json one = {{"node", "n1"},
              {"hwm", 2},
              {"entries",
               {{{"offset", 0}, {"generation", 1}, {"value", nullptr}},
                {{"offset", 1}, {"generation", 1}, {"value", "a"}}}}};
  auto r = ReplicaLogFromJson(one);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->node, "n1");
  EXPECT_EQ(r->hwm, 2);
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_FALSE(r->entries[0].value.has_value());
  EXPECT_EQ(*r->entries[1].value, "a");

  json keyed = {{"n2", {{"commit_index", 1}, {"log", {{0, 1, "x"}}}}}};
  auto all = ReplicaLogsFromJson(keyed);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].node, "n2");
  EXPECT_EQ(*(*all)[0].entries[0].value, "x");

  auto listed = ReplicaLogsFromJson(json{{"replicas", json::array({one})}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);

  json noop = {{"node", "n1"},
               {"hwm", 1},
               {"entries", {{{"offset", 0}, {"generation", 3}, {"type", "noop"}}}}};
  auto n = ReplicaLogFromJson(noop);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->entries[0].value.has_value());
}

TEST(ReplicaCheckTest, ReadsTidelogDumpOutput) {
  // The shape `tidelog dump DATA_DIR` prints (targets/tidelog/main.cc).
  json dump = json::parse(R"({"generation":2,"voted_for":"n1","hwm_hint":3,"records":9,
    "valid_bytes":512,"corruption":null,"entries":[
    {"offset":0,"generation":1,"kind":"noop","client_id":"","seq":0,"payload":""},
    {"offset":1,"generation":1,"kind":"append","client_id":"w0","seq":1,"payload":"a"},
    {"offset":2,"generation":2,"kind":"kv-write","client_id":"w1","seq":1,"payload":"{}"},
    {"offset":3,"generation":2,"kind":"append","client_id":"w0","seq":2,"payload":"b"}]})");
  auto r = ReplicaLogFromJson(dump, "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->node, "n2");
  EXPECT_EQ(r->hwm, 3);
  ASSERT_EQ(r->entries.size(), 4u);
  EXPECT_FALSE(r->entries[0].value.has_value());
  EXPECT_EQ(r->entries[1].value, "a");
  EXPECT_FALSE(r->entries[2].value.has_value());
  EXPECT_EQ(r->entries[3].value, "b");  // at hwm 3: uncommitted
  auto all = ReplicaLogsFromJson(json{{"n1", dump}, {"n2", dump}});
  ASSERT_TRUE(all.ok());
  LogHistory h;
  h.AppendOk(0, "a", 1, 2, 1, 2);
  EXPECT_EQ(CheckReplicas(*all, h.Ops()).verdict, Verdict::kValid);
}

TEST(ReplicaCheckTest, MalformedDumpsAreErrorsOrUnknown) {
  EXPECT_FALSE(ReplicaLogFromJson(json{{"node", "n1"}, {"entries", json::array()}}).ok());
  EXPECT_FALSE(
      ReplicaLogFromJson(json{{"node", "n1"}, {"hwm", 1}, {"entries", {{1, 1, "a"}, {0, 1, "b"}}}})
          .ok());
  EXPECT_FALSE(ReplicaLogFromJson(json{{"node", "n1"}, {"hwm", 1}, {"entries", {{0, 1, 5}}}}).ok());
  EXPECT_EQ(CheckReplicas({}, TwoAcks().Ops()).verdict, Verdict::kUnknown);
  std::vector<ReplicaLog> dup = {Rep("n1", 0, {}), Rep("n1", 0, {})};
  EXPECT_EQ(CheckReplicas(dup, TwoAcks().Ops()).verdict, Verdict::kUnknown);
  std::vector<ReplicaLog> unordered = {Rep("n1", 2, {{1, 1, "a"}, {0, 1, "b"}})};
  EXPECT_EQ(CheckReplicas(unordered, TwoAcks().Ops()).verdict, Verdict::kUnknown);
}

}  // namespace
}  // namespace tidemark::checkers
