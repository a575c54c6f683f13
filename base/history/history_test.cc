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

}  // namespace
}  // namespace tidemark::history
