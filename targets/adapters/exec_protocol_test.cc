// The exec client protocol's pure part: request lines, and replies parsed or refused with a
// message that quotes the line and says what was expected.
#include "targets/adapters/exec_protocol.h"

#include <gtest/gtest.h>

namespace tidemark::targets::exec {
namespace {

using nlohmann::json;

TEST(ExecProtocolTest, OpLineCarriesEverythingTheClientNeeds) {
  history::OpRequest op;
  op.process = 3;
  op.f = "cas";
  op.key = "k4";
  op.value = json::array({2, 5});
  const std::string line = OpLine(17, op, NodeEndpoint{"n2", "127.0.0.1", 7002}, 3000);
  ASSERT_EQ(line.back(), '\n');
  const json j = json::parse(line);
  EXPECT_EQ(j["type"], "op");
  EXPECT_EQ(j["id"], 17);
  EXPECT_EQ(j["process"], 3);
  EXPECT_EQ(j["node"], (json{{"name", "n2"}, {"host", "127.0.0.1"}, {"port", 7002}}));
  EXPECT_EQ(j["key"], "k4");
  EXPECT_EQ(j["value"], json::array({2, 5}));
  EXPECT_EQ(j["timeout_ms"], 3000);
  op.key.reset();
  EXPECT_FALSE(json::parse(OpLine(1, op, {}, 1)).contains("key"));
}

TEST(ExecProtocolTest, RepliesParse) {
  auto ok = ParseReply(R"({"id":7,"type":"ok","value":{"offset":3}})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->id, 7);
  EXPECT_EQ(ok->type, history::EventType::kOk);
  EXPECT_EQ((*ok->value)["offset"], 3);
  auto info = ParseReply(R"({"id":8,"type":"info","error":"timeout","extra":1})");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, history::EventType::kInfo);
  EXPECT_EQ(info->error, "timeout");
  EXPECT_FALSE(info->value.has_value());
}

TEST(ExecProtocolTest, BadRepliesSayWhatWasExpected) {
  for (const char* bad :
       {"this is not json", "[1,2]", R"({"type":"ok"})", R"({"id":0,"type":"ok"})",
        R"({"id":1,"type":"maybe"})", R"({"id":1,"type":"fail","error":3})"}) {
    auto r = ParseReply(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(Quote(bad)), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("expected one JSON object per line"), std::string::npos);
  }
}

TEST(ExecProtocolTest, ReadyNeedsTheSameProtocolVersion) {
  EXPECT_TRUE(ParseReady(R"({"type":"ready","protocol":1})").ok());
  auto other = ParseReady(R"({"type":"ready","protocol":2})");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("speaks protocol 2"), std::string::npos);
  EXPECT_FALSE(ParseReady("hello").ok());
}

TEST(ExecProtocolTest, EndpointsComeFromNodeUrls) {
  auto e = EndpointFromUrl("http://10.0.0.2:7001");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "10.0.0.2");
  EXPECT_EQ(e->port, 7001);
  EXPECT_FALSE(EndpointFromUrl("http://10.0.0.2").ok());
  EXPECT_FALSE(EndpointFromUrl("unix:/x").ok());
}

}  // namespace
}  // namespace tidemark::targets::exec
