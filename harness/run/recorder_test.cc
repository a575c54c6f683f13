// Tests of the Recorder, the single writer of a run's history: concurrent recording gives dense,
// whole, ordered lines; batched lines reach the file on Flush; an uncreatable file is an error.
#include "harness/run/recorder.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/history/jsonl.h"

namespace tidemark::run {
namespace {

using history::Event;
using history::EventType;

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tidemark_recorder_" + std::to_string(getpid()) + "_" + name))
      .string();
}

Event Client(int64_t process, EventType type, std::string value) {
  Event e;
  e.process = process;
  e.type = type;
  e.f = "append";
  e.value = std::move(value);
  return e;
}

TEST(RecorderTest, ConcurrentRecordsAreDenseWholeLinesInTimeOrder) {
  const std::string path = TempPath("concurrent.jsonl");
  constexpr int kThreads = 8, kPerThread = 500;
  {
    auto rec = Recorder::Open(path);
    ASSERT_TRUE(rec.ok()) << rec.error().message;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          EventType type = i % 2 ? EventType::kOk : EventType::kInvoke;
          auto w = i % 3 ? Recorder::Write::kBatched : Recorder::Write::kNow;
          (*rec)->Record(Client(t, type, std::string(static_cast<size_t>(i % 50), 'x')), w);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ((*rec)->size(), static_cast<size_t>(kThreads * kPerThread));
    EXPECT_EQ((*rec)->counts().invokes, kThreads * kPerThread / 2);
    EXPECT_EQ((*rec)->write_error(), "");
  }  // the destructor flushes what is batched
  auto ops = history::ValidateJsonlFile(path);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  EXPECT_EQ(ops->size(), static_cast<size_t>(kThreads * kPerThread / 2));
  auto h = history::ReadJsonlFile(path);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->events.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < h->events.size(); ++i) {
    EXPECT_EQ(h->events[i].index, static_cast<int64_t>(i));
    if (i > 0) {
      EXPECT_GE(h->events[i].time_ns, h->events[i - 1].time_ns);
    }
  }
  std::filesystem::remove(path);
}

TEST(RecorderTest, BatchedLinesReachTheFileOnFlush) {
  const std::string path = TempPath("batched.jsonl");
  auto rec = Recorder::Open(path);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  (*rec)->Record(Client(0, EventType::kInvoke, "v"), Recorder::Write::kBatched);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  (*rec)->Flush();
  auto h = history::ReadJsonlFile(path);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->events.size(), 1u);
  std::filesystem::remove(path);
}

// A log read as the run records it (its value given as a JSON tree).
Event Read(int64_t process, int64_t from, std::vector<std::pair<int64_t, std::string>> entries) {
  Event e;
  e.process = process;
  e.type = EventType::kOk;
  e.f = "read";
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [o, v] : entries) list.push_back({o, v});
  const int64_t to = entries.empty() ? from : entries.back().first + 1;
  e.value = {{"from", from}, {"to", to}, {"hwm", to}, {"entries", list}};
  return e;
}

// Reads repeat the log: written compact until StopCompacting, in full after it; expanded, the
// file holds every read as recorded.
TEST(RecorderTest, ReadsAfterStopCompactingAreWrittenInFull) {
  const std::string path = TempPath("compact.jsonl");
  auto rec = Recorder::Open(path);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  std::vector<Event> reads = {Read(0, 0, {{0, "a"}, {1, "b"}}), Read(0, 0, {{0, "a"}, {1, "b"}}),
                              Read(0, 0, {{0, "a"}, {1, "b"}, {2, "c"}})};
  (*rec)->Record(reads[0]);
  (*rec)->Record(reads[1]);
  (*rec)->StopCompacting();
  (*rec)->Record(reads[2]);
  (*rec)->Flush();
  auto written = history::ReadJsonlFile(path, {}, history::LogReads::kAsWritten);
  ASSERT_TRUE(written.ok()) << written.error().message;
  ASSERT_EQ(written->events.size(), 3u);
  EXPECT_TRUE(written->events[1].value.contains("known"));    // compact
  EXPECT_TRUE(written->events[2].value.contains("entries"));  // in full
  auto expanded = history::ReadJsonlFile(path, {}, history::LogReads::kExpand);
  ASSERT_TRUE(expanded.ok()) << expanded.error().message;
  for (size_t i = 0; i < reads.size(); ++i)
    EXPECT_EQ(expanded->events[i].value["entries"], reads[i].value["entries"]) << i;
  std::filesystem::remove(path);
}

TEST(RecorderTest, UncreatableFileIsAnError) {
  auto rec = Recorder::Open("/nonexistent/dir/h.jsonl");
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.error().message.find("cannot create /nonexistent/dir/h.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace tidemark::run
