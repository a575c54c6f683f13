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

}  // namespace
}  // namespace tidemark::history
