// Tests of ReadDump: a node's dump read one entry at a time gives what parsing it whole and
// normalising it gives, and its errors name the node.
#include "harness/run/collect.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tidemark::run {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ReadDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        (fs::temp_directory_path() / ("tm-dump-" + std::to_string(::getpid()) + ".json")).string();
  }
  void TearDown() override { fs::remove(path_); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  // What the dump gives when parsed whole and normalised.
  Result<checkers::ReplicaLog> Whole(const std::string& node, std::optional<int64_t> hwm) {
    std::ifstream in(path_);
    return checkers::ReplicaLogFromJson(NormalizeDump(json::parse(in), node, hwm));
  }
  static void ExpectSame(const checkers::ReplicaLog& a, const checkers::ReplicaLog& b) {
    EXPECT_EQ(a.node, b.node);
    EXPECT_EQ(a.hwm, b.hwm);
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i) {
      EXPECT_EQ(a.entries[i].offset, b.entries[i].offset) << i;
      EXPECT_EQ(a.entries[i].generation, b.entries[i].generation) << i;
      EXPECT_EQ(a.entries[i].value, b.entries[i].value) << i;
    }
  }
  std::string path_;
};

TEST_F(ReadDumpTest, ATidelogDumpReadsAsItDoesWhole) {
  Write(R"({"corruption":null,"entries":[)"
        R"({"client_id":"","generation":1,"kind":"noop","offset":0,"payload":"","seq":0},)"
        R"({"client_id":"w1","generation":1,"kind":"append","offset":1,"payload":"v1","seq":1},)"
        R"({"client_id":"w2","generation":2,"kind":"append","offset":3,"payload":"v2","seq":1}],)"
        R"("generation":2,"hwm_hint":3})");
  for (std::optional<int64_t> hwm : {std::optional<int64_t>(), std::optional<int64_t>(4)}) {
    auto streamed = ReadDump(path_, "n2", hwm);
    auto whole = Whole("n2", hwm);
    ASSERT_TRUE(streamed.ok()) << streamed.error().message;
    ASSERT_TRUE(whole.ok()) << whole.error().message;
    ExpectSame(*streamed, *whole);
    EXPECT_EQ(streamed->entries.size(), 3u);
    EXPECT_FALSE(streamed->entries[0].value.has_value());  // a no-op holds no client value
    EXPECT_EQ(streamed->entries[2].value, "v2");
    EXPECT_EQ(streamed->hwm, hwm.value_or(3));
  }
}

TEST_F(ReadDumpTest, AGenericDumpWithTriplesUnderLogReadsAsItDoesWhole) {
  Write(R"({"node":"x","commit_index":2,"log":[[0,1,"a"],[1,1,null],[2,2,"c"]],"extra":[[9]]})");
  auto streamed = ReadDump(path_, "n1", std::nullopt);
  auto whole = Whole("n1", std::nullopt);
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  ASSERT_TRUE(whole.ok());
  ExpectSame(*streamed, *whole);
  EXPECT_EQ(streamed->node, "x");
  EXPECT_EQ(streamed->entries.size(), 3u);
}

// The nodes of a run share one value table (CollectReplicas): each value is held once, and the
// cross-check still tells the nodes' logs apart.
TEST_F(ReadDumpTest, NodesSharingAValueTableAreCheckedAsTheirOwn) {
  auto values = std::make_shared<checkers::logck::ValueTable>();
  std::vector<checkers::ReplicaLog> logs;
  for (const char* text : {R"({"hwm":3,"entries":[[0,1,"a"],[1,1,"b"],[2,1,"c"]]})",
                           R"({"hwm":3,"entries":[[0,1,"a"],[1,1,"x"],[2,1,"a"]]})"}) {
    Write(text);
    auto r = ReadDump(path_, "n" + std::to_string(logs.size() + 1), std::nullopt, values);
    ASSERT_TRUE(r.ok()) << r.error().message;
    logs.push_back(std::move(*r));
  }
  EXPECT_EQ(values->size(), 4u);  // a, b, c, x: once each
  EXPECT_EQ(logs[1].entries[1].value, "x");
  const std::vector<history::Op> no_ops;
  const checkers::CheckResult r = checkers::CheckReplicas(logs, no_ops);
  EXPECT_EQ(r.verdict, checkers::Verdict::kInvalid) << r.explanation;
  EXPECT_EQ(r.details["counts"]["inconsistent-offsets"], 2) << r.explanation;  // offsets 1 and 2
  EXPECT_EQ(r.details["counts"]["duplicate"], 1) << r.explanation;             // n2 holds "a" twice
}

TEST_F(ReadDumpTest, ErrorsNameTheNode) {
  Write(R"({"hwm":2,"entries":[[1,1,"a"],[0,1,"b"]]})");
  auto r = ReadDump(path_, "n3", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("replica n3: entries must be in strictly increasing offset"),
            std::string::npos)
      << r.error().message;
  Write(R"({"hwm":2,"entries":[[0,1,5]]})");
  r = ReadDump(path_, "n3", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("replica n3: entry value must be a string"), std::string::npos);
  Write(R"({"hwm":2,"entries":[)");
  r = ReadDump(path_, "n3", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("n3: dump is not valid JSON"), std::string::npos);
  EXPECT_FALSE(ReadDump(path_ + ".missing", "n3", std::nullopt).ok());
}

}  // namespace
}  // namespace tidemark::run
