// The client calls of docs/protocol.md: request validation and response shapes.
#include <set>

#include "node.h"

namespace tidemark::tidelog {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxReadSpan = 100000;

// Validation of a request object; the first problem found is kept for the 400 text.
class Req {
 public:
  Req(const json& j, std::set<std::string> allowed) : j_(j) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!allowed.count(it.key())) Fail("unknown field \"" + it.key() + "\"");
  }
  std::string Str(const char* k, bool required = true) {
    auto it = j_.find(k);
    if (it == j_.end()) {
      if (required) Fail(std::string("missing field \"") + k + "\"");
      return "";
    }
    if (!it->is_string()) Fail(std::string("field \"") + k + "\" must be a string");
    return it->is_string() ? it->get<std::string>() : "";
  }
  std::optional<uint64_t> U64(const char* k, bool required = true) {
    auto it = j_.find(k);
    if (it == j_.end()) {
      if (required) Fail(std::string("missing field \"") + k + "\"");
      return std::nullopt;
    }
    if (!it->is_number_unsigned()) {
      Fail(std::string("field \"") + k + "\" must be a non-negative integer");
      return std::nullopt;
    }
    return it->get<uint64_t>();
  }
  json Any(const char* k) {
    auto it = j_.find(k);
    if (it == j_.end() || it->is_null()) {
      Fail(std::string("field \"") + k + "\" is required and must not be null");
      return json();
    }
    return *it;
  }
  // "linearizable" (default) or "local".
  bool Linearizable() {
    std::string c = Str("consistency", false);
    if (c.empty() && !j_.contains("consistency")) return true;
    if (c != "linearizable" && c != "local")
      Fail("consistency must be \"linearizable\" or \"local\"");
    return c != "local";
  }
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }
  const std::string& error() const { return error_; }

 private:
  const json& j_;
  std::string error_;
};

}  // namespace

void Node::OnClient(const std::string& path, const std::string& body, Reply reply,
                    uint64_t now_ms) {
  json req = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    reply(400, ErrorBody("bad_request", true, "the body must be a JSON object"));
    return;
  }
  if (path == "/v1/log/append") return HandleAppend(req, std::move(reply), now_ms);
  if (path == "/v1/log/read") return HandleLogRead(req, std::move(reply), now_ms);
  if (path == "/v1/log/hwm") return HandleHwm(req, std::move(reply), now_ms);
  if (path == "/v1/status") return HandleStatus(req, std::move(reply), now_ms);
  if (path == "/v1/kv/read") return HandleKvRead(req, std::move(reply), now_ms);
  if (path == "/v1/kv/write") return HandleKvWrite(req, std::move(reply), now_ms);
  if (path == "/v1/kv/cas") return HandleKvCas(req, std::move(reply), now_ms);
  reply(404, ErrorBody("not_found", true, "no such call: " + path));
}

void Node::HandleAppend(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"value", "client_id", "seq"});
  std::string value = r.Str("value");
  std::string client = r.Str("client_id");
  auto seq = r.U64("seq");
  if (r.error().empty() && client.empty()) r.Fail("client_id must not be empty");
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  auto on_commit = [this, reply](uint64_t index) {
    json j = Envelope();
    // With ack-before-quorum the ack claims its offset is below the HWM (the lie the bug is).
    if (core_.config().bugs.ack_before_quorum && index >= core_.hwm()) j["hwm"] = index + 1;
    j["offset"] = index;
    j["value"] = core_.log()[index].payload;
    reply(200, j);
  };
  Propose(EntryKind::kAppend, client, *seq, value, on_commit, reply, now_ms);
}

json Node::LogRange(uint64_t from, std::optional<uint64_t> to) const {
  uint64_t hwm = ServedHwm();
  uint64_t end = std::min(to.value_or(hwm), hwm);
  if (from <= UINT64_MAX - kMaxReadSpan) end = std::min(end, from + kMaxReadSpan);
  json entries = json::array();
  const auto& log = core_.log();
  for (uint64_t i = from; i < end && i < log.size(); ++i)
    if (log[i].kind == EntryKind::kAppend) entries.push_back(json::array({i, log[i].payload}));
  json j = Envelope();
  j["hwm"] = hwm;
  j["from"] = from;
  j["to"] = end;
  j["entries"] = std::move(entries);
  return j;
}

void Node::HandleLogRead(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"from", "to", "consistency"});
  auto from = r.U64("from");
  auto to = r.U64("to", false);
  bool lin = r.Linearizable();
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  if (!lin) {
    json j = LogRange(*from, to);
    j["consistency"] = "local";
    return reply(200, j);
  }
  if (core_.role() != Role::kLeader)
    return reply(409, ErrorBody("not_leader", true, core_.id() + " is not the leader"));
  uint64_t f = *from;
  ReadLinearizable(
      [this, reply, f, to](bool ok) {
        if (!ok)
          return reply(
              503, ErrorBody("unavailable", true, "could not confirm leadership with a quorum"));
        json j = LogRange(f, to);
        j["consistency"] = "linearizable";
        reply(200, j);
      },
      now_ms);
}

void Node::HandleHwm(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"consistency"});
  bool lin = r.Linearizable();
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  if (!lin) return reply(200, Envelope());
  if (core_.role() != Role::kLeader)
    return reply(409, ErrorBody("not_leader", true, core_.id() + " is not the leader"));
  ReadLinearizable(
      [this, reply](bool ok) {
        if (!ok)
          return reply(
              503, ErrorBody("unavailable", true, "could not confirm leadership with a quorum"));
        reply(200, Envelope());
      },
      now_ms);
}

void Node::HandleStatus(const json& req, Reply reply, uint64_t now_ms) {
  // The optional long-poll (docs/protocol.md): hold the answer until this node's generation,
  // role or leader differ from what the caller knows, or wait_ms passes.
  if (req.contains("wait_ms")) {
    Req r(req, {"wait_ms", "generation", "role", "leader"});
    auto wait = r.U64("wait_ms");
    if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
    StatusWaiter w;
    w.generation = req.value("generation", json(nullptr));
    w.role = req.value("role", json(nullptr));
    w.leader = req.value("leader", json(nullptr));
    w.deadline_ms = now_ms + std::min<uint64_t>(wait.value_or(0), kMaxStatusWaitMs);
    w.reply = std::move(reply);
    if (!StatusChanged(w) && now_ms < w.deadline_ms) {
      status_waits_.push_back(std::move(w));
      return;
    }
    reply = std::move(w.reply);
  }
  reply(200, StatusBody());
}

bool Node::StatusChanged(const StatusWaiter& w) const {
  json leader = core_.leader().empty() ? json(nullptr) : json(core_.leader());
  return w.generation != json(core_.generation()) || w.role != json(RoleName(core_.role())) ||
         w.leader != leader;
}

json Node::StatusBody() const {
  json j = Envelope();
  j["role"] = RoleName(core_.role());
  j["voted_for"] = core_.voted_for().empty() ? json(nullptr) : json(core_.voted_for());
  j["last_offset"] = core_.log_end() == 0 ? json(nullptr) : json(core_.log_end() - 1);
  j["log_end"] = core_.log_end();
  j["applied"] = kv_.applied();
  j["bugs"] = core_.config().bugs.Names();
  return j;
}

void Node::HandleKvRead(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"key", "consistency"});
  std::string key = r.Str("key");
  bool lin = r.Linearizable();
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  auto answer = [this, reply, key]() {
    json j = Envelope();
    j["key"] = key;
    auto v = kv_.Get(key);
    j["value"] = v ? json::parse(*v, nullptr, false) : json(nullptr);
    reply(200, j);
  };
  if (!lin) return answer();
  if (core_.role() != Role::kLeader)
    return reply(409, ErrorBody("not_leader", true, core_.id() + " is not the leader"));
  ReadLinearizable(
      [this, reply, answer](bool ok) {
        if (!ok)
          return reply(
              503, ErrorBody("unavailable", true, "could not confirm leadership with a quorum"));
        answer();  // Process() applied the state machine up to the HWM before this runs
      },
      now_ms);
}

void Node::HandleKvWrite(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"key", "value", "client_id", "seq"});
  std::string key = r.Str("key");
  json value = r.Any("value");
  std::string client = r.Str("client_id");
  auto seq = r.U64("seq");
  if (r.error().empty() && client.empty()) r.Fail("client_id must not be empty");
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  json payload = {{"key", key}, {"value", value}};
  auto on_commit = [this, reply, key, value](uint64_t index) {
    json j = Envelope();
    j["key"] = key;
    j["value"] = value;
    j["offset"] = index;
    reply(200, j);
  };
  Propose(EntryKind::kKvWrite, client, *seq, payload.dump(), on_commit, reply, now_ms);
}

void Node::HandleKvCas(const json& req, Reply reply, uint64_t now_ms) {
  Req r(req, {"key", "from", "to", "client_id", "seq"});
  std::string key = r.Str("key");
  json from = r.Any("from");
  json to = r.Any("to");
  std::string client = r.Str("client_id");
  auto seq = r.U64("seq");
  if (r.error().empty() && client.empty()) r.Fail("client_id must not be empty");
  if (!r.error().empty()) return reply(400, ErrorBody("bad_request", true, r.error()));
  json payload = {{"key", key}, {"from", from}, {"to", to}};
  auto on_commit = [this, reply, key, from, to](uint64_t index) {
    auto outcome = kv_.CasResult(index);
    if (outcome && !outcome->ok) {
      json j = ErrorBody("cas_failed", true, "precondition failed");
      j["error"]["current"] =
          outcome->current ? json::parse(*outcome->current, nullptr, false) : json(nullptr);
      return reply(412, j);
    }
    json j = Envelope();
    j["key"] = key;
    j["from"] = from;
    j["to"] = to;
    j["offset"] = index;
    reply(200, j);
  };
  Propose(EntryKind::kKvCas, client, *seq, payload.dump(), on_commit, reply, now_ms);
}

}  // namespace tidemark::tidelog
