// Hand-written histories: for every anomaly one where it must be found (named exactly once, with
// the ops that prove it) and near misses where it must not be.
#include "checkers/log/log_checker.h"

#include <gtest/gtest.h>

#include "base/history/jsonl.h"
#include "checkers/log/log_test_util.h"

namespace tidemark::checkers {
namespace {

using testing::AnomalyCount;
using testing::ExampleOps;
using testing::IdsAt;
using testing::LogHistory;
using testing::Names;
using V = std::vector<std::string>;

std::string Dump(const CheckResult& r) { return r.explanation + "\n" + r.details.dump(2); }

// ---------- valid histories and near misses ----------

TEST(LogPrefixTest, ValidHistoryIsValid) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(1, "b", 2, 3, 3, 4);  // offset 1: a no-op
  h.Read(2, 0, 3, 3, {{0, "a"}, {2, "b"}}, 5, 6);
  h.FinalRead(3, 3, {{0, "a"}, {2, "b"}}, 10, 11, "n1");
  h.Read(4, 0, 3, 3, {{0, "a"}, {2, "b"}}, 12, 13, "n2", "local", true);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kValid) << Dump(r);
  EXPECT_TRUE(Names(r).empty()) << Dump(r);
  EXPECT_EQ(r.checker, "log-prefix");
}

TEST(LogPrefixTest, InfoAppendThatNeverAppearsIsNotAnAnomaly) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendInfo(1, "lost-maybe", 3, 4);
  h.FinalRead(2, 1, {{0, "a"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kValid) << Dump(r);
}

TEST(LogPrefixTest, InfoAppendThatAppearsLaterIsNotAnAnomaly) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2);
  h.FinalRead(2, 1, {{0, "a"}}, 10, 11);
  EXPECT_EQ(h.Check().verdict, Verdict::kValid);
}

TEST(LogPrefixTest, LaggingLocalReadThatIsAPrefixIsNotAnAnomaly) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  // Began after both acks, but local: may be stale (hwm 1), never dirty.
  h.Read(1, 0, 1, 1, {{0, "a"}}, 5, 6, "n3", "local");
  h.Read(1, 0, 2, 2, {{0, "a"}, {1, "b"}}, 7, 8, "n3", "local");
  h.FinalRead(2, 2, {{0, "a"}, {1, "b"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kValid) << Dump(r);
}

TEST(LogPrefixTest, RetriedAppendDeduplicatedByTheTargetIsNotAnAnomaly) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2);            // timed out...
  h.AppendOk(5, "a", 0, 1, 3, 4);        // ...the retry gets the original offset
  h.AppendOk(6, "a", 0, 2, 5, 6, "n1");  // and a second retry too
  h.FinalRead(2, 2, {{0, "a"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kValid) << Dump(r);
}

TEST(LogPrefixTest, PagedReadsAreNotStaleAndPagedFinalReadsDefineTheLog) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(1, 0, 1, 2, {{0, "a"}}, 5, 6);  // one page: to < hwm
  h.Read(2, 0, 1, 2, {{0, "a"}}, 10, 11, "n1", "linearizable", true);
  h.Read(2, 1, 2, 2, {{1, "b"}}, 12, 13, "n1", "linearizable", true);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kValid) << Dump(r);
}

TEST(LogPrefixTest, LocalReadsOnDifferentNodesMayGoBackwards) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(1, 0, 2, 2, {{0, "a"}, {1, "b"}}, 5, 6, "n1", "local");
  h.Read(1, 0, 1, 1, {{0, "a"}}, 7, 8, "n3", "local");
  h.FinalRead(2, 2, {{0, "a"}, {1, "b"}}, 10, 11);
  EXPECT_EQ(h.Check().verdict, Verdict::kValid);
}

TEST(LogPrefixTest, ReadConcurrentWithAckNeedNotContainIt) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 6);
  h.Read(1, 0, 0, 0, {}, 2, 3);  // began before the ack returned
  h.FinalRead(2, 1, {{0, "a"}}, 10, 11);
  EXPECT_EQ(h.Check().verdict, Verdict::kValid);
}

// ---------- one test per anomaly ----------

TEST(LogPrefixTest, LostWriteByLaterReadHoldingAnotherValue) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  h.AppendOk(0, "b", 1, 2, 3, 4, "n1");  // acked by the old leader
  h.AppendInfo(1, "c", 5, 6);
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "c"}}, 7, 8, "n2");
  h.FinalRead(3, 2, {{0, "a"}, {1, "c"}}, 10, 11, "n2");
  auto r = h.Check();
  auto ops = h.Ops();
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  ASSERT_EQ(AnomalyCount(r, "lost-write"), 1) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "lost-write"), IdsAt(ops, {3, 7})) << Dump(r);
  // The same facts seen per offset.
  EXPECT_EQ(AnomalyCount(r, "inconsistent-offsets"), 1) << Dump(r);
  EXPECT_EQ(Names(r), (V{"inconsistent-offsets", "lost-write"})) << Dump(r);
  std::string ex = r.details["anomalies"]["lost-write"]["examples"][0]["explanation"];
  EXPECT_NE(ex.find("append b was acknowledged at offset 1 by n1 at 0.004 s"), std::string::npos)
      << ex;
  EXPECT_NE(ex.find("holds c at 1"), std::string::npos) << ex;
}

TEST(LogPrefixTest, LostWriteByFinalReadHoldingNothing) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.FinalRead(3, 2, {{0, "a"}}, 10, 11);
  auto r = h.Check();
  ASSERT_EQ(AnomalyCount(r, "lost-write"), 1) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "lost-write"), IdsAt(h.Ops(), {3, 10}));
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
}

TEST(LogPrefixTest, LostWriteWhenTheFinalLogEndsBeforeASeenValue) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(1, 0, 2, 2, {{0, "a"}, {1, "b"}}, 5, 6);
  h.FinalRead(3, 1, {{0, "a"}}, 10, 11);  // the log shrank
  auto r = h.Check();
  ASSERT_EQ(AnomalyCount(r, "lost-write"), 1) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "lost-write"), IdsAt(h.Ops(), {3, 10}));
  EXPECT_EQ(AnomalyCount(r, "dirty-read"), 1) << Dump(r);  // the read of b, not in the final log
  EXPECT_EQ(AnomalyCount(r, "unseen"), 0);
}

TEST(LogPrefixTest, UnseenWithoutFinalReadsIsUnknown) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 5, 6, 3, 4);
  h.Read(1, 0, 1, 1, {{0, "a"}}, 5, 6, "n2", "local");  // stale local read: no evidence
  auto r = h.Check();
  ASSERT_EQ(AnomalyCount(r, "unseen"), 1) << Dump(r);
  EXPECT_EQ(Names(r), V{"unseen"});
  EXPECT_EQ(ExampleOps(r, "unseen"), IdsAt(h.Ops(), {3}));
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << Dump(r);
}

TEST(LogPrefixTest, UnseenWithFinalReadsIsInvalid) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 5, 6, 3, 4);
  // A local final read ending before offset 5 (a linearizable one would also be a stale-read).
  h.Read(1, 0, 1, 1, {{0, "a"}}, 10, 11, "n2", "local", true);
  auto r = h.Check();
  ASSERT_EQ(AnomalyCount(r, "unseen"), 1) << Dump(r);
  EXPECT_EQ(Names(r), V{"unseen"});
  EXPECT_EQ(ExampleOps(r, "unseen"), IdsAt(h.Ops(), {3, 10}));
  EXPECT_EQ(r.verdict, Verdict::kInvalid) << Dump(r);
}

TEST(LogPrefixTest, InconsistentOffsetsBetweenTwoReads) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2).AppendInfo(1, "b", 3, 4);
  h.Read(2, 0, 1, 1, {{0, "a"}}, 5, 6, "n1");
  h.Read(3, 0, 1, 1, {{0, "b"}}, 7, 8, "n2");
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"inconsistent-offsets"}) << Dump(r);
  EXPECT_EQ(AnomalyCount(r, "inconsistent-offsets"), 1);
  EXPECT_EQ(ExampleOps(r, "inconsistent-offsets"), IdsAt(h.Ops(), {5, 7}));
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
}

TEST(LogPrefixTest, FinalReadsThatDisagreeAreInconsistentOffsets) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2).AppendInfo(1, "b", 3, 4);
  h.FinalRead(2, 2, {{0, "a"}, {1, "b"}}, 10, 11, "n1");
  h.FinalRead(3, 2, {{0, "a"}}, 12, 13, "n2");  // nothing at 1: a no-op there
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"inconsistent-offsets"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "inconsistent-offsets"), IdsAt(h.Ops(), {10, 12}));
  EXPECT_EQ(r.details["anomalies"]["inconsistent-offsets"]["examples"][0]["offset"], 1);
}

TEST(LogPrefixTest, DuplicateWhenARetryIsAppliedTwice) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2);
  h.AppendOk(5, "a", 1, 2, 3, 4);
  h.FinalRead(2, 2, {{0, "a"}, {1, "a"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"duplicate"}) << Dump(r);
  EXPECT_EQ(AnomalyCount(r, "duplicate"), 1);
  // The ack at offset 1 and the final read that also shows offset 0.
  EXPECT_EQ(ExampleOps(r, "duplicate"), IdsAt(h.Ops(), {3, 10}));
}

TEST(LogPrefixTest, AbortedRead) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendFail(1, "x", 3, 4);
  h.FinalRead(2, 2, {{0, "a"}, {1, "x"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"aborted-read"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "aborted-read"), IdsAt(h.Ops(), {3, 10}));
}

TEST(LogPrefixTest, FailedAttemptWithASuccessfulRetryIsNotAborted) {
  LogHistory h;
  h.AppendFail(0, "x", 1, 2).AppendOk(0, "x", 0, 1, 3, 4);
  h.FinalRead(2, 1, {{0, "x"}}, 10, 11);
  EXPECT_EQ(h.Check().verdict, Verdict::kValid);
}

TEST(LogPrefixTest, PhantomReadOfAValueNeverAppended) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  h.Read(1, 0, 2, 2, {{0, "a"}, {1, "ghost"}}, 5, 6);
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "ghost"}}, 7, 8);
  h.FinalRead(3, 2, {{0, "a"}, {1, "ghost"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"phantom-read"}) << Dump(r);
  EXPECT_EQ(AnomalyCount(r, "phantom-read"), 1);  // one value, however many reads
  EXPECT_EQ(ExampleOps(r, "phantom-read"), IdsAt(h.Ops(), {5}));
  EXPECT_EQ(r.details["anomalies"]["phantom-read"]["examples"][0]["occurrences"], 3);
}

TEST(LogPrefixTest, PhantomReadOfAValueBeforeItWasAppended) {
  LogHistory h;
  h.Read(1, 0, 1, 1, {{0, "a"}}, 1, 2);
  h.AppendOk(0, "a", 0, 1, 3, 4);
  h.FinalRead(3, 1, {{0, "a"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"phantom-read"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "phantom-read"), IdsAt(h.Ops(), {1, 3}));
}

TEST(LogPrefixTest, ValueReadBeforeItsFailedAppendIsPhantomThenAborted) {
  LogHistory h;
  h.Read(1, 0, 1, 1, {{0, "x"}}, 1, 2);  // before any append of x
  h.AppendFail(0, "x", 3, 4);
  h.Read(1, 0, 1, 1, {{0, "x"}}, 5, 6);
  h.Read(2, 0, 1, 1, {{0, "x"}}, 7, 8);
  auto r = h.Check();
  EXPECT_EQ(Names(r), (V{"aborted-read", "phantom-read"})) << Dump(r);
  EXPECT_EQ(AnomalyCount(r, "phantom-read"), 1);
  EXPECT_EQ(AnomalyCount(r, "aborted-read"), 1);
  EXPECT_EQ(ExampleOps(r, "aborted-read"), IdsAt(h.Ops(), {3, 5}));
  EXPECT_EQ(r.details["anomalies"]["aborted-read"]["examples"][0]["occurrences"], 2);
}

TEST(LogPrefixTest, DirtyReadAboveTheReadsOwnHwm) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(1, "b", 1, 2, 3, 9);
  h.Read(2, 0, 2, 1, {{0, "a"}, {1, "b"}}, 4, 5);  // b served at offset 1 >= hwm 1
  h.FinalRead(3, 2, {{0, "a"}, {1, "b"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"dirty-read"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "dirty-read"), IdsAt(h.Ops(), {4}));
  EXPECT_EQ(r.details["anomalies"]["dirty-read"]["examples"][0]["reasons"],
            nlohmann::json::array({"above-hwm"}));
}

TEST(LogPrefixTest, DirtyReadOfAnEntryTheFinalLogDoesNotHold) {
  LogHistory h;
  h.AppendInfo(0, "a", 1, 2).AppendOk(1, "b", 0, 1, 6, 7);
  h.Read(2, 0, 1, 1, {{0, "a"}}, 3, 4, "n3", "local");
  h.FinalRead(3, 1, {{0, "b"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(AnomalyCount(r, "dirty-read"), 1) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "dirty-read"), IdsAt(h.Ops(), {3, 10}));
  // The read and the ack disagree about offset 0 as well.
  EXPECT_EQ(Names(r), (V{"dirty-read", "inconsistent-offsets"})) << Dump(r);
}

TEST(LogPrefixTest, StaleLinearizableRead) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(1, 0, 1, 1, {{0, "a"}}, 5, 6, "n1");  // linearizable, began after b's ack
  h.FinalRead(2, 2, {{0, "a"}, {1, "b"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"stale-read"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "stale-read"), IdsAt(h.Ops(), {3, 5}));
}

TEST(LogPrefixTest, NonmonotonicLinearizableReads) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  h.AppendOk(1, "b", 1, 2, 2, 20);  // acked late: the second read is not stale
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "b"}}, 3, 4, "n1");
  h.Read(2, 0, 1, 1, {{0, "a"}}, 5, 6, "n2");
  h.FinalRead(3, 2, {{0, "a"}, {1, "b"}}, 30, 31);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"nonmonotonic-read"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "nonmonotonic-read"), IdsAt(h.Ops(), {3, 5}));
}

TEST(LogPrefixTest, NonmonotonicLocalReadsOnOneNode) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "b"}}, 5, 6, "n2", "local");
  h.Read(2, 0, 1, 1, {{0, "a"}}, 7, 8, "n2", "local");
  h.FinalRead(3, 2, {{0, "a"}, {1, "b"}}, 30, 31);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"nonmonotonic-read"}) << Dump(r);
  LogCheckOptions opts;
  opts.local_reads_monotonic = false;
  EXPECT_EQ(h.Check(opts).verdict, Verdict::kValid);
}

// A node killed between two local reads of it may answer the second from a fresh incarnation
// that has not relearned its HWM yet: not an anomaly. A kill of another node, or one outside
// the two reads, does not excuse the regression.
TEST(LogPrefixTest, LocalReadsAcrossAKillOfThatNodeAreNotCompared) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2).AppendOk(0, "b", 1, 2, 3, 4);
  h.Read(2, 0, 2, 2, {{0, "a"}, {1, "b"}}, 5, 6, "n2", "local");
  h.Read(2, 0, 1, 1, {{0, "a"}}, 9, 10, "n2", "local");
  h.FinalRead(3, 2, {{0, "a"}, {1, "b"}}, 30, 31);
  LogCheckOptions opts;
  opts.kills_ns = {{"n2", {7'000'000}}};  // the history's times are ms (log_test_util.h)
  EXPECT_EQ(h.Check(opts).verdict, Verdict::kValid) << Dump(h.Check(opts));
  opts.kills_ns = {{"n1", {7'000'000}}, {"n2", {2'000'000, 12'000'000}}};
  EXPECT_EQ(Names(h.Check(opts)), V{"nonmonotonic-read"});
}

// The kill times come from the history's nemesis "kill" events.
TEST(LogPrefixTest, KillTimesReadsTheNemesisKillEvents) {
  history::History events(3);
  events[0].process = history::kNemesisProcess;
  events[0].f = "kill";
  events[0].time_ns = 7;
  events[0].value = {{"nodes", {"n1", "n3"}}, {"target", "majority"}};
  events[1] = events[0];
  events[1].f = "pause";
  events[2] = events[0];
  events[2].process = 4;  // a client op named "kill" is not a nemesis kill
  auto k = KillTimes(events);
  EXPECT_EQ(k, (std::map<std::string, std::vector<int64_t>>{{"n1", {7}}, {"n3", {7}}}));
}

TEST(LogPrefixTest, AckAboveHwm) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 0, 1, 2);
  h.FinalRead(3, 1, {{0, "a"}}, 10, 11);
  auto r = h.Check();
  EXPECT_EQ(Names(r), V{"ack-above-hwm"}) << Dump(r);
  EXPECT_EQ(ExampleOps(r, "ack-above-hwm"), IdsAt(h.Ops(), {1}));
}

// ---------- reporting ----------

TEST(LogPrefixTest, TenThousandLostWritesGiveASmallResult) {
  LogHistory h;
  for (int i = 0; i < 10000; ++i) {
    h.AppendOk(i % 8, "v" + std::to_string(i), i, i + 1, 10 * i + 1, 10 * i + 2,
               i % 2 ? "n1" : "n2");
  }
  h.FinalRead(9, 10000, {}, 200000, 200001);
  auto r = h.Check();
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  const auto& lw = r.details["anomalies"]["lost-write"];
  EXPECT_EQ(lw["count"], 10000);
  EXPECT_EQ(lw["examples"].size(), 5u);
  EXPECT_EQ(lw["omitted"], 9995);
  EXPECT_EQ(lw["summary"]["ops"].size(), 100u);
  EXPECT_TRUE(lw["summary"]["ops_truncated"].get<bool>());
  EXPECT_EQ(lw["summary"]["offsets"], nlohmann::json::array({5, 9999}));
  EXPECT_EQ(lw["summary"]["by_node"]["n1"].get<int>() + lw["summary"]["by_node"]["n2"].get<int>(),
            9995);
  EXPECT_LT(r.details.dump().size(), 60000u);
  EXPECT_LT(r.explanation.size(), 6000u);
}

TEST(LogPrefixTest, ExamplesCarryEventIndices) {
  LogHistory h;
  h.AppendOk(0, "a", 0, 1, 1, 2);
  h.FinalRead(3, 1, {}, 10, 11);
  auto r = h.Check();
  const auto& ex = r.details["anomalies"]["lost-write"]["examples"][0];
  EXPECT_EQ(ex["events"], nlohmann::json::array({0, 1, 2, 3})) << Dump(r);
}

// ---------- malformed input is never valid ----------

TEST(LogPrefixTest, MalformedOpsAreUnknown) {
  {
    LogHistory h;
    h.Raw(0, history::EventType::kInvoke, "append", "a", 1);
    h.Raw(0, history::EventType::kOk, "append", {{"value", "a"}, {"offset", "zero"}, {"hwm", 1}},
          2);
    auto r = h.Check();
    EXPECT_EQ(r.verdict, Verdict::kUnknown);
    EXPECT_NE(r.summary.find("offset"), std::string::npos) << r.summary;
  }
  {
    LogHistory h;
    h.Raw(0, history::EventType::kInvoke, "read", {{"from", 0}}, 1);
    h.Raw(0, history::EventType::kOk, "read", {{"from", 0}, {"to", 1}, {"hwm", 1}}, 2);
    EXPECT_EQ(h.Check().verdict, Verdict::kUnknown);
  }
  {
    LogHistory h;  // entries out of order
    h.Raw(0, history::EventType::kInvoke, "read", {{"from", 0}}, 1);
    h.Raw(0, history::EventType::kOk, "read",
          {{"from", 0}, {"to", 3}, {"hwm", 3}, {"entries", {{2, "b"}, {1, "a"}}}}, 2);
    EXPECT_EQ(h.Check().verdict, Verdict::kUnknown);
  }
  {
    LogHistory h;  // a register op in a log history
    h.Raw(0, history::EventType::kInvoke, "write", 3, 1);
    h.Raw(0, history::EventType::kOk, "write", 3, 2);
    h.AppendOk(1, "a", 0, 1, 3, 4);
    auto r = h.Check();
    EXPECT_EQ(r.verdict, Verdict::kUnknown);
    LogCheckOptions opts;
    opts.ignore_other_ops = true;
    EXPECT_NE(h.Check(opts).verdict, Verdict::kValid);  // unseen, no final read: unknown
  }
  EXPECT_EQ(CheckLogPrefix({}).verdict, Verdict::kUnknown);
}

// ---------- the example histories in docs/examples ----------

TEST(LogPrefixTest, DocsExamples) {
  struct Case {
    const char* file;
    Verdict verdict;
    const char* anomaly;
  };
  for (const Case& c : {Case{"log-valid.jsonl", Verdict::kValid, nullptr},
                        Case{"log-lost-write.jsonl", Verdict::kInvalid, "lost-write"}}) {
    std::string path = std::string(TIDEMARK_SOURCE_DIR) + "/docs/examples/" + c.file;
    auto h = history::ReadJsonlFile(path);
    ASSERT_TRUE(h.ok()) << h.error().message;
    auto ops = history::PairOps(h->events);
    ASSERT_TRUE(ops.ok()) << ops.error().message;
    auto r = CheckLogPrefix(*ops);
    EXPECT_EQ(r.verdict, c.verdict) << c.file << "\n" << Dump(r);
    if (c.anomaly) {
      EXPECT_GE(AnomalyCount(r, c.anomaly), 1) << c.file;
    }
  }
}

}  // namespace
}  // namespace tidemark::checkers
