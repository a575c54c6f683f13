#include "targets/adapters/etcd_v3.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>
#include <vector>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/stepped.h"

namespace tidemark::targets::etcd_v3 {
namespace {

using nlohmann::json;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// etcd returns int64 fields as strings; tolerate numbers too.
int64_t Int64Field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const json& v = j[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

}  // namespace

std::string Base64Encode(const std::string& s) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8 |
                 static_cast<unsigned char>(s[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i < s.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << 16;
    if (i + 1 < s.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(const std::string& s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const char* p = std::find(kAlphabet, kAlphabet + 64, c);
    if (p == kAlphabet + 64) return Error{"not base64: '" + s + "'"};
    acc = acc << 6 | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Request RangeRequest(const std::string& key, bool serializable) {
  json body = {{"key", Base64Encode(key)}};
  if (serializable) body["serializable"] = true;
  return {"/v3/kv/range", body};
}

Request PutRequest(const std::string& key, const std::string& value) {
  return {"/v3/kv/put", {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}}};
}

Request CasRequest(const std::string& key, const std::string& from, const std::string& to) {
  json cmp = {{"key", Base64Encode(key)},
              {"target", "VALUE"},
              {"result", "EQUAL"},
              {"value", Base64Encode(from)}};
  json put = {{"request_put", {{"key", Base64Encode(key)}, {"value", Base64Encode(to)}}}};
  return {"/v3/kv/txn", {{"compare", json::array({cmp})}, {"success", json::array({put})}}};
}

Request AppendTxn(const std::string& value) {
  const std::string key = Base64Encode(kLogPrefix + value);
  json cmp = {{"key", key}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
  json put = {{"request_put", {{"key", key}, {"value", Base64Encode(value)}}}};
  return {"/v3/kv/txn", {{"compare", json::array({cmp})}, {"success", json::array({put})}}};
}

Request LogRange(int64_t from, bool serializable) {
  json body = {{"key", Base64Encode(kLogPrefix)},
               {"range_end", Base64Encode(PrefixEnd(kLogPrefix))}};
  if (from > 0) body["min_mod_revision"] = std::to_string(from);
  if (serializable) body["serializable"] = true;
  return {"/v3/kv/range", body};
}

Result<std::optional<KeyValue>> ParseRange(const json& body) {
  if (!body.is_object() || !body.contains("header"))
    return Error{"range answer without a header: " + body.dump()};
  if (!body.contains("kvs") || body["kvs"].empty()) return std::optional<KeyValue>();
  const json& kv = body["kvs"][0];
  auto value = Base64Decode(kv.value("value", ""));
  if (!value.ok()) return value.error();
  return std::optional<KeyValue>(KeyValue{*value, Int64Field(kv, "mod_revision")});
}

bool TxnSucceeded(const json& body) { return body.is_object() && body.value("succeeded", false); }

Result<int64_t> HeaderRevision(const json& body) {
  if (!body.is_object() || !body.contains("header") || !body["header"].contains("revision"))
    return Error{"answer without header.revision: " + body.dump().substr(0, 200)};
  int64_t r = Int64Field(body["header"], "revision");
  if (r <= 0) return Error{"answer with a bad header.revision: " + body["header"].dump()};
  return r;
}

Result<LogSnapshot> ParseLogRange(const json& body, int64_t from) {
  auto revision = HeaderRevision(body);
  if (!revision.ok()) return revision.error();
  LogSnapshot snap;
  snap.revision = *revision;
  std::vector<std::pair<int64_t, std::string>> entries;
  if (body.contains("kvs")) {
    for (const json& kv : body["kvs"]) {
      auto value = Base64Decode(kv.value("value", ""));
      if (!value.ok()) return value.error();
      // An entry key is created once and never modified: its mod revision is its offset.
      int64_t offset = Int64Field(kv, "mod_revision");
      if (offset <= 0) return Error{"log entry without a mod_revision: " + kv.dump()};
      if (offset > snap.revision)
        return Error{"log entry at revision " + std::to_string(offset) +
                     " above the answer's revision " + std::to_string(snap.revision)};
      if (offset >= from) entries.emplace_back(offset, *value);
    }
  }
  std::sort(entries.begin(), entries.end());
  for (auto& [offset, value] : entries) snap.entries.push_back(json::array({offset, value}));
  return snap;
}

bool DefinitelyNotApplied(const HttpOutcome& out) {
  if (out.curl_code != 0) return !out.request_sent;
  if (out.http_status == 200) return false;
  json body = json::parse(out.body, nullptr, false);
  return body.is_object() && body.value("code", -1) == 3;  // gRPC InvalidArgument
}

std::string Reason(const HttpOutcome& out) {
  if (out.curl_code != 0) {
    if (out.curl_code == CURLE_OPERATION_TIMEDOUT) return "timeout";
    if (out.curl_code == CURLE_COULDNT_CONNECT) return "connection refused";
    return std::string("transport: ") + CurlErrorText(out.curl_code);
  }
  json body = json::parse(out.body, nullptr, false);
  std::string msg = body.is_object() ? body.value("message", body.value("error", "")) : "";
  return "http " + std::to_string(out.http_status) + (msg.empty() ? "" : ": " + msg);
}

Result<NodeStatus> ParseStatus(const json& status, const json& members) {
  if (!status.is_object() || !status.contains("header"))
    return Error{"status answer without a header"};
  NodeStatus st;
  st.raw = status;
  std::string self_id = status["header"].value("member_id", "");
  std::string leader_id = status.value("leader", "");
  st.generation = Int64Field(status, "raftTerm");
  st.hwm = Int64Field(status, "raftIndex");
  auto name_of = [&](const std::string& id) -> std::optional<std::string> {
    if (members.is_object() && members.contains("members")) {
      for (const json& m : members["members"])
        if (m.value("ID", "") == id && !m.value("name", "").empty()) return m.value("name", "");
    }
    return std::nullopt;
  };
  st.node = name_of(self_id).value_or(self_id);
  if (!leader_id.empty() && leader_id != "0") st.leader = name_of(leader_id).value_or(leader_id);
  st.role = !leader_id.empty() && leader_id == self_id ? "leader" : "follower";
  return st;
}

namespace {

json Body(const HttpOutcome& out) { return json::parse(out.body, nullptr, false); }
bool Ok(const HttpOutcome& out) { return out.curl_code == 0 && out.http_status == 200; }

// The exchange failed: fail when nothing can have been applied, else info.
Completion Failed(const OpRequest& op, const HttpOutcome& out, const std::string& node) {
  const bool definite = op.f == "read" || DefinitelyNotApplied(out);  // reads have no effect
  return MakeCompletion(definite ? history::EventType::kFail : history::EventType::kInfo, op.value,
                        Reason(out), node);
}

Completion RegisterRead(const OpRequest& op, const json& body, const std::string& node) {
  auto kv = ParseRange(body);
  if (!kv.ok())
    return MakeCompletion(history::EventType::kFail, op.value, kv.error().message, node);
  if (!*kv) return MakeCompletion(history::EventType::kOk, nullptr, std::nullopt, node);
  try {
    return MakeCompletion(history::EventType::kOk, std::stoll((*kv)->value), std::nullopt, node);
  } catch (...) {
    return MakeCompletion(history::EventType::kOk, (*kv)->value, std::nullopt, node);
  }
}

Completion Appended(const OpRequest& op, const json& body, const std::string& node) {
  if (!TxnSucceeded(body))
    return MakeCompletion(history::EventType::kFail, op.value,
                          "value already appended: nothing written", node);
  // Applied, but without its revision the offset is unknown: ambiguous for the checker.
  auto r = HeaderRevision(body);
  if (!r.ok()) return MakeCompletion(history::EventType::kInfo, op.value, r.error().message, node);
  return MakeCompletion(history::EventType::kOk,
                        {{"value", op.value}, {"offset", *r}, {"hwm", *r + 1}}, std::nullopt, node);
}

Completion LogRead(const OpRequest& op, const json& body, const std::string& node) {
  const int64_t from = LogReadFrom(op);
  auto snap = ParseLogRange(body, from);
  if (!snap.ok())
    return MakeCompletion(history::EventType::kFail, op.value, snap.error().message, node);
  const int64_t hwm = snap->revision + 1;
  return MakeCompletion(history::EventType::kOk,
                        {{"from", from},
                         {"to", std::max(from, hwm)},
                         {"hwm", hwm},
                         {"consistency", LogReadConsistency(op)},
                         {"entries", std::move(snap->entries)}},
                        std::nullopt, node);
}

}  // namespace

int64_t LogReadFrom(const OpRequest& op) {
  return op.value.is_object() ? op.value.value("from", int64_t{0}) : 0;
}

std::string LogReadConsistency(const OpRequest& op) {
  return op.value.is_object() ? op.value.value("consistency", "linearizable") : "linearizable";
}

Result<Request> BuildOp(const OpRequest& op) {
  const bool local = op.value.is_object() && op.value.value("consistency", "") == "local";
  if (op.key) {
    if (op.f == "read") return RangeRequest(*op.key, local);
    if (op.f == "write") return PutRequest(*op.key, op.value.dump());
    if (op.f == "cas" && op.value.is_array() && op.value.size() == 2)
      return CasRequest(*op.key, op.value[0].dump(), op.value[1].dump());
    if (op.f == "cas") return Error{"malformed cas (needs [from, to])"};
    return Error{"unknown op '" + op.f + "'"};
  }
  if (op.f == "append") {
    if (!op.value.is_string()) return Error{"append needs a string"};
    return AppendTxn(op.value.get<std::string>());
  }
  if (op.f == "read") return LogRange(LogReadFrom(op), local);
  return Error{"unknown op '" + op.f + "'"};
}

Completion MapOutcome(const OpRequest& op, const HttpOutcome& out, const std::string& node) {
  if (!Ok(out)) return Failed(op, out, node);
  const json body = Body(out);
  if (!body.is_object()) {
    // A success status with a body that is not etcd's: a put or txn may have been applied.
    const auto type = op.f == "read" ? history::EventType::kFail : history::EventType::kInfo;
    return MakeCompletion(type, op.value, "malformed response: " + out.body.substr(0, 100), node);
  }
  if (op.f == "read") return op.key ? RegisterRead(op, body, node) : LogRead(op, body, node);
  if (op.f == "append") return Appended(op, body, node);
  if (op.f == "cas" && !TxnSucceeded(body))
    return MakeCompletion(history::EventType::kFail, op.value, "cas_failed", node);
  return MakeCompletion(history::EventType::kOk, op.value, std::nullopt, node);  // write, cas taken
}

namespace {

// etcd-v3 as a state machine (stepped.h): one POST per op, never re-sent (a put or txn whose
// outcome is unknown stays info).
class EtcdStepped : public SteppedClient {
 public:
  explicit EtcdStepped(const ClientOptions& opts)
      : timeout_ms_(opts.timeout_ms),
        connect_timeout_ms_(std::min(opts.connect_timeout_ms, opts.timeout_ms)) {}

  Step Begin(const OpRequest& op, const std::string& node_name,
             const std::string& base_url) override {
    op_ = op;
    node_ = node_name;
    auto req = BuildOp(op);
    if (!req.ok())
      return Done(MakeCompletion(history::EventType::kFail, op.value,
                                 "not sent: " + req.error().message, node_name));
    return Call(HttpCall{base_url + req->path, req->body.dump(), timeout_ms_, connect_timeout_ms_});
  }

  Step Continue(HttpOutcome outcome) override { return Done(MapOutcome(op_, outcome, node_)); }

 private:
  int timeout_ms_;
  int connect_timeout_ms_;
  OpRequest op_;
  std::string node_;
};

// Status over libcurl, a fresh connection per call: a status probe changes nothing, so even a
// re-send could not hurt, and these calls are few (readiness, the watcher's polls).
class EtcdStatusClient : public StatusClient {
 public:
  EtcdStatusClient(int timeout_ms, std::unique_ptr<CurlPoster> poster)
      : timeout_ms_(timeout_ms), poster_(std::move(poster)) {}
  Result<NodeStatus> Status(const std::string& base_url) override {
    HttpOutcome st =
        poster_->Post(base_url + "/v3/maintenance/status", "{}", timeout_ms_, timeout_ms_);
    if (st.curl_code != 0 || st.http_status != 200)
      return Error{base_url + ": status: " + Reason(st)};
    HttpOutcome members =
        poster_->Post(base_url + "/v3/cluster/member/list", "{}", timeout_ms_, timeout_ms_);
    json m = members.curl_code == 0 && members.http_status == 200
                 ? json::parse(members.body, nullptr, false)
                 : json();
    return ParseStatus(json::parse(st.body, nullptr, false), m);
  }

 private:
  int timeout_ms_;
  std::unique_ptr<CurlPoster> poster_;
};

}  // namespace

}  // namespace tidemark::targets::etcd_v3

namespace tidemark::targets {

Adapter EtcdV3Adapter() {
  Adapter a;
  a.name = "etcd-v3";
  a.new_client = [](const ClientOptions& opts) -> std::unique_ptr<SteppedClient> {
    return std::make_unique<etcd_v3::EtcdStepped>(opts);
  };
  a.new_status_client = [](int timeout_ms) -> Result<std::unique_ptr<StatusClient>> {
    auto poster = CurlPoster::Create();
    if (!poster.ok()) return poster.error();
    return std::unique_ptr<StatusClient>(
        std::make_unique<etcd_v3::EtcdStatusClient>(timeout_ms, std::move(poster).value()));
  };
  return a;
}

}  // namespace tidemark::targets
