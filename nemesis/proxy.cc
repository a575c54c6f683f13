// GCC 12 + Boost 1.74 Asio: <utility> must come before the Asio headers (docs/platform.md).
#include <utility>

#include "nemesis/proxy.h"

#include <array>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio.hpp>

namespace tidemark::nemesis {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct Link;

// One proxied connection. Lives on the io thread only.
struct Session : std::enable_shared_from_this<Session> {
  Session(asio::io_context& io, tcp::socket down_sock, Link* l)
      : down(std::move(down_sock)), up(io), link(l) {}
  tcp::socket down, up;
  Link* link;
  bool connecting = false, connected = false, closed = false;
  bool down_parked = false;  // from → to pump stopped by a cut
  bool down_eof = false, up_eof = false;
  std::array<char, 16384> dbuf{}, ubuf{};
  size_t held = 0;  // bytes in dbuf read from `down` but not yet written (cut meanwhile)

  void Begin();
  void Connect();
  void PumpDown();
  void WriteDown(size_t n);
  void PumpUp();
  void Resume();
  void Close(bool reset);
};

struct Link {
  int from = 0, to = 0;
  tcp::acceptor acceptor;
  tcp::endpoint upstream;
  bool cut = false;
  bool reset_mode = false;
  std::set<std::shared_ptr<Session>> sessions;
  explicit Link(asio::io_context& io) : acceptor(io) {}
};

void Session::Begin() {
  if (link->cut) {
    if (link->reset_mode) return Close(true);
    down_parked = true;  // held until the heal
    return;
  }
  Connect();
}

void Session::Connect() {
  connecting = true;
  auto self = shared_from_this();
  up.async_connect(link->upstream, [self](const error_code& ec) {
    self->connecting = false;
    if (self->closed) return;
    if (ec) return self->Close(false);
    self->connected = true;
    self->PumpUp();
    self->PumpDown();
  });
}

void Session::PumpDown() {
  if (closed || down_eof) return;
  if (link->cut) {
    down_parked = true;
    return;
  }
  auto self = shared_from_this();
  down.async_read_some(asio::buffer(dbuf), [self](const error_code& ec, size_t n) {
    if (self->closed) return;
    if (ec) {
      if (ec != asio::error::eof) return self->Close(false);
      self->down_eof = true;
      error_code ignore;
      self->up.shutdown(tcp::socket::shutdown_send, ignore);
      if (self->up_eof) self->Close(false);
      return;
    }
    if (self->link->cut) {  // cut while the read was pending: hold the bytes
      self->held = n;
      self->down_parked = true;
      return;
    }
    self->WriteDown(n);
  });
}

void Session::WriteDown(size_t n) {
  auto self = shared_from_this();
  asio::async_write(up, asio::buffer(dbuf.data(), n), [self](const error_code& ec, size_t) {
    if (self->closed) return;
    if (ec) return self->Close(false);
    self->PumpDown();
  });
}

void Session::PumpUp() {
  if (closed || up_eof) return;
  auto self = shared_from_this();
  up.async_read_some(asio::buffer(ubuf), [self](const error_code& ec, size_t n) {
    if (self->closed) return;
    if (ec) {
      if (ec != asio::error::eof) return self->Close(false);
      self->up_eof = true;
      error_code ignore;
      self->down.shutdown(tcp::socket::shutdown_send, ignore);
      if (self->down_eof) self->Close(false);
      return;
    }
    asio::async_write(self->down, asio::buffer(self->ubuf.data(), n),
                      [self](const error_code& ec2, size_t) {
                        if (self->closed) return;
                        if (ec2) return self->Close(false);
                        self->PumpUp();
                      });
  });
}

void Session::Resume() {
  if (closed || !down_parked) return;
  down_parked = false;
  if (!connected) {
    if (!connecting) Connect();
    return;
  }
  if (held > 0) {
    size_t n = held;
    held = 0;
    WriteDown(n);
  } else {
    PumpDown();
  }
}

void Session::Close(bool reset) {
  if (closed) return;
  closed = true;
  error_code ignore;
  if (reset) {
    down.set_option(asio::socket_base::linger(true, 0), ignore);
    up.set_option(asio::socket_base::linger(true, 0), ignore);
  }
  down.close(ignore);
  up.close(ignore);
  link->sessions.erase(shared_from_this());
}

class ProxyBackend : public NetBackend {
 public:
  explicit ProxyBackend(const NetOptions& o) : opts_(o) {}
  ~ProxyBackend() override { Teardown(); }

  std::string Name() const override { return "proxy"; }

  Status Prepare(const NetCluster& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return Error{"proxy: Prepare called twice"};
    cluster_ = cluster;
    const int n = static_cast<int>(cluster.nodes.size());
    ports_.assign(static_cast<size_t>(n), std::vector<int>(static_cast<size_t>(n), 0));
    for (int from = 0; from < n; ++from) {
      for (int to = 0; to < n; ++to) {
        if (from == to) continue;
        const auto& dst = cluster.nodes[static_cast<size_t>(to)];
        auto pit = dst.ports.find(cluster.peer_port);
        if (pit == dst.ports.end())
          return Fail("node " + dst.name + " has no port named '" + cluster.peer_port + "'");
        error_code ec;
        auto addr = asio::ip::make_address(dst.host, ec);
        if (ec) return Fail("node " + dst.name + ": host '" + dst.host + "' is not an IP address");
        auto link = std::make_unique<Link>(io_);
        link->from = from;
        link->to = to;
        link->reset_mode = opts_.proxy_reset;
        link->upstream = tcp::endpoint(addr, static_cast<uint16_t>(pit->second));
        tcp::endpoint listen(asio::ip::make_address("127.0.0.1"), 0);
        link->acceptor.open(listen.protocol(), ec);
        if (!ec) link->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) link->acceptor.bind(listen, ec);
        if (!ec) link->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return Fail("proxy listener for " + Label(from, to) + ": " + ec.message());
        ports_[static_cast<size_t>(from)][static_cast<size_t>(to)] =
            link->acceptor.local_endpoint().port();
        Accept(link.get());
        links_.push_back(std::move(link));
      }
    }
    work_.emplace(asio::make_work_guard(io_));
    thread_ = std::thread([this] { io_.run(); });
    return OkStatus();
  }

  std::function<targets::NodeAddress(int, int)> PeerAddress() const override {
    return [this](int from, int to) {
      targets::NodeAddress a = cluster_.nodes[static_cast<size_t>(to)];
      if (from == to) return a;
      a.host = "127.0.0.1";
      a.ports[cluster_.peer_port] = ports_[static_cast<size_t>(from)][static_cast<size_t>(to)];
      return a;
    };
  }

  Status Apply(const Grudge& g) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return Error{"proxy: Apply before Prepare (or after Teardown)"};
    std::promise<void> done;
    asio::post(io_, [&] {
      for (auto& l : links_) {
        bool cut = Cut(g, l->from, l->to);
        if (cut == l->cut) continue;
        l->cut = cut;
        // Copy: Close/Resume may erase from the set.
        auto sessions = l->sessions;
        for (const auto& s : sessions) {
          if (cut && l->reset_mode) s->Close(true);
          if (!cut) s->Resume();
        }
      }
      done.set_value();
    });
    done.get_future().wait();
    return OkStatus();
  }

  Status Heal() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return OkStatus();
    }
    return Apply({});
  }

  void Teardown() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) {
      std::promise<void> done;
      asio::post(io_, [&] {
        for (auto& l : links_) {
          error_code ignore;
          l->acceptor.close(ignore);
          auto sessions = l->sessions;
          for (const auto& s : sessions) s->Close(false);
        }
        done.set_value();
      });
      done.get_future().wait();
      work_.reset();
      io_.stop();
      thread_.join();
    }
    links_.clear();
  }

  nlohmann::json Describe() const override {
    nlohmann::json links = nlohmann::json::array();
    for (size_t f = 0; f < ports_.size(); ++f)
      for (size_t t = 0; t < ports_[f].size(); ++t)
        if (f != t)
          links.push_back({{"from", cluster_.nodes[f].name},
                           {"to", cluster_.nodes[t].name},
                           {"listen", "127.0.0.1:" + std::to_string(ports_[f][t])}});
    return {{"backend", "proxy"},
            {"mode", opts_.proxy_reset ? "reset" : "blackhole"},
            {"links", links}};
  }

 private:
  std::string Label(int from, int to) const {
    return cluster_.nodes[static_cast<size_t>(from)].name + "->" +
           cluster_.nodes[static_cast<size_t>(to)].name;
  }
  // With mu_ held, before the io thread runs.
  Status Fail(const std::string& msg) {
    links_.clear();
    return Error{"proxy: " + msg};
  }

  void Accept(Link* l) {
    l->acceptor.async_accept([this, l](const error_code& ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
      if (!ec) {
        error_code ignore;
        sock.set_option(tcp::no_delay(true), ignore);
        auto s = std::make_shared<Session>(io_, std::move(sock), l);
        l->sessions.insert(s);
        s->Begin();
      }
      Accept(l);
    });
  }

  NetOptions opts_;
  std::mutex mu_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  NetCluster cluster_;
  std::vector<std::vector<int>> ports_;
  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace

std::unique_ptr<NetBackend> MakeProxyBackend(const NetOptions& opts) {
  return std::make_unique<ProxyBackend>(opts);
}

}  // namespace tidemark::nemesis
