#include "workloads/register.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "workloads/simulate.h"

namespace tidemark::workloads {
namespace {

using history::EventType;

// A correct in-memory cas register per key, applied at invoke time.
SimOptions RegisterSystem(std::map<std::string, nlohmann::json>* state) {
  SimOptions o;
  o.concurrency = 6;
  o.respond = [state](const OpRequest& op, int64_t, Rng& rng) {
    SimResponse r;
    r.latency_ns = rng.UniformInt(1, 20) * 1'000'000;
    nlohmann::json& cur = (*state)[*op.key];
    if (op.f == "read") {
      r.value = cur;
    } else if (op.f == "write") {
      cur = op.value;
      r.value = op.value;
    } else if (cur == op.value[0]) {
      cur = op.value[1];
      r.value = op.value;
    } else {
      r.type = EventType::kFail;
      r.error = "cas_failed";
    }
    return r;
  };
  return o;
}

struct RegRun {
  history::History h;
  std::vector<std::string> active;
};

RegRun RunRegister(RegisterOptions ro, uint64_t seed, int64_t n_ops) {
  std::map<std::string, nlohmann::json> state;
  auto stream = std::make_unique<RegisterGenerator>(ro);
  RegisterGenerator* raw = stream.get();
  auto gen = Limit(n_ops, std::move(stream));
  Rng g = Rng::Derive(seed, "generator"), s = Rng::Derive(seed, "sim");
  auto h = Simulate(*gen, RegisterSystem(&state), g, s);
  EXPECT_TRUE(h.ok()) << h.error().message;
  return {h.ok() ? *h : history::History{}, raw->ActiveKeys()};
}

TEST(RegisterGeneratorTest, OpsHaveTheDocumentedShapes) {
  const uint64_t seed = 21;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RegRun run = RunRegister(RegisterOptions{}, seed, 2000);
  std::map<std::string, int> by_f;
  for (const auto& e : run.h) {
    ASSERT_TRUE(e.key.has_value());
    ASSERT_EQ(e.key->rfind("k", 0), 0u) << *e.key;
    if (e.type != EventType::kInvoke) continue;
    ++by_f[e.f];
    if (e.f == "read") {
      EXPECT_TRUE(e.value.is_null()) << e.value;
    } else if (e.f == "write") {
      EXPECT_TRUE(e.value.is_number_integer()) << e.value;
    } else {
      ASSERT_EQ(e.f, "cas");
      ASSERT_TRUE(e.value.is_array()) << e.value;
      ASSERT_EQ(e.value.size(), 2u);
      EXPECT_TRUE(e.value[0].is_number_integer() && e.value[1].is_number_integer()) << e.value;
    }
  }
  EXPECT_EQ(by_f.size(), 3u);
  EXPECT_NEAR(by_f["read"], 1000, 120);
}

TEST(RegisterGeneratorTest, WrittenValuesAreUniquePerKey) {
  const uint64_t seed = 22;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RegRun run = RunRegister(RegisterOptions{}, seed, 3000);
  std::map<std::string, std::set<int64_t>> written;
  for (const auto& e : run.h) {
    if (e.type != EventType::kInvoke || e.f == "read") continue;
    const int64_t v = e.f == "write" ? e.value.get<int64_t>() : e.value[1].get<int64_t>();
    EXPECT_TRUE(written[*e.key].insert(v).second) << *e.key << " got " << v << " twice";
  }
}

TEST(RegisterGeneratorTest, KeysRotateAfterOpsPerKey) {
  const uint64_t seed = 23;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RegisterOptions ro;
  ro.keys_in_flight = 3;
  ro.ops_per_key = 50;
  RegRun run = RunRegister(ro, seed, 1000);
  std::map<std::string, int> per_key;
  std::map<std::string, std::pair<int64_t, int64_t>> span;  // first/last invoke index
  for (const auto& e : run.h) {
    if (e.type != EventType::kInvoke) continue;
    ++per_key[*e.key];
    auto [it, fresh] = span.emplace(*e.key, std::make_pair(e.index, e.index));
    if (!fresh) it->second.second = e.index;
  }
  for (const auto& [k, n] : per_key) EXPECT_LE(n, 50) << k;
  // 1000 ops retire 1000 / 50 keys; up to 3 more are active (some possibly unused yet).
  EXPECT_GE(per_key.size(), 20u);
  EXPECT_LE(per_key.size(), 23u);
  // At no invoke are more than 3 keys live (between their first and last use).
  for (const auto& e : run.h) {
    int live = 0;
    for (const auto& [k, s] : span) live += s.first <= e.index && e.index <= s.second ? 1 : 0;
    ASSERT_LE(live, 3) << "at event " << e.index;
  }
  EXPECT_EQ(run.active.size(), 3u);
}

TEST(RegisterGeneratorTest, CasOftenSucceedsBecauseItUsesKnownValues) {
  const uint64_t seed = 24;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RegRun run = RunRegister(RegisterOptions{}, seed, 3000);
  int ok = 0, fail = 0;
  for (const auto& e : run.h) {
    if (e.f != "cas" || e.type == EventType::kInvoke) continue;
    (e.type == EventType::kOk ? ok : fail)++;
  }
  EXPECT_GT(ok, (ok + fail) / 4) << ok << " ok, " << fail << " failed";
  EXPECT_GT(fail, 0);  // and the precondition does fail sometimes
}

TEST(RegisterFinalReadsTest, ReadsEveryKeyUntilOk) {
  const uint64_t seed = 25;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  auto gen = RegisterFinalReads({"k3", "k4"}, 5, 100'000'000);
  SimOptions o;
  int calls = 0;
  o.respond = [&calls](const OpRequest& op, int64_t, Rng&) {
    SimResponse r;
    if (op.key == "k3" && calls++ < 2) {
      r.type = EventType::kFail;
      r.error = "unavailable";
    } else {
      r.value = 7;
    }
    return r;
  };
  Rng g(seed), s(seed + 1);
  auto h = Simulate(*gen, o, g, s);
  ASSERT_TRUE(h.ok()) << h.error().message;
  std::map<std::string, int> invokes;
  for (const auto& e : *h) {
    if (e.type != EventType::kInvoke) continue;
    EXPECT_EQ(e.f, "read");
    EXPECT_TRUE(e.value.is_null());
    ++invokes[*e.key];
  }
  EXPECT_EQ(invokes["k3"], 3);
  EXPECT_EQ(invokes["k4"], 1);
}

}  // namespace
}  // namespace tidemark::workloads
