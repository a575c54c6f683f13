#include "workloads/log.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "workloads/simulate.h"

namespace tidemark::workloads {
namespace {

using history::EventType;

// A correct log: appends commit at once (hwm = length); reads return [from, hwm).
SimOptions LogSystem(std::vector<std::string>* log) {
  SimOptions o;
  o.concurrency = 5;
  o.respond = [log](const OpRequest& op, int64_t, Rng& rng) {
    SimResponse r;
    r.latency_ns = rng.UniformInt(1, 10) * 1'000'000;
    if (op.f == "append") {
      log->push_back(op.value.get<std::string>());
      const auto n = static_cast<int64_t>(log->size());
      r.value = {{"value", op.value}, {"offset", n - 1}, {"hwm", n}};
    } else {
      const int64_t from = op.value["from"].get<int64_t>();
      const auto hwm = static_cast<int64_t>(log->size());
      nlohmann::json entries = nlohmann::json::array();
      for (int64_t i = from; i < hwm; ++i) {
        entries.push_back({i, (*log)[static_cast<size_t>(i)]});
      }
      r.value = {{"from", from},
                 {"to", std::max(from, hwm)},
                 {"hwm", hwm},
                 {"consistency", op.value["consistency"]},
                 {"entries", entries}};
    }
    return r;
  };
  return o;
}

TEST(LogGeneratorTest, AppendsAreUniqueAndReadsAreShapedAsDocumented) {
  const uint64_t seed = 31;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::vector<std::string> log;
  auto gen = Limit(3000, std::make_unique<LogGenerator>(LogOptions{}));
  Rng g = Rng::Derive(seed, "generator"), s = Rng::Derive(seed, "sim");
  SimOptions o = LogSystem(&log);
  o.nodes = 3;
  auto h = Simulate(*gen, o, g, s);
  ASSERT_TRUE(h.ok()) << h.error().message;
  std::set<std::string> values;
  int local = 0, linearizable = 0;
  std::set<std::string> local_nodes;
  for (const auto& e : *h) {
    if (e.type != EventType::kInvoke) continue;
    EXPECT_FALSE(e.key.has_value());
    if (e.f == "append") {
      ASSERT_TRUE(e.value.is_string()) << e.value;
      const std::string v = e.value.get<std::string>();
      EXPECT_EQ(v.rfind("v" + std::to_string(e.process) + "-", 0), 0u) << v;
      EXPECT_TRUE(values.insert(v).second) << v << " appended twice";
    } else {
      ASSERT_EQ(e.f, "read");
      ASSERT_TRUE(e.value.is_object());
      EXPECT_EQ(e.value.size(), 2u) << e.value;
      EXPECT_TRUE(e.value["from"].is_number_integer());
      const std::string c = e.value["consistency"].get<std::string>();
      if (c == "local") {
        ++local;
        local_nodes.insert(*e.node);
      } else {
        EXPECT_EQ(c, "linearizable");
        ++linearizable;
      }
    }
  }
  EXPECT_NEAR(static_cast<double>(values.size()), 1500, 150);
  EXPECT_NEAR(local, linearizable, 200);
  EXPECT_EQ(local_nodes, (std::set<std::string>{"n1", "n2", "n3"}));
}

// A reader process only reads, half linearizable and half local, and its local reads name no
// node (the runner keeps them on the reader's own node); other processes still append.
TEST(LogGeneratorTest, ReaderProcessesOnlyReadAndStayOnTheirNode) {
  std::vector<std::string> log;
  LogOptions lo;
  lo.reader = [](int64_t p) { return p == 1; };
  auto gen = Limit(3000, std::make_unique<LogGenerator>(lo));
  Rng g = Rng::Derive(5, "generator"), s = Rng::Derive(5, "sim");
  SimOptions o = LogSystem(&log);
  o.nodes = 3;
  auto h = Simulate(*gen, o, g, s);
  ASSERT_TRUE(h.ok()) << h.error().message;
  int reader_local = 0, reader_lin = 0, others_appends = 0;
  for (const auto& e : *h) {
    if (e.type != EventType::kInvoke) continue;
    if (e.process != 1) {
      others_appends += e.f == "append";
      continue;
    }
    ASSERT_EQ(e.f, "read") << "the reader appended";
    // Simulate sends an op without a node to node process % nodes: n2 for process 1.
    EXPECT_EQ(*e.node, "n2");
    (e.value["consistency"] == "local" ? reader_local : reader_lin)++;
  }
  EXPECT_GT(reader_local, 50);
  EXPECT_GT(reader_lin, 50);
  EXPECT_GT(others_appends, 500);
}

TEST(LogGeneratorTest, ReadsStartWithinTheWindowBelowTheHighestHwmSeen) {
  const uint64_t seed = 32;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::vector<std::string> log;
  LogOptions lo;
  lo.read_window = 20;
  auto gen = Limit(2000, std::make_unique<LogGenerator>(lo));
  Rng g = Rng::Derive(seed, "generator"), s = Rng::Derive(seed, "sim");
  auto h = Simulate(*gen, LogSystem(&log), g, s);
  ASSERT_TRUE(h.ok()) << h.error().message;
  int64_t max_hwm = 0;
  int64_t max_from = 0;
  for (const auto& e : *h) {
    if (e.type == EventType::kOk && e.value.contains("hwm")) {
      max_hwm = std::max(max_hwm, e.value["hwm"].get<int64_t>());
    }
    if (e.type == EventType::kInvoke && e.f == "read") {
      const int64_t from = e.value["from"].get<int64_t>();
      EXPECT_LE(from, max_hwm);
      EXPECT_GE(from, max_hwm - 20);
      max_from = std::max(max_from, from);
    }
  }
  EXPECT_GT(max_from, 500);  // reads follow the log as it grows
}

// Node n2 is paused from 2 s to 8 s: a local read sent to it times out after 1 s, recorded as
// `type` (adapters record `fail`: a read changes nothing). Returns how many workers' local reads
// were sent to n2 while it was paused, and after it woke.
std::pair<int, int> LocalReadsToAPausedNode(int64_t avoid_ns, EventType type = EventType::kFail,
                                            int64_t latency_ns = 1'000'000'000) {
  std::vector<std::string> log;
  LogOptions lo;
  lo.avoid_after_timeout_ns = avoid_ns;
  auto gen = Limit(20000, std::make_unique<LogGenerator>(lo));
  Rng g = Rng::Derive(7, "generator"), s = Rng::Derive(7, "sim");
  SimOptions o = LogSystem(&log);
  o.nodes = 3;
  o.max_time_ns = 14'000'000'000;
  auto inner = o.respond;
  o.respond = [inner, type, latency_ns](const OpRequest& op, int64_t at, Rng& rng) {
    const bool paused = at >= 2'000'000'000 && at < 8'000'000'000;
    if (paused && op.f == "read" && op.node == 1) {
      SimResponse r;
      r.type = type;
      r.latency_ns = latency_ns;
      r.error = "timeout";
      return r;
    }
    return inner(op, at, rng);
  };
  auto h = Simulate(*gen, o, g, s);
  EXPECT_TRUE(h.ok()) << h.error().message;
  int during = 0, after = 0;
  if (!h.ok()) return {during, after};
  for (const auto& e : *h) {
    if (e.type != EventType::kInvoke || e.f != "read" || e.node != "n2") continue;
    if (e.value.value("consistency", "") != "local") continue;
    if (e.time_ns >= 2'000'000'000 && e.time_ns < 8'000'000'000) ++during;
    if (e.time_ns >= 11'000'000'000) ++after;
  }
  return {during, after};
}

TEST(LogGeneratorTest, WorkersStopSendingLocalReadsToANodeWhereOneJustTimedOut) {
  auto [during, after] = LocalReadsToAPausedNode(3'000'000'000);
  auto [during_control, after_control] = LocalReadsToAPausedNode(0);
  // Without steering every worker ends up waiting out timeouts at the paused node.
  EXPECT_GE(during_control, 20);
  // With it, only the reads sent before the first timeout and one probe each 3 s.
  EXPECT_LE(during, 12);
  EXPECT_LT(during * 2, during_control);
  // Once the node answers again, it gets its share of local reads back.
  EXPECT_GE(after, 20);
  EXPECT_GE(after_control, 20);
  // An unknown outcome steers the same way.
  EXPECT_LE(LocalReadsToAPausedNode(3'000'000'000, EventType::kInfo).first, 12);
  // A quick refusal (a killed node) costs nothing and steers nothing.
  auto [refused, refused_control] =
      LocalReadsToAPausedNode(3'000'000'000, EventType::kFail, 2'000'000);
  EXPECT_GE(refused, 100);
  EXPECT_EQ(refused, LocalReadsToAPausedNode(0, EventType::kFail, 2'000'000).first);
  (void)refused_control;
}

TEST(LogFinalReadsTest, OneOkFinalReadPerNodeRetryingFailures) {
  const uint64_t seed = 33;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  auto gen = LogFinalReads(10, 200'000'000);
  SimOptions o;
  o.nodes = 3;
  int n2_calls = 0;
  o.respond = [&n2_calls](const OpRequest& op, int64_t, Rng&) {
    SimResponse r;
    if (*op.node == 1 && n2_calls++ < 3) {
      r.type = EventType::kFail;
      r.error = "connection refused";
    } else {
      r.value = {{"from", 0},
                 {"to", 0},
                 {"hwm", 0},
                 {"consistency", "local"},
                 {"entries", nlohmann::json::array()}};
    }
    return r;
  };
  Rng g(seed), s(seed);
  auto h = Simulate(*gen, o, g, s);
  ASSERT_TRUE(h.ok()) << h.error().message;
  std::map<std::string, int> invokes, oks;
  for (const auto& e : *h) {
    ASSERT_EQ(e.f, "read");
    if (e.type == EventType::kInvoke) {
      EXPECT_EQ(e.value, (nlohmann::json{{"from", 0}, {"consistency", "local"}, {"final", true}}));
      ++invokes[*e.node];
    }
    if (e.type == EventType::kOk) ++oks[*e.node];
  }
  EXPECT_EQ(invokes, (std::map<std::string, int>{{"n1", 1}, {"n2", 4}, {"n3", 1}}));
  EXPECT_EQ(oks, (std::map<std::string, int>{{"n1", 1}, {"n2", 1}, {"n3", 1}}));
}

}  // namespace
}  // namespace tidemark::workloads
