// Tests of the importers (import.h, edn.h) on inline inputs and on ../shared/histories.
#include "base/history/import.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/history/edn.h"
#include "base/testing/corpora.h"

namespace tidemark::history {
namespace {

using nlohmann::json;

// Asserts that `r` failed with a message containing every needle.
template <typename T>
void ExpectError(const Result<T>& r, std::initializer_list<std::string> needles) {
  ASSERT_FALSE(r.ok()) << "expected an error containing " << *needles.begin();
  for (const std::string& n : needles)
    EXPECT_NE(r.error().message.find(n), std::string::npos)
        << "message: " << r.error().message << "\nmissing: " << n;
}

TEST(EdnTest, MapsEdnValuesToJson) {
  auto v = ParseEdn(R"({:a nil, :b [1 -2 3.5] :c (true false) :d #{:x} "s" "q\"\n\u00e9"
                      :e {:nested :kw} ; comment
                      :f #_ 99 7 :g \a :h #inst "2020" :i 12N})");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE((*v)["a"].is_null());
  EXPECT_EQ((*v)["b"], json({1, -2, 3.5}));
  EXPECT_EQ((*v)["c"], json({true, false}));
  EXPECT_EQ((*v)["d"], json({"x"}));
  EXPECT_EQ((*v)["s"], "q\"\n\xc3\xa9");
  EXPECT_EQ((*v)["e"]["nested"], "kw");
  EXPECT_EQ((*v)["f"], 7);
  EXPECT_EQ((*v)["g"], "a");
  EXPECT_EQ((*v)["h"], "2020");
  EXPECT_EQ((*v)["i"], 12);
}

TEST(EdnTest, ReplacesInvalidUtf8SoValuesSerialise) {
  auto v = ParseEdn("{:k\xff \"a\xc3\" :ok \"\xc3\xa9\xed\xa0\x80\"}");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ((*v)["k\xef\xbf\xbd"], "a\xef\xbf\xbd");
  EXPECT_EQ((*v)["ok"], "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // é + surrogate
  EXPECT_NO_THROW((void)v->dump());
}

TEST(EdnTest, RejectsMalformedEdnWithLine) {
  ExpectError(ParseEdn("[1 2"), {"line 1", "unterminated"});
  ExpectError(ParseEdn("{:a 1\n :b}"), {"line 2", "no value"});
  ExpectError(ParseEdn("\"abc"), {"unterminated string"});
  ExpectError(ParseEdn("99999999999999999999"), {"64 bits"});
  EXPECT_EQ(*ParseEdn("18446744073709551615"), json(18446744073709551615ull));
  ExpectError(ParseEdn("1/2"), {"bad number"});
  ExpectError(ParseEdn("]"), {"unexpected"});
  ExpectError(ParseEdn("1 2"), {"after the EDN value"});
  ExpectError(ParseEdn(std::string(2000, '[')), {"deeper"});
}

TEST(EdnTest, ReadAtomGivesPlainTokensAndLeavesOtherFormsToRead) {
  EdnReader r("12 :ok sym \"s\" [1] #_ 2 \\a ;c\n:last");
  std::string_view tok;
  ASSERT_TRUE(r.SkipToForm());
  ASSERT_TRUE(r.ReadAtom(&tok));
  EXPECT_EQ(tok, "12");
  ASSERT_TRUE(r.SkipToForm() && r.ReadAtom(&tok));
  EXPECT_EQ(tok, ":ok");
  ASSERT_TRUE(r.SkipToForm() && r.ReadAtom(&tok));
  EXPECT_EQ(tok, "sym");
  // A string, a vector, a discard and a character are not atoms: nothing is consumed, and Read
  // reads them as before.
  for (const json& want : {json("s"), json({1}), json(nullptr), json("a")}) {
    ASSERT_TRUE(r.SkipToForm());
    const size_t at = r.position();
    EXPECT_FALSE(r.ReadAtom(&tok));
    EXPECT_EQ(r.position(), at);
    json v;
    if (want.is_null()) {  // #_ 2 discards the 2 and reads the character after it
      ASSERT_TRUE(r.Read(&v)) << r.error();
      EXPECT_EQ(v, "a");
      break;
    }
    ASSERT_TRUE(r.Read(&v)) << r.error();
    EXPECT_EQ(v, want);
  }
  ASSERT_TRUE(r.SkipToForm() && r.ReadAtom(&tok));
  EXPECT_EQ(tok, ":last");
  EXPECT_EQ(r.line(), 2u);
  EXPECT_FALSE(r.SkipToForm());
  EXPECT_FALSE(r.ReadAtom(&tok));
}

TEST(ImportTest, ParsesFormatNames) {
  for (Format f :
       {Format::kAuto, Format::kJsonl, Format::kJepsenLog, Format::kJepsenEdn, Format::kEdnLines})
    EXPECT_EQ(ParseFormat(ToString(f)), f);
  EXPECT_EQ(ParseFormat("jepsen-edn-lines"), Format::kEdnLines);
  EXPECT_FALSE(ParseFormat("csv").has_value());
}

TEST(ImportTest, ReadsJepsenConsoleLog) {
  const char* text =
      "INFO  jepsen.core - Running test\n"
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1 :invoke :cas [3 4]\n"
      "INFO  jepsen.util - 0\t:ok\t:read\t3\n"
      "INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n"
      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n";
  auto h = ImportText(text, Format::kJepsenLog, "t.log");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->size(), 5u);
  EXPECT_EQ((*h)[0].index, 0);
  EXPECT_EQ((*h)[1].value, json({3, 4}));
  EXPECT_EQ((*h)[1].time_ns, 1000);
  EXPECT_EQ((*h)[2].value, 3);
  EXPECT_EQ((*h)[2].type, EventType::kOk);
  EXPECT_TRUE((*h)[3].value.is_null());
  EXPECT_EQ((*h)[3].error, "timed-out");
  EXPECT_EQ((*h)[4].process, kNemesisProcess);
  auto ops = PairOps(*h);
  ASSERT_TRUE(ops.ok()) << ops.error().message;
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[1].value, json({3, 4}));  // info keeps the invoked cas argument
  EXPECT_EQ((*ops)[1].status, EventType::kInfo);
}

TEST(ImportTest, ReadsJepsenEdnVectorWithCommentsAndExtraKeys) {
  const char* text =
      "[{:process 4, :type :invoke, :f :write, :value 2}\n"
      " ; a comment\n"
      " {:process 4 :type :ok :f :write :value 2}\n"
      " {:type :fail, :process 101, :f :write, :value 3, :error [:unavailable nil]}\n"
      " {:process :nemesis,\n  :type :info,\n  :f :start,\n  :value \"Cut off [:n3 #[:n4]]\"}]\n";
  auto h = ImportTextLocated(text, Format::kJepsenEdn, "k.edn");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->events.size(), 4u);
  EXPECT_EQ(h->lines, (std::vector<size_t>{1, 3, 4, 5}));
  EXPECT_EQ(h->events[1].f, "write");
  EXPECT_EQ(h->events[1].time_ns, 1000);
  EXPECT_EQ(h->events[2].extra["error"], json({"unavailable", nullptr}));
  EXPECT_EQ(h->events[3].process, kNemesisProcess);
  EXPECT_EQ(h->events[3].value, "Cut off [:n3 #[:n4]]");
  // Completion by 101 without invoke: the pairing error names the file and line.
  auto ops = PairOps(*h);
  ExpectError(ops, {"k.edn:4:", "no outstanding invoke"});
}

TEST(ImportTest, KeepsEdnIndexAndTimeWhenEveryOpHasThem) {
  const char* text =
      "[{:index 5 :time 100 :process 0 :type :invoke :f :read :value nil :node \"n1\"}\n"
      " {:index 9 :time 250 :process 0 :type :ok :f :read :value 1 :extra-key :x}]";
  auto h = ImportText(text, Format::kAuto, "t.edn");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ((*h)[0].index, 5);
  EXPECT_EQ((*h)[1].time_ns, 250);
  EXPECT_EQ((*h)[0].node, "n1");
  EXPECT_EQ((*h)[1].extra["extra-key"], "x");
  ExpectError(ImportText("[{:index 5 :process 0 :type :invoke :f :read}\n"
                         " {:index 5 :process 0 :type :ok :f :read}]",
                         Format::kJepsenEdn, "t.edn"),
              {"t.edn:2:", "does not increase"});
}

TEST(ImportTest, ReadsEdnLines) {
  const char* text =
      "{:process 0, :type :invoke, :f :append, :key \"4\", :value \"x 0 1 y\"}\n"
      "{:process 0, :type :ok, :f :append, :key \"4\", :value \"x 0 1 y\"}\n"
      "\n"
      "{:process 1, :type :invoke, :f :get, :key 7, :value nil}\n";
  auto h = ImportTextLocated(text, Format::kAuto, "kv.txt");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->events.size(), 3u);
  EXPECT_EQ(h->events[0].key, "4");
  EXPECT_EQ(h->events[2].key, "7");
  EXPECT_EQ(h->lines[2], 4u);
  EXPECT_TRUE(PairOps(*h).ok());
}

TEST(ImportTest, MalformedInputsNameFileAndLine) {
  ExpectError(ImportText("{:process 0 :type :invoke :f :read}\n{:process 0 :type :bogus :f :read}",
                         Format::kEdnLines, "a.edn"),
              {"a.edn:2:", "unknown :type"});
  ExpectError(ImportText("{:process 0 :type :invoke}\n", Format::kEdnLines, "a.edn"),
              {"a.edn:1:", "no :f"});
  ExpectError(ImportText("{:process \"x\" :type :invoke :f :r}", Format::kEdnLines, "a.edn"),
              {"a.edn:1:", ":process"});
  ExpectError(ImportText("[{:process 0 :type :invoke :f :read}\n{:process 0 :type",
                         Format::kJepsenEdn, "b.edn"),
              {"b.edn:2:"});
  ExpectError(ImportText("[{:process 0 :type :invoke :f :read}\n", Format::kJepsenEdn, "b.edn"),
              {"b.edn:", "expected ']'"});
  ExpectError(ImportText("[1]", Format::kJepsenEdn, "b.edn"), {"b.edn:1:", "op map"});
  ExpectError(
      ImportText("x\nINFO jepsen.util - 3\t:ok\t:read\t[1 2\n", Format::kJepsenLog, "c.log"),
      {"c.log:2:", "bad value"});
  ExpectError(ImportText("INFO jepsen.util - 3\t:ok\n", Format::kJepsenLog, "c.log"),
              {"c.log:1:", "no op name"});
  ExpectError(ImportText("hello", Format::kAuto, "d"), {"d:", "cannot tell"});
  ExpectError(ImportFile("/nonexistent/x.edn", Format::kAuto), {"/nonexistent/x.edn", "cannot"});
}

// Console-log lines whose process, type or op name is not a plain ASCII token take the general
// EDN reader; either way the same events, and the same errors with file:line.
TEST(ImportTest, ConsoleLogLeadTokensReadAlikeWhateverTheirForm) {
  const char* text =
      "INFO  jepsen.util - 007\t:ok\t:read\t3\n"        // plain tokens
      "INFO  jepsen.util - +5 :invoke :read nil\n"      // a sign: the general reader
      "INFO  jepsen.util - 6N :invoke \"write\" 1\n"    // a suffix, a string op name
      "INFO  jepsen.util - nemesis :info :start nil\n"  // the nemesis as a symbol
      "INFO  jepsen.util - :nemesis,:info,:stop\n"      // commas are whitespace
      "INFO  jepsen.util - 1 :bogus :read nil\n"        // not a type: not an event
      "INFO  jepsen.util - 1 :ok\xc3\xa9 :read nil\n"   // nor is this one
      "INFO  jepsen.util - Running test\n"              // a message, not an event
      "INFO  jepsen.util - 2 #_ :x :fail :r\xc3\xa9"
      "ad nil\n";  // a discard, non-ASCII op name
  auto h = ImportText(text, Format::kJepsenLog, "t.log");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->size(), 6u);
  EXPECT_EQ((*h)[0].process, 7);
  EXPECT_EQ((*h)[0].type, EventType::kOk);
  EXPECT_EQ((*h)[0].f, "read");
  EXPECT_EQ((*h)[0].value, 3);
  EXPECT_EQ((*h)[1].process, 5);
  EXPECT_EQ((*h)[1].type, EventType::kInvoke);
  EXPECT_EQ((*h)[2].process, 6);
  EXPECT_EQ((*h)[2].f, "write");
  EXPECT_EQ((*h)[3].process, kNemesisProcess);
  EXPECT_EQ((*h)[3].f, "start");
  EXPECT_EQ((*h)[4].process, kNemesisProcess);
  EXPECT_EQ((*h)[4].f, "stop");
  EXPECT_TRUE((*h)[4].value.is_null());
  EXPECT_EQ((*h)[5].process, 2);
  EXPECT_EQ((*h)[5].type, EventType::kFail);
  EXPECT_EQ((*h)[5].f,
            "r\xc3\xa9"
            "ad");
  for (size_t i = 0; i < h->size(); ++i) EXPECT_EQ((*h)[i].index, static_cast<int64_t>(i));

  ExpectError(ImportText("noise\nINFO jepsen.util - -1 :ok :read 3\n", Format::kJepsenLog, "c.log"),
              {"c.log:2:", "process must be >= 0"});
  ExpectError(ImportText("INFO jepsen.util - 3 :ok :read 3\nINFO jepsen.util - 3 :ok 5\n",
                         Format::kJepsenLog, "c.log"),
              {"c.log:2:", "op name must be a keyword"});
  ExpectError(ImportText("INFO jepsen.util - 3 :ok :\n", Format::kJepsenLog, "c.log"),
              {"c.log:1:", "empty keyword"});
  ExpectError(ImportText("INFO jepsen.util - 3 :ok :read 3 :e x\n", Format::kJepsenLog, "c.log"),
              {"c.log:1:", "unexpected text"});
}

TEST(ImportTest, DuplicateInvokeNamesLine) {
  auto h = ImportTextLocated(
      "INFO jepsen.util - 1 :invoke :read nil\nnoise\nINFO jepsen.util - 1 :invoke :read nil\n",
      Format::kAuto, "e.log");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ExpectError(PairOps(*h), {"e.log:3:", "still outstanding"});
}

// Every file listed in dir/MANIFEST.tsv imports with its declared format and by sniffing, and
// pairs. Returns how many files it checked.
int ImportAndPairEveryFile(const std::filesystem::path& dir) {
  std::ifstream manifest(dir / "MANIFEST.tsv");
  EXPECT_TRUE(manifest.good()) << (dir / "MANIFEST.tsv");
  std::string line;
  std::getline(manifest, line);  // header
  int files = 0;
  while (std::getline(manifest, line)) {
    std::istringstream fields(line);
    std::string path, format_name;
    std::getline(fields, path, '\t');
    std::getline(fields, format_name, '\t');
    auto format = ParseFormat(format_name);
    EXPECT_TRUE(format.has_value()) << path << ": unknown format " << format_name;
    if (!format) continue;
    auto full = (dir / path).string();
    auto h = ImportFileLocated(full, *format);
    EXPECT_TRUE(h.ok()) << h.error().message;
    auto sniffed = ImportFile(full, Format::kAuto);
    EXPECT_TRUE(sniffed.ok()) << sniffed.error().message;
    if (!h.ok() || !sniffed.ok()) continue;
    EXPECT_EQ(sniffed->size(), h->events.size()) << full;
    // etcd_095.log is empty (its cluster never started); every other file has events.
    if (path.find("etcd_095") == std::string::npos) {
      EXPECT_FALSE(h->events.empty()) << full;
    }
    // Nothing skipped: one event per ":process" key (EDN) or per "jepsen.util - " line (log).
    std::ifstream in(full);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string needle = *format == Format::kJepsenLog ? "jepsen.util - " : ":process";
    size_t expected = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
      ++expected;
    EXPECT_EQ(h->events.size(), expected) << full;
    auto ops = PairOps(*h);
    EXPECT_TRUE(ops.ok()) << ops.error().message;
    ++files;
  }
  return files;
}

TEST(ImportTest, EveryGoldenHistoryImportsAndPairs) {
  EXPECT_GE(ImportAndPairEveryFile(tidemark::testing::GoldenHistories()), 14);
}

TEST(ImportTest, EveryPublishedHistoryImportsAndPairs) {
  TIDEMARK_REQUIRE_CORPUS(tidemark::testing::SharedHistories() / "MANIFEST.tsv");
  EXPECT_GT(ImportAndPairEveryFile(tidemark::testing::SharedHistories()), 60);
}

}  // namespace
}  // namespace tidemark::history
