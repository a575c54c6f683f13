#include "workloads/workload.h"

#include <gtest/gtest.h>

#include <set>

#include "workloads/simulate.h"

namespace tidemark::workloads {
namespace {

using history::EventType;

TEST(ModelOfTest, EachWorkloadNamesItsModel) {
  EXPECT_EQ(ModelOf("log").value(), "log");
  EXPECT_EQ(ModelOf("register").value(), "cas-register");
  auto bad = ModelOf("bank");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown workload 'bank'"), std::string::npos);
}

TEST(MakeWorkloadTest, RejectsBadOptionsWithAMessage) {
  WorkloadOptions o;
  o.name = "bank";
  auto w = MakeWorkload(o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("unknown workload 'bank'"), std::string::npos);
  o.name = "log";
  o.concurrency = 0;
  EXPECT_FALSE(MakeWorkload(o).ok());
  o.concurrency = 5;
  o.time_limit_s = 0;
  EXPECT_FALSE(MakeWorkload(o).ok());
  o.time_limit_s = 10;
  o.read_fraction = 1.5;
  EXPECT_FALSE(MakeWorkload(o).ok());
  o.read_fraction = 0.5;
  EXPECT_TRUE(MakeWorkload(o).ok());
}

// Main phase then final phase, as the runner drives them.
history::History RunBoth(Workload& w, uint64_t seed, SimOptions o) {
  Rng g = Rng::Derive(seed, "generator"), s = Rng::Derive(seed, "sim");
  auto main = Simulate(w.Main(), o, g, s);
  EXPECT_TRUE(main.ok()) << main.error().message;
  auto final_gen = w.FinalPhase();
  auto fin = Simulate(*final_gen, o, g, s);
  EXPECT_TRUE(fin.ok()) << fin.error().message;
  history::History h = main.ok() ? *main : history::History{};
  if (fin.ok()) h.insert(h.end(), fin->begin(), fin->end());
  return h;
}

TEST(MakeWorkloadTest, LogRunRespectsRateAndTimeLimitAndEndsWithFinalReads) {
  const uint64_t seed = 41;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  WorkloadOptions o;
  o.name = "log";
  o.rate = 50;
  o.time_limit_s = 10;
  o.nodes = 3;
  auto w = MakeWorkload(o);
  ASSERT_TRUE(w.ok()) << w.error().message;
  SimOptions so;
  so.concurrency = 5;
  so.nodes = 3;
  so.respond = [](const OpRequest& op, int64_t, Rng&) {
    SimResponse r;
    if (op.f == "append") {
      r.value = {{"value", op.value}, {"offset", 0}, {"hwm", 1}};
    } else {
      r.value = {{"from", 0},
                 {"to", 0},
                 {"hwm", 0},
                 {"consistency", "local"},
                 {"entries", nlohmann::json::array()}};
    }
    return r;
  };
  auto h = RunBoth(**w, seed, so);
  int main_ops = 0;
  std::set<std::string> final_nodes;
  for (const auto& e : h) {
    if (e.type != EventType::kInvoke) continue;
    if (e.value.is_object() && e.value.contains("final")) {
      final_nodes.insert(*e.node);
    } else {
      ++main_ops;
      EXPECT_LT(e.time_ns, 10'000'000'000);
    }
  }
  EXPECT_NEAR(main_ops, 500, 60);
  EXPECT_EQ(final_nodes, (std::set<std::string>{"n1", "n2", "n3"}));
}

TEST(MakeWorkloadTest, RegisterFinalPhaseReadsTheActiveKeys) {
  const uint64_t seed = 42;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  WorkloadOptions o;
  o.name = "register";
  o.rate = 100;
  o.time_limit_s = 5;
  o.concurrency = 10;  // -> 2 keys in flight
  o.ops_per_key = 30;
  auto w = MakeWorkload(o);
  ASSERT_TRUE(w.ok()) << w.error().message;
  SimOptions so;
  so.concurrency = 10;
  auto h = RunBoth(**w, seed, so);
  ASSERT_FALSE(h.empty());
  std::set<std::string> keys;
  for (const auto& e : h) {
    if (e.type == EventType::kInvoke) keys.insert(*e.key);
  }
  EXPECT_GE(keys.size(), 500u / 30u);
  // The last invokes are the final reads: exactly one per active key.
  auto final_gen = (*w)->FinalPhase();
  Rng g(1), s(2);
  auto fin = Simulate(*final_gen, so, g, s);
  ASSERT_TRUE(fin.ok());
  std::set<std::string> final_keys;
  for (const auto& e : *fin) {
    if (e.type == EventType::kInvoke) {
      EXPECT_EQ(e.f, "read");
      EXPECT_TRUE(final_keys.insert(*e.key).second);
    }
  }
  EXPECT_EQ(final_keys.size(), 2u);
}

}  // namespace
}  // namespace tidemark::workloads
