// Compact log reads end to end in memory: simulated histories (correct and with each injected
// fault) written the way the Recorder writes them, read back, must be byte-identical to the
// full form and get the same analysis; tidelog's value-text reads compact too.
#include "harness/run/read_compactor.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "base/history/jsonl.h"
#include "checkers/analyse.h"
#include "checkers/log/log_sim.h"
#include "targets/adapters/log_read_scan.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::run {
namespace {

using history::Event;
using history::EventType;
namespace logsim = checkers::logsim;

std::string FullText(const history::History& h) {
  std::string s;
  for (const Event& e : h) s += history::ToJsonLine(e) + "\n";
  return s;
}

// What the Recorder writes for `h`.
std::string CompactText(const history::History& h) {
  ReadCompactor c;
  std::string s;
  for (Event e : h) {
    if (auto v = c.Compact(e)) e.value_text = std::move(*v);
    s += history::ToJsonLine(e) + "\n";
  }
  return s;
}

// Bytes of the ok read lines of a JSONL text.
size_t ReadBytes(const std::string& text) {
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line(text.data() + pos, end - pos);
    if (line.find(R"("type":"ok","f":"read")") != std::string_view::npos) n += line.size() + 1;
    pos = end + 1;
  }
  return n;
}

std::string ReadBack(const std::string& text) {
  auto h = history::ReadJsonlText(text, "compact.jsonl");
  EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
  return h.ok() ? FullText(h->events) : "";
}

// The analysis of a JSONL text, read as `tidemark check` and `tidemark run` read a log history:
// compact reads as written, expanded by the log checkers one at a time.
std::string Results(const std::string& text) {
  history::History h;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    auto e = history::ParseJsonlLine(std::string_view(text).substr(pos, end - pos));
    EXPECT_TRUE(e.ok() && e->has_value());
    if (e.ok() && e->has_value()) h.push_back(std::move(**e));
    pos = end + 1;
  }
  checkers::AnalysisSpec spec;
  spec.model = "log";
  return checkers::ToJson(checkers::Analyse(h, spec)).dump();
}

TEST(ReadCompactorTest, CorrectSimulatedHistoriesRoundTripByteIdenticalAndShrink) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    logsim::SimOptions o;
    o.seed = seed;
    o.ops = 3000;
    const std::string full = FullText(logsim::Simulate(o));
    const std::string compact = CompactText(logsim::Simulate(o));
    EXPECT_EQ(ReadBack(compact), full) << "seed " << seed;
    // The reads (at most 40 offsets each, mostly of entries read before) shrink to a fraction.
    EXPECT_LT(ReadBytes(compact) * 3, ReadBytes(full)) << "seed " << seed;
    EXPECT_EQ(Results(compact), Results(full)) << "seed " << seed;
  }
}

TEST(ReadCompactorTest, EveryInjectedFaultSurvivesCompactionWithTheSameVerdict) {
  for (logsim::Fault f : logsim::kAllFaults) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      logsim::SimOptions o;
      o.seed = seed * 31 + 7;
      o.ops = 1500;
      history::History h = logsim::Simulate(o);
      std::string what;
      if (!logsim::InjectFault(&h, f, seed, &what)) continue;
      const std::string full = FullText(h);
      const std::string compact = CompactText(h);
      EXPECT_EQ(ReadBack(compact), full) << logsim::ToString(f) << " seed " << seed;
      const std::string a = Results(compact);
      EXPECT_EQ(a, Results(full)) << logsim::ToString(f) << " seed " << seed;
      EXPECT_NE(a.find(logsim::ExpectedAnomaly(f)), std::string::npos)
          << logsim::ToString(f) << ": " << what;
    }
  }
}

Event TidelogRead(int64_t from, int64_t to, const std::string& entries_text, int64_t index) {
  auto page = targets::tidelog_http::ScanLogReadPage(
      R"({"from":)" + std::to_string(from) + R"(,"to":)" + std::to_string(to) + R"(,"hwm":)" +
      std::to_string(to) + R"(,"consistency":"local","entries":[)" + entries_text + "]}");
  EXPECT_TRUE(page.has_value());
  targets::OpRequest op;
  op.f = "read";
  op.value = {{"from", from}, {"consistency", "local"}};
  auto c = targets::tidelog_http::LogReadCompletion(op, *page, "n1");
  Event e;
  e.index = index;
  e.process = 1;
  e.type = EventType::kOk;
  e.f = "read";
  e.value = c.value;
  e.value_text = c.value_text;
  e.node = "n1";
  return e;
}

TEST(ReadCompactorTest, TidelogValueTextReadsCompactToOnlyTheirNewEntries) {
  ReadCompactor c;
  Event a = TidelogRead(0, 3, R"([0,"v1-1"],[2,"v\"q"])", 0);
  Event b = TidelogRead(1, 4, R"([2,"v\"q"],[3,"v2-2"])", 1);
  auto ca = c.Compact(a);
  auto cb = c.Compact(b);
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(
      *ca,
      R"({"consistency":"local","from":0,"head":[[0,"v1-1"],[2,"v\"q"]],"hwm":3,"known":0,"tail":[],"to":3})");
  EXPECT_EQ(*cb,
            R"({"consistency":"local","from":1,"hwm":4,"known":1,"tail":[[3,"v2-2"]],"to":4})");
  std::string text;
  for (Event* e : {&a, &b}) {
    Event w = *e;
    w.value_text = e == &a ? *ca : *cb;
    text += history::ToJsonLine(w) + "\n";
  }
  EXPECT_EQ(ReadBack(text), history::ToJsonLine(a) + "\n" + history::ToJsonLine(b) + "\n");
}

TEST(ReadCompactorTest, WhatItCannotWriteExactlyStaysFull) {
  ReadCompactor c;
  Event e;
  e.type = EventType::kOk;
  e.f = "read";
  e.value = {{"from", 0}, {"to", 2}, {"hwm", 2}, {"entries", {{0, "a"}}}, {"extra", 1}};
  EXPECT_FALSE(c.Compact(e)) << "an unknown key";
  e.value = {{"from", 0}, {"to", 2}, {"hwm", 2}, {"entries", {{1, "a"}, {0, "b"}}}};
  EXPECT_FALSE(c.Compact(e)) << "offsets out of order";
  e.value = {{"from", 0}, {"to", 2}, {"hwm", 2}, {"entries", {{0, 5}}}};
  EXPECT_FALSE(c.Compact(e)) << "a value that is not a string";
  e.value = 7;
  EXPECT_FALSE(c.Compact(e)) << "a register read";
  e.value = {{"from", 0}, {"to", 2}, {"hwm", 2}, {"entries", {{0, "a"}}}};
  e.type = EventType::kInvoke;
  EXPECT_FALSE(c.Compact(e)) << "not a completion";
  e.type = EventType::kOk;
  EXPECT_TRUE(c.Compact(e));
}

}  // namespace
}  // namespace tidemark::run
