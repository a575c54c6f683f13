#include "targets/adapters/redis.h"

#include <curl/curl.h>  // CURLcode values only (transport.h)
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>

#include "targets/adapters/curl_post.h"
#include "targets/adapters/stepped.h"

namespace tidemark::targets::redis {
namespace {

using history::EventType;
using nlohmann::json;

// Compare-and-set in one atomic step: a script runs alone on the primary.
constexpr const char* kCasScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) "
    "return 1 else return 0 end";
// The list's length and its entries from ARGV[1] on, from one snapshot.
constexpr const char* kReadScript =
    "return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], ARGV[1], -1)}";

Reply Convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      return out;
    default:
      out.type = Reply::Type::kNil;
      return out;
  }
  out.str.assign(r->str, r->len);
  return out;
}

std::string TransportReason(const HttpOutcome& out) {
  switch (out.curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_CONNECT:
      return "connection refused";
    case CURLE_GOT_NOTHING:
      return "connection closed before a reply";
    case CURLE_RECV_ERROR:
      return "connection reset";
    default:
      return std::string("transport: ") + CurlErrorText(out.curl_code);
  }
}

bool Mutating(const OpRequest& op) { return op.f != "read"; }

// A register value as stored ("3") back to its JSON form (3), or the text itself.
json RegisterValue(const Reply& r) {
  if (r.type == Reply::Type::kNil) return nullptr;
  json v = json::parse(r.str, nullptr, false);
  return v.is_discarded() ? json(r.str) : v;
}

Completion LogRead(const OpRequest& op, const Reply& r, const std::string& node) {
  if (r.type != Reply::Type::kArray || r.elements.size() != 2 ||
      r.elements[0].type != Reply::Type::kInteger || r.elements[1].type != Reply::Type::kArray)
    return MakeCompletion(EventType::kFail, op.value, "malformed log read reply", node);
  const int64_t from = op.value.is_object() ? op.value.value("from", int64_t{0}) : 0;
  const int64_t len = r.elements[0].integer;
  json entries = json::array();
  int64_t offset = from;
  for (const Reply& e : r.elements[1].elements) entries.push_back(json::array({offset++, e.str}));
  return MakeCompletion(
      EventType::kOk,
      {{"from", from},
       {"to", std::max(from, len)},
       {"hwm", len},
       {"consistency",
        op.value.is_object() ? op.value.value("consistency", "linearizable") : "linearizable"},
       {"entries", std::move(entries)}},
      std::nullopt, node);
}

// The op's own reply was not an error: its completion.
Completion Succeeded(const OpRequest& op, const Reply& r, const std::string& node) {
  if (op.f == "read") {
    if (!op.key) return LogRead(op, r, node);
    if (r.type != Reply::Type::kString && r.type != Reply::Type::kNil)
      return MakeCompletion(EventType::kFail, op.value, "malformed GET reply", node);
    return MakeCompletion(EventType::kOk, RegisterValue(r), std::nullopt, node);
  }
  if (op.f == "append") {
    if (r.type != Reply::Type::kInteger || r.integer < 1)
      return MakeCompletion(EventType::kInfo, op.value, "malformed RPUSH reply", node);
    return MakeCompletion(EventType::kOk,
                          {{"value", op.value}, {"offset", r.integer - 1}, {"hwm", r.integer}},
                          std::nullopt, node);
  }
  if (op.f == "cas") {
    if (r.type != Reply::Type::kInteger)
      return MakeCompletion(EventType::kInfo, op.value, "malformed cas reply", node);
    if (r.integer == 0) return MakeCompletion(EventType::kFail, op.value, "cas_failed", node);
  } else if (r.type != Reply::Type::kStatus) {
    return MakeCompletion(EventType::kInfo, op.value, "malformed SET reply", node);
  }
  return MakeCompletion(EventType::kOk, op.value, std::nullopt, node);
}

}  // namespace

std::string Command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

int64_t Frame(std::string_view bytes, size_t count, std::vector<Reply>* out) {
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), redisReaderFree);
  if (!reader || redisReaderFeed(reader.get(), bytes.data(), bytes.size()) != REDIS_OK) return -1;
  for (size_t i = 0; i < count; ++i) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader.get(), &reply) != REDIS_OK) return -1;
    if (!reply) return 0;
    if (out) out->push_back(Convert(static_cast<redisReply*>(reply)));
    freeReplyObject(reply);
  }
  // What the reader has not consumed yet is at buf[pos, len).
  const size_t unread = reader->len - reader->pos;
  return static_cast<int64_t>(bytes.size() - unread);
}

Result<Request> BuildOp(const OpRequest& op, int wait_replicas, int wait_timeout_ms) {
  std::vector<std::string> cmd;
  if (op.key) {
    if (op.f == "read") {
      cmd = {"GET", *op.key};
    } else if (op.f == "write") {
      cmd = {"SET", *op.key, op.value.dump()};
    } else if (op.f == "cas") {
      if (!op.value.is_array() || op.value.size() != 2)
        return Error{"malformed cas (needs [from, to])"};
      cmd = {"EVAL", kCasScript, "1", *op.key, op.value[0].dump(), op.value[1].dump()};
    } else {
      return Error{"unknown op '" + op.f + "'"};
    }
  } else if (op.f == "append") {
    if (!op.value.is_string()) return Error{"append needs a string"};
    cmd = {"RPUSH", kLogKey, op.value.get<std::string>()};
  } else if (op.f == "read") {
    const int64_t from = op.value.is_object() ? op.value.value("from", int64_t{0}) : 0;
    cmd = {"EVAL_RO", kReadScript, "1", kLogKey, std::to_string(from)};
  } else {
    return Error{"unknown op '" + op.f + "'"};
  }
  Request r{Command(cmd), 1};
  if (wait_replicas > 0 && Mutating(op)) {
    r.bytes += Command({"WAIT", std::to_string(wait_replicas), std::to_string(wait_timeout_ms)});
    r.replies = 2;
  }
  return r;
}

Completion MapOutcome(const OpRequest& op, const HttpOutcome& out, const std::string& node,
                      int wait_replicas) {
  if (out.curl_code != 0) {
    const bool definite = !Mutating(op) || !out.request_sent;
    return MakeCompletion(definite ? EventType::kFail : EventType::kInfo, op.value,
                          TransportReason(out), node);
  }
  std::vector<Reply> replies;
  const size_t want = wait_replicas > 0 && Mutating(op) ? 2 : 1;
  if (Frame(out.body, want, &replies) <= 0 || replies.size() != want)
    return MakeCompletion(Mutating(op) ? EventType::kInfo : EventType::kFail, op.value,
                          "malformed reply: " + out.body.substr(0, 100), node);
  const Reply& r = replies[0];
  if (r.type == Reply::Type::kError) return MakeCompletion(EventType::kFail, op.value, r.str, node);
  Completion c = Succeeded(op, r, node);
  if (want == 2 && c.type == EventType::kOk) {
    const Reply& w = replies[1];
    if (w.type != Reply::Type::kInteger)
      return MakeCompletion(EventType::kInfo, op.value,
                            "WAIT: " + (w.str.empty() ? "malformed" : w.str), node);
    if (w.integer < wait_replicas)
      return MakeCompletion(EventType::kInfo, op.value,
                            "WAIT: " + std::to_string(w.integer) + " of " +
                                std::to_string(wait_replicas) + " replicas",
                            node);
  }
  return c;
}

Result<NodeStatus> ParseRole(const Reply& role, const std::string& self) {
  if (role.type != Reply::Type::kArray || role.elements.empty() ||
      role.elements[0].type != Reply::Type::kString)
    return Error{self + ": not a ROLE answer"};
  const std::vector<Reply>& e = role.elements;
  NodeStatus st;
  st.node = self;
  const std::string& kind = e[0].str;
  json raw = {{"role", kind}};
  if (kind == "master" && e.size() >= 3 && e[2].type == Reply::Type::kArray) {
    st.role = "leader";
    st.leader = self;
    st.hwm = e[1].integer;
    raw["replicas"] = e[2].elements.size();
  } else if (kind == "slave" && e.size() >= 5) {
    st.role = "follower";
    st.leader = e[1].str + ":" + std::to_string(e[2].integer);
    raw["master"] = *st.leader;
    raw["state"] = e[3].str;
  } else {
    return Error{self + ": unexpected ROLE answer (" + kind + ")"};
  }
  st.raw = raw;
  return st;
}

void FollowerVotes::Note(const NodeStatus& st) {
  if (st.role == "follower" && st.leader) {
    follows_[st.node] = *st.leader;
  } else {
    follows_.erase(st.node);
  }
}

void FollowerVotes::Forget(const std::string& node) { follows_.erase(node); }

int64_t FollowerVotes::For(const std::string& node) const {
  return std::count_if(follows_.begin(), follows_.end(),
                       [&](const auto& f) { return f.second == node; });
}

Result<std::pair<std::string, std::string>> HostPort(const std::string& base_url) {
  const std::string prefix = "http://";
  if (base_url.rfind(prefix, 0) != 0) return Error{"not an http:// node URL: " + base_url};
  std::string rest = base_url.substr(prefix.size());
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size())
    return Error{"node URL without a port: " + base_url};
  return std::make_pair(rest.substr(0, colon), rest.substr(colon + 1));
}

namespace {

// One blocking RESP exchange on a fresh connection, bounded by timeout_ms: for status probes,
// which change nothing.
Result<Reply> Exchange(const std::string& host, const std::string& port, const std::string& bytes,
                       int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &ai) != 0 || !ai)
    return Error{host + ":" + port + " does not resolve"};
  const int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
  const int connect_errno = errno;
  freeaddrinfo(ai);
  if (fd < 0) return Error{"socket failed"};
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  if (rc != 0 && connect_errno != EINPROGRESS) return Error{host + ":" + port + ": refused"};
  auto wait_for = [&](short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, events, 0};
    return left.count() > 0 && poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  size_t off = 0;
  while (off < bytes.size()) {
    if (!wait_for(POLLOUT)) return Error{host + ":" + port + ": timeout"};
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return Error{host + ":" + port + ": send failed"};
    off += static_cast<size_t>(n);
  }
  std::string in;
  std::vector<Reply> replies;
  while (true) {
    if (!wait_for(POLLIN)) return Error{host + ":" + port + ": timeout"};
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return Error{host + ":" + port + ": connection closed"};
    in.append(buf, static_cast<size_t>(n));
    const int64_t len = Frame(in, 1, &replies);
    if (len < 0) return Error{host + ":" + port + ": not a RESP reply"};
    if (len > 0) return replies[0];
  }
}

// redis as a state machine (stepped.h): one raw exchange per op, never re-sent.
class RedisStepped : public SteppedClient {
 public:
  RedisStepped(const ClientOptions& opts, bool wait)
      : timeout_ms_(opts.timeout_ms),
        connect_timeout_ms_(std::min(opts.connect_timeout_ms, opts.timeout_ms)),
        wait_replicas_(wait ? std::max<int>(1, static_cast<int>(opts.node_urls.size()) / 2) : 0),
        wait_timeout_ms_(std::max(1, opts.timeout_ms / 2)) {}

  Step Begin(const OpRequest& op, const std::string& node_name,
             const std::string& base_url) override {
    op_ = op;
    node_ = node_name;
    auto req = BuildOp(op, wait_replicas_, wait_timeout_ms_);
    auto hp = HostPort(base_url);
    if (!req.ok() || !hp.ok())
      return Done(MakeCompletion(
          EventType::kFail, op.value,
          "not sent: " + (req.ok() ? hp.error().message : req.error().message), node_name));
    HttpCall call;
    call.url = "tcp://" + hp->first + ":" + hp->second;
    call.body = std::move(req->bytes);
    call.timeout_ms = timeout_ms_;
    call.connect_timeout_ms = connect_timeout_ms_;
    const size_t replies = req->replies;
    call.reply_length = [replies](std::string_view bytes) {
      return Frame(bytes, replies, nullptr);
    };
    return Call(std::move(call));
  }

  Step Continue(HttpOutcome outcome) override {
    return Done(MapOutcome(op_, outcome, node_, wait_replicas_));
  }

 private:
  int timeout_ms_;
  int connect_timeout_ms_;
  int wait_replicas_;
  int wait_timeout_ms_;
  OpRequest op_;
  std::string node_;
};

class RedisStatusClient : public StatusClient {
 public:
  explicit RedisStatusClient(int timeout_ms) : timeout_ms_(timeout_ms) {}
  Result<NodeStatus> Status(const std::string& base_url) override {
    auto hp = HostPort(base_url);
    if (!hp.ok()) return hp.error();
    const std::string self = hp->first + ":" + hp->second;
    auto role = Exchange(hp->first, hp->second, Command({"ROLE"}), timeout_ms_);
    if (role.ok() && role->type == Reply::Type::kError)
      role = Error{base_url + ": ROLE: " + role->str};
    auto st = role.ok() ? ParseRole(*role, self) : Result<NodeStatus>(role.error());
    if (!st.ok()) {
      votes_.Forget(self);
      return st.error();
    }
    votes_.Note(*st);
    if (st->role == "leader") st->generation = votes_.For(self);
    return st;
  }

 private:
  int timeout_ms_;
  FollowerVotes votes_;
};

Adapter MakeAdapter(const std::string& name, bool wait) {
  Adapter a;
  a.name = name;
  a.new_client = [wait](const ClientOptions& opts) -> std::unique_ptr<SteppedClient> {
    return std::make_unique<RedisStepped>(opts, wait);
  };
  a.new_status_client = [](int timeout_ms) -> Result<std::unique_ptr<StatusClient>> {
    return std::unique_ptr<StatusClient>(std::make_unique<RedisStatusClient>(timeout_ms));
  };
  return a;
}

}  // namespace
}  // namespace tidemark::targets::redis

namespace tidemark::targets {

Adapter RedisAdapter() { return redis::MakeAdapter("redis", false); }
Adapter RedisWaitAdapter() { return redis::MakeAdapter("redis-wait", true); }

}  // namespace tidemark::targets
