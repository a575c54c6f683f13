// Tests of JSONL reading/writing (jsonl.h) and the EDN exporter (edn_export.h).
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "base/history/edn_export.h"
#include "base/history/import.h"
#include "base/history/jsonl.h"
#include "base/testing/corpora.h"

namespace tidemark::history {
namespace {

using nlohmann::json;

template <typename T>
void ExpectError(const Result<T>& r, std::initializer_list<std::string> needles) {
  ASSERT_FALSE(r.ok()) << "expected an error containing " << *needles.begin();
  for (const std::string& n : needles)
    EXPECT_NE(r.error().message.find(n), std::string::npos)
        << "message: " << r.error().message << "\nmissing: " << n;
}

// A fresh path in the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("tidemark_history_" + std::to_string(::getpid()) + "_" + name))
                  .string()) {}
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& text) const { std::ofstream(path_, std::ios::binary) << text; }

 private:
  std::string path_;
};

// A history exercising every field: nemesis, keys, nodes, errors, extras, nested values,
// strings that need escaping.
History SampleHistory(uint32_t seed) {
  std::mt19937 rng(seed);
  History h;
  auto add = [&](int64_t process, EventType type, std::string f, json value) {
    Event e;
    e.index = static_cast<int64_t>(h.size()) * 2;
    e.time_ns = static_cast<int64_t>(h.size()) * 777 + static_cast<int64_t>(rng() % 100);
    e.process = process;
    e.type = type;
    e.f = std::move(f);
    e.value = std::move(value);
    h.push_back(std::move(e));
    return &h.back();  // valid until the next add()
  };
  add(kNemesisProcess, EventType::kInfo, "start-partition",
      {{"grudge", {{"n1", {"n2", "n3"}}}}, {"weird key!", -1.25}});
  for (int i = 0; i < 50; ++i) {
    int64_t p = static_cast<int64_t>(rng() % 5) + i * 5;
    int k = static_cast<int>(rng() % 3);
    json v = k == 0   ? json(static_cast<int64_t>(rng()))
             : k == 1 ? json({1, nullptr, true})
                      : json("q\"\\\n\t\x01 é");
    Event* inv = add(p, EventType::kInvoke, i % 2 ? "append" : "read", v);
    inv->key = "k" + std::to_string(i % 4);
    inv->node = "n" + std::to_string(i % 3 + 1);
    EventType done = std::array{EventType::kOk, EventType::kFail, EventType::kInfo}[rng() % 3];
    std::string f = inv->f;
    std::optional<std::string> key = inv->key;  // inv dangles once add() grows h
    Event* c = add(p, done, f, json{{"value", v}, {"offset", i}, {"hwm", i + 1}});
    c->key = key;
    if (done != EventType::kOk) c->error = "timeout \"x\"";
    c->extra["latency-ms"] = 12.5;
    c->extra["tags"] = json::array({"a", "b"});
  }
  return h;
}

std::vector<json> AsJson(const History& h) {
  std::vector<json> out;
  for (const Event& e : h) out.push_back(ToJson(e));
  return out;
}

TEST(JsonlTest, EventRoundTripsThroughJsonAndLine) {
  for (const Event& e : SampleHistory(1)) {
    auto back = FromJson(ToJson(e));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(ToJson(*back), ToJson(e));
    auto parsed = ParseJsonlLine(ToJsonLine(e));
    ASSERT_TRUE(parsed.ok() && parsed->has_value());
    EXPECT_EQ(ToJson(**parsed), ToJson(e));
  }
}

TEST(JsonlTest, LineHasDocumentedFieldOrder) {
  Event e;
  e.index = 1;
  e.time_ns = 5;
  e.process = kNemesisProcess;
  e.type = EventType::kInfo;
  e.f = "start-partition";
  EXPECT_EQ(
      ToJsonLine(e),
      R"({"index":1,"time":5,"process":"nemesis","type":"info","f":"start-partition","value":null})");
}

struct BadLine {
  std::string text;
  std::string reason;
};

TEST(JsonlTest, MalformedInputsReportFileAndLine) {
  const std::string ok0 = R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})";
  const std::vector<BadLine> cases = {
      {R"({"index":1,"time":1,"process":0,"type":"ok","f":"re)",
       "invalid JSON (truncated line?): column"},
      {R"({"index":1,"time":1,"process":0 "type":"ok","f":"read"})", "invalid JSON: column"},
      {R"({"index":1,"time":1,"process":"zero","type":"ok","f":"read"})", "'process'"},
      {R"({"index":1,"time":1,"process":0,"type":"done","f":"read"})", "unknown type 'done'"},
      {R"({"index":1,"time":1,"process":0,"type":"ok"})", "missing field 'f'"},
      {R"({"index":1,"time":-4,"process":0,"type":"ok","f":"read"})", "'time'"},
      {R"({"index":1.5,"time":1,"process":0,"type":"ok","f":"read"})", "'index'"},
      {R"({"index":0,"time":1,"process":0,"type":"ok","f":"read"})", "does not increase"},
      {R"({"index":1,"time":1,"process":0,"type":"ok","f":"read","key":3})", "'key'"},
      {R"({"index":1,"time":1,"process":"nemesis","type":"invoke","f":"kill"})", "nemesis"},
      {R"([1,2])", "JSON object"},
  };
  for (const BadLine& c : cases) {
    std::string text = ok0 + "\n\n" + c.text + "\n";
    ExpectError(ReadJsonlText(text, "h.jsonl"), {"h.jsonl:3:", c.reason});
    TempFile f("bad.jsonl");
    f.Write(text);
    ExpectError(ReadJsonlFile(f.path()), {f.path() + ":3:", c.reason});
  }
}

TEST(JsonlTest, TornLastLineIsDroppedWithAWarningButATornMiddleLineIsAnError) {
  const std::string ok0 = R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})";
  const std::string torn = R"({"index":1,"time":1,"process":0,"type":"ok","f":"re)";
  // A controller killed mid-write leaves a last line with no newline.
  auto h = ReadJsonlText(ok0 + "\n" + torn, "h.jsonl");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->events.size(), 1u);
  ASSERT_EQ(h->warnings.size(), 1u);
  EXPECT_NE(h->warnings[0].find("h.jsonl:2: dropped an incomplete last line"), std::string::npos);
  TempFile f("torn.jsonl");
  f.Write(ok0 + "\n" + torn);
  auto hf = ReadJsonlFile(f.path());
  ASSERT_TRUE(hf.ok()) << hf.error().message;
  EXPECT_EQ(hf->events.size(), 1u);
  ASSERT_EQ(hf->warnings.size(), 1u);
  EXPECT_NE(hf->warnings[0].find(f.path() + ":2:"), std::string::npos) << hf->warnings[0];
  // The same line followed by a newline was written whole: that is corruption, not a tear.
  ExpectError(ReadJsonlText(ok0 + "\n" + torn + "\n", "h.jsonl"), {"h.jsonl:2:", "invalid JSON"});
  f.Write(ok0 + "\n" + torn + "\n" + ok0 + "\n");
  ExpectError(ReadJsonlFile(f.path()), {f.path() + ":2:", "invalid JSON"});
  // A clean file has no warning.
  auto clean = ReadJsonlText(ok0 + "\n", "h.jsonl");
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->warnings.empty());
}

// A torn write is small; an unparsable tail longer than kMaxTornTailBytes is a wrong file.
TEST(JsonlTest, UnparsableTailOverTheCapIsAnErrorNotAWarning) {
  const std::string ok0 = R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})";
  const std::string tail = "{\"index\":1,\"value\":\"" + std::string(kMaxTornTailBytes, 'x');
  ExpectError(ReadJsonlText(ok0 + "\n" + tail, "h.jsonl"),
              {"h.jsonl:2: the last line has no newline", "1 MiB"});
  TempFile f("long-tail.jsonl");
  f.Write(ok0 + "\n" + tail);
  ExpectError(ReadJsonlFile(f.path()), {f.path() + ":2: the last line has no newline"});
  // Lines that span many read chunks still parse whole.
  const std::string big = R"({"index":0,"time":0,"process":0,"type":"invoke","f":"w","value":")" +
                          std::string(300000, 'v') + "\"}";
  f.Write(big + "\n" + big.substr(0, 20));
  auto h = ReadJsonlFile(f.path());
  ASSERT_TRUE(h.ok()) << h.error().message.substr(0, 200);
  ASSERT_EQ(h->events.size(), 1u);
  EXPECT_EQ(h->events[0].value.get<std::string>().size(), 300000u);
  EXPECT_EQ(h->warnings.size(), 1u);
}

TEST(JsonlTest, ValidationNamesLineOfUnpairedCompletionAndDuplicateInvoke) {
  TempFile f("pairs.jsonl");
  f.Write(R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})"
          "\n"
          R"({"index":1,"time":1,"process":0,"type":"ok","f":"read","value":1})"
          "\n"
          R"({"index":2,"time":2,"process":1,"type":"ok","f":"read","value":1})"
          "\n");
  ExpectError(ValidateJsonlFile(f.path()), {f.path() + ":3:", "no outstanding invoke"});
  f.Write(R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})"
          "\n\n"
          R"({"index":1,"time":1,"process":0,"type":"invoke","f":"write","value":1})"
          "\n");
  ExpectError(ValidateJsonlFile(f.path()), {f.path() + ":3:", "still outstanding"});
  auto strict = ValidateJsonlFile(f.path(), {.open_invokes_are_info = false});
  ASSERT_FALSE(strict.ok());
  f.Write(R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})"
          "\n");
  EXPECT_TRUE(ValidateJsonlFile(f.path()).ok());
  ExpectError(ValidateJsonlFile(f.path(), {.open_invokes_are_info = false}),
              {f.path() + ":1:", "never completed"});
}

TEST(JsonlTest, StreamingReaderReturnsEventsThenEnd) {
  TempFile f("stream.jsonl");
  f.Write(R"({"index":0,"time":0,"process":0,"type":"invoke","f":"read"})"
          "\n"
          R"({"index":3,"time":1,"process":0,"type":"ok","f":"read","value":7})");
  auto r = JsonlReader::Open(f.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto a = (*r)->Next();
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*r)->line(), 1u);
  auto b = (*r)->Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((**b).value, 7);
  EXPECT_EQ((*r)->line(), 2u);
  auto end = (*r)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  ExpectError(JsonlReader::Open("/nonexistent/h.jsonl"), {"/nonexistent/h.jsonl", "cannot open"});
}

TEST(EdnExportTest, RoundTripsThroughTheEdnImporter) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History h = SampleHistory(seed);
    std::string edn = ToJepsenEdn(h);
    auto back = ImportText(edn, Format::kAuto, "export.edn");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(AsJson(*back), AsJson(h));
  }
}

TEST(EdnExportTest, WritesJepsenShapesAndFile) {
  EXPECT_EQ(ToEdn(json{{"a", {1, nullptr, "x"}}, {"b c", true}}),
            R"({:a [1 nil "x"], "b c" true})");
  Event e;
  e.process = kNemesisProcess;
  e.type = EventType::kInfo;
  e.f = "start";
  e.extra["error"] = json::array({"temporarily-unavailable", nullptr});
  EXPECT_EQ(ToJepsenEdn({e}),
            "[{:index 0, :time 0, :process :nemesis, :type :info, :f :start, :value nil, "
            ":error [\"temporarily-unavailable\" nil]}]\n");
  TempFile f("export.edn");
  ASSERT_TRUE(WriteJepsenEdn(SampleHistory(4), f.path()).ok());
  auto back = ImportFile(f.path(), Format::kJepsenEdn);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(AsJson(*back), AsJson(SampleHistory(4)));
}

TEST(EdnExportTest, GoldenHistoriesRoundTripThroughJsonlAndEdn) {
  auto dir = tidemark::testing::GoldenHistories();
  int checked = 0;
  for (const char* rel : {"knossos-cas/bad/bad-analysis.edn", "porcupine-etcd/etcd_001.log",
                          "porcupine-kv/c01-ok.txt"}) {
    auto path = (dir / rel).string();
    ++checked;
    auto h = ImportFile(path, Format::kAuto);
    ASSERT_TRUE(h.ok()) << h.error().message;
    auto from_edn = ImportText(ToJepsenEdn(*h), Format::kJepsenEdn, "x.edn");
    ASSERT_TRUE(from_edn.ok()) << from_edn.error().message;
    EXPECT_EQ(AsJson(*from_edn), AsJson(*h)) << path;
    std::string jsonl;
    for (const Event& e : *h) jsonl += ToJsonLine(e) + "\n";
    auto from_jsonl = ImportText(jsonl, Format::kAuto, "x.jsonl");
    ASSERT_TRUE(from_jsonl.ok()) << from_jsonl.error().message;
    EXPECT_EQ(AsJson(*from_jsonl), AsJson(*h)) << path;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
}  // namespace tidemark::history
