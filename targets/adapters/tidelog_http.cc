#include "targets/adapters/tidelog_http.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <curl/curl.h>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/raw_http.h"
#include "targets/adapters/stepped.h"

namespace tidemark::targets::tidelog_http {
namespace {

using history::EventType;
using nlohmann::json;

bool IsInt(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

std::optional<int64_t> IntField(const json& j, const char* name) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(name);
  if (it == j.end() || !IsInt(*it)) return std::nullopt;
  return it->get<int64_t>();
}

std::string Truncate(std::string s, size_t n = 200) {
  if (s.size() > n) s = s.substr(0, n) + "...";
  return s;
}

Completion Make(EventType type, json value, std::string error, const std::string& node) {
  Completion c;
  c.type = type;
  c.value = std::move(value);
  if (!error.empty()) c.error = std::move(error);
  c.node = node;
  return c;
}

// An ambiguous outcome: kInfo for a mutating op, kFail for a read (it had no effect).
Completion Unknown(const OpRequest& op, std::string error, const std::string& node) {
  return Make(IsMutating(op) ? EventType::kInfo : EventType::kFail, op.value, std::move(error),
              node);
}

Completion FromTransportError(const OpRequest& op, const HttpOutcome& o, const std::string& node) {
  const auto code = static_cast<CURLcode>(o.curl_code);
  std::string reason;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      reason = o.os_errno == ECONNREFUSED || o.os_errno == 0
                   ? "connection refused"
                   : std::string("could not connect: ") + std::strerror(o.os_errno);
      // Never connected: the request cannot have arrived, whatever request_sent says.
      return Make(EventType::kFail, op.value, reason, node);
    case CURLE_COULDNT_RESOLVE_HOST:
      return Make(EventType::kFail, op.value, "could not resolve host", node);
    case CURLE_OPERATION_TIMEDOUT:
      reason = o.request_sent ? "timeout" : "connect timeout";
      break;
    case CURLE_GOT_NOTHING:
      reason = "empty reply";
      break;
    case CURLE_SEND_ERROR:
      reason = "send error";
      break;
    case CURLE_RECV_ERROR:
      reason = "connection dropped";
      break;
    default:
      reason = CurlErrorText(code);
  }
  if (!o.request_sent) return Make(EventType::kFail, op.value, reason + " (not sent)", node);
  return Unknown(op, reason, node);
}

Completion FromError(const OpRequest& op, const HttpOutcome& o, const json& body,
                     const std::string& node) {
  const json* err = nullptr;
  if (body.is_object()) {
    auto it = body.find("error");
    if (it != body.end() && it->is_object()) err = &*it;
  }
  if (err == nullptr) {
    return Unknown(op, "http " + std::to_string(o.http_status) + " without error object", node);
  }
  const std::string code = err->value("code", std::string("http_" + std::to_string(o.http_status)));
  const bool definite = err->contains("definite") && (*err)["definite"].is_boolean() &&
                        (*err)["definite"].get<bool>();
  std::string reason = code;
  if (code == "not_leader") {
    auto l = err->find("leader");
    reason += " (leader " +
              (l != err->end() && l->is_string() ? l->get<std::string>() : std::string("unknown")) +
              ")";
  } else if (code == "cas_failed") {
    auto cur = err->find("current");
    reason += " (current " + (cur != err->end() ? cur->dump() : std::string("?")) + ")";
  } else if (code == "timeout") {
    reason = "server timeout";  // 504: appended, not committed in time
  } else if (err->contains("text") && (*err)["text"].is_string()) {
    const std::string text = (*err)["text"].get<std::string>();
    if (!text.empty()) reason += ": " + Truncate(text);
  }
  if (definite) return Make(EventType::kFail, op.value, reason, node);
  return Unknown(op, reason, node);
}

// A log read's result without its entries: the range read, the HWM and the consistency served
// (the node's word, else what was asked). A node whose HWM is below `from` (e.g. just restarted)
// answers with to = hwm < from: the read covered nothing, which the history says as an empty
// range [from, from).
json LogReadHead(const OpRequest& op, int64_t from, int64_t to, int64_t hwm,
                 const std::optional<std::string>& consistency) {
  return json{{"from", from},
              {"to", std::max(to, from)},
              {"hwm", hwm},
              {"consistency",
               consistency.value_or(op.value.value("consistency", std::string("linearizable")))}};
}

// A 200 response turned into the documented ok value; nullopt when it is malformed. A log
// read's entries are moved out of `body`.
std::optional<json> OkValue(const OpRequest& op, json& body) {
  if (!body.is_object()) return std::nullopt;
  if (op.key) {
    if (op.f == "read") {
      auto it = body.find("value");
      if (it == body.end() || !(it->is_null() || IsInt(*it))) return std::nullopt;
      return *it;
    }
    return op.value;  // write v -> v, cas [a,b] -> [a,b]
  }
  if (op.f == "append") {
    const auto offset = IntField(body, "offset");
    const auto hwm = IntField(body, "hwm");
    if (!offset || !hwm) return std::nullopt;
    json value = op.value;
    auto v = body.find("value");
    if (v != body.end() && v->is_string()) value = *v;  // record what the node says it stored
    return json{{"value", value}, {"offset", *offset}, {"hwm", *hwm}};
  }
  // log read
  const auto from = IntField(body, "from");
  const auto to = IntField(body, "to");
  const auto hwm = IntField(body, "hwm");
  auto entries = body.find("entries");
  if (!from || !to || !hwm || entries == body.end() || !entries->is_array()) return std::nullopt;
  for (json& e : *entries) {
    if (!e.is_array() || e.size() != 2 || !IsInt(e[0])) return std::nullopt;
    if (e[0].is_number_unsigned()) e[0] = e[0].get<int64_t>();  // as int64, like the rest
  }
  std::optional<std::string> consistency;
  auto c = body.find("consistency");
  if (c != body.end() && c->is_string()) consistency = c->get<std::string>();
  json value = LogReadHead(op, *from, *to, *hwm, consistency);
  value["entries"] = std::move(*entries);
  return value;
}

}  // namespace

bool IsMutating(const OpRequest& op) {
  return op.f == "append" || op.f == "write" || op.f == "cas";
}

Result<HttpRequest> BuildRequest(const OpRequest& op, const std::string& client_id, int64_t seq) {
  HttpRequest r;
  r.mutating = IsMutating(op);
  if (op.key) {
    if (op.f == "read") {
      r.path = "/v1/kv/read";
      r.body = {{"key", *op.key}, {"consistency", "linearizable"}};
    } else if (op.f == "write") {
      if (op.value.is_null()) return Error{"register write of null to " + *op.key};
      r.path = "/v1/kv/write";
      r.body = {{"key", *op.key}, {"value", op.value}};
    } else if (op.f == "cas") {
      if (!op.value.is_array() || op.value.size() != 2 || op.value[0].is_null()) {
        return Error{"register cas needs [from, to] with a non-null from, got " + op.value.dump()};
      }
      r.path = "/v1/kv/cas";
      r.body = {{"key", *op.key}, {"from", op.value[0]}, {"to", op.value[1]}};
    } else {
      return Error{"register op '" + op.f + "' is not one of read, write, cas"};
    }
  } else if (op.f == "append") {
    if (!op.value.is_string())
      return Error{"log append needs a string value, got " + op.value.dump()};
    r.path = "/v1/log/append";
    r.body = {{"value", op.value}};
  } else if (op.f == "read") {
    if (!op.value.is_object() || !IntField(op.value, "from")) {
      return Error{"log read needs {\"from\": N, ...}, got " + op.value.dump()};
    }
    r.path = "/v1/log/read";
    r.body = {{"from", op.value["from"]},
              {"consistency", op.value.value("consistency", std::string("linearizable"))}};
    if (auto to = IntField(op.value, "to")) r.body["to"] = *to;
  } else {
    return Error{"log op '" + op.f + "' is not one of append, read (register ops need a key)"};
  }
  if (r.mutating) {
    r.body["client_id"] = client_id;
    r.body["seq"] = seq;
  }
  return r;
}

Completion MapOutcome(const OpRequest& op, const HttpOutcome& o, const std::string& node) {
  if (o.curl_code != 0) return FromTransportError(op, o, node);
  return MapOutcome(op, o, json::parse(o.body, nullptr, /*allow_exceptions=*/false), node);
}

Completion MapOutcome(const OpRequest& op, const HttpOutcome& o, json body,
                      const std::string& node) {
  if (o.curl_code != 0) return FromTransportError(op, o, node);
  if (o.http_status == 200) {
    if (body.is_discarded()) return Unknown(op, "malformed response: not JSON", node);
    auto value = OkValue(op, body);
    if (!value) return Unknown(op, "malformed response: " + Truncate(body.dump(), 120), node);
    return Make(EventType::kOk, std::move(*value), "", node);
  }
  if (o.http_status < 400) {
    return Unknown(op, "unexpected http " + std::to_string(o.http_status), node);
  }
  return FromError(op, o, body.is_discarded() ? json() : body, node);
}

std::optional<std::string> NotLeaderHint(const HttpOutcome& o) {
  if (o.curl_code != 0 || o.http_status != 409) return std::nullopt;
  const json body = json::parse(o.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) {
    return std::nullopt;
  }
  const json& err = body["error"];
  if (err.value("code", std::string()) != "not_leader" || !err.value("definite", false)) {
    return std::nullopt;
  }
  auto l = err.find("leader");
  if (l == err.end() || !l->is_string()) return std::nullopt;
  return l->get<std::string>();
}

std::optional<json> NextPage(const json& request_body, const json& response_body) {
  const auto to = IntField(response_body, "to");
  const auto hwm = IntField(response_body, "hwm");
  if (!to || !hwm) return std::nullopt;
  return NextPage(request_body, *to, *hwm);
}

std::optional<json> NextPage(const json& request_body, int64_t to, int64_t hwm) {
  const auto from = IntField(request_body, "from");
  if (!from || to >= hwm || to <= *from) return std::nullopt;
  if (auto want = IntField(request_body, "to"); want && to >= *want) return std::nullopt;
  json next = request_body;
  next["from"] = to;
  return next;
}

Completion LogReadCompletion(const OpRequest& op, const LogReadPage& merged,
                             const std::string& node) {
  Completion c;
  c.type = EventType::kOk;
  c.node = node;
  c.value = LogReadHead(op, merged.from, merged.to, merged.hwm, merged.consistency);
  // The head as nlohmann writes it (keys sorted: consistency, from, hwm, to) with the entries
  // spliced in at their sorted place, so the line is the one MapOutcome's value gives.
  const std::string head = c.value.dump();
  const size_t at = head.find(",\"from\":");
  c.value_text.reserve(head.size() + merged.entries.size() + 16);
  c.value_text.append(head, 0, at).append(",\"entries\":[").append(merged.entries).append("]");
  c.value_text.append(head, at);
  return c;
}

Result<NodeStatus> ParseStatus(const std::string& text) {
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return Error{"status: response is not a JSON object"};
  NodeStatus s;
  s.raw = body;
  auto str = [&body](const char* f) -> std::optional<std::string> {
    auto it = body.find(f);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto node = str("node");
  auto role = str("role");
  auto gen = IntField(body, "generation");
  auto hwm = IntField(body, "hwm");
  if (!node) return Error{"status: missing string field 'node'"};
  if (!role) return Error{"status: missing string field 'role'"};
  if (!gen) return Error{"status: missing integer field 'generation'"};
  if (!hwm) return Error{"status: missing integer field 'hwm'"};
  s.node = *node;
  s.role = *role;
  s.generation = *gen;
  s.hwm = *hwm;
  s.leader = str("leader");
  s.voted_for = str("voted_for");
  s.last_offset = IntField(body, "last_offset");
  return s;
}

namespace {

// A log read longer than this many pages is cut short (docs/protocol.md: 100 000 offsets each).
constexpr int kMaxPages = 1000;

// tidelog-http as a state machine (stepped.h): the first POST, then leader hops on a definite
// not_leader that names a leader, then idempotent re-sends of an unknown outcome, then the
// remaining pages of a paged log read.
class TidelogStepped : public SteppedClient {
 public:
  explicit TidelogStepped(ClientOptions opts) : opts_(std::move(opts)) {
    opts_.connect_timeout_ms = std::min(opts_.connect_timeout_ms, opts_.timeout_ms);
  }

  Step Begin(const OpRequest& op, const std::string& node_name,
             const std::string& base_url) override {
    op_ = op;
    seq_now_ = IsMutating(op) ? ++seq_ : 0;
    auto req = BuildRequest(op, opts_.client_id, seq_now_);
    if (!req.ok()) {
      Completion c;
      c.type = history::EventType::kFail;
      c.value = op.value;
      c.error = "not sent: " + req.error().message;
      c.node = node_name;
      return Done(std::move(c));
    }
    req_ = std::move(*req);
    body_text_ = req_.body.dump();
    node_ = node_name;
    url_ = base_url;
    hops_ = 0;
    retries_ = 0;
    pages_ = 0;
    phase_ = Phase::kFirst;
    return Post(body_text_);
  }

  Step Continue(HttpOutcome outcome) override {
    switch (phase_) {
      case Phase::kFirst:
        // A definite not_leader applied nothing, so the same request (same seq) may go to the
        // leader it names.
        if (hops_ < opts_.max_leader_hops) {
          if (auto hint = NotLeaderHint(outcome); hint && *hint != node_) {
            if (auto it = opts_.node_urls.find(*hint); it != opts_.node_urls.end()) {
              ++hops_;
              node_ = *hint;
              url_ = it->second;
              return Post(body_text_);
            }
          }
        }
        out_ = std::move(outcome);
        return AfterAttempt();
      case Phase::kRetry:
        // Once an attempt's outcome is unknown, a later definite failure (e.g. not_leader)
        // says nothing about that earlier attempt, which may still be applied: the op stays
        // unknown.
        if (MapOutcome(op_, outcome, node_).type == history::EventType::kFail) return Finish();
        out_ = std::move(outcome);
        return AfterAttempt();
      case Phase::kPages:
        return AfterPage(std::move(outcome));
    }
    return Finish();
  }

 private:
  enum class Phase { kFirst, kRetry, kPages };

  Step Post(const std::string& body) {
    // Reads get the shorter read timeout; the final reads (which may page through the whole
    // log once the faults are over) keep the full one.
    const bool final_read = op_.value.is_object() && op_.value.value("final", false);
    int timeout = opts_.timeout_ms;
    if (seq_now_ == 0 && !final_read && opts_.read_timeout_ms > 0)
      timeout = std::min(timeout, opts_.read_timeout_ms);
    return Call(
        HttpCall{url_ + req_.path, body, timeout, std::min(opts_.connect_timeout_ms, timeout)});
  }

  // out_ holds the latest attempt worth keeping: re-send it if unknown, else go on.
  Step AfterAttempt() {
    if (seq_now_ > 0 && retries_ < opts_.retry_indefinite &&
        MapOutcome(op_, out_, node_).type == history::EventType::kInfo) {
      ++retries_;
      phase_ = Phase::kRetry;
      return Post(body_text_);
    }
    scanned_.reset();
    if (op_.f == "read" && !op_.key && out_.curl_code == 0 && out_.http_status == 200) {
      // The hot path: a log read's entries stay text (log_read_scan.h), never a JSON tree.
      if (auto page = ScanLogReadPage(out_.body)) {
        scanned_ = std::move(*page);
        page_request_ = req_.body;
        return NextPageOrFinish();
      }
    }
    // One parse of each response: the pages are merged into `body_`, which MapOutcome consumes.
    body_ = out_.curl_code == 0 ? json::parse(out_.body, nullptr, false) : json();
    if (op_.f == "read" && !op_.key && out_.curl_code == 0 && out_.http_status == 200 &&
        body_.is_object() && body_.contains("entries") && body_["entries"].is_array()) {
      page_request_ = req_.body;
      return NextPageOrFinish();
    }
    return Finish();
  }

  // Follows a paged log read to its end (NextPage reads only from/to/hwm; `body_` carries the
  // latest page's to and hwm). A log read longer than kMaxPages pages is cut short.
  Step NextPageOrFinish() {
    if (pages_ >= kMaxPages) return Finish();
    auto next = scanned_ ? NextPage(page_request_, scanned_->to, scanned_->hwm)
                         : NextPage(page_request_, body_);
    if (!next) return Finish();
    page_request_ = std::move(*next);
    ++pages_;
    phase_ = Phase::kPages;
    return Post(page_request_.dump());
  }

  // Any failed page makes the whole read that failure (a read has no effect, so that is safe).
  Step AfterPage(HttpOutcome page_out) {
    if (scanned_) {
      if (page_out.curl_code == 0 && page_out.http_status == 200) {
        auto page = ScanLogReadPage(page_out.body);
        if (!page) {
          // Not the shape the first page had: the read fails (it had no effect).
          Completion c;
          c.type = history::EventType::kFail;
          c.value = op_.value;
          c.error = "malformed response: page " + std::to_string(pages_ + 1) + " of a log read";
          c.node = node_;
          scanned_.reset();
          return Done(std::move(c));
        }
        AppendPage(*scanned_, std::move(*page));
        return NextPageOrFinish();
      }
      scanned_.reset();
      out_ = std::move(page_out);
      return Finish();
    }
    json page = page_out.curl_code == 0 ? json::parse(page_out.body, nullptr, false) : json();
    if (page_out.curl_code != 0 || page_out.http_status != 200 || !page.is_object() ||
        !page.contains("entries") || !page["entries"].is_array()) {
      out_ = std::move(page_out);
      body_ = std::move(page);
      return Finish();
    }
    json& entries = body_["entries"];
    for (auto& e : page["entries"]) entries.push_back(std::move(e));
    body_["to"] = page.value("to", json());
    body_["hwm"] = page.value("hwm", json());
    return NextPageOrFinish();
  }

  Step Finish() {
    if (scanned_) {
      Completion c = LogReadCompletion(op_, *scanned_, node_);
      scanned_.reset();
      return Done(std::move(c));
    }
    if (body_.is_null() && out_.curl_code == 0) body_ = json::parse(out_.body, nullptr, false);
    Step s = Done(MapOutcome(op_, out_, std::move(body_), node_));
    body_ = json();
    return s;
  }

  ClientOptions opts_;
  int64_t seq_ = 0;
  // The op in progress.
  OpRequest op_;
  int64_t seq_now_ = 0;
  HttpRequest req_;
  std::string body_text_;
  std::string node_;
  std::string url_;
  Phase phase_ = Phase::kFirst;
  int hops_ = 0;
  int retries_ = 0;
  int pages_ = 0;
  HttpOutcome out_;  // the attempt whose outcome the op takes
  json body_;        // out_.body parsed (pages merged), once known
  json page_request_;
  std::optional<LogReadPage> scanned_;  // a log read on the fast path: the pages so far
};

class TidelogStatusClient : public StatusClient {
 public:
  TidelogStatusClient(int timeout_ms, std::unique_ptr<HttpPoster> poster)
      : timeout_ms_(timeout_ms), poster_(std::move(poster)) {}

  Result<NodeStatus> Status(const std::string& base_url) override {
    return Ask(base_url, "{}", timeout_ms_);
  }

  Result<NodeStatus> WaitForChange(const std::string& base_url, const NodeStatus& known,
                                   int wait_ms) override {
    json body = {{"wait_ms", wait_ms},
                 {"generation", known.generation},
                 {"role", known.role},
                 {"leader", known.leader ? json(*known.leader) : json(nullptr)}};
    return Ask(base_url, body.dump(), wait_ms + timeout_ms_);
  }

 private:
  Result<NodeStatus> Ask(const std::string& base_url, const std::string& body, int timeout_ms) {
    HttpOutcome out =
        poster_->Post(base_url + "/v1/status", body, timeout_ms, std::min(timeout_ms, timeout_ms_));
    if (out.curl_code != 0) {
      OpRequest probe;  // a read: only to phrase the transport error
      probe.f = "read";
      probe.value = json::object();
      auto c = MapOutcome(probe, out, "");
      return Error{base_url + "/v1/status: " + c.error.value_or("unreachable")};
    }
    if (out.http_status != 200) {
      return Error{base_url + "/v1/status: http " + std::to_string(out.http_status)};
    }
    auto st = ParseStatus(out.body);
    if (!st.ok()) return Error{base_url + "/v1/status: " + st.error().message};
    return st;
  }

  int timeout_ms_;
  std::unique_ptr<HttpPoster> poster_;
};

}  // namespace

}  // namespace tidemark::targets::tidelog_http

namespace tidemark::targets {

Adapter TidelogHttpAdapter() {
  Adapter a;
  a.name = "tidelog-http";
  a.new_client = [](const ClientOptions& opts) -> std::unique_ptr<SteppedClient> {
    return std::make_unique<tidelog_http::TidelogStepped>(opts);
  };
  // Kept-alive raw connections for the status calls too: the watcher polls every node often,
  // and a fraction of libcurl's CPU per call keeps the controller's cost per op low.
  a.new_status_client = [](int timeout_ms) -> Result<std::unique_ptr<StatusClient>> {
    return std::unique_ptr<StatusClient>(std::make_unique<tidelog_http::TidelogStatusClient>(
        timeout_ms, std::make_unique<RawHttpPoster>()));
  };
  return a;
}

}  // namespace tidemark::targets
