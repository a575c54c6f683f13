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
