#include "base/history/compact_reads.h"

#include <gtest/gtest.h>

#include "base/history/jsonl.h"
#include "base/rng.h"

namespace tidemark::history {
namespace {

using nlohmann::json;
using Entries = std::vector<KnownLog::Entry>;

Entries Make(std::initializer_list<std::pair<int64_t, const char*>> xs) {
  Entries out;
  for (auto [o, v] : xs) out.push_back({o, json(v).dump()});
  return out;
}

// The entries as the writer sees them: views into `entries`.
std::vector<KnownLog::EntryView> Views(const Entries& entries) {
  std::vector<KnownLog::EntryView> out;
  for (const auto& e : entries) out.push_back({e.offset, e.payload});
  return out;
}

std::string Compact(KnownLog& k, int64_t from, int64_t to, int64_t hwm, const std::string& c,
                    const Entries& entries) {
  return CompactLogRead(k, from, to, hwm, c, Views(entries));
}

json FullValue(int64_t from, int64_t to, const Entries& entries) {
  json e = json::array();
  for (const auto& x : entries) e.push_back(json::array({x.offset, json::parse(x.payload)}));
  return {{"from", from}, {"to", to}, {"hwm", to}, {"entries", e}};
}

Event ReadEvent(json value) {
  Event e;
  e.type = EventType::kOk;
  e.f = "read";
  e.value = std::move(value);
  return e;
}

TEST(KnownLogTest, ARepeatedWindowIsWrittenAsACountAndItsNewEntries) {
  KnownLog k;
  EXPECT_EQ(Compact(k, 5, 8, 8, "", Make({{5, "a"}, {7, "b"}})),
            R"({"from":5,"head":[[5,"a"],[7,"b"]],"hwm":8,"known":0,"tail":[],"to":8})");
  EXPECT_EQ(Compact(k, 6, 10, 10, R"("local")", Make({{7, "b"}, {9, "c"}})),
            R"({"consistency":"local","from":6,"hwm":10,"known":1,"tail":[[9,"c"]],"to":10})");
  // A read from 0 brings entries below the known log's first: they are its head, and learned.
  EXPECT_EQ(Compact(k, 0, 10, 10, "", Make({{1, "z"}, {5, "a"}, {7, "b"}, {9, "c"}})),
            R"({"from":0,"head":[[1,"z"]],"hwm":10,"known":3,"tail":[],"to":10})");
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[0].offset, 1);
  // A read that disagrees writes the disagreeing part out; the log keeps what it had.
  EXPECT_EQ(Compact(k, 5, 10, 10, "", Make({{5, "a"}, {7, "X"}, {9, "c"}})),
            R"({"from":5,"hwm":10,"known":1,"tail":[[7,"X"],[9,"c"]],"to":10})");
  EXPECT_EQ(k.size(), 4u);
  EXPECT_EQ(k[2].payload, R"("b")");
}

TEST(KnownLogTest, LearnTakesEntriesAtNewOffsetsOnlyAndRefusesDisorder) {
  KnownLog k;
  ASSERT_TRUE(k.Learn(10, {}, Make({{10, "a"}, {14, "b"}})));
  EXPECT_FALSE(k.Learn(0, Make({{11, "x"}}), {})) << "a head above the log's first entry";
  EXPECT_FALSE(k.Learn(0, Make({{3, "x"}, {2, "y"}}), {})) << "a head out of order";
  EXPECT_FALSE(k.Learn(0, {}, Make({{13, "x"}, {12, "y"}}))) << "a tail out of order";
  EXPECT_EQ(k.size(), 2u);
  // A tail that fills a gap and disagrees at an offset the log holds: the gap is learned, the
  // disagreement is not.
  ASSERT_TRUE(k.Learn(10, {}, Make({{12, "c"}, {14, "B"}, {15, "d"}})));
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[1].offset, 12);
  EXPECT_EQ(k[2].payload, R"("b")");
  EXPECT_EQ(k[3].offset, 15);
}

TEST(LogReadExpanderTest, RandomReadsWithDisagreementsExpandToWhatWasRead) {
  Rng rng(42);
  KnownLog writer;
  LogReadExpander reader;
  // Reads of a log whose values sometimes differ between reads (a buggy system): whatever was
  // read comes back.
  for (int i = 0; i < 3000; ++i) {
    const int64_t from = rng.UniformInt(0, 300), to = from + rng.UniformInt(0, 60);
    Entries read;
    for (int64_t o = from; o < to; ++o) {
      if (rng.UniformInt(0, 9) == 0) continue;  // a no-op offset
      const bool odd = rng.UniformInt(0, 99) == 0;
      read.push_back({o, json("v" + std::to_string(o) + (odd ? "x" : "")).dump()});
    }
    Event e = ReadEvent(json::parse(CompactLogRead(writer, from, to, to, "", Views(read))));
    ASSERT_TRUE(reader.Expand(e).ok()) << i;
    ASSERT_EQ(e.value, FullValue(from, to, read)) << i;
  }
}

TEST(LogReadExpanderTest, ACompactReadThatNeedsMissingReadsIsAnErrorNotAGuess) {
  LogReadExpander reader;
  Event e = ReadEvent(json::parse(R"({"from":4,"hwm":9,"known":3,"tail":[],"to":9})"));
  auto r = reader.Expand(e);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("repeats 3 known entries but the known log holds 0"),
            std::string::npos)
      << r.error().message;
}

TEST(LogReadExpanderTest, OnlyOkReadsWithKnownAreTouched) {
  LogReadExpander reader;
  Event full = ReadEvent(FullValue(0, 1, Make({{0, "a"}})));
  const json before = full.value;
  ASSERT_TRUE(reader.Expand(full).ok());
  EXPECT_EQ(full.value, before);
  Event append = ReadEvent(json{{"known", 1}});
  append.f = "append";
  ASSERT_TRUE(reader.Expand(append).ok());
  EXPECT_EQ(append.value, json({{"known", 1}}));
  Event bad = ReadEvent(json::parse(R"({"from":0,"hwm":1,"known":0,"tail":[[0,1]],"to":1})"));
  EXPECT_FALSE(reader.Expand(bad).ok()) << "an entry whose value is not a string";
}

TEST(LogReadExpanderTest, TheJsonlReaderNamesTheLineOfABadCompactRead) {
  const std::string text =
      R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read","value":{"from":0}})"
      "\n"
      R"({"index":1,"time":1,"process":0,"type":"ok","f":"read","value":{"from":0,"hwm":1,"known":2,"tail":[],"to":1}})"
      "\n";
  auto h = ReadJsonlText(text, "h.jsonl");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message.rfind("h.jsonl:2: a compact read repeats 2", 0), 0u)
      << h.error().message;
}

}  // namespace
}  // namespace tidemark::history
