#include "workloads/generator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "workloads/simulate.h"

namespace tidemark::workloads {
namespace {

using history::EventType;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

OpFn Named(std::string f) {
  return [f](const GenContext&, Rng&) {
    OpRequest op;
    op.f = f;
    return op;
  };
}

GenContext Ctx(int64_t t, std::vector<int64_t> free, int concurrency = 3, int nodes = 3) {
  return GenContext{t, std::move(free), concurrency, nodes};
}

history::Op Completed(int64_t process, std::string f, EventType status) {
  history::Op op;
  op.process = process;
  op.f = std::move(f);
  op.status = status;
  return op;
}

history::History RunGen(Generator& gen, uint64_t seed, SimOptions opts = {}) {
  Rng g = Rng::Derive(seed, "generator");
  Rng s = Rng::Derive(seed, "sim");
  auto h = Simulate(gen, opts, g, s);
  EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
  return h.ok() ? *h : history::History{};
}

std::vector<history::Event> Invokes(const history::History& h) {
  std::vector<history::Event> out;
  for (const auto& e : h) {
    if (e.type == EventType::kInvoke) out.push_back(e);
  }
  return out;
}

TEST(RepeatTest, UsesOnlyFreeProcessesAndWaitsWhenNoneFree) {
  const uint64_t seed = 11;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  Rng rng(seed);
  auto gen = Repeat(Named("read"));
  for (int i = 0; i < 50; ++i) {
    GenResult r = gen->Next(Ctx(0, {4, 7}), rng);
    ASSERT_EQ(r.kind, GenResult::kOp);
    EXPECT_TRUE(r.op.process == 4 || r.op.process == 7) << r.op.process;
    EXPECT_EQ(r.op.f, "read");
  }
  GenResult r = gen->Next(Ctx(0, {}), rng);
  EXPECT_EQ(r.kind, GenResult::kPending);
  EXPECT_EQ(r.wake_ns, kNever);
}

TEST(LimitTest, EmitsExactlyNThenDone) {
  Rng rng(1);
  auto gen = Limit(3, Repeat(Named("append")));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(gen->Next(Ctx(0, {0}), rng).kind, GenResult::kOp);
  EXPECT_EQ(gen->Next(Ctx(0, {0}), rng).kind, GenResult::kDone);
  EXPECT_EQ(gen->Next(Ctx(5, {0}), rng).kind, GenResult::kDone);
}

TEST(TimeLimitTest, DoneAtDeadlineCountedFromFirstCall) {
  Rng rng(1);
  auto gen = TimeLimit(10 * kSec, Repeat(Named("read")));
  EXPECT_EQ(gen->Next(Ctx(5 * kSec, {0}), rng).kind, GenResult::kOp);
  EXPECT_EQ(gen->Next(Ctx(14 * kSec, {0}), rng).kind, GenResult::kOp);
  GenResult r = gen->Next(Ctx(14 * kSec, {}), rng);
  EXPECT_EQ(r.kind, GenResult::kPending);
  EXPECT_EQ(r.wake_ns, 15 * kSec);  // capped at the deadline, not kNever
  EXPECT_EQ(gen->Next(Ctx(15 * kSec, {0}), rng).kind, GenResult::kDone);
}

TEST(StaggerTest, GeneratedTimestampsFollowTheRate) {
  for (uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    // 100 ops/s for 20 s with plenty of idle processes: expect ~2000 ops.
    auto gen = TimeLimit(20 * kSec, Stagger(10 * kMs, Repeat(Named("read"))));
    SimOptions o;
    o.concurrency = 10;
    auto inv = Invokes(RunGen(*gen, seed, o));
    EXPECT_GT(inv.size(), 1800u);
    EXPECT_LT(inv.size(), 2200u);
    for (size_t i = 1; i < inv.size(); ++i) {
      const int64_t gap = inv[i].time_ns - inv[i - 1].time_ns;
      ASSERT_GE(gap, 0);
      ASSERT_LE(gap, 20 * kMs) << "op " << i;  // jitter is uniform in [0, 2 * mean]
    }
  }
}

TEST(StaggerTest, NoBurstAfterAStall) {
  const uint64_t seed = 5;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  // One process whose first op takes 5 s: the missed schedule must not be replayed at once.
  auto gen = TimeLimit(10 * kSec, Stagger(100 * kMs, Repeat(Named("read"))));
  SimOptions o;
  o.concurrency = 1;
  bool first = true;
  o.respond = [&first](const OpRequest& op, int64_t, Rng&) {
    SimResponse r;
    r.value = op.value;
    r.latency_ns = first ? 5 * kSec : 1 * kMs;
    first = false;
    return r;
  };
  auto inv = Invokes(RunGen(*gen, seed, o));
  int in_first_second_after_stall = 0;
  for (const auto& e : inv) {
    if (e.time_ns >= 5 * kSec && e.time_ns < 6 * kSec) ++in_first_second_after_stall;
  }
  EXPECT_LE(in_first_second_after_stall, 20);  // ~10 expected; a replay would be ~50
  EXPECT_GE(in_first_second_after_stall, 3);
}

TEST(StaggerTest, DeterministicGivenTheSeed) {
  auto make = [] { return TimeLimit(2 * kSec, Stagger(10 * kMs, Repeat(Named("read")))); };
  auto a = make(), b = make(), c = make();
  auto ha = Invokes(RunGen(*a, 42)), hb = Invokes(RunGen(*b, 42)), hc = Invokes(RunGen(*c, 43));
  ASSERT_EQ(ha.size(), hb.size());
  for (size_t i = 0; i < ha.size(); ++i) {
    EXPECT_EQ(ha[i].time_ns, hb[i].time_ns);
    EXPECT_EQ(ha[i].process, hb[i].process);
  }
  bool differs = ha.size() != hc.size();
  for (size_t i = 0; !differs && i < ha.size(); ++i) differs = ha[i].time_ns != hc[i].time_ns;
  EXPECT_TRUE(differs) << "seeds 42 and 43 gave the same schedule";
}

TEST(PhasesTest, NextPhaseStartsOnlyAfterEveryOpOfThePreviousCompleted) {
  const uint64_t seed = 9;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  auto gen = Phases(Gens(Limit(20, Repeat(Named("write"))), Limit(5, Repeat(Named("read")))));
  SimOptions o;
  o.concurrency = 4;
  o.respond = [](const OpRequest& op, int64_t, Rng& rng) {
    SimResponse r;
    r.value = op.value;
    r.latency_ns = rng.UniformInt(1, 50) * kMs;
    return r;
  };
  auto h = RunGen(*gen, seed, o);
  int64_t last_write_completion = -1;
  int64_t first_read_invoke = kNever;
  int writes = 0, reads = 0;
  for (const auto& e : h) {
    if (e.f == "write" && e.type != EventType::kInvoke) {
      last_write_completion = std::max(last_write_completion, e.index);
    }
    if (e.f == "read" && e.type == EventType::kInvoke) {
      first_read_invoke = std::min(first_read_invoke, e.index);
      ++reads;
    }
    if (e.f == "write" && e.type == EventType::kInvoke) ++writes;
  }
  EXPECT_EQ(writes, 20);
  EXPECT_EQ(reads, 5);
  EXPECT_LT(last_write_completion, first_read_invoke);
}

TEST(MixTest, FollowsTheWeights) {
  const uint64_t seed = 3;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::vector<std::pair<double, GenPtr>> w;
  w.emplace_back(3.0, Repeat(Named("a")));
  w.emplace_back(1.0, Repeat(Named("b")));
  auto gen = Limit(4000, Mix(std::move(w)));
  std::map<std::string, int> n;
  for (const auto& e : Invokes(RunGen(*gen, seed))) ++n[e.f];
  EXPECT_NEAR(n["a"], 3000, 150);
  EXPECT_NEAR(n["b"], 1000, 150);
}

TEST(MixTest, APendingChildDoesNotStarveTheOthers) {
  Rng rng(1);
  std::vector<std::pair<double, GenPtr>> w;
  w.emplace_back(1000.0, Stagger(kSec, Repeat(Named("slow"))));
  w.emplace_back(1.0, Repeat(Named("fast")));
  auto gen = Mix(std::move(w));
  int fast = 0;
  for (int i = 0; i < 10; ++i) {
    GenResult r = gen->Next(Ctx(0, {0}), rng);
    ASSERT_EQ(r.kind, GenResult::kOp);
    if (r.op.f == "fast") ++fast;
  }
  EXPECT_EQ(fast, 9);  // "slow" goes once, then waits a second
}

// Records the completions it receives.
class Recorder : public Generator {
 public:
  Recorder(std::string f, std::vector<std::string>* seen) : f_(std::move(f)), seen_(seen) {}
  GenResult Next(const GenContext& ctx, Rng&) override {
    if (ctx.free_processes.empty()) return GenResult::Pending(kNever);
    OpRequest op;
    op.process = ctx.free_processes.front();
    op.f = f_;
    return GenResult::Op(op);
  }
  void OnComplete(const history::Op& op) override { seen_->push_back(f_ + ":" + op.f); }

 private:
  std::string f_;
  std::vector<std::string>* seen_;
};

TEST(MixTest, CompletionsGoBackToTheChildThatEmittedTheOp) {
  std::vector<std::string> seen;
  std::vector<std::pair<double, GenPtr>> w;
  w.emplace_back(1.0, std::make_unique<Recorder>("a", &seen));
  w.emplace_back(1.0, std::make_unique<Recorder>("b", &seen));
  auto gen = Limit(200, Mix(std::move(w)));
  RunGen(*gen, 8);
  ASSERT_EQ(seen.size(), 200u);
  for (const auto& s : seen) EXPECT_TRUE(s == "a:a" || s == "b:b") << s;
}

TEST(EachProcessTest, EveryWorkerGetsItsOwnOp) {
  const uint64_t seed = 4;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  auto gen = EachProcess([](int worker) {
    return Once([worker](const GenContext&, Rng&) {
      OpRequest op;
      op.f = "read";
      op.value = worker;
      return op;
    });
  });
  SimOptions o;
  o.concurrency = 5;
  auto inv = Invokes(RunGen(*gen, seed, o));
  ASSERT_EQ(inv.size(), 5u);
  std::set<int64_t> workers;
  for (const auto& e : inv) {
    EXPECT_EQ(e.process % 5, e.value.get<int64_t>());
    workers.insert(e.process % 5);
  }
  EXPECT_EQ(workers.size(), 5u);
}

TEST(OnNodesTest, OneOpPerNodeWithTheNodeSet) {
  auto gen = OnNodes([](int) { return Once(Named("read")); });
  SimOptions o;
  o.nodes = 5;
  o.concurrency = 2;
  auto inv = Invokes(RunGen(*gen, 6, o));
  std::set<std::string> nodes;
  for (const auto& e : inv) nodes.insert(*e.node);
  EXPECT_EQ(inv.size(), 5u);
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n2", "n3", "n4", "n5"}));
}

TEST(UntilOkTest, RetriesOneAtATimeUntilAnOkCompletion) {
  Rng rng(2);
  auto gen = UntilOk(Repeat(Named("read")));
  GenResult r = gen->Next(Ctx(0, {0, 1, 2}), rng);
  ASSERT_EQ(r.kind, GenResult::kOp);
  const int64_t p = r.op.process;
  EXPECT_EQ(gen->Next(Ctx(1, {0, 1, 2}), rng).kind, GenResult::kPending);  // one at a time
  gen->OnComplete(Completed(p, "read", EventType::kFail));
  r = gen->Next(Ctx(2, {0, 1, 2}), rng);
  ASSERT_EQ(r.kind, GenResult::kOp);
  gen->OnComplete(Completed(r.op.process, "read", EventType::kInfo));
  r = gen->Next(Ctx(3, {3, 4}), rng);
  ASSERT_EQ(r.kind, GenResult::kOp);
  gen->OnComplete(Completed(r.op.process, "read", EventType::kOk));
  EXPECT_EQ(gen->Next(Ctx(4, {0, 1, 2}), rng).kind, GenResult::kDone);
}

TEST(UntilOkTest, GivesUpWhenTheInnerGeneratorIsDone) {
  const uint64_t seed = 7;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  auto gen = UntilOk(Limit(4, Repeat(Named("read"))));
  SimOptions o;
  o.respond = [](const OpRequest&, int64_t, Rng&) {
    SimResponse r;
    r.type = EventType::kFail;
    r.error = "connection refused";
    return r;
  };
  auto inv = Invokes(RunGen(*gen, seed, o));
  EXPECT_EQ(inv.size(), 4u);
}

TEST(SimulateTest, RejectsAnOpForABusyProcess) {
  class Bad : public Generator {
   public:
    GenResult Next(const GenContext&, Rng&) override {
      OpRequest op;
      op.process = 0;
      op.f = "read";
      return GenResult::Op(op);
    }
  } bad;
  Rng g(1), s(2);
  auto h = Simulate(bad, SimOptions{}, g, s);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("busy process 0"), std::string::npos) << h.error().message;
}

TEST(SimulateTest, RetiresProcessesAfterInfo) {
  auto gen = Limit(3, Repeat(Named("append")));
  SimOptions o;
  o.concurrency = 1;
  o.respond = [](const OpRequest&, int64_t, Rng&) {
    SimResponse r;
    r.type = EventType::kInfo;
    return r;
  };
  auto inv = Invokes(RunGen(*gen, 1, o));
  ASSERT_EQ(inv.size(), 3u);
  EXPECT_EQ(inv[0].process, 0);
  EXPECT_EQ(inv[1].process, 1);
  EXPECT_EQ(inv[2].process, 2);
}

}  // namespace
}  // namespace tidemark::workloads
