#include "targets/adapters/redis.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace tidemark::targets::redis {
namespace {

using history::EventType;
using nlohmann::json;

OpRequest Op(const std::string& f, json value, std::optional<std::string> key = std::nullopt) {
  OpRequest op;
  op.f = f;
  op.value = std::move(value);
  op.key = std::move(key);
  return op;
}

HttpOutcome Replied(const std::string& bytes) {
  HttpOutcome out;
  out.request_sent = true;
  out.body = bytes;
  return out;
}

HttpOutcome Failed(int curl_code, bool sent) {
  HttpOutcome out;
  out.curl_code = curl_code;
  out.request_sent = sent;
  return out;
}

TEST(RedisTest, CommandIsARespArrayOfBulkStrings) {
  EXPECT_EQ(Command({"SET", "k", "12"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n");
}

TEST(RedisTest, FrameCountsWholeRepliesOnly) {
  EXPECT_EQ(Frame("+OK\r\n", 1, nullptr), 5);
  EXPECT_EQ(Frame("+OK\r\n:1", 2, nullptr), 0);  // the second reply is not whole yet
  EXPECT_EQ(Frame("+OK\r\n:1\r\n", 2, nullptr), 9);
  EXPECT_EQ(Frame("+OK\r\n:1\r\n", 1, nullptr), 5);  // bytes beyond are not part of it
  EXPECT_EQ(Frame("$5\r\nab", 1, nullptr), 0);
  EXPECT_EQ(Frame("?what\r\n", 1, nullptr), -1);
  std::vector<Reply> r;
  ASSERT_EQ(Frame("*2\r\n:3\r\n*1\r\n$1\r\nx\r\n", 1, &r), 19);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, Reply::Type::kArray);
  EXPECT_EQ(r[0].elements[0].integer, 3);
  EXPECT_EQ(r[0].elements[1].elements[0].str, "x");
}

TEST(RedisTest, BuildsOneCommandPerOpAndWaitAfterWrites) {
  auto w = BuildOp(Op("write", 3, "k1"), 0, 1000);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->bytes, Command({"SET", "k1", "3"}));
  EXPECT_EQ(w->replies, 1u);
  auto a = BuildOp(Op("append", "v1"), 1, 1000);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bytes, Command({"RPUSH", kLogKey, "v1"}) + Command({"WAIT", "1", "1000"}));
  EXPECT_EQ(a->replies, 2u);
  auto r = BuildOp(Op("read", {{"from", 4}}), 1, 1000);  // reads never WAIT
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replies, 1u);
  EXPECT_NE(r->bytes.find("EVAL_RO"), std::string::npos);
  EXPECT_FALSE(BuildOp(Op("cas", 1, "k"), 0, 1000).ok());
  EXPECT_FALSE(BuildOp(Op("frob", 1), 0, 1000).ok());
}

// The outcome rule, one row per case (redis.h).
struct Row {
  const char* name;
  OpRequest op;
  HttpOutcome out;
  int wait;
  EventType want;
  const char* error;  // substring of the reason; "" for ok
};

TEST(RedisTest, OutcomeRule) {
  const OpRequest write = Op("write", 3, "k");
  const OpRequest append = Op("append", "v7");
  const OpRequest read = Op("read", nullptr, "k");
  const OpRequest cas = Op("cas", {1, 2}, "k");
  const std::vector<Row> rows = {
      {"ok write", write, Replied("+OK\r\n"), 0, EventType::kOk, ""},
      {"READONLY from a replica", write,
       Replied("-READONLY You can't write against a read only replica.\r\n"), 0, EventType::kFail,
       "READONLY"},
      {"NOREPLICAS", append, Replied("-NOREPLICAS Not enough good replicas to write.\r\n:0\r\n"), 1,
       EventType::kFail, "NOREPLICAS"},
      {"-ERR before running", cas, Replied("-ERR wrong number of arguments\r\n"), 0,
       EventType::kFail, "ERR"},
      {"connection refused", write, Failed(CURLE_COULDNT_CONNECT, false), 0, EventType::kFail,
       "refused"},
      {"connect timeout", append, Failed(CURLE_OPERATION_TIMEDOUT, false), 0, EventType::kFail,
       "timeout"},
      {"timeout after sending", write, Failed(CURLE_OPERATION_TIMEDOUT, true), 0, EventType::kInfo,
       "timeout"},
      {"reset after sending", append, Failed(CURLE_RECV_ERROR, true), 0, EventType::kInfo, "reset"},
      {"EOF after sending", cas, Failed(CURLE_GOT_NOTHING, true), 0, EventType::kInfo, "closed"},
      {"read timeout", read, Failed(CURLE_OPERATION_TIMEDOUT, true), 0, EventType::kFail,
       "timeout"},
      {"malformed write reply", write, Replied(":12\r\n"), 0, EventType::kInfo, "malformed"},
      {"cas not taken", cas, Replied(":0\r\n"), 0, EventType::kFail, "cas_failed"},
      {"cas taken", cas, Replied(":1\r\n"), 0, EventType::kOk, ""},
      {"WAIT reached every replica", append, Replied(":5\r\n:1\r\n"), 1, EventType::kOk, ""},
      {"WAIT returned fewer replicas", append, Replied(":5\r\n:0\r\n"), 1, EventType::kInfo,
       "0 of 1"},
      {"WAIT after a refused write", write, Replied("-READONLY no\r\n:0\r\n"), 1, EventType::kFail,
       "READONLY"},
      {"cas not taken under WAIT", cas, Replied(":0\r\n:0\r\n"), 1, EventType::kFail, "cas_failed"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Completion c = MapOutcome(row.op, row.out, "n1", row.wait);
    EXPECT_EQ(c.type, row.want);
    if (*row.error) {
      ASSERT_TRUE(c.error.has_value());
      EXPECT_NE(c.error->find(row.error), std::string::npos) << *c.error;
    } else {
      EXPECT_FALSE(c.error.has_value()) << *c.error;
    }
    EXPECT_EQ(c.node, "n1");
  }
}

TEST(RedisTest, AppendOffsetIsNewLengthMinusOne) {
  Completion c = MapOutcome(Op("append", "v7"), Replied(":5\r\n"), "n2", 0);
  ASSERT_EQ(c.type, EventType::kOk);
  EXPECT_EQ(c.value, json({{"value", "v7"}, {"offset", 4}, {"hwm", 5}}));
}

TEST(RedisTest, LogReadNumbersEntriesFromItsStart) {
  const std::string reply = "*2\r\n:4\r\n*2\r\n$2\r\nv2\r\n$2\r\nv3\r\n";
  Completion c = MapOutcome(Op("read", {{"from", 2}}), Replied(reply), "n3", 0);
  ASSERT_EQ(c.type, EventType::kOk);
  EXPECT_EQ(c.value["to"], 4);
  EXPECT_EQ(c.value["hwm"], 4);
  EXPECT_EQ(c.value["entries"], json::parse(R"([[2,"v2"],[3,"v3"]])"));
  // A read from beyond the end holds nothing and ends where it starts.
  Completion past = MapOutcome(Op("read", {{"from", 9}}), Replied("*2\r\n:4\r\n*0\r\n"), "n3", 0);
  ASSERT_EQ(past.type, EventType::kOk);
  EXPECT_EQ(past.value["to"], 9);
  EXPECT_EQ(past.value["hwm"], 4);
}

TEST(RedisTest, RegisterReadOfAbsentKeyIsNull) {
  EXPECT_EQ(MapOutcome(Op("read", nullptr, "k"), Replied("$-1\r\n"), "n1", 0).value, nullptr);
  EXPECT_EQ(MapOutcome(Op("read", nullptr, "k"), Replied("$2\r\n17\r\n"), "n1", 0).value, 17);
}

TEST(RedisTest, RoleOfPrimaryAndReplica) {
  std::vector<Reply> r;
  ASSERT_GT(Frame("*3\r\n$6\r\nmaster\r\n:100\r\n*1\r\n*3\r\n$8\r\n10.0.0.2\r\n$4\r\n7002\r\n"
                  "$3\r\n100\r\n",
                  1, &r),
            0);
  auto primary = ParseRole(r[0], "10.0.0.1:7001");
  ASSERT_TRUE(primary.ok()) << primary.error().message;
  EXPECT_EQ(primary->role, "leader");
  EXPECT_EQ(primary->leader, "10.0.0.1:7001");
  r.clear();
  ASSERT_GT(
      Frame("*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.1\r\n:7001\r\n$9\r\nconnected\r\n:100\r\n", 1, &r),
      0);
  auto replica = ParseRole(r[0], "10.0.0.2:7002");
  ASSERT_TRUE(replica.ok()) << replica.error().message;
  EXPECT_EQ(replica->role, "follower");
  EXPECT_EQ(replica->leader, "10.0.0.1:7001");
}

NodeStatus Follows(const std::string& self, const std::string& primary) {
  NodeStatus st;
  st.node = self;
  st.role = primary.empty() ? "leader" : "follower";
  if (!primary.empty()) st.leader = primary;
  return st;
}

TEST(RedisTest, VotesMovePromotedPrimaryAheadOfTheCutOffOne) {
  FollowerVotes v;
  v.Note(Follows("n1", ""));
  v.Note(Follows("n2", "n1"));
  v.Note(Follows("n3", "n1"));
  EXPECT_EQ(v.For("n1"), 2);
  // Sentinel promoted n2 and re-pointed n3; n1, cut off, still calls itself master.
  v.Note(Follows("n2", ""));
  v.Note(Follows("n3", "n2"));
  EXPECT_EQ(v.For("n1"), 0);
  EXPECT_EQ(v.For("n2"), 1);
  // On heal n1 becomes a replica of n2; a node that stops answering loses its vote.
  v.Note(Follows("n1", "n2"));
  EXPECT_EQ(v.For("n2"), 2);
  v.Forget("n3");
  EXPECT_EQ(v.For("n2"), 1);
}

TEST(RedisTest, HostPortOfNodeUrl) {
  auto hp = HostPort("http://10.0.0.1:7001");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->first, "10.0.0.1");
  EXPECT_EQ(hp->second, "7001");
  EXPECT_FALSE(HostPort("tcp://x").ok());
}

}  // namespace
}  // namespace tidemark::targets::redis
