// Tests of AnalyseLinStream: a register, cas-register or kv history read as a stream and checked
// key by key says what Analyse says of the whole history (one thread), holds only the ops of the
// keys in flight, and checks a key only once its last op has arrived.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/history/import.h"
#include "base/testing/corpora.h"
#include "checkers/analyse.h"
#include "checkers/lin_random_gen.h"
#include "checkers/lin_test_util.h"

namespace tidemark::checkers {
namespace {

using history::Event;
using history::EventType;
using history::History;
using nlohmann::json;

// An op of a generated history, as events: invoked at `call`, completed at `ret` (an info op
// with ret 0 never completes).
struct TimedOp {
  int64_t process = 0;
  std::string f, key;
  json in, out;
  EventType status = EventType::kOk;
  int64_t call = 0, ret = 0;
};

std::vector<TimedOp> FromRegister(const std::vector<testing::reg::GOp>& g) {
  using testing::reg::kRead;
  using testing::reg::kWrite;
  std::vector<TimedOp> out;
  for (const auto& o : g) {
    json in = o.f == kRead ? json(nullptr) : o.f == kWrite ? json(o.a) : json::array({o.a, o.b});
    json result = o.f == kRead ? (o.result < 0 ? json(nullptr) : json(o.result)) : in;
    const char* f = o.f == kRead ? "read" : o.f == kWrite ? "write" : "cas";
    out.push_back({o.process, f, "k" + std::to_string(o.key), in, result, o.status, o.call, o.ret});
  }
  return out;
}

std::vector<TimedOp> FromKv(const std::vector<testing::kv::KOp>& g) {
  using testing::kv::kGet;
  using testing::kv::kPut;
  std::vector<TimedOp> out;
  for (const auto& o : g) {
    const char* f = o.f == kGet ? "get" : o.f == kPut ? "put" : "append";
    json in = o.f == kGet ? json(nullptr) : json(o.v);
    json result = o.f == kGet ? json(o.v) : in;
    out.push_back({o.process, f, "k" + std::to_string(o.key), in, result, o.status, o.call, o.ret});
  }
  return out;
}

// The events of `ops` and `nemesis` (each at its time), in time order, indexed densely.
History EventsOf(const std::vector<TimedOp>& ops, std::vector<Event> nemesis = {}) {
  History h = std::move(nemesis);
  for (const TimedOp& o : ops) {
    Event e;
    e.time_ns = o.call;
    e.process = o.process;
    e.type = EventType::kInvoke;
    e.f = o.f;
    e.key = o.key;
    e.value = o.in;
    h.push_back(e);
    if (o.status == EventType::kInfo && o.ret == 0) continue;
    e.time_ns = o.ret;
    e.type = o.status;
    e.value = o.status == EventType::kOk ? o.out : o.in;
    h.push_back(e);
  }
  std::stable_sort(h.begin(), h.end(),
                   [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
  for (size_t i = 0; i < h.size(); ++i) h[i].index = static_cast<int64_t>(i);
  return h;
}

Event NemesisAt(int64_t time_ns, const std::string& f) {
  Event e;
  e.time_ns = time_ns;
  e.process = history::kNemesisProcess;
  e.type = EventType::kInfo;
  e.f = f;
  e.value = json{{"shape", "halves"}};
  return e;
}

// The events of `h` from the start, at each opening.
EventSourceOpener Opener(const History& h) {
  return [&h]() -> Result<EventSource> {
    auto next = std::make_shared<size_t>(0);
    return EventSource([&h, next]() -> Result<std::optional<Event>> {
      if (*next >= h.size()) return std::optional<Event>();
      return std::optional<Event>(h[(*next)++]);
    });
  };
}

// results.json's part of an analysis, without what depends on the clock.
std::string Comparable(const Analysis& a) {
  json j = ToJson(a);
  for (json& c : j["checkers"]) c["details"].erase("elapsed_s");
  return j.dump();
}

// A history of `pieces` random histories side by side, each with its own keys and processes,
// started at random times so that their keys overlap, with a partition now and then.
History Pieces(std::mt19937_64& rng, int pieces, bool kv, bool crash_heavy) {
  std::vector<TimedOp> ops;
  std::vector<Event> nemesis;
  for (int p = 0; p < pieces; ++p) {
    std::vector<TimedOp> piece = kv ? FromKv(testing::kv::Generate(rng))
                                    : FromRegister(testing::reg::Generate(rng, crash_heavy));
    const int64_t offset = static_cast<int64_t>(rng() % 60);
    // Distinct times: piece p's step t at (t + offset) * 16 + p.
    auto at = [&](int64_t t) { return (t + offset) * 16 + p; };
    for (TimedOp& o : piece) {
      o.key = "p" + std::to_string(p) + o.key;
      o.process += 1000 * p;
      o.call = at(o.call);
      if (o.ret != 0) o.ret = at(o.ret);
      ops.push_back(std::move(o));
    }
  }
  for (int n = static_cast<int>(rng() % 3); n > 0; --n) {
    const int64_t start = static_cast<int64_t>(rng() % 1000) * 16 + 15;
    nemesis.push_back(NemesisAt(start, "start-partition"));
    nemesis.push_back(
        NemesisAt(start + 16 * static_cast<int64_t>(1 + rng() % 200), "stop-partition"));
  }
  return EventsOf(ops, std::move(nemesis));
}

TEST(AnalyseLinStreamTest, SaysWhatAnalyseSaysOfTheWholeHistory) {
  const uint64_t seed = 20260518;
  std::mt19937_64 rng(seed);
  int valid = 0, invalid = 0, unknown = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    const bool kv = iter % 3 == 2;
    const int pieces = 1 + static_cast<int>(rng() % 8);
    const History h = Pieces(rng, pieces, kv, /*crash_heavy=*/iter % 2 == 1);
    AnalysisSpec spec;
    // A register model on cas histories now and then: the model refuses a cas (bad input).
    spec.model = kv ? "kv" : iter % 25 == 0 ? "register" : "cas-register";
    spec.explain = iter % 4 == 0 ? ExplainMode::kNone : ExplainMode::kMinimal;
    spec.partition_by_key = iter % 50 != 7;
    spec.threads = 1;
    const Analysis whole = Analyse(h, spec);
    (whole.verdict == Verdict::kValid     ? valid
     : whole.verdict == Verdict::kInvalid ? invalid
                                          : unknown)++;
    const std::string want = Comparable(whole);
    for (int threads : {1, 2}) {
      spec.threads = threads;
      StreamedHistory kept;
      auto streamed = AnalyseLinStream(Opener(h), spec, &kept);
      ASSERT_TRUE(streamed.ok()) << streamed.error().message;
      ASSERT_EQ(Comparable(*streamed), want)
          << "seed " << seed << " iteration " << iter << " threads " << threads;
      EXPECT_EQ(kept.nemesis.size(), history::NemesisEvents(h).size())
          << "seed " << seed << " iteration " << iter;
    }
  }
  EXPECT_GT(valid, 300) << "seed " << seed;
  EXPECT_GT(invalid, 300) << "seed " << seed;
  EXPECT_GT(unknown, 20) << "seed " << seed;
}

// Key after key, each one's ops over before the next key starts: what is held at once is one
// key's ops, however long the history.
TEST(AnalyseLinStreamTest, HoldsTheOpsOfTheKeysInFlightOnly) {
  std::vector<TimedOp> ops;
  int64_t t = 1;
  constexpr int kKeys = 1000, kOpsPerKey = 5;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    for (int i = 0; i < kOpsPerKey; ++i, t += 2) {
      const bool write = i % 2 == 0;
      ops.push_back({i % 3, write ? "write" : "read", key, write ? json(i) : json(nullptr),
                     write ? json(i) : json(i - 1), EventType::kOk, t, t + 1});
    }
  }
  const History h = EventsOf(ops);
  AnalysisSpec spec;
  spec.model = "register";
  spec.threads = 1;
  StreamedHistory kept;
  auto streamed = AnalyseLinStream(Opener(h), spec, &kept);
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  EXPECT_EQ(streamed->verdict, Verdict::kValid);
  EXPECT_EQ(streamed->ops, kKeys * kOpsPerKey);
  EXPECT_LE(kept.max_ops_held, kOpsPerKey);
  EXPECT_GE(streamed->ops, 100 * kept.max_ops_held);
  EXPECT_EQ(Comparable(*streamed), Comparable(Analyse(h, spec)));
}

// Key "a" is fine until its last op, a read of a value nobody wrote, long after its others and
// after many other keys: a key checked before its last op arrives would be found valid.
TEST(AnalyseLinStreamTest, ChecksAKeyOnlyOnceItsLastOpHasArrived) {
  std::vector<TimedOp> ops;
  ops.push_back({0, "write", "a", 1, 1, EventType::kOk, 1, 2});
  ops.push_back({1, "read", "a", nullptr, 1, EventType::kOk, 3, 4});
  int64_t t = 5;
  for (int k = 0; k < 50; ++k, t += 4) {
    const std::string key = "b" + std::to_string(k);
    ops.push_back({2, "write", key, k, k, EventType::kOk, t, t + 1});
    ops.push_back({3, "read", key, nullptr, k, EventType::kOk, t + 2, t + 3});
  }
  // Invoked early, completed last: the stream passes many keys before "a" is complete.
  ops.push_back({4, "read", "a", nullptr, 7, EventType::kOk, 5, t});
  for (bool crashed_write : {false, true}) {
    SCOPED_TRACE(crashed_write ? "with a crashed write of 7, valid" : "invalid");
    std::vector<TimedOp> h_ops = ops;
    // A write of 7 that never completes (it ends with the history) makes the read possible.
    if (crashed_write) h_ops.push_back({5, "write", "a", 7, 7, EventType::kInfo, 5, 0});
    const History h = EventsOf(h_ops);
    for (int threads : {1, 2}) {
      AnalysisSpec spec;
      spec.model = "register";
      spec.threads = threads;
      StreamedHistory kept;
      auto streamed = AnalyseLinStream(Opener(h), spec, &kept);
      ASSERT_TRUE(streamed.ok()) << streamed.error().message;
      EXPECT_EQ(streamed->verdict, crashed_write ? Verdict::kValid : Verdict::kInvalid);
      spec.threads = 1;
      EXPECT_EQ(Comparable(*streamed), Comparable(Analyse(h, spec)));
    }
  }
}

TEST(AnalyseLinStreamTest, AHistoryItCannotCheckKeyByKeyIsAnError) {
  History h = EventsOf({{0, "write", "a", 1, 1, EventType::kOk, 1, 2}});
  h.push_back(h.back());  // a second completion with nothing invoked
  h.back().index = 2;
  StreamedHistory kept;
  AnalysisSpec spec;
  spec.model = "register";
  EXPECT_FALSE(AnalyseLinStream(Opener(h), spec, &kept).ok());
  h.pop_back();
  spec.model = "log";
  EXPECT_FALSE(AnalyseLinStream(Opener(h), spec, &kept).ok());
  spec.model = "register";
  spec.checkers = {"linearizability", "log-prefix"};
  EXPECT_FALSE(AnalyseLinStream(Opener(h), spec, &kept).ok());
  spec.checkers = {};
  EXPECT_TRUE(AnalyseLinStream(Opener(h), spec, &kept).ok());
}

// The history read the second time is not the one indexed (a file rewritten in between).
TEST(AnalyseLinStreamTest, AHistoryThatChangedBetweenTheReadingsIsAnError) {
  const History first = EventsOf({{0, "write", "a", 1, 1, EventType::kOk, 1, 2}});
  const History second = EventsOf({{0, "write", "b", 1, 1, EventType::kOk, 1, 2}});
  int openings = 0;
  EventSourceOpener open = [&]() { return Opener(openings++ == 0 ? first : second)(); };
  AnalysisSpec spec;
  spec.model = "register";
  StreamedHistory kept;
  auto streamed = AnalyseLinStream(open, spec, &kept);
  ASSERT_FALSE(streamed.ok());
  EXPECT_NE(streamed.error().message.find("changed between"), std::string::npos);
}

// One key of 400,000 writes of 1 KiB each, made as they are read (the history is never held):
// the key's ops are held until its last one, far more than the child's capped data segment.
// Running out is an unknown linearizability check, not the end of the process.
TEST(AnalyseLinStreamTest, RunningOutOfMemoryIsUnknown) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under AddressSanitizer a capped data segment aborts instead of throwing";
#endif
  constexpr int64_t kOps = 400'000;
  const std::string value(1024, 'x');
  EventSourceOpener open = [&]() -> Result<EventSource> {
    auto next = std::make_shared<int64_t>(0);
    return EventSource([&, next]() -> Result<std::optional<Event>> {
      const int64_t i = (*next)++;
      if (i >= 2 * kOps) return std::optional<Event>();
      Event e;
      e.index = i;
      e.time_ns = i;
      e.type = i % 2 == 0 ? EventType::kInvoke : EventType::kOk;
      e.f = "write";
      e.key = "a";
      e.value = value;
      return std::optional<Event>(std::move(e));
    });
  };
  const std::string got = testing::InCappedChild([&] {
    AnalysisSpec spec;
    spec.model = "register";
    spec.threads = 1;
    StreamedHistory kept;
    auto a = AnalyseLinStream(open, spec, &kept);
    return !a.ok() ? "error " + a.error().message
                   : std::string(ToString(a->verdict)) + " " + a->checks.at(0).checker + ": " +
                         a->checks.at(0).summary + (kept.out_of_memory ? " (out of memory)" : "");
  });
  EXPECT_EQ(got,
            "unknown linearizability: ran out of memory while reading the history (out of memory)");
}

// Every history of dir/MANIFEST.tsv with a verdict asserted (register, cas-register and kv, from
// Jepsen, Porcupine and our own runs): read as a stream, it gets that verdict and Analyse's
// results. Returns how many were checked.
int CheckEveryAssertedVerdictAsAStream(const std::filesystem::path& dir) {
  std::ifstream in(dir / "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  int checked = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string path, format, model, expected;
    std::getline(fields, path, '\t');
    std::getline(fields, format, '\t');
    std::getline(fields, model, '\t');
    std::getline(fields, expected, '\t');
    if (path.empty() || expected == "any") continue;
    auto parsed = history::ParseFormat(format);
    EXPECT_TRUE(parsed.has_value()) << path << ": format " << format;
    if (!parsed) continue;
    auto h = history::ImportFile((dir / path).string(), *parsed);
    EXPECT_TRUE(h.ok()) << path << ": " << h.error().message;
    if (!h.ok()) continue;
    AnalysisSpec spec;
    spec.model = model == "kv-append" ? "kv" : model;  // one model, two names (model.h)
    spec.explain = ExplainMode::kNone;
    spec.threads = 1;
    StreamedHistory kept;
    auto streamed = AnalyseLinStream(Opener(*h), spec, &kept);
    EXPECT_TRUE(streamed.ok()) << path << ": " << streamed.error().message;
    if (!streamed.ok()) continue;
    EXPECT_EQ(ToString(streamed->verdict), expected) << path;
    EXPECT_EQ(Comparable(*streamed), Comparable(Analyse(*h, spec))) << path;
    ++checked;
  }
  return checked;
}

TEST(AnalyseLinStreamTest, ReproducesEveryGoldenVerdict) {
  EXPECT_GE(CheckEveryAssertedVerdictAsAStream(tidemark::testing::GoldenHistories()), 14);
}

TEST(AnalyseLinStreamTest, ReproducesEveryPublishedVerdict) {
  TIDEMARK_REQUIRE_CORPUS(tidemark::testing::SharedHistories() / "MANIFEST.tsv");
  EXPECT_GT(CheckEveryAssertedVerdictAsAStream(tidemark::testing::SharedHistories()), 150);
}

}  // namespace
}  // namespace tidemark::checkers
