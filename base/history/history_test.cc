#include "base/history/history.h"

#include <gtest/gtest.h>

namespace tidemark::history {
namespace {

Event Ev(int64_t index, int64_t process, EventType type, std::string f, nlohmann::json value) {
  Event e;
  e.index = index;
  e.time_ns = index * 10;
  e.process = process;
  e.type = type;
  e.f = std::move(f);
  e.value = std::move(value);
  return e;
}

TEST(PairOpsTest, PairsInvokeWithCompletionAndKeepsOpenInvokesAsInfo) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3),
               Ev(1, 1, EventType::kInvoke, "read", nullptr), Ev(2, 0, EventType::kOk, "write", 3),
               Ev(3, 1, EventType::kOk, "read", 3), Ev(4, 2, EventType::kInvoke, "cas", {3, 4})};
  auto ops = PairOps(h);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].status, EventType::kOk);
  EXPECT_EQ((*ops)[0].call_ns, 0);
  EXPECT_EQ((*ops)[0].return_ns, 20);
  EXPECT_EQ((*ops)[1].value, 3);
  EXPECT_EQ((*ops)[2].status, EventType::kInfo);
  EXPECT_EQ((*ops)[2].return_ns, kNever);
}

TEST(PairOpsTest, RejectsCompletionWithoutInvoke) {
  History h = {Ev(0, 0, EventType::kOk, "write", 3)};
  auto ops = PairOps(h);
  ASSERT_FALSE(ops.ok());
  EXPECT_NE(ops.error().message.find("no outstanding invoke"), std::string::npos);
}

TEST(PairOpsTest, RejectsSecondInvokeWhileOutstanding) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3),
               Ev(1, 0, EventType::kInvoke, "read", nullptr)};
  auto ops = PairOps(h);
  ASSERT_FALSE(ops.ok());
  EXPECT_NE(ops.error().message.find("still outstanding"), std::string::npos);
}

// Pairing keeps a flat table of outstanding invokes when process ids are small and a hash map
// when one is far beyond the history's length (or negative): the same pairs and errors either
// way.
TEST(PairOpsTest, PairsAlikeWhateverTheProcessIds) {
  for (int64_t base : {int64_t{0}, int64_t{1} << 40, int64_t{-50}}) {
    SCOPED_TRACE(base);
    History h = {Ev(0, base + 7, EventType::kInvoke, "write", 3),
                 Ev(1, base + 2, EventType::kInvoke, "read", nullptr),
                 Ev(2, base + 2, EventType::kOk, "read", 3),
                 Ev(3, base + 7, EventType::kOk, "write", 3),
                 Ev(4, base + 2, EventType::kInvoke, "cas", {3, 4})};
    auto ops = PairOps(h);
    ASSERT_TRUE(ops.ok()) << ops.error().message;
    ASSERT_EQ(ops->size(), 3u);
    EXPECT_EQ((*ops)[0].process, base + 7);
    EXPECT_EQ((*ops)[0].complete_index, 3);
    EXPECT_EQ((*ops)[1].complete_index, 2);
    EXPECT_EQ((*ops)[2].status, EventType::kInfo);

    // Without open invokes allowed, the earliest open one is named, whatever the table.
    History open = {Ev(0, base + 9, EventType::kInvoke, "read", nullptr),
                    Ev(1, base + 1, EventType::kInvoke, "write", 1),
                    Ev(2, base + 3, EventType::kInvoke, "write", 2),
                    Ev(3, base + 1, EventType::kOk, "write", 1)};
    PairOptions strict;
    strict.open_invokes_are_info = false;
    auto bad = PairOps(open, strict);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("event 0: invoke of 'read' by process " +
                                       std::to_string(base + 9) + " never completed"),
              std::string::npos)
        << bad.error().message;
    History twice = {Ev(0, base + 4, EventType::kInvoke, "write", 3),
                     Ev(1, base + 4, EventType::kInvoke, "read", nullptr)};
    auto again = PairOps(twice);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("while its invoke at event 0 is still outstanding"),
              std::string::npos)
        << again.error().message;
  }
}

TEST(PairOpsTest, InfoCompletionReturnsAtInfinityAndNemesisIsSkipped) {
  History h = {Ev(0, kNemesisProcess, EventType::kInfo, "start-partition", "majority"),
               Ev(1, 0, EventType::kInvoke, "write", 1),
               Ev(2, 0, EventType::kInfo, "write", nullptr)};
  auto ops = PairOps(h);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].status, EventType::kInfo);
  EXPECT_EQ((*ops)[0].return_ns, kNever);
  EXPECT_EQ((*ops)[0].value, 1);  // a write's argument survives a value-less completion
  EXPECT_EQ(NemesisEvents(h).size(), 1u);
}

TEST(PairOpsTest, LenientPairingKeepsWhatItCanOfABrokenHistory) {
  History h = {Ev(0, 0, EventType::kOk, "write", 9),  // orphan completion: skipped
               Ev(1, 0, EventType::kInvoke, "write", 1),
               Ev(2, 0, EventType::kInvoke, "read", nullptr),  // closes the write as info
               Ev(3, 0, EventType::kOk, "read", 1),
               Ev(4, 1, EventType::kInvoke, "cas", {1, 2}),
               Ev(5, 1, EventType::kOk, "write", nullptr)};  // f differs: completes the cas
  ASSERT_FALSE(PairOps(h).ok());
  PairOptions lenient;
  lenient.lenient = true;
  auto ops = PairOps(h, lenient);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].status, EventType::kInfo);
  EXPECT_EQ((*ops)[1].status, EventType::kOk);
  EXPECT_EQ((*ops)[1].value, 1);
  EXPECT_EQ((*ops)[2].status, EventType::kOk);
  EXPECT_EQ((*ops)[2].complete_index, 5);
}

TEST(PairOpsTest, LenientPairingOfAWellFormedHistoryIsPairOps) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3),
               Ev(1, 1, EventType::kInvoke, "read", nullptr), Ev(2, 0, EventType::kOk, "write", 3),
               Ev(3, 1, EventType::kOk, "read", nullptr),
               Ev(4, 2, EventType::kInvoke, "cas", {3, 4})};
  PairOptions lenient;
  lenient.lenient = true;
  auto strict = PairOps(h);
  auto loose = PairOps(h, lenient);
  ASSERT_TRUE(strict.ok() && loose.ok());
  ASSERT_EQ(strict->size(), loose->size());
  for (size_t i = 0; i < strict->size(); ++i) {
    EXPECT_EQ((*strict)[i].value, (*loose)[i].value);
    EXPECT_EQ((*strict)[i].status, (*loose)[i].status);
    EXPECT_EQ((*strict)[i].complete_index, (*loose)[i].complete_index);
  }
}

void ExpectSameOps(const std::vector<Op>& a, const std::vector<Op>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("op " + std::to_string(i));
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].process, b[i].process);
    EXPECT_EQ(a[i].f, b[i].f);
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].invoke_value, b[i].invoke_value);
    EXPECT_EQ(a[i].value, b[i].value);
    EXPECT_EQ(a[i].status, b[i].status);
    EXPECT_EQ(a[i].call_ns, b[i].call_ns);
    EXPECT_EQ(a[i].return_ns, b[i].return_ns);
    EXPECT_EQ(a[i].invoke_index, b[i].invoke_index);
    EXPECT_EQ(a[i].complete_index, b[i].complete_index);
    EXPECT_EQ(a[i].node, b[i].node);
    EXPECT_EQ(a[i].error, b[i].error);
  }
}

TEST(PairOpsTest, TakingValuesGivesTheSameOpsAndLeavesTheEventsTheirSkeleton) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3),
               Ev(1, 1, EventType::kInvoke, "read", nullptr),
               Ev(2, kNemesisProcess, EventType::kInfo, "start-partition", {{"shape", "one"}}),
               Ev(3, 0, EventType::kOk, "write", nullptr),  // keeps the argument
               Ev(4, 1, EventType::kOk, "read", {{"from", 0}, {"to", 1}}),
               Ev(5, 2, EventType::kInvoke, "read", nullptr),
               Ev(6, 2, EventType::kOk, "read", nullptr),  // an ok read of nothing: null
               Ev(7, 3, EventType::kInvoke, "cas", {3, 4}),
               Ev(8, 3, EventType::kFail, "cas", nullptr),
               Ev(9, 4, EventType::kInvoke, "append", "v4-1")};  // never completes: info
  h[0].node = "n1";
  h[3].node = "n2";  // the completion's node wins
  h[8].error = "precondition failed";
  h[4].key = h[1].key = "k";
  auto copied = PairOps(h);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  History taken_from = h;
  auto taken = PairOpsTakingValues(taken_from);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  ExpectSameOps(*copied, *taken);
  ASSERT_EQ(taken_from.size(), h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    const Event& before = h[i];
    const Event& after = taken_from[i];
    EXPECT_EQ(after.index, before.index);
    EXPECT_EQ(after.time_ns, before.time_ns);
    EXPECT_EQ(after.process, before.process);
    EXPECT_EQ(after.type, before.type);
    EXPECT_EQ(after.f, before.f);
    EXPECT_EQ(after.key, before.key);
    if (before.process == kNemesisProcess) {
      EXPECT_EQ(after.value, before.value);
    } else {
      EXPECT_TRUE(after.value.is_null());
      EXPECT_FALSE(after.node.has_value());
      EXPECT_FALSE(after.error.has_value());
    }
  }
}

TEST(PairOpsTest, TakingValuesFromAHistoryThatDoesNotPairLeavesItWhole) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3), Ev(1, 0, EventType::kOk, "write", 3),
               Ev(2, 0, EventType::kOk, "write", 4)};  // no outstanding invoke
  History copy = h;
  auto taken = PairOpsTakingValues(copy);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message.find("no outstanding invoke"), std::string::npos);
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(copy[i].value, h[i].value) << i;
}

// OpStream over `h`: every op as the stream hands it out, placed at its id.
Result<std::vector<Op>> Stream(const History& h) {
  OpStream stream;
  std::vector<Op> ops;
  for (const Event& e : h) {
    auto op = stream.Add(Event(e));
    if (!op.ok()) return op.error();
    if (*op == nullptr) continue;
    if (ops.size() <= static_cast<size_t>((*op)->id))
      ops.resize(static_cast<size_t>((*op)->id) + 1);
    if (e.type != EventType::kInvoke) ops[static_cast<size_t>((*op)->id)] = std::move(**op);
  }
  for (Op& op : stream.Finish()) ops[static_cast<size_t>(op.id)] = std::move(op);
  return ops;
}

TEST(OpStreamTest, PairsAsPairOpsDoesOneEventAtATime) {
  History h = {Ev(0, 0, EventType::kInvoke, "write", 3),
               Ev(1, 1, EventType::kInvoke, "read", nullptr),
               Ev(2, kNemesisProcess, EventType::kInfo, "start-partition", {{"shape", "one"}}),
               Ev(3, 0, EventType::kOk, "write", nullptr),  // keeps the argument
               Ev(4, 1, EventType::kOk, "read", {{"from", 0}, {"to", 1}}),
               Ev(5, 2, EventType::kInvoke, "read", nullptr),
               Ev(6, 0, EventType::kInvoke, "append", "v0-2"),  // never completes: info
               Ev(7, 2, EventType::kOk, "read", nullptr),       // an ok read of nothing: null
               Ev(8, 3, EventType::kInvoke, "cas", {3, 4}),
               Ev(9, 3, EventType::kFail, "cas", nullptr),
               Ev(10, 4, EventType::kInvoke, "append", "v4-1"),  // never completes: info
               Ev(11, 5, EventType::kInvoke, "read", nullptr),
               Ev(12, 5, EventType::kInfo, "read", nullptr)};
  h[0].node = "n1";
  h[3].node = "n2";  // the completion's node wins
  h[9].error = "precondition failed";
  h[4].key = h[1].key = "k";
  auto paired = PairOps(h);
  ASSERT_TRUE(paired.ok()) << paired.error().message;
  auto streamed = Stream(h);
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  ExpectSameOps(*paired, *streamed);
}

TEST(OpStreamTest, RefusesWhatPairOpsRefusesWithItsWords) {
  const std::vector<History> broken = {
      {Ev(0, 0, EventType::kOk, "write", 3)},
      {Ev(0, 0, EventType::kInvoke, "write", 3), Ev(1, 0, EventType::kInvoke, "read", nullptr)},
      {Ev(0, 0, EventType::kInvoke, "write", 3), Ev(1, 0, EventType::kOk, "read", 3)}};
  for (const History& h : broken) {
    auto paired = PairOps(h);
    auto streamed = Stream(h);
    ASSERT_FALSE(paired.ok());
    ASSERT_FALSE(streamed.ok());
    EXPECT_EQ(streamed.error().message, paired.error().message);
  }
}

TEST(CompleteOpTest, MovesTheCompletionInAndAnOkReadOfNothingObservedNull) {
  Op read = OpFromInvoke(Ev(7, 3, EventType::kInvoke, "read", {{"from", 0}}), 4);
  EXPECT_EQ(read.id, 4);
  EXPECT_EQ(read.invoke_index, 7);
  EXPECT_EQ(read.status, EventType::kInfo);
  Event done = Ev(9, 3, EventType::kOk, "read", nullptr);
  done.node = "n2";
  CompleteOp(read, std::move(done));
  EXPECT_TRUE(read.value.is_null());
  EXPECT_EQ(read.return_ns, 90);
  EXPECT_EQ(read.complete_index, 9);
  EXPECT_EQ(read.node, "n2");
  Op write = OpFromInvoke(Ev(1, 0, EventType::kInvoke, "write", 5), 0);
  CompleteOp(write, Ev(2, 0, EventType::kFail, "write", nullptr));
  EXPECT_EQ(write.value, 5);  // the argument survives a value-less completion
  EXPECT_EQ(write.status, EventType::kFail);
}

TEST(OpSkeletonsTest, ASparseSetHoldsTheOpsPutByIdAndCountsEveryOp) {
  OpSkeletons ops = OpSkeletons::Sparse();
  Op a;
  a.id = 7;
  a.process = 3;
  a.f = "append";
  a.node = "n2";
  a.call_ns = 100;
  ops.Put(a);
  a.status = EventType::kOk;
  a.return_ns = 150;
  ops.Put(a);  // its completion replaces it
  Op r;
  r.id = 2;
  r.process = 1;
  r.f = "read";
  ops.Put(r);
  ops.SetSize(10);
  EXPECT_EQ(ops.size(), 10u);
  EXPECT_EQ(ops.held(), 2u);
  EXPECT_TRUE(ops.Has(7));
  EXPECT_TRUE(ops.Has(2));
  EXPECT_FALSE(ops.Has(3));
  const OpBrief b = OpsView(ops)[7];
  EXPECT_EQ(b.id, 7);
  EXPECT_EQ(b.process, 3);
  EXPECT_EQ(b.f, "append");
  ASSERT_NE(b.node, nullptr);
  EXPECT_EQ(*b.node, "n2");
  EXPECT_EQ(b.status, EventType::kOk);
  EXPECT_EQ(b.return_ns, 150);
  EXPECT_EQ(ops.Whole(2).f, "read");
  EXPECT_DEATH(ops.Brief(3), "not held");
}

TEST(OpSkeletonsTest, ABlankSetCountsOpsAndReadsEachAsABlankOne) {
  const OpSkeletons ops = OpSkeletons::Blank(5);
  EXPECT_EQ(ops.size(), 5u);
  const OpBrief b = OpsView(ops)[3];
  EXPECT_EQ(b.id, 3);
  EXPECT_EQ(b.process, 0);
  EXPECT_EQ(b.f, "");
  EXPECT_EQ(b.node, nullptr);
  EXPECT_EQ(b.complete_index, -1);
  EXPECT_EQ(ops.Whole(4).id, 4);
}

}  // namespace
}  // namespace tidemark::history
