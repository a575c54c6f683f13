#include "checkers/model.h"

#include <gtest/gtest.h>

#include "checkers/lin_test_util.h"

namespace tidemark::checkers {
namespace {

using json = nlohmann::json;

std::vector<ModelOp> Prepare(const Model& m, const std::vector<history::Op>& ops,
                             std::vector<char>* keep) {
  std::vector<const history::Op*> ptrs;
  for (const auto& op : ops) ptrs.push_back(&op);
  std::vector<ModelOp> out;
  Status st = m.Prepare(ptrs, &out, keep);
  EXPECT_TRUE(st.ok()) << st.error().message;
  return out;
}

TEST(ModelTest, CasRegisterSteps) {
  auto m = MakeModel("cas-register");
  testing::OpsBuilder b;
  b.Ok(0, "write", 3, 3, 0, 1)
      .Ok(0, "cas", json::array({3, 4}), json::array({3, 4}), 2, 3)
      .Ok(0, "read", nullptr, 4, 4, 5)
      .Ok(0, "read", nullptr, nullptr, 6, 7);
  std::vector<char> keep;
  auto ops = Prepare(*m, b.ops(), &keep);
  std::string s = m->Init(), next;
  EXPECT_TRUE(m->Step(s, ops[3], &next));   // a read of nil at the start
  EXPECT_FALSE(m->Step(s, ops[1], &next));  // cas 3->4 from nil
  ASSERT_TRUE(m->Step(s, ops[0], &s));
  ASSERT_TRUE(m->Step(s, ops[1], &s));
  EXPECT_TRUE(m->Step(s, ops[2], &next));
  EXPECT_EQ(next, s);
  EXPECT_TRUE(ops[2].observer);
  EXPECT_FALSE(ops[1].observer);
  EXPECT_NE(m->CouldReturn(s, ops[3]).find("4"), std::string::npos);
}

TEST(ModelTest, RegisterRejectsCasAndDropsCrashedReads) {
  auto m = MakeModel("register");
  testing::OpsBuilder b;
  b.Info(0, "read", nullptr, 0).Ok(1, "write", 1, 1, 0, 1);
  std::vector<char> keep;
  Prepare(*m, b.ops(), &keep);
  EXPECT_EQ(keep, (std::vector<char>{0, 1}));
  testing::OpsBuilder c;
  c.Ok(0, "cas", json::array({1, 2}), json::array({1, 2}), 0, 1);
  std::vector<const history::Op*> ptrs{&c.ops()[0]};
  std::vector<ModelOp> out;
  EXPECT_FALSE(m->Prepare(ptrs, &out, &keep).ok());
}

TEST(ModelTest, KvAppendConcatenates) {
  auto m = MakeModel("kv-append");
  ASSERT_NE(m, nullptr);
  testing::OpsBuilder b;
  b.Ok(0, "append", "x", "x", 0, 1).Ok(0, "put", "y", "y", 0, 1).Ok(0, "get", nullptr, "yx", 0, 1);
  std::vector<char> keep;
  auto ops = Prepare(*m, b.ops(), &keep);
  std::string s = m->Init();
  ASSERT_TRUE(m->Step(s, ops[1], &s));
  ASSERT_TRUE(m->Step(s, ops[0], &s));
  EXPECT_EQ(s, "yx");
  std::string next;
  EXPECT_TRUE(m->Step(s, ops[2], &next));
  ASSERT_TRUE(m->Step(s, ops[0], &s));
  EXPECT_FALSE(m->Step(s, ops[2], &next));
}

// The kv state space interns exactly: the same string built along different paths is one id,
// different strings are different ids, and Encode rebuilds the string.
TEST(ModelTest, KvStateSpaceInternsStringsExactly) {
  auto m = MakeModel("kv");
  testing::OpsBuilder b;
  b.Ok(0, "append", "ab", "ab", 0, 1)      // 0
      .Ok(0, "append", "c", "c", 0, 1)     // 1
      .Ok(0, "append", "a", "a", 0, 1)     // 2
      .Ok(0, "append", "bc", "bc", 0, 1)   // 3
      .Ok(0, "put", "abc", "abc", 0, 1)    // 4
      .Ok(0, "get", nullptr, "abc", 0, 1)  // 5
      .Ok(0, "get", nullptr, "acb", 0, 1)  // 6
      .Ok(0, "append", "", "", 0, 1);      // 7
  std::vector<char> keep;
  auto ops = Prepare(*m, b.ops(), &keep);
  std::vector<const ModelOp*> ptrs;
  for (const auto& op : ops) ptrs.push_back(&op);
  auto space = m->NewStateSpace(ptrs, std::vector<int64_t>(ops.size(), 0));
  int32_t x = space->Step(space->Step(0, 0), 1);  // "ab" + "c"
  int32_t y = space->Step(space->Step(0, 2), 3);  // "a" + "bc"
  int32_t z = space->Step(0, 4);                  // put "abc"
  EXPECT_EQ(x, y);
  EXPECT_EQ(x, z);
  EXPECT_EQ(space->Encode(x), "abc");
  EXPECT_EQ(space->Step(x, 5), x);
  EXPECT_EQ(space->Step(x, 6), -1);
  EXPECT_EQ(space->Step(x, 7), x);
  int32_t w = space->Step(space->Step(0, 2), 1);  // "ac"
  EXPECT_NE(w, x);
  EXPECT_EQ(space->Encode(w), "ac");
  EXPECT_EQ(space->Step(w, 5), -1);
}

TEST(ModelTest, MultiKeyModelKeepsKeysApart) {
  auto m = MakeMultiKeyModel(MakeModel("kv"));
  testing::OpsBuilder b;
  b.Ok(0, "append", "x", "x", 0, 1, "a")
      .Ok(0, "get", nullptr, "", 0, 1, "b")
      .Ok(0, "get", nullptr, "x", 0, 1, "a");
  std::vector<char> keep;
  auto ops = Prepare(*m, b.ops(), &keep);
  std::string s = m->Init(), next;
  EXPECT_FALSE(m->Step(s, ops[2], &next));
  ASSERT_TRUE(m->Step(s, ops[0], &s));
  EXPECT_TRUE(m->Step(s, ops[1], &next));
  EXPECT_TRUE(m->Step(s, ops[2], &next));
  EXPECT_NE(m->DescribeState(s).find("a: \"x\""), std::string::npos);
}

TEST(ModelTest, LogPinsCrashedAppendsFromReadsAndDropsUnseenOnes) {
  auto m = MakeModel("log");
  testing::OpsBuilder b;
  json read{{"from", 0}, {"to", 5}, {"hwm", 5}, {"entries", json::array({json::array({3, "c"})})}};
  b.Info(0, "append", "c", 0)
      .Info(1, "append", "d", 0)
      .Ok(2, "read", json{{"from", 0}}, read, 1, 2);
  std::vector<char> keep;
  auto ops = Prepare(*m, b.ops(), &keep);
  EXPECT_EQ(keep, (std::vector<char>{1, 0, 1}));
  EXPECT_EQ(ops[0].x, 3);
  std::string s = m->Init(), next;
  EXPECT_FALSE(m->Step(s, ops[2], &next));
  ASSERT_TRUE(m->Step(s, ops[0], &s));
  ASSERT_TRUE(m->Step(s, ops[2], &s));
  EXPECT_FALSE(m->Step(s, ops[0], &next));  // offset 3 is sealed now
}

}  // namespace
}  // namespace tidemark::checkers
