#include "targets/adapters/tidelog_http.h"

#include <gtest/gtest.h>

#include <cerrno>

#include <curl/curl.h>

#include "targets/adapters/stepped.h"

namespace tidemark::targets::tidelog_http {
namespace {

using history::EventType;
using nlohmann::json;

OpRequest Append(std::string v = "v1-1") {
  OpRequest op;
  op.f = "append";
  op.value = std::move(v);
  return op;
}
OpRequest LogRead(std::string consistency = "linearizable") {
  OpRequest op;
  op.f = "read";
  op.value = {{"from", 2}, {"consistency", consistency}};
  return op;
}
OpRequest KvRead() {
  OpRequest op;
  op.f = "read";
  op.key = "k1";
  op.value = nullptr;
  return op;
}
OpRequest KvWrite() {
  OpRequest op;
  op.f = "write";
  op.key = "k1";
  op.value = 4;
  return op;
}
OpRequest KvCas() {
  OpRequest op;
  op.f = "cas";
  op.key = "k1";
  op.value = json::array({4, 5});
  return op;
}

HttpOutcome Http(long status, json body) {
  HttpOutcome o;
  o.request_sent = true;
  o.http_status = status;
  o.body = body.dump();
  return o;
}
HttpOutcome Transport(CURLcode code, bool sent, int os_errno = 0) {
  HttpOutcome o;
  o.curl_code = static_cast<int>(code);
  o.request_sent = sent;
  o.os_errno = os_errno;
  return o;
}
json Envelope(json extra = json::object()) {
  json j = {{"node", "n1"}, {"generation", 3}, {"leader", "n1"}, {"hwm", 10}};
  j.update(extra);
  return j;
}
json ErrorBody(std::string code, bool definite, json more = json::object()) {
  json e = {{"code", code}, {"definite", definite}, {"text", "because"}};
  e.update(more);
  return Envelope({{"error", e}});
}

struct Case {
  std::string name;
  OpRequest op;
  HttpOutcome outcome;
  EventType want;
  std::string want_error;  // "" = no error; else a substring
};

TEST(MapOutcomeTest, FollowsTheOutcomeRule) {
  const json page = Envelope({{"from", 2},
                              {"to", 10},
                              {"consistency", "linearizable"},
                              {"entries", json::array({json::array({3, "v1-1"})})}});
  const std::vector<Case> cases = {
      // Transport failures before anything was sent: definite, for every op.
      {"append refused", Append(), Transport(CURLE_COULDNT_CONNECT, false, ECONNREFUSED),
       EventType::kFail, "connection refused"},
      {"append unresolvable", Append(), Transport(CURLE_COULDNT_RESOLVE_HOST, false),
       EventType::kFail, "could not resolve host"},
      {"append connect timeout", Append(), Transport(CURLE_OPERATION_TIMEDOUT, false),
       EventType::kFail, "connect timeout"},
      {"cas refused", KvCas(), Transport(CURLE_COULDNT_CONNECT, false), EventType::kFail,
       "connection refused"},
      // After sending: unknown for mutating ops, fail for reads.
      {"append timeout", Append(), Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kInfo,
       "timeout"},
      {"append empty reply", Append(), Transport(CURLE_GOT_NOTHING, true), EventType::kInfo,
       "empty reply"},
      {"append recv error", Append(), Transport(CURLE_RECV_ERROR, true), EventType::kInfo,
       "connection dropped"},
      {"write send error", KvWrite(), Transport(CURLE_SEND_ERROR, true), EventType::kInfo,
       "send error"},
      {"cas timeout", KvCas(), Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kInfo,
       "timeout"},
      {"log read timeout", LogRead(), Transport(CURLE_OPERATION_TIMEDOUT, true), EventType::kFail,
       "timeout"},
      {"kv read empty reply", KvRead(), Transport(CURLE_GOT_NOTHING, true), EventType::kFail,
       "empty reply"},
      // Server errors: the definite flag decides for mutating ops.
      {"append not leader", Append(), Http(409, ErrorBody("not_leader", true, {{"leader", "n2"}})),
       EventType::kFail, "not_leader (leader n2)"},
      {"append not leader no hint", Append(),
       Http(409, ErrorBody("not_leader", true, {{"leader", nullptr}})), EventType::kFail,
       "not_leader (leader unknown)"},
      {"append unavailable", Append(), Http(503, ErrorBody("unavailable", true)), EventType::kFail,
       "unavailable: because"},
      {"append bad request", Append(), Http(400, ErrorBody("bad_request", true)), EventType::kFail,
       "bad_request"},
      {"append server timeout", Append(), Http(504, ErrorBody("timeout", false)), EventType::kInfo,
       "server timeout"},
      {"append internal", Append(), Http(500, ErrorBody("internal", false)), EventType::kInfo,
       "internal"},
      {"append 502 html", Append(), HttpOutcome{0, true, 0, 502, "<html>bad gateway</html>"},
       EventType::kInfo, "http 502"},
      {"append 503 without flag", Append(), Http(503, Envelope()), EventType::kInfo, "http 503"},
      {"cas failed", KvCas(), Http(412, ErrorBody("cas_failed", true, {{"current", 3}})),
       EventType::kFail, "cas_failed (current 3)"},
      {"cas server timeout", KvCas(), Http(504, ErrorBody("timeout", false)), EventType::kInfo,
       "server timeout"},
      {"log read internal", LogRead(), Http(500, ErrorBody("internal", false)), EventType::kFail,
       "internal"},
      {"kv read not leader", KvRead(), Http(409, ErrorBody("not_leader", true)), EventType::kFail,
       "not_leader"},
      // Malformed successes: unknown for mutating ops, fail for reads.
      {"append ok without offset", Append(), Http(200, Envelope()), EventType::kInfo,
       "malformed response"},
      {"append ok not json", Append(), HttpOutcome{0, true, 0, 200, "{oops"}, EventType::kInfo,
       "not JSON"},
      {"log read malformed", LogRead(), Http(200, Envelope()), EventType::kFail,
       "malformed response"},
      {"kv read string value", KvRead(), Http(200, Envelope({{"value", "x"}})), EventType::kFail,
       "malformed response"},
      // Successes.
      {"append ok", Append(), Http(200, Envelope({{"value", "v1-1"}, {"offset", 9}})),
       EventType::kOk, ""},
      {"log read ok", LogRead(), Http(200, page), EventType::kOk, ""},
      {"kv read ok", KvRead(), Http(200, Envelope({{"key", "k1"}, {"value", 4}})), EventType::kOk,
       ""},
      {"kv write ok", KvWrite(), Http(200, Envelope({{"key", "k1"}, {"value", 4}, {"offset", 9}})),
       EventType::kOk, ""},
      {"kv cas ok", KvCas(), Http(200, Envelope({{"key", "k1"}, {"from", 4}, {"to", 5}})),
       EventType::kOk, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Completion got = MapOutcome(c.op, c.outcome, "n1");
    EXPECT_EQ(history::ToString(got.type), std::string(history::ToString(c.want)));
    EXPECT_EQ(got.node, "n1");
    if (c.want_error.empty()) {
      EXPECT_FALSE(got.error.has_value()) << *got.error;
    } else {
      ASSERT_TRUE(got.error.has_value());
      EXPECT_NE(got.error->find(c.want_error), std::string::npos) << *got.error;
    }
    if (got.type != EventType::kOk) {
      EXPECT_EQ(got.value, c.op.value);  // the invoked argument
    }
  }
}

TEST(MapOutcomeTest, OkValuesHaveTheHistoryFormatShapes) {
  Completion a =
      MapOutcome(Append(), Http(200, Envelope({{"value", "v1-1"}, {"offset", 9}})), "n1");
  EXPECT_EQ(a.value, (json{{"value", "v1-1"}, {"offset", 9}, {"hwm", 10}}));

  Completion r = MapOutcome(
      LogRead("local"),
      Http(200, Envelope({{"from", 2},
                          {"to", 10},
                          {"consistency", "local"},
                          {"entries",
                           json::array({json::array({3, "v1-1"}), json::array({7, "v2-2"})})}})),
      "n2");
  EXPECT_EQ(r.value,
            (json{{"from", 2},
                  {"to", 10},
                  {"hwm", 10},
                  {"consistency", "local"},
                  {"entries", json::array({json::array({3, "v1-1"}), json::array({7, "v2-2"})})}}));

  // A restarted node with hwm below `from` answers to = hwm: recorded as the empty range.
  Completion behind = MapOutcome(
      LogRead("local"),
      Http(200,
           Envelope(
               {{"from", 787}, {"to", 10}, {"consistency", "local"}, {"entries", json::array()}})),
      "n3");
  EXPECT_EQ(behind.type, EventType::kOk);
  EXPECT_EQ(behind.value["from"], 787);
  EXPECT_EQ(behind.value["to"], 787);
  EXPECT_EQ(behind.value["hwm"], 10);

  EXPECT_EQ(MapOutcome(KvRead(), Http(200, Envelope({{"value", 4}})), "n1").value, json(4));
  Completion unset = MapOutcome(KvRead(), Http(200, Envelope({{"value", nullptr}})), "n1");
  EXPECT_EQ(unset.type, EventType::kOk);
  EXPECT_TRUE(unset.value.is_null());
  EXPECT_EQ(MapOutcome(KvWrite(), Http(200, Envelope({{"value", 4}})), "n1").value, json(4));
  EXPECT_EQ(MapOutcome(KvCas(), Http(200, Envelope()), "n1").value, json::array({4, 5}));
}

TEST(BuildRequestTest, MapsOpsToProtocolCalls) {
  auto a = BuildRequest(Append("v3-17"), "w3", 17);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->path, "/v1/log/append");
  EXPECT_TRUE(a->mutating);
  EXPECT_EQ(a->body, (json{{"value", "v3-17"}, {"client_id", "w3"}, {"seq", 17}}));

  OpRequest final_read;
  final_read.f = "read";
  final_read.value = {{"from", 0}, {"consistency", "local"}, {"final", true}};
  auto r = BuildRequest(final_read, "w3", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/v1/log/read");
  EXPECT_FALSE(r->mutating);
  EXPECT_EQ(r->body, (json{{"from", 0}, {"consistency", "local"}}));  // no "final", no client_id

  auto kr = BuildRequest(KvRead(), "w3", 0);
  ASSERT_TRUE(kr.ok());
  EXPECT_EQ(kr->path, "/v1/kv/read");
  EXPECT_EQ(kr->body, (json{{"key", "k1"}, {"consistency", "linearizable"}}));

  auto kw = BuildRequest(KvWrite(), "w3", 18);
  ASSERT_TRUE(kw.ok());
  EXPECT_EQ(kw->path, "/v1/kv/write");
  EXPECT_EQ(kw->body, (json{{"key", "k1"}, {"value", 4}, {"client_id", "w3"}, {"seq", 18}}));

  auto kc = BuildRequest(KvCas(), "w3", 19);
  ASSERT_TRUE(kc.ok());
  EXPECT_EQ(kc->path, "/v1/kv/cas");
  EXPECT_EQ(kc->body,
            (json{{"key", "k1"}, {"from", 4}, {"to", 5}, {"client_id", "w3"}, {"seq", 19}}));
}

TEST(BuildRequestTest, RejectsOpsItCannotExpress) {
  OpRequest op;
  op.f = "dequeue";
  EXPECT_FALSE(BuildRequest(op, "w", 1).ok());
  op.f = "append";
  op.value = 5;
  EXPECT_FALSE(BuildRequest(op, "w", 1).ok());
  op.f = "read";
  op.value = nullptr;  // a log read needs {"from": N}
  EXPECT_FALSE(BuildRequest(op, "w", 1).ok());
  OpRequest cas = KvCas();
  cas.value = json::array({nullptr, 1});
  EXPECT_FALSE(BuildRequest(cas, "w", 1).ok());
}

TEST(NotLeaderHintTest, OnlyForDefiniteNotLeaderWithALeader) {
  EXPECT_EQ(NotLeaderHint(Http(409, ErrorBody("not_leader", true, {{"leader", "n3"}}))), "n3");
  EXPECT_FALSE(NotLeaderHint(Http(409, ErrorBody("not_leader", true, {{"leader", nullptr}}))));
  EXPECT_FALSE(NotLeaderHint(Http(409, ErrorBody("not_leader", false, {{"leader", "n3"}}))));
  EXPECT_FALSE(NotLeaderHint(Http(503, ErrorBody("unavailable", true, {{"leader", "n3"}}))));
  EXPECT_FALSE(NotLeaderHint(Transport(CURLE_COULDNT_CONNECT, false)));
}

TEST(NextPageTest, PagesUntilTheHwm) {
  const json req = {{"from", 0}, {"consistency", "local"}};
  auto next = NextPage(req, Envelope({{"from", 0}, {"to", 4}, {"hwm", 10}}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, (json{{"from", 4}, {"consistency", "local"}}));
  EXPECT_FALSE(NextPage(req, Envelope({{"from", 0}, {"to", 10}, {"hwm", 10}})));
  EXPECT_FALSE(NextPage(req, Envelope({{"from", 0}, {"to", 0}, {"hwm", 10}})));  // no progress
  const json bounded = {{"from", 0}, {"to", 4}, {"consistency", "local"}};
  EXPECT_FALSE(NextPage(bounded, Envelope({{"from", 0}, {"to", 4}, {"hwm", 10}})));
}

TEST(ParseStatusTest, ReadsTheDocumentedFields) {
  auto s = ParseStatus(
      R"({"node":"n1","generation":3,"leader":"n1","hwm":213,"role":"leader","voted_for":"n1",
          "last_offset":212,"log_end":213,"applied":213,"bugs":[]})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->node, "n1");
  EXPECT_EQ(s->role, "leader");
  EXPECT_EQ(s->generation, 3);
  EXPECT_EQ(s->leader, "n1");
  EXPECT_EQ(s->voted_for, "n1");
  EXPECT_EQ(s->last_offset, 212);
  EXPECT_EQ(s->hwm, 213);

  auto empty = ParseStatus(
      R"({"node":"n2","generation":0,"leader":null,"hwm":0,"role":"follower","last_offset":null})");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_FALSE(empty->leader.has_value());
  EXPECT_FALSE(empty->last_offset.has_value());

  auto bad = ParseStatus(R"({"node":"n2","generation":0,"hwm":0})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("role"), std::string::npos);
  EXPECT_FALSE(ParseStatus("not json").ok());
}

TEST(LogReadCompletionTest, TheScannedPathWritesExactlyWhatTheJsonPathWould) {
  const std::vector<json> bodies = {
      {{"from", 2},
       {"to", 4},
       {"hwm", 9},
       {"consistency", "local"},
       {"entries",
        json::array({json::array({2, "v1-1"}), json::array({3, "a \"quoted\" \u00e9"})})}},
      {{"from", 2}, {"to", 2}, {"hwm", 2}, {"entries", json::array()}},  // no consistency
      {{"from", 787},
       {"to", 10},
       {"hwm", 10},
       {"consistency", "local"},
       {"entries", json::array()}},
  };
  for (const json& body : bodies) {
    SCOPED_TRACE(body.dump());
    const HttpOutcome out = Http(200, body);
    const Completion slow = MapOutcome(LogRead("local"), out, "n1");
    auto page = ScanLogReadPage(out.body);
    ASSERT_TRUE(page);
    const Completion fast = LogReadCompletion(LogRead("local"), *page, "n1");
    EXPECT_EQ(fast.type, slow.type);
    // Byte for byte what the history line would hold either way.
    EXPECT_EQ(fast.value_text, slow.value.dump());
    // `value` keeps everything but the entries.
    json head = slow.value;
    head.erase("entries");
    EXPECT_EQ(fast.value, head);
  }
}

}  // namespace
}  // namespace tidemark::targets::tidelog_http

namespace tidemark::targets {
namespace {

// Reads get the shorter read timeout (a stalled node does not hold a reader for the whole op
// timeout); writes and the final reads keep the full one.
TEST(SteppedClientTest, ReadsUseTheReadTimeoutWritesAndFinalReadsTheFullOne) {
  ClientOptions o;
  o.client_id = "c1";
  o.timeout_ms = 3000;
  o.read_timeout_ms = 700;
  auto c = MakeSteppedClient("tidelog-http", o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto first_call = [&](const OpRequest& op) {
    auto step = (*c)->Begin(op, "n1", "http://127.0.0.1:1");
    EXPECT_TRUE(step.call.has_value());
    return step.call ? step.call->timeout_ms : -1;
  };
  OpRequest read;
  read.f = "read";
  read.value = {{"from", 0}, {"consistency", "linearizable"}};
  EXPECT_EQ(first_call(read), 700);
  OpRequest append;
  append.f = "append";
  append.value = "v1-1";
  EXPECT_EQ(first_call(append), 3000);
  OpRequest final_read = read;
  final_read.value["final"] = true;
  EXPECT_EQ(first_call(final_read), 3000);
  o.read_timeout_ms = 0;  // unset: every op gets timeout_ms
  c = MakeSteppedClient("tidelog-http", o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(first_call(read), 3000);
}

}  // namespace
}  // namespace tidemark::targets
