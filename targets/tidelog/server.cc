#include <utility>  // before Asio: Boost 1.74 Asio with GCC 12 in C++20 mode needs it

#include "server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <iostream>

#include "codec.h"

namespace tidemark::tidelog {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

namespace {

constexpr size_t kMaxBody = 1 << 20;
constexpr uint64_t kMaxPeerBody = uint64_t{512} << 20;
// Raw payload bytes per peer POST; JSON escaping can inflate them, hence the margin above.
constexpr size_t kMaxPeerBatchBytes = 16 << 20;
constexpr auto kPeerIo = std::chrono::milliseconds(1000);
constexpr auto kClientIdle = std::chrono::seconds(300);

// One accepted connection: reads a request, lets the Node answer (possibly later), writes the
// response, and reads the next one while the connection is kept alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, Node* node) : stream_(std::move(s)), node_(node) {}
  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    // Beast 1.74 checks a Content-Length against the limit when the header completes, and
    // chunked bodies as they arrive: allow the peer size for the header, then narrow it.
    parser_->body_limit(kMaxPeerBody);
    stream_.expires_after(kClientIdle);
    http::async_read_header(
        stream_, buf_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->OnRead(ec);
          if (!self->parser_->get().target().starts_with("/raft/")) {
            auto len = self->parser_->content_length();
            if (len && *len > kMaxBody) return self->OnRead(http::error::body_limit);
            self->parser_->body_limit(kMaxBody);
          }
          http::async_read(self->stream_, self->buf_, *self->parser_,
                           [self](beast::error_code ec2, size_t) { self->OnRead(ec2); });
        });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      Write(413, node_->ErrorBody("payload_too_large", true, "body over 1 MiB"));
      return;
    }
    if (ec) return;  // closed, timed out or unparseable HTTP: drop the connection
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    std::string path(req.target());
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    if (req.method() != http::verb::post) {
      Write(405, node_->ErrorBody("method_not_allowed", true, "every call is POST"));
      return;
    }
    if (path == "/raft/msgs") {
      bool ok = node_->OnPeerBody(req.body(), NowMs());
      Write(ok ? 200 : 400, ok ? json::object() : json{{"error", "malformed peer message"}});
      return;
    }
    // The reply may come later (after a commit); the session stays alive through `self`.
    // An exception is a bug in tidelog, never a reason to die: answer 500 (not definite).
    try {
      node_->OnClient(
          path, req.body(),
          [self = shared_from_this()](int status, const json& body) { self->Write(status, body); },
          NowMs());
    } catch (const std::exception& e) {
      std::cerr << "tidelog: internal error on " << path << ": " << e.what() << "\n";
      Write(500, node_->ErrorBody("internal", false, e.what()));
    }
  }

  void Write(int status, const json& body) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(static_cast<unsigned>(status));
    res->version(11);
    res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive_);
    res->body() = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    res->prepare_payload();
    stream_.expires_after(kClientIdle);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !self->keep_alive_) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->Read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Node* node_;
  bool keep_alive_ = true;
};

// The outgoing link to one peer (see the header comment).
class PeerLink {
 public:
  PeerLink(asio::io_context& ioc, std::string self_id, std::string host, uint16_t port)
      : ioc_(ioc),
        self_id_(std::move(self_id)),
        stream_(ioc),
        retry_(ioc),
        endpoint_(asio::ip::make_address(host), port),
        host_(host + ":" + std::to_string(port)) {}

  void Send(const Message& m) {
    // A peer that is gone must not make us hoard messages; old ones are the least useful.
    if (outbox_.size() >= 4096) outbox_.pop_front();
    outbox_.push_back(m);
    if (!busy_) Pump();
  }

 private:
  void Pump() {
    if (outbox_.empty()) {
      busy_ = false;
      return;
    }
    busy_ = true;
    json msgs = json::array();
    size_t bytes = 0;
    while (!outbox_.empty() && msgs.size() < 256 && (msgs.empty() || bytes < kMaxPeerBatchBytes)) {
      for (const Entry& e : outbox_.front().entries) bytes += e.payload.size() + 64;
      msgs.push_back(MessageToJson(outbox_.front()));
      outbox_.pop_front();
    }
    req_ = {};
    req_.method(http::verb::post);
    req_.target("/raft/msgs");
    req_.version(11);
    req_.set(http::field::host, host_);
    req_.set(http::field::content_type, "application/json");
    req_.keep_alive(true);
    req_.body() = json{{"from", self_id_}, {"msgs", std::move(msgs)}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
    req_.prepare_payload();
    if (!connected_) {
      stream_.expires_after(kPeerIo);
      stream_.async_connect(endpoint_, [this](beast::error_code ec) {
        if (ec) return Fail();
        connected_ = true;
        SendRequest();
      });
    } else {
      SendRequest();
    }
  }

  void SendRequest() {
    stream_.expires_after(kPeerIo);
    http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
      if (ec) return Fail();
      res_ = {};
      http::async_read(stream_, buf_, res_, [this](beast::error_code ec2, size_t) {
        if (!ec2 && res_.result() != http::status::ok)
          std::cerr << "tidelog: peer " << host_ << " refused a batch: " << res_.body() << "\n";
        if (ec2 || !res_.keep_alive()) return Fail();
        Pump();
      });
    });
  }

  void Fail() {
    // Drop the batch and what queued meanwhile (stale by the time we reconnect); back off.
    beast::error_code ignored;
    // Only one operation is ever outstanding and it has completed, so closing is enough;
    // async_connect reopens the socket.
    stream_.socket().close(ignored);
    buf_.clear();
    connected_ = false;
    outbox_.clear();
    retry_.expires_after(std::chrono::milliseconds(50));
    retry_.async_wait([this](beast::error_code) { Pump(); });
  }

  asio::io_context& ioc_;
  std::string self_id_;
  beast::tcp_stream stream_;
  asio::steady_timer retry_;
  tcp::endpoint endpoint_;
  std::string host_;
  std::deque<Message> outbox_;
  bool busy_ = false, connected_ = false;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buf_;
};

void Accept(tcp::acceptor& acc, Node* node) {
  acc.async_accept([&acc, node](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(s), node)->Start();
    }
    if (acc.is_open()) Accept(acc, node);
  });
}

void TickLoop(asio::steady_timer& t, Node* node) {
  t.expires_after(std::chrono::milliseconds(10));
  t.async_wait([&t, node](beast::error_code ec) {
    if (ec) return;
    node->OnTick(NowMs());
    TickLoop(t, node);
  });
}

void FlushLoop(asio::steady_timer& t, Node* node, uint64_t ms) {
  t.expires_after(std::chrono::milliseconds(ms));
  t.async_wait([&t, node, ms](beast::error_code ec) {
    if (ec) return;
    node->FlushLazy();
    FlushLoop(t, node, ms);
  });
}

}  // namespace

int RunServer(const ServerOptions& opts, Consensus core, std::unique_ptr<Wal> wal,
              uint64_t commit_timeout_ms) {
  asio::io_context ioc(1);
  std::map<std::string, std::unique_ptr<PeerLink>> links;
  std::string self = core.id();
  for (const auto& [id, addr] : opts.peers) {
    beast::error_code ec;
    asio::ip::make_address(addr.first, ec);
    if (ec) {
      std::cerr << "tidelog: peer " << id << ": bad address " << addr.first << "\n";
      return 2;
    }
    links[id] = std::make_unique<PeerLink>(ioc, self, addr.first, addr.second);
  }
  bool lazy = wal->lazy();
  std::unique_ptr<Node> node;
  node = std::make_unique<Node>(
      std::move(core), std::move(wal),
      [&links](const Message& m) {
        auto it = links.find(m.to);
        if (it != links.end()) it->second->Send(m);
      },
      [&ioc, &node]() { asio::post(ioc, [&node]() { node->Process(NowMs()); }); },
      commit_timeout_ms);

  beast::error_code ec;
  auto addr = asio::ip::make_address(opts.listen_host, ec);
  if (ec) {
    std::cerr << "tidelog: bad listen address " << opts.listen_host << "\n";
    return 2;
  }
  tcp::acceptor acc(ioc);
  tcp::endpoint ep(addr, opts.listen_port);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "tidelog: cannot listen on " << opts.listen_host << ":" << opts.listen_port << ": "
              << ec.message() << "\n";
    return 2;
  }
  std::cerr << "tidelog " << self << ": listening on " << opts.listen_host << ":"
            << opts.listen_port << "\n";
  Accept(acc, node.get());
  asio::steady_timer tick(ioc), flush(ioc);
  TickLoop(tick, node.get());
  if (lazy) FlushLoop(flush, node.get(), opts.lazy_flush_ms);
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&ioc, &self](beast::error_code, int sig) {
    std::cerr << "tidelog " << self << ": signal " << sig << ", exiting\n";
    ioc.stop();
  });
  ioc.run();
  return 0;
}

}  // namespace tidemark::tidelog
