#include "checkers/linearizability.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "checkers/lin_explain.h"
#include "checkers/lin_test_util.h"

namespace tidemark::checkers {
namespace {

using testing::OpsBuilder;
using json = nlohmann::json;

CheckResult Check(const OpsBuilder& b, const std::string& model, bool partition = true) {
  LinearizabilityOptions o;
  o.model = model;
  o.partition_by_key = partition;
  o.threads = 2;
  o.explain = ExplainMode::kMinimal;  // the core sizes below must not depend on machine load
  return CheckLinearizability(b.ops(), o);
}

// A register history whose read of 1 (op 2 * n) comes after n later writes returned.
OpsBuilder StaleReadAfter(int n) {
  OpsBuilder b;
  for (int i = 0; i < n; ++i) b.Ok(0, "write", i + 1, i + 1, 10 * i, 10 * i + 5);
  for (int i = 0; i < n; ++i) b.Ok(1 + i % 3, "read", nullptr, i + 1, 10 * i + 1, 10 * i + 6);
  b.Ok(9, "read", nullptr, 1, 10 * n + 1, 10 * n + 2);
  return b;
}

// DescribeOp writes integers and arrays of them itself, anything else through the JSON
// serializer; either way the text is the value's compact JSON.
TEST(LinearizabilityTest, DescribeOpWritesValuesAsTheirJson) {
  const std::vector<json> values = {
      json(3),
      json(-17),
      json(int64_t{INT64_MIN}),
      json(uint64_t{18446744073709551615ull}),  // above INT64_MAX: the serializer
      json(uint64_t{5}),
      json::array({3, 0}),
      json::array(),
      json::array({1, json::array({2})}),
      json::array({1, "x"}),
      json("a\"b\n"),
      json(2.5),
      json(true),
      json::object({{"k", 1}}),
  };
  for (const json& v : values) {
    history::Op op;
    op.f = "write";
    op.invoke_value = v;
    op.value = json::array({v, 7});  // differs from the argument: " → value" follows
    op.status = history::EventType::kOk;
    EXPECT_EQ(DescribeOp(op), "write " + v.dump() + " → " + op.value.dump()) << v.dump();
  }
  history::Op read;
  read.f = "read";
  read.value = 4;
  read.status = history::EventType::kInfo;
  EXPECT_EQ(DescribeOp(read), "read (crashed)");
}

TEST(LinearizabilityTest, RegisterSequentialIsValid) {
  OpsBuilder b;
  b.Ok(0, "read", nullptr, nullptr, 0, 1)
      .Ok(0, "write", 1, 1, 2, 3)
      .Ok(1, "read", nullptr, 1, 4, 5);
  CheckResult r = Check(b, "register");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.explanation;
  EXPECT_EQ(r.checker, "linearizability");
}

TEST(LinearizabilityTest, RegisterStaleReadIsInvalid) {
  OpsBuilder b;
  b.Ok(0, "write", 1, 1, 0, 1).Ok(0, "write", 2, 2, 2, 3).Ok(1, "read", nullptr, 1, 4, 5);
  CheckResult r = Check(b, "register");
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.details["must"], 2);
  ASSERT_EQ(r.details["blocked"].size(), 1u);
  EXPECT_EQ(r.details["blocked"][0]["op"], 2);
  EXPECT_EQ(r.details["state"], "2");
  EXPECT_NE(r.details["blocked"][0]["could_return"].get<std::string>().find("2"),
            std::string::npos);
  EXPECT_EQ(r.details["linearized"], json::array({0, 1}));
  EXPECT_TRUE(r.details["core_verified"].get<bool>());
  EXPECT_EQ(r.details["core"].size(), 3u) << r.explanation;  // weakening any of them explains it
}

TEST(LinearizabilityTest, ExplainNoneStillNamesTheOpThatCannotBePlaced) {
  LinearizabilityOptions o;
  o.model = "register";
  o.explain = ExplainMode::kNone;
  OpsBuilder b = StaleReadAfter(20);
  CheckResult r = CheckLinearizability(b.ops(), o);
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.details["must"], 40);
  EXPECT_EQ(r.details["state"], "20");
  EXPECT_FALSE(r.details.contains("core"));
  EXPECT_FALSE(r.details["core_searched"].get<bool>());
  EXPECT_EQ(r.details["explain"], "none");
  EXPECT_NE(r.summary.find("op 40"), std::string::npos) << r.summary;
  EXPECT_NE(r.explanation.find("a read here would return 20"), std::string::npos) << r.explanation;
}

// Whatever the budget allowed, a fast core is a verified counterexample, and says whether it is
// minimal; when it says so, it is as small as the minimal one.
TEST(LinearizabilityTest, ExplainFastGivesAVerifiedCoreAndSaysIfMinimal) {
  OpsBuilder b = StaleReadAfter(20);
  LinearizabilityOptions o;
  o.model = "register";
  o.explain = ExplainMode::kMinimal;
  CheckResult minimal = CheckLinearizability(b.ops(), o);
  ASSERT_EQ(minimal.verdict, Verdict::kInvalid);
  EXPECT_TRUE(minimal.details["core_minimal"].get<bool>()) << minimal.explanation;
  EXPECT_EQ(minimal.details["core"].size(), 3u) << minimal.explanation;  // write 1, 2, read 1

  for (double cap : {0.0, 0.5}) {
    o.explain = ExplainMode::kFast;
    o.explain_cap_s = cap;
    CheckResult fast = CheckLinearizability(b.ops(), o);
    ASSERT_EQ(fast.verdict, Verdict::kInvalid);
    EXPECT_EQ(fast.details["explain"], "fast");
    EXPECT_EQ(fast.details["must"], 40);
    ASSERT_TRUE(fast.details.contains("core_minimal")) << fast.explanation;
    EXPECT_GE(fast.details["core"].size(), 1u);
    if (fast.details["core_minimal"].get<bool>()) {
      EXPECT_EQ(fast.details["core"].size(), 3u) << fast.explanation;
    } else {
      EXPECT_NE(fast.explanation.find("may not be minimal"), std::string::npos);
    }
    // The core, completed, with every other op crashed, is invalid on its own.
    std::vector<char> in_core(b.ops().size(), 0);
    for (const auto& c : fast.details["core"]) in_core[c["op"].get<size_t>()] = 1;
    std::vector<history::Op> weak = b.ops();
    for (size_t i = 0; i < weak.size(); ++i) {
      if (in_core[i] || weak[i].f == "read") continue;
      weak[i].status = history::EventType::kInfo;
      weak[i].return_ns = history::kNever;
    }
    std::erase_if(weak, [&](const history::Op& op) { return !in_core[op.id] && op.f == "read"; });
    o.explain = ExplainMode::kNone;
    EXPECT_EQ(CheckLinearizability(weak, o).verdict, Verdict::kInvalid) << fast.explanation;
  }
}

TEST(LinearizabilityTest, ExplainModesParse) {
  ExplainMode m = ExplainMode::kNone;
  EXPECT_TRUE(ParseExplainMode("minimal", &m));
  EXPECT_EQ(m, ExplainMode::kMinimal);
  EXPECT_TRUE(ParseExplainMode("fast", &m));
  EXPECT_EQ(m, ExplainMode::kFast);
  EXPECT_FALSE(ParseExplainMode("full", &m));
  EXPECT_EQ(m, ExplainMode::kFast);
}

// A crashed write of a value nothing reads cannot help any op take effect; the search leaves it
// out, which must not change verdicts either way.
TEST(LinearizabilityTest, CrashedWritesOfUnreadValuesChangeNoVerdict) {
  OpsBuilder valid;
  valid.Ok(0, "write", 1, 1, 0, 1);
  for (int i = 0; i < 80; ++i) valid.Info(10 + i, "write", 100 + i, 2 + i);
  valid.Info(200, "cas", json::array({1, 7}), 90).Ok(1, "read", nullptr, 7, 100, 101);
  EXPECT_EQ(Check(valid, "cas-register").verdict, Verdict::kValid);
  OpsBuilder invalid = valid;
  invalid.Ok(2, "read", nullptr, 1, 102, 103);  // 7 was read, so 1 is gone
  CheckResult r = Check(invalid, "cas-register");
  EXPECT_EQ(r.verdict, Verdict::kInvalid) << r.explanation;
  EXPECT_LT(r.details["steps"].get<int64_t>(), 5000);
}

TEST(LinearizabilityTest, ConcurrentReadMaySeeEitherValue) {
  OpsBuilder b;
  b.Ok(0, "write", 1, 1, 0, 1)
      .Ok(0, "write", 2, 2, 2, 6)
      .Ok(1, "read", nullptr, 1, 3, 4)
      .Ok(2, "read", nullptr, 2, 3, 5);
  EXPECT_EQ(Check(b, "register").verdict, Verdict::kValid);
  OpsBuilder c;  // a read of 2 then a read of 1, both after the write of 2 began: 1 after 2
  c.Ok(0, "write", 1, 1, 0, 1)
      .Ok(0, "write", 2, 2, 2, 9)
      .Ok(1, "read", nullptr, 2, 3, 4)
      .Ok(2, "read", nullptr, 1, 5, 6);
  EXPECT_EQ(Check(c, "register").verdict, Verdict::kInvalid);
}

TEST(LinearizabilityTest, FailedCasIsRemoved) {
  OpsBuilder b;  // the failed cas [0,5] would make the read of 5 look explained
  b.Ok(0, "write", 0, 0, 0, 1)
      .Fail(1, "cas", json::array({0, 5}), 2, 3)
      .Ok(2, "read", nullptr, 5, 4, 5);
  EXPECT_EQ(Check(b, "cas-register").verdict, Verdict::kInvalid);
  OpsBuilder c;
  c.Ok(0, "write", 0, 0, 0, 1)
      .Ok(1, "cas", json::array({0, 5}), json::array({0, 5}), 2, 3)
      .Ok(2, "read", nullptr, 5, 4, 5);
  EXPECT_EQ(Check(c, "cas-register").verdict, Verdict::kValid);
}

TEST(LinearizabilityTest, CrashedWriteIsOptionalAndMayTakeEffectLate) {
  OpsBuilder b;
  b.Ok(0, "write", 1, 1, 0, 1)
      .Info(1, "write", 2, 2)
      .Ok(2, "read", nullptr, 1, 10, 11)
      .Ok(2, "read", nullptr, 2, 20, 21);
  EXPECT_EQ(Check(b, "cas-register").verdict, Verdict::kValid);
  OpsBuilder c;  // ... but it cannot take effect before it was called
  c.Ok(0, "write", 1, 1, 0, 1).Ok(2, "read", nullptr, 2, 2, 3).Info(1, "write", 2, 5);
  EXPECT_EQ(Check(c, "cas-register").verdict, Verdict::kInvalid);
}

TEST(LinearizabilityTest, CrashedCasMaySucceedLaterEvenIfItWouldFailEarlier) {
  OpsBuilder b;  // cas [1,3] is called while the register is 0; it takes effect after write 1
  b.Ok(0, "write", 0, 0, 0, 1)
      .Info(1, "cas", json::array({1, 3}), 2)
      .Ok(0, "write", 1, 1, 3, 4)
      .Ok(2, "read", nullptr, 3, 5, 6);
  EXPECT_EQ(Check(b, "cas-register").verdict, Verdict::kValid);
  OpsBuilder c;  // a crashed cas cannot succeed from a value the register never held
  c.Ok(0, "write", 0, 0, 0, 1)
      .Info(1, "cas", json::array({7, 3}), 2)
      .Ok(2, "read", nullptr, 3, 5, 6);
  EXPECT_EQ(Check(c, "cas-register").verdict, Verdict::kInvalid);
}

TEST(LinearizabilityTest, CrashedReadsAreDropped) {
  OpsBuilder b;
  b.Ok(0, "write", 1, 1, 0, 1).Add(1, "read", nullptr, 9, history::EventType::kInfo, 2, 0);
  EXPECT_EQ(Check(b, "register").verdict, Verdict::kValid);
}

TEST(LinearizabilityTest, KvAppendConcatenatesPerKey) {
  OpsBuilder b;
  b.Ok(0, "append", "a", "a", 0, 1, "k")
      .Ok(1, "append", "b", "b", 0, 2, "k")
      .Ok(2, "get", nullptr, "ba", 3, 4, "k")
      .Ok(2, "get", nullptr, "", 5, 6, "j");
  EXPECT_EQ(Check(b, "kv").verdict, Verdict::kValid);
  EXPECT_EQ(Check(b, "kv", false).verdict, Verdict::kValid);
  OpsBuilder c;
  c.Ok(0, "put", "x", "x", 0, 1, "k")
      .Ok(1, "append", "y", "y", 2, 3, "k")
      .Ok(2, "get", nullptr, "yx", 4, 5, "k")
      .Ok(2, "get", nullptr, "", 6, 7, "j");
  CheckResult r = Check(c, "kv");
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.details["key"], "k");
  EXPECT_EQ(Check(c, "kv", false).verdict, Verdict::kInvalid);
}

TEST(LinearizabilityTest, LogReadsMustMatchAcknowledgedOffsets) {
  auto ack = [](const std::string& v, int off) {
    return json{{"value", v}, {"offset", off}, {"hwm", off + 1}};
  };
  auto read = [](int from, int to, json entries) {
    return json{{"from", from}, {"to", to}, {"hwm", to}, {"entries", std::move(entries)}};
  };
  json lin = {{"from", 0}, {"consistency", "linearizable"}};
  OpsBuilder b;
  b.Ok(0, "append", "a", ack("a", 1), 0, 1)
      .Ok(1, "append", "b", ack("b", 2), 2, 3)
      .Ok(2, "read", lin, read(0, 3, json::array({json::array({1, "a"}), json::array({2, "b"})})),
          4, 5)
      .Info(3, "append", "c", 6)
      .Ok(2, "read", lin,
          read(0, 4,
               json::array({json::array({1, "a"}), json::array({2, "b"}), json::array({3, "c"})})),
          7, 8);
  EXPECT_EQ(Check(b, "log").verdict, Verdict::kValid);

  OpsBuilder lost;  // acknowledged at offset 1, a later read covering 1 does not hold it
  lost.Ok(0, "append", "a", ack("a", 1), 0, 1)
      .Ok(2, "read", lin, read(0, 3, json::array({json::array({2, "z"})})), 4, 5);
  EXPECT_EQ(Check(lost, "log").verdict, Verdict::kInvalid);

  OpsBuilder late;  // a read saw [0,3) committed empty; an append acknowledged later at 1
  late.Ok(2, "read", lin, read(0, 3, json::array()), 0, 1).Ok(0, "append", "a", ack("a", 1), 2, 3);
  EXPECT_EQ(Check(late, "log").verdict, Verdict::kInvalid);

  OpsBuilder local;  // local reads may be stale: not checked
  local.Ok(0, "append", "a", ack("a", 1), 0, 1)
      .Ok(2, "read", json{{"from", 0}, {"consistency", "local"}}, read(0, 1, json::array()), 4, 5);
  EXPECT_EQ(Check(local, "log").verdict, Verdict::kValid);
}

TEST(LinearizabilityTest, UnknownModelOrOpIsUnknownNotValid) {
  OpsBuilder b;
  b.Ok(0, "write", 1, 1, 0, 1);
  CheckResult r = Check(b, "no-such-model");
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.details["reason"], "bad-input");
  OpsBuilder c;
  c.Ok(0, "cas", json::array({1, 2}), json::array({1, 2}), 0, 1);
  EXPECT_EQ(Check(c, "register").verdict, Verdict::kUnknown);
}

// Many overlapping writes then a read of a value nobody wrote: the search must visit every
// subset of the writes before giving up, far more than a few thousand steps.
OpsBuilder HardInvalid(int writers) {
  OpsBuilder b;
  for (int i = 0; i < writers; ++i) b.Ok(i, "write", i, i, i, 1000 + i);
  for (int i = 0; i < writers; ++i) b.Ok(100 + i, "read", nullptr, i, 10 + i, 900 + i);
  b.Ok(999, "read", nullptr, -1, 2000, 2001);
  return b;
}

TEST(LinearizabilityTest, TimeoutIsUnknown) {
  LinearizabilityOptions o;
  o.model = "register";
  o.timeout_s = 0;
  CheckResult r = CheckLinearizability(HardInvalid(16).ops(), o);
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.explanation;
  EXPECT_EQ(r.details["reason"], "timeout");
}

TEST(LinearizabilityTest, MemoryBudgetIsUnknown) {
  LinearizabilityOptions o;
  o.model = "register";
  o.memory_limit_bytes = 4096;
  CheckResult r = CheckLinearizability(HardInvalid(16).ops(), o);
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.explanation;
  EXPECT_EQ(r.details["reason"], "memory");
}

// The memory budget counts the search's tables; a real allocation failure (here the child's data
// segment is capped far below the budget, so std::bad_alloc is thrown inside a worker thread)
// must still answer unknown with reason "memory", not end the process.
TEST(LinearizabilityTest, BadAllocInAWorkerThreadIsUnknownMemory) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's allocator ends the process on RLIMIT_DATA (its own internal allocations fail first),
  // so no bad_alloc can be provoked this way; the plain unit-test build runs this test.
  GTEST_SKIP() << "under AddressSanitizer a capped data segment aborts instead of throwing";
#endif
  OpsBuilder b;
  for (const char* key : {"a", "b"}) {
    for (int i = 0; i < 24; ++i) b.Ok(i, "write", i, i, i, 1000 + i, key);
    for (int i = 0; i < 24; ++i) b.Ok(100 + i, "read", nullptr, i, 10 + i, 900 + i, key);
    b.Ok(999, "read", nullptr, -1, 2000, 2001, key);
  }
  const std::string got = testing::InCappedChild([&] {
    LinearizabilityOptions o;
    o.model = "register";
    o.memory_limit_bytes = size_t{64} << 30;  // the budget never stops it: the allocator does
    o.threads = 2;
    o.timeout_s = 120;
    CheckResult r = CheckLinearizability(b.ops(), o);
    return std::string(ToString(r.verdict)) + " " + r.details.value("reason", "-");
  });
  EXPECT_EQ(got, "unknown memory");
}

TEST(CheckerTest, WhatACheckerThrowsBecomesUnknownWithTheReason) {
  CheckResult m = UnknownFromException("log-prefix", std::make_exception_ptr(std::bad_alloc()));
  EXPECT_EQ(m.verdict, Verdict::kUnknown);
  EXPECT_EQ(m.checker, "log-prefix");
  EXPECT_EQ(m.details["reason"], "memory");
  CheckResult e =
      UnknownFromException("linearizability", std::make_exception_ptr(std::runtime_error("boom")));
  EXPECT_EQ(e.details["reason"], "exception");
  EXPECT_EQ(e.details["error"], "boom");
  EXPECT_NE(e.summary.find("boom"), std::string::npos);
  CheckResult odd = UnknownFromException("x", std::make_exception_ptr(42));
  EXPECT_EQ(odd.verdict, Verdict::kUnknown);
  EXPECT_EQ(odd.details["reason"], "exception");
}

TEST(LinearizabilityTest, HardInvalidFinishesWithinBudget) {
  CheckResult r = Check(HardInvalid(10), "register");
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.details["must"], 20);
  EXPECT_LE(r.details["core"].size(), 3u) << r.explanation;
}

TEST(LinearizabilityTest, ViolationOnOneKeyIsFoundAmongValidKeys) {
  OpsBuilder b;
  for (int k = 0; k < 50; ++k) {
    std::string key = "k" + std::to_string(k);
    b.Ok(0, "write", k, k, 10 * k, 10 * k + 1, key)
        .Ok(1, "read", nullptr, k, 10 * k + 2, 10 * k + 3, key);
  }
  b.Ok(2, "read", nullptr, 99, 1000, 1001, "k7");
  CheckResult r = Check(b, "cas-register");
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.details["key"], "k7");
  EXPECT_EQ(r.details["core"].size(), 1u) << r.explanation;  // a read of 99 alone is impossible
  EXPECT_NE(r.summary.find("k7"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::checkers
