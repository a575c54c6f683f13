#include "targets/adapters/etcd_v3.h"

#include <curl/curl.h>

#include <gtest/gtest.h>

#include "targets/adapters/stepped.h"

namespace tidemark::targets::etcd_v3 {
namespace {

using nlohmann::json;

TEST(EtcdV3Test, Base64RoundTripsAndMatchesKnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("tidemark/log/tail"), "dGlkZW1hcmsvbG9nL3RhaWw=");
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "v3-17", std::string("\0\xff\x10", 3)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(Base64Decode("not*base64").ok());
}

TEST(EtcdV3Test, CasIsATxnComparingTheValue) {
  Request r = CasRequest("k1", "4", "5");
  EXPECT_EQ(r.path, "/v3/kv/txn");
  EXPECT_EQ(r.body["compare"][0]["target"], "VALUE");
  EXPECT_EQ(r.body["compare"][0]["value"], Base64Encode("4"));
  EXPECT_EQ(r.body["success"][0]["request_put"]["value"], Base64Encode("5"));
}

TEST(EtcdV3Test, AppendCreatesOneKeyPerValueOnlyIfNeverCreated) {
  Request r = AppendTxn("v3-17");
  EXPECT_EQ(r.path, "/v3/kv/txn");
  const json& cmp = r.body["compare"][0];
  EXPECT_EQ(cmp["key"], Base64Encode("tidemark/log/v/v3-17"));
  EXPECT_EQ(cmp["target"], "CREATE");
  EXPECT_EQ(cmp["result"], "EQUAL");
  EXPECT_EQ(cmp["create_revision"], "0");
  ASSERT_EQ(r.body["success"].size(), 1u);
  EXPECT_EQ(r.body["success"][0]["request_put"]["key"], cmp["key"]);
  EXPECT_EQ(r.body["success"][0]["request_put"]["value"], Base64Encode("v3-17"));
  EXPECT_FALSE(r.body.contains("failure"));  // a failed compare writes nothing
}

TEST(EtcdV3Test, LogRangeFiltersByModRevisionOnlyWhenFromIsPositive) {
  Request all = LogRange(0, false);
  EXPECT_EQ(all.path, "/v3/kv/range");
  EXPECT_EQ(all.body["key"], Base64Encode("tidemark/log/v/"));
  EXPECT_EQ(all.body["range_end"], Base64Encode("tidemark/log/v0"));  // the prefix's end
  EXPECT_FALSE(all.body.contains("min_mod_revision"));
  EXPECT_FALSE(all.body.contains("serializable"));
  Request local = LogRange(42, true);
  EXPECT_EQ(local.body["min_mod_revision"], "42");
  EXPECT_EQ(local.body["serializable"], true);
}

TEST(EtcdV3Test, ParsesRangeAnswersWithOmittedFields) {
  auto absent = ParseRange(json{{"header", {{"revision", "7"}}}});
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  auto present = ParseRange(json{
      {"header", json::object()},
      {"kvs",
       {{{"key", Base64Encode("k")}, {"value", Base64Encode("12")}, {"mod_revision", "31"}}}}});
  ASSERT_TRUE(present.ok());
  ASSERT_TRUE(present->has_value());
  EXPECT_EQ((*present)->value, "12");
  EXPECT_EQ((*present)->mod_revision, 31);
  EXPECT_FALSE(ParseRange(json{{"error", "x"}}).ok());
  EXPECT_FALSE(TxnSucceeded(json{{"header", json::object()}}));  // false is omitted
  EXPECT_TRUE(TxnSucceeded(json{{"header", json::object()}, {"succeeded", true}}));
}

TEST(EtcdV3Test, LogRangeAnswerIsOrderedByRevisionAndBoundedByTheHeader) {
  auto kv = [](const std::string& value, const std::string& rev) {
    return json{{"key", Base64Encode(std::string(kLogPrefix) + value)},
                {"value", Base64Encode(value)},
                {"create_revision", rev},
                {"mod_revision", rev}};
  };
  // etcd returns kvs in key order, not revision order; a min_mod_revision filter is applied by
  // etcd, and an entry below `from` is still dropped here.
  json body = {{"header", {{"revision", "9"}}},
               {"kvs", {kv("b", "7"), kv("a", "3"), kv("c", "5"), kv("z", "2")}},
               {"count", "4"}};
  auto snap = ParseLogRange(body, 3);
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ(snap->revision, 9);
  EXPECT_EQ(snap->entries, json::parse(R"([[3,"a"],[5,"c"],[7,"b"]])"));
  // An empty log (kvs omitted) at revision 1.
  auto empty = ParseLogRange(json{{"header", {{"revision", "1"}}}}, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  // An entry above the snapshot's revision, or no header revision: malformed.
  EXPECT_FALSE(
      ParseLogRange(json{{"header", {{"revision", "4"}}}, {"kvs", {kv("a", "5")}}}, 0).ok());
  EXPECT_FALSE(ParseLogRange(json{{"header", json::object()}}, 0).ok());
}

TEST(EtcdV3Test, HeaderRevisionOfATxnIsItsPutsRevision) {
  // As etcd 3.4 answers a successful create-only append (the put's revision is the header's).
  json ok = json::parse(
      R"({"header":{"cluster_id":"7801","member_id":"1345","revision":"3","raft_term":"2"},)"
      R"("succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]})");
  EXPECT_TRUE(TxnSucceeded(ok));
  EXPECT_EQ(HeaderRevision(ok).value(), 3);
  // The same append again: the compare fails, `succeeded` is omitted, nothing was written.
  json again = json::parse(R"({"header":{"revision":"3","raft_term":"2"}})");
  EXPECT_FALSE(TxnSucceeded(again));
  EXPECT_FALSE(HeaderRevision(json{{"responses", json::array()}}).ok());
}

TEST(EtcdV3Test, StatusNamesTheLeaderByMemberName) {
  json status = {{"header", {{"member_id", "111"}, {"raft_term", "4"}}},
                 {"leader", "222"},
                 {"raftTerm", "4"},
                 {"raftIndex", "90"}};
  json members = {{"members", {{{"ID", "111"}, {"name", "n1"}}, {{"ID", "222"}, {"name", "n2"}}}}};
  auto st = ParseStatus(status, members);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->node, "n1");
  EXPECT_EQ(st->role, "follower");
  EXPECT_EQ(st->leader, "n2");
  EXPECT_EQ(st->generation, 4);
  status["leader"] = "111";
  EXPECT_EQ(ParseStatus(status, members)->role, "leader");
}

TEST(EtcdV3Test, OnlyUnsentOrInvalidArgumentIsDefinite) {
  HttpOutcome refused;
  refused.curl_code = CURLE_COULDNT_CONNECT;
  refused.request_sent = false;
  EXPECT_TRUE(DefinitelyNotApplied(refused));
  HttpOutcome timeout;
  timeout.curl_code = CURLE_OPERATION_TIMEDOUT;
  timeout.request_sent = true;
  EXPECT_FALSE(DefinitelyNotApplied(timeout));
  EXPECT_EQ(Reason(timeout), "timeout");
  // etcd answers a proposal it could not commit in time with 503 — and applies it later.
  HttpOutcome timed_out;
  timed_out.http_status = 503;
  timed_out.body =
      R"({"error":"etcdserver: request timed out","code":14,"message":"etcdserver: request timed out"})";
  EXPECT_FALSE(DefinitelyNotApplied(timed_out));
  EXPECT_EQ(Reason(timed_out), "http 503: etcdserver: request timed out");
  HttpOutcome invalid;
  invalid.http_status = 400;
  invalid.body = R"({"error":"bad","code":3})";
  EXPECT_TRUE(DefinitelyNotApplied(invalid));
}

}  // namespace
}  // namespace tidemark::targets::etcd_v3

namespace tidemark::targets::etcd_v3 {
namespace {

using history::EventType;

OpRequest Op(std::string f, std::optional<std::string> key, json value) {
  OpRequest op;
  op.f = std::move(f);
  op.key = std::move(key);
  op.value = std::move(value);
  return op;
}

HttpOutcome Reply(long status, json body) {
  HttpOutcome o;
  o.request_sent = true;
  o.http_status = status;
  o.body = body.dump();
  return o;
}

HttpOutcome Transport(int curl_code, bool sent) {
  HttpOutcome o;
  o.curl_code = curl_code;
  o.request_sent = sent;
  return o;
}

const json kHeader = {{"header", {{"revision", "41"}}}};

json WithKvs(json kvs) {
  json b = kHeader;
  b["kvs"] = std::move(kvs);
  return b;
}

json Kv(const std::string& key, const std::string& value, int64_t mod) {
  return {{"key", Base64Encode(key)},
          {"value", Base64Encode(value)},
          {"mod_revision", std::to_string(mod)}};
}

// The outcome rule of etcd-v3, one row per kind of reply: which op, what came back, the
// completion type, and the error (empty: none).
TEST(EtcdV3SteppedTest, RepliesMapToOkFailOrInfo) {
  const json append_ok = {{"header", {{"revision", "41"}}}, {"succeeded", true}};
  const json timed_out = {{"error", "etcdserver: request timed out"},
                          {"code", 14},
                          {"message", "etcdserver: request timed out"}};
  const json invalid = {{"error", "etcdserver: key is not provided"}, {"code", 3}};
  const json log_read = {{"from", 0}, {"consistency", "linearizable"}};
  struct Row {
    const char* name;
    OpRequest op;
    HttpOutcome out;
    EventType type;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"read of a present key", Op("read", "k", nullptr), Reply(200, WithKvs({Kv("k", "7", 5)})),
       EventType::kOk, ""},
      {"read of an absent key", Op("read", "k", nullptr), Reply(200, kHeader), EventType::kOk, ""},
      {"read timed out", Op("read", "k", nullptr), Transport(CURLE_OPERATION_TIMEDOUT, true),
       EventType::kFail, "timeout"},
      {"read answered 503", Op("read", "k", nullptr), Reply(503, timed_out), EventType::kFail,
       "http 503: etcdserver: request timed out"},
      {"read answered without a header", Op("read", "k", nullptr), Reply(200, json::object()),
       EventType::kFail, "range answer without a header: {}"},
      {"write applied", Op("write", "k", 3), Reply(200, kHeader), EventType::kOk, ""},
      {"write refused at connect", Op("write", "k", 3), Transport(CURLE_COULDNT_CONNECT, false),
       EventType::kFail, "connection refused"},
      {"write timed out after sending", Op("write", "k", 3),
       Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kInfo, "timeout"},
      {"write reset after sending", Op("write", "k", 3), Transport(CURLE_RECV_ERROR, true),
       EventType::kInfo, "transport: Failure when receiving data from the peer"},
      {"write answered request timed out", Op("write", "k", 3), Reply(503, timed_out),
       EventType::kInfo, "http 503: etcdserver: request timed out"},
      {"write answered InvalidArgument", Op("write", "k", 3), Reply(400, invalid), EventType::kFail,
       "http 400: etcdserver: key is not provided"},
      {"cas taken", Op("cas", "k", json::array({1, 2})),
       Reply(200, {{"header", {{"revision", "9"}}}, {"succeeded", true}}), EventType::kOk, ""},
      {"cas not taken", Op("cas", "k", json::array({1, 2})), Reply(200, kHeader), EventType::kFail,
       "cas_failed"},
      {"cas timed out", Op("cas", "k", json::array({1, 2})),
       Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kInfo, "timeout"},
      {"append applied", Op("append", std::nullopt, "v1"), Reply(200, append_ok), EventType::kOk,
       ""},
      {"append of a value already there", Op("append", std::nullopt, "v1"), Reply(200, kHeader),
       EventType::kFail, "value already appended: nothing written"},
      {"append applied without a revision", Op("append", std::nullopt, "v1"),
       Reply(200, {{"header", json::object()}, {"succeeded", true}}), EventType::kInfo,
       R"(answer without header.revision: {"header":{},"succeeded":true})"},
      {"append answered with garbage", Op("append", std::nullopt, "v1"),
       [] {
         HttpOutcome o = Reply(200, nullptr);
         o.body = "<html>";
         return o;
       }(),
       EventType::kInfo, "malformed response: <html>"},
      {"read answered with garbage", Op("read", "k", nullptr),
       [] {
         HttpOutcome o = Reply(200, nullptr);
         o.body = "<html>";
         return o;
       }(),
       EventType::kFail, "malformed response: <html>"},
      {"append timed out after sending", Op("append", std::nullopt, "v1"),
       Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kInfo, "timeout"},
      {"append timed out connecting", Op("append", std::nullopt, "v1"),
       Transport(CURLE_OPERATION_TIMEDOUT, false), EventType::kFail, "timeout"},
      {"log read", Op("read", std::nullopt, log_read),
       Reply(200, WithKvs({Kv("tidemark/log/v/b", "b", 9), Kv("tidemark/log/v/a", "a", 4)})),
       EventType::kOk, ""},
      {"log read reset", Op("read", std::nullopt, log_read), Transport(CURLE_RECV_ERROR, true),
       EventType::kFail, "transport: Failure when receiving data from the peer"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Completion c = MapOutcome(row.op, row.out, "n2");
    EXPECT_EQ(c.type, row.type);
    EXPECT_EQ(c.error.value_or(""), row.error);
    EXPECT_EQ(c.node, "n2");
    if (c.type != EventType::kOk) {
      EXPECT_EQ(c.value, row.op.value);
    }
  }
}

TEST(EtcdV3SteppedTest, OkValuesAreShapedPerHistoryFormat) {
  EXPECT_EQ(
      MapOutcome(Op("read", "k", nullptr), Reply(200, WithKvs({Kv("k", "7", 5)})), "n1").value,
      json(7));
  EXPECT_TRUE(MapOutcome(Op("read", "k", nullptr), Reply(200, kHeader), "n1").value.is_null());
  EXPECT_EQ(MapOutcome(Op("cas", "k", json::array({1, 2})),
                       Reply(200, {{"header", {{"revision", "9"}}}, {"succeeded", true}}), "n1")
                .value,
            json::array({1, 2}));
  json append =
      MapOutcome(Op("append", std::nullopt, "v1"),
                 Reply(200, {{"header", {{"revision", "41"}}}, {"succeeded", true}}), "n1")
          .value;
  EXPECT_EQ(append, json({{"value", "v1"}, {"offset", 41}, {"hwm", 42}}));
  json read =
      MapOutcome(Op("read", std::nullopt, {{"from", 5}, {"consistency", "local"}}),
                 Reply(200, WithKvs({Kv("tidemark/log/v/b", "b", 9), Kv("tidemark/log/v/a", "a", 4),
                                     Kv("tidemark/log/v/c", "c", 6)})),
                 "n1")
          .value;
  // Entries below `from` are dropped; the rest in offset order; hwm is the revision + 1.
  EXPECT_EQ(read, json({{"from", 5},
                        {"to", 42},
                        {"hwm", 42},
                        {"consistency", "local"},
                        {"entries", json::array({json::array({6, "c"}), json::array({9, "b"})})}}));
}

// The stepped client: one call per op, to the node's URL, with the op's limits; the reply
// completes the op; an op it cannot express is never sent.
TEST(EtcdV3SteppedTest, OneCallPerOpAndNothingForAnOpItCannotExpress) {
  ClientOptions opts;
  opts.client_id = "t";
  opts.timeout_ms = 700;
  opts.connect_timeout_ms = 900;  // capped at timeout_ms
  auto adapter = EtcdV3Adapter();
  auto client = adapter.new_client(opts);
  SteppedClient::Step s =
      client->Begin(Op("read", std::nullopt, {{"from", 3}, {"consistency", "local"}}), "n3",
                    "http://10.0.0.3:2379");
  ASSERT_TRUE(s.call.has_value());
  EXPECT_EQ(s.call->url, "http://10.0.0.3:2379/v3/kv/range");
  EXPECT_EQ(json::parse(s.call->body), LogRange(3, true).body);
  EXPECT_EQ(s.call->timeout_ms, 700);
  EXPECT_EQ(s.call->connect_timeout_ms, 700);
  s = client->Continue(Reply(200, WithKvs(json::array())));
  EXPECT_FALSE(s.call.has_value());
  EXPECT_EQ(s.done.type, EventType::kOk);
  EXPECT_EQ(s.done.node, "n3");

  s = client->Begin(Op("write", "k", 5), "n1", "http://10.0.0.1:2379");
  ASSERT_TRUE(s.call.has_value());
  EXPECT_EQ(s.call->url, "http://10.0.0.1:2379/v3/kv/put");
  s = client->Continue(Transport(CURLE_OPERATION_TIMEDOUT, true));
  EXPECT_FALSE(s.call.has_value());  // never re-sent
  EXPECT_EQ(s.done.type, EventType::kInfo);

  for (const OpRequest& op : {Op("append", std::nullopt, 5), Op("cas", "k", 5),
                              Op("delete", "k", nullptr), Op("scan", std::nullopt, nullptr)}) {
    s = client->Begin(op, "n1", "http://10.0.0.1:2379");
    EXPECT_FALSE(s.call.has_value()) << op.f;
    EXPECT_EQ(s.done.type, EventType::kFail) << op.f;
    EXPECT_EQ(s.done.error.value_or("").rfind("not sent: ", 0), 0u) << op.f;
  }
}

}  // namespace
}  // namespace tidemark::targets::etcd_v3
