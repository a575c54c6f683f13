#include "targets/adapters/etcd_v3.h"

#include <curl/curl.h>

#include <gtest/gtest.h>

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

TEST(EtcdV3Test, AppendIsGuardedByTheTailRevision) {
  Request first = AppendTxn(0, 0, "v1");
  EXPECT_EQ(first.body["compare"][0]["target"], "VERSION");
  EXPECT_EQ(first.body["compare"][0]["version"], "0");
  Request later = AppendTxn(41, 977, "v2");
  EXPECT_EQ(later.body["compare"][0]["target"], "MOD");
  EXPECT_EQ(later.body["compare"][0]["mod_revision"], "977");
  EXPECT_EQ(later.body["success"][0]["request_put"]["value"], Base64Encode("42"));
  EXPECT_EQ(later.body["success"][1]["request_put"]["key"],
            Base64Encode("tidemark/log/e/00000000000000000041"));
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

TEST(EtcdV3Test, LogReadKeepsOnlyEntriesBelowTheTailOfTheSameRevision) {
  auto kv = [](const std::string& k, const std::string& v) {
    return json{{"key", Base64Encode(k)}, {"value", Base64Encode(v)}};
  };
  json body = {
      {"header", json::object()},
      {"responses",
       {{{"response_range", {{"kvs", {kv(kTailKey, "3")}}}}},
        {{"response_range",
          {{"kvs", {kv(EntryKey(1), "a"), kv(EntryKey(2), "b"), kv(EntryKey(3), "c")}}}}}}}};
  auto snap = ParseLogRead(body, 1);
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ(snap->tail, 3);
  EXPECT_EQ(snap->entries, json::parse(R"([[1,"a"],[2,"b"]])"));
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
  tidelog_http::HttpOutcome refused;
  refused.curl_code = CURLE_COULDNT_CONNECT;
  refused.request_sent = false;
  EXPECT_TRUE(DefinitelyNotApplied(refused));
  tidelog_http::HttpOutcome timeout;
  timeout.curl_code = CURLE_OPERATION_TIMEDOUT;
  timeout.request_sent = true;
  EXPECT_FALSE(DefinitelyNotApplied(timeout));
  EXPECT_EQ(Reason(timeout), "timeout");
  // etcd answers a proposal it could not commit in time with 503 — and applies it later.
  tidelog_http::HttpOutcome timed_out;
  timed_out.http_status = 503;
  timed_out.body =
      R"({"error":"etcdserver: request timed out","code":14,"message":"etcdserver: request timed out"})";
  EXPECT_FALSE(DefinitelyNotApplied(timed_out));
  EXPECT_EQ(Reason(timed_out), "http 503: etcdserver: request timed out");
  tidelog_http::HttpOutcome invalid;
  invalid.http_status = 400;
  invalid.body = R"({"error":"bad","code":3})";
  EXPECT_TRUE(DefinitelyNotApplied(invalid));
}

}  // namespace
}  // namespace tidemark::targets::etcd_v3
