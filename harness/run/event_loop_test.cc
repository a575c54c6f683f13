// EventLoop against scripted loopback HTTP servers (POSIX sockets, a thread per connection),
// with real tidelog-http SteppedClients: many slots at once over kept-alive connections, and
// above all the transport contract of raw_http.h — a request is never put on the wire twice,
// request_sent is false only when nothing can have arrived, every ambiguous failure of a
// mutating op is `info` — plus the Dispatcher contract (dispatcher.h): nothing is sent before
// WaitCompletions, `until` is honoured, Stop() abandons what is in flight and leaks nothing.
#include "harness/run/event_loop.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "targets/adapters/client.h"
#include "targets/adapters/redis.h"
#include "targets/adapters/registry.h"
#include "targets/adapters/stepped.h"

namespace tidemark::history {
// gtest prints an EventType by its name.
void PrintTo(EventType t, std::ostream* os) { *os << ToString(t); }
}  // namespace tidemark::history

namespace tidemark::run {
namespace {

using history::EventType;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One accepted connection, seen from the server: reads requests, writes replies.
class Peer {
 public:
  Peer(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}
  // Reads one whole request (headers and Content-Length body) and returns its body; nullopt at
  // EOF or when the server stops.
  std::optional<std::string> ReadRequest() {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return std::nullopt;
    const size_t cl = pending_.find("Content-Length: ");
    const size_t length = cl < end ? std::stoul(pending_.substr(cl + 16)) : 0;
    while (pending_.size() < end + 4 + length)
      if (!Fill()) return std::nullopt;
    std::string body = pending_.substr(end + 4, length);
    pending_.erase(0, end + 4 + length);
    return body;
  }
  // Waits until the client closes the connection (or the server stops).
  void WaitForClose() {
    while (Fill()) pending_.clear();
  }
  void Send(const std::string& s) const {
    for (size_t off = 0; off < s.size();) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  int fd() const { return fd_; }

 private:
  bool Fill() {
    char buf[65536];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      pending_.append(buf, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  int fd_;
  const std::atomic<bool>& stop_;
  std::string pending_;
};

// A loopback server that serves every connection on its own thread with `serve(server, peer,
// n)` (n counts connections from 0); the connection is closed when serve returns.
class FakeServer {
 public:
  using Serve = std::function<void(FakeServer&, Peer&, int n)>;
  explicit FakeServer(Serve serve) : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 64), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      for (int n = 0; !stop_;) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        ++connections_;
        ++open_;
        std::lock_guard<std::mutex> lock(mu_);
        handlers_.emplace_back([this, c, i = n++] {
          Peer peer(c, stop_);
          serve_(*this, peer, i);
          close(c);
          --open_;
        });
      }
    });
  }
  ~FakeServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : handlers_) t.join();
    close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  int open() const { return open_; }
  bool stopping() const { return stop_; }

  // Reads a request on `peer` and records it; nullopt at EOF.
  std::optional<json> Read(Peer& peer) {
    auto body = peer.ReadRequest();
    if (!body) return std::nullopt;
    json j = json::parse(*body, nullptr, false);
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(j);
    return j;
  }
  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(requests_.size());
  }
  std::vector<json> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Serve serve_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> open_{0};
  mutable std::mutex mu_;
  std::vector<json> requests_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

std::string Reply(int status, const std::string& body, const std::string& extra = "") {
  const char* reason = status == 200 ? "OK" : "Error";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// What tidelog answers to an append of `req`, at `offset`.
std::string AppendOk(const json& req, int64_t offset = 0) {
  return Reply(
      200, json{{"value", req.value("value", "")}, {"offset", offset}, {"hwm", offset + 1}}.dump());
}

// Answers every request on the connection as tidelog would with an empty log: appends succeed
// (at offset 0), log reads return no entries.
void ServeAppends(FakeServer& s, Peer& p, int) {
  while (auto req = s.Read(p)) {
    if (req->contains("value")) {
      p.Send(AppendOk(*req));
    } else {
      p.Send(Reply(200, R"({"from":0,"to":0,"hwm":0,"consistency":"linearizable","entries":[]})"));
    }
  }
}

workloads::OpRequest Append(const std::string& v) {
  workloads::OpRequest op;
  op.f = "append";
  op.value = v;
  return op;
}

workloads::OpRequest LogRead() {
  workloads::OpRequest op;
  op.f = "read";
  op.value = json{{"from", 0}, {"consistency", "linearizable"}};
  return op;
}

Job MakeJob(workloads::OpRequest op, const std::string& url, const std::string& node = "n1") {
  Job j;
  j.op = std::move(op);
  j.node_name = node;
  j.url = url;
  return j;
}

// An EventLoop of `slots` tidelog-http clients ("test-w<slot>") with ClientOptions::timeout_ms.
std::unique_ptr<EventLoop> NewLoop(int slots, int timeout_ms = 5000,
                                   const std::map<std::string, std::string>& node_urls = {},
                                   EventLoop::Options options = {}) {
  auto loop = EventLoop::Create(
      slots,
      [&](int slot) -> std::unique_ptr<targets::SteppedClient> {
        targets::ClientOptions o;
        o.client_id = "test-w" + std::to_string(slot);
        o.timeout_ms = timeout_ms;
        o.node_urls = node_urls;
        auto c = targets::MakeSteppedClient("tidelog-http", o);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? std::move(c).value() : nullptr;
      },
      options);
  EXPECT_TRUE(loop.ok()) << loop.error().message;
  return loop.ok() ? std::move(loop).value() : nullptr;
}

// Waits for `want` completions (at most `limit`); fewer when time runs out.
std::vector<Done> WaitFor(EventLoop& loop, size_t want, milliseconds limit = milliseconds(5000)) {
  std::vector<Done> out;
  const auto until = Clock::now() + limit;
  while (out.size() < want && Clock::now() < until) {
    for (Done& d : loop.WaitCompletions(until)) out.push_back(std::move(d));
  }
  return out;
}

// Runs one op on `slot` to its completion.
targets::Completion RunOne(EventLoop& loop, Job job, int slot = 0) {
  loop.Dispatch(slot, std::move(job));
  auto done = WaitFor(loop, 1);
  EXPECT_EQ(done.size(), 1u);
  if (done.empty()) return {};
  EXPECT_EQ(done[0].slot, slot);
  return std::move(done[0].completion);
}

// Polls `cond` every 2 ms for up to 5 s.
bool Eventually(const std::function<bool()>& cond) {
  const auto until = Clock::now() + milliseconds(5000);
  while (!cond()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

int CountFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

TEST(EventLoopTest, ManySlotsInFlightAtOnceReuseTheirConnections) {
  constexpr int kSlots = 16;
  constexpr int kRounds = 8;
  // The first request of every connection waits until all 16 have arrived: they can only
  // complete if the loop had every slot's request on the wire at once.
  std::atomic<int> first_requests{0};
  std::atomic<bool> barrier_timed_out{false};
  FakeServer server([&](FakeServer& s, Peer& p, int) {
    int64_t offset = 0;
    for (bool first = true; auto req = s.Read(p); first = false) {
      if (first) {
        ++first_requests;
        if (!Eventually([&] { return first_requests == kSlots || s.stopping(); }))
          barrier_timed_out = true;
      }
      p.Send(AppendOk(*req, offset++));
    }
  });
  auto loop = NewLoop(kSlots);
  ASSERT_TRUE(loop);
  int completed = 0;
  std::vector<int> round(kSlots, 0);
  auto value = [](int slot, int r) {
    return "v" + std::to_string(slot) + "-" + std::to_string(r + 1);
  };
  for (int slot = 0; slot < kSlots; ++slot)
    loop->Dispatch(slot, MakeJob(Append(value(slot, 0)), server.url()));
  EXPECT_EQ(loop->outstanding(), kSlots);
  const auto until = Clock::now() + milliseconds(8000);
  while (completed < kSlots * kRounds && Clock::now() < until) {
    for (Done& d : loop->WaitCompletions(until)) {
      ++completed;
      const int r = round[static_cast<size_t>(d.slot)];
      ASSERT_EQ(d.completion.type, EventType::kOk) << d.completion.error.value_or("");
      EXPECT_EQ(d.completion.value["value"], value(d.slot, r));
      EXPECT_EQ(d.completion.value["offset"], r) << "slot " << d.slot;
      EXPECT_EQ(d.completion.node, "n1");
      EXPECT_EQ(d.job.op.value, value(d.slot, r));
      if (++round[static_cast<size_t>(d.slot)] < kRounds)
        loop->Dispatch(d.slot, MakeJob(Append(value(d.slot, r + 1)), server.url()));
    }
  }
  EXPECT_EQ(completed, kSlots * kRounds);
  EXPECT_EQ(loop->outstanding(), 0);
  EXPECT_FALSE(barrier_timed_out) << "the 16 first requests were not all in flight at once";
  EXPECT_EQ(loop->connections_opened(), kSlots);
  EXPECT_EQ(server.connections(), kSlots);
  EXPECT_EQ(server.requests(), kSlots * kRounds);
}

TEST(EventLoopTest, ConnectionRefusedFailsAndIsNeverSent) {
  // A bound socket that does not listen: the port is ours, and a connect to it is refused.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto loop = NewLoop(2);
  ASSERT_TRUE(loop);
  loop->Dispatch(0, MakeJob(Append("v0-1"), url));
  loop->Dispatch(1, MakeJob(LogRead(), url));
  auto done = WaitFor(*loop, 2);
  ASSERT_EQ(done.size(), 2u);
  for (const Done& d : done) {
    EXPECT_EQ(d.completion.type, EventType::kFail) << d.slot;
    EXPECT_EQ(d.completion.error, "connection refused") << d.slot;
  }
  EXPECT_EQ(loop->outstanding(), 0);
  close(fd);
}

TEST(EventLoopTest, AnUnusableUrlFailsAsNotSent) {
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  targets::Completion got = RunOne(*loop, MakeJob(Append("v0-1"), "https://127.0.0.1:1"));
  EXPECT_EQ(got.type, EventType::kFail);
  EXPECT_NE(got.error.value_or("").find("(not sent)"), std::string::npos) << *got.error;
  EXPECT_EQ(loop->connections_opened(), 0);
}

TEST(EventLoopTest, ConnectTimeoutFailsAsNotSent) {
  // A listener whose accept queue is full (backlog 0, never accepting) drops further SYNs, so a
  // connect neither succeeds nor fails: the connect deadline must end it as not sent.
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lfd, 0), 0);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<int> fillers;
  bool full = false;
  for (int i = 0; i < 8 && !full; ++i) {
    const int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    fillers.push_back(c);
    if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) continue;
    pollfd p{c, POLLOUT, 0};
    full = errno == EINPROGRESS && poll(&p, 1, 100) == 0;
  }
  if (!full) {
    for (int c : fillers) close(c);
    close(lfd);
    // Needs a kernel that drops SYNs to a full accept queue (Linux does unless tuned otherwise);
    // without one no connect can be made to hang, and the connect deadline goes untested.
    GTEST_SKIP() << "8 connects to a listener with backlog 0 all completed or failed at once: "
                    "this kernel does not drop SYNs to a full accept queue, so a connect that "
                    "neither succeeds nor fails cannot be provoked here";
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto loop = NewLoop(1, 300);
  ASSERT_TRUE(loop);
  const auto start = Clock::now();
  targets::Completion got = RunOne(*loop, MakeJob(Append("v0-1"), url));
  EXPECT_EQ(got.type, EventType::kFail);
  EXPECT_EQ(got.error, "connect timeout (not sent)");
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  for (int c : fillers) close(c);
  close(lfd);
}

TEST(EventLoopTest, NoAnswerTimesOutAsInfoForAppendFailForReadAndIsNeverResent) {
  FakeServer server([](FakeServer& s, Peer& p, int) {
    while (s.Read(p)) {
    }
  });
  auto loop = NewLoop(2, 300);
  ASSERT_TRUE(loop);
  const auto start = Clock::now();
  loop->Dispatch(0, MakeJob(Append("v0-1"), server.url()));
  loop->Dispatch(1, MakeJob(LogRead(), server.url()));
  auto done = WaitFor(*loop, 2);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_GE(Clock::now() - start, milliseconds(290));
  EXPECT_LT(Clock::now() - start, milliseconds(3000)) << "the timeout did not fire in time";
  for (const Done& d : done) {
    if (d.slot == 0) {
      EXPECT_EQ(d.completion.type, EventType::kInfo);
      EXPECT_EQ(d.completion.error, "timeout");
    } else {
      EXPECT_EQ(d.completion.type, EventType::kFail);
      EXPECT_EQ(d.completion.error, "timeout");
    }
  }
  std::this_thread::sleep_for(milliseconds(300));  // room for a (wrong) re-send
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(loop->outstanding(), 0);
}

TEST(EventLoopTest, CloseAfterReadingIsInfoAndNeverResent) {
  FakeServer server([](FakeServer& s, Peer& p, int) { (void)s.Read(p); });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  targets::Completion got = RunOne(*loop, MakeJob(Append("v0-1"), server.url()));
  EXPECT_EQ(got.type, EventType::kInfo);
  EXPECT_EQ(got.error, "empty reply");
  std::this_thread::sleep_for(milliseconds(200));  // room for a (wrong) re-send
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(EventLoopTest, CloseOnAReusedConnectionAfterReadingIsInfoAndNeverResent) {
  // The libcurl hazard (targets/adapters/curl_post.h) on a connection that passed the reuse check.
  FakeServer server([](FakeServer& s, Peer& p, int n) {
    if (n > 0) return;  // a second connection would be a re-send
    if (auto req = s.Read(p)) p.Send(AppendOk(*req));
    (void)s.Read(p);
  });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  ASSERT_EQ(RunOne(*loop, MakeJob(Append("v0-1"), server.url())).type, EventType::kOk);
  targets::Completion got = RunOne(*loop, MakeJob(Append("v0-2"), server.url()));
  EXPECT_EQ(got.type, EventType::kInfo);
  EXPECT_EQ(got.error, "empty reply");
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.connections(), 1) << "a request was re-sent on a new connection";
}

// The server answers one request per connection and closes it (without saying so): the idle
// connection must not carry the next op, which then succeeds on a new connection.
void IdleConnectionClosedByServerIsReplaced(EventLoop::Options options) {
  FakeServer server([](FakeServer& s, Peer& p, int) {
    if (auto req = s.Read(p)) p.Send(AppendOk(*req));
  });
  auto loop = NewLoop(1, 5000, {}, options);
  ASSERT_TRUE(loop);
  for (int i = 0; i < 3; ++i) {
    targets::Completion got =
        RunOne(*loop, MakeJob(Append("v0-" + std::to_string(i + 1)), server.url()));
    EXPECT_EQ(got.type, EventType::kOk) << i << ": " << got.error.value_or("");
    // The server has closed the connection (its FIN is on its way on loopback: give it a
    // moment) before the next op looks at the connection.
    ASSERT_TRUE(Eventually([&] { return server.open() == 0; }));
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(loop->connections_opened(), 3);
}

TEST(EventLoopTest, AnIdleConnectionTheServerClosedIsReplacedBeforeSending) {
  IdleConnectionClosedByServerIsReplaced(EventLoop::Options{});
}

TEST(EventLoopTest, AnIdleConnectionNotYetCoveredByEpollIsPeekedAtHoweverYoung) {
  // With no time-based peek at all, only the rule "epoll has looked since its last reply" can
  // keep the closed connection out of use: no epoll wait ran between the two ops.
  EventLoop::Options options;
  options.peek_after_ms = 60'000;
  IdleConnectionClosedByServerIsReplaced(options);
}

TEST(EventLoopTest, AnEofReportedInTheSameBatchIsSeenBeforeTheConnectionIsReused) {
  // Slot 0 holds idle connections to n1 and n2. The next op goes to n2, which answers
  // not_leader (leader n1); in the same epoll batch, after that reply, comes the EOF of the
  // idle connection to n1 (n1 closed it). The hop must not go out on that dead connection.
  std::atomic<int> n1_phase{0};  // 1: answered the first op; 2: told to close; 3: closed
  FakeServer n1([&](FakeServer& s, Peer& p, int n) {
    if (n == 0) {
      if (auto req = s.Read(p)) p.Send(AppendOk(*req));
      n1_phase = 1;
      Eventually([&] { return n1_phase == 2 || s.stopping(); });
      n1_phase = 3;
      return;
    }
    ServeAppends(s, p, n);
  });
  std::atomic<bool> n2_replied{false};
  FakeServer n2([&](FakeServer& s, Peer& p, int) {
    for (int i = 0; auto req = s.Read(p); ++i) {
      if (i == 0) {
        p.Send(AppendOk(*req));
        continue;
      }
      p.Send(Reply(409, R"({"error":{"code":"not_leader","definite":true,"leader":"n1"}})"));
      n2_replied = true;
    }
  });
  EventLoop::Options options;
  options.peek_after_ms = 60'000;
  auto loop = NewLoop(1, 5000, {{"n1", n1.url()}, {"n2", n2.url()}}, options);
  ASSERT_TRUE(loop);
  ASSERT_EQ(RunOne(*loop, MakeJob(Append("v0-1"), n1.url(), "n1")).type, EventType::kOk);
  ASSERT_EQ(RunOne(*loop, MakeJob(Append("v0-2"), n2.url(), "n2")).type, EventType::kOk);
  // Send the next op without waiting (until is already past), let both events happen, then
  // collect: the reply from n2 is ahead of n1's EOF in epoll's ready list.
  loop->Dispatch(0, MakeJob(Append("v0-3"), n2.url(), "n2"));
  EXPECT_TRUE(loop->WaitCompletions(Clock::now() - milliseconds(1)).empty());
  ASSERT_TRUE(Eventually([&] { return n2_replied.load(); }));
  n1_phase = 2;
  ASSERT_TRUE(Eventually([&] { return n1_phase == 3 && n1.open() == 0; }));
  std::this_thread::sleep_for(milliseconds(20));
  auto done = WaitFor(*loop, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].completion.type, EventType::kOk) << done[0].completion.error.value_or("");
  EXPECT_EQ(done[0].completion.node, "n1");
  EXPECT_EQ(n1.connections(), 2);
  EXPECT_EQ(n1.requests(), 2);
}

TEST(EventLoopTest, RepliesInSmallDelayedPiecesParse) {
  // Content-Length reply cut into pieces, header and body apart; then a chunked one.
  FakeServer server([](FakeServer& s, Peer& p, int) {
    for (int i = 0; auto req = s.Read(p); ++i) {
      const std::string body =
          json{{"value", req->value("value", "")}, {"offset", i}, {"hwm", i + 1}}.dump();
      std::vector<std::string> pieces;
      if (i == 0) {
        const std::string head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n";
        pieces = {head.substr(0, 5), head.substr(5, 12), head.substr(17), body.substr(0, 3),
                  body.substr(3)};
      } else {
        pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n",
                  "Content-Type: application/json\r\n\r\n"};
        for (size_t off = 0; off < body.size(); off += 7) {
          const std::string part = body.substr(off, 7);
          char size[16];
          snprintf(size, sizeof size, "%zx\r\n", part.size());
          pieces.push_back(size);
          pieces.push_back(part + "\r\n");
        }
        pieces.push_back("0\r\n");
        pieces.push_back("\r\n");
      }
      for (const std::string& piece : pieces) {
        p.Send(piece);
        std::this_thread::sleep_for(milliseconds(5));
      }
    }
  });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  for (int i = 0; i < 2; ++i) {
    const std::string v = "v0-" + std::to_string(i + 1);
    targets::Completion got = RunOne(*loop, MakeJob(Append(v), server.url()));
    ASSERT_EQ(got.type, EventType::kOk) << i << ": " << got.error.value_or("");
    EXPECT_EQ(got.value, (json{{"value", v}, {"offset", i}, {"hwm", i + 1}}));
  }
  EXPECT_EQ(loop->connections_opened(), 1);
}

TEST(EventLoopTest, ALargeRequestIsSentWholeOnceAcrossPartialSends) {
  // 8 MiB does not fit the socket buffers: the loop must wait for EPOLLOUT and carry on.
  const std::string big(8u << 20, 'x');
  FakeServer server([](FakeServer& s, Peer& p, int) {
    std::this_thread::sleep_for(milliseconds(100));  // let the client's buffers fill up
    ServeAppends(s, p, 0);
  });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  targets::Completion got = RunOne(*loop, MakeJob(Append(big), server.url()));
  ASSERT_EQ(got.type, EventType::kOk) << got.error.value_or("");
  EXPECT_EQ(got.value["value"], big);
  auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["value"], big);
  // And the connection carries the next op: EPOLLOUT interest is gone (no busy loop).
  const double cpu = ThreadCpuMs();
  EXPECT_TRUE(loop->WaitCompletions(Clock::now() + milliseconds(200)).empty());
  EXPECT_LT(ThreadCpuMs() - cpu, 100.0) << "WaitCompletions spun instead of sleeping";
  EXPECT_EQ(RunOne(*loop, MakeJob(Append("v0-2"), server.url())).type, EventType::kOk);
  EXPECT_EQ(loop->connections_opened(), 1);
}

TEST(EventLoopTest, DefiniteNotLeaderHopsToTheLeaderWithTheSameSeq) {
  FakeServer n1([](FakeServer& s, Peer& p, int) {
    while (s.Read(p))
      p.Send(Reply(409, R"({"error":{"code":"not_leader","definite":true,"leader":"n2",)"
                        R"("text":"n1 is not the leader"}})"));
  });
  FakeServer n2(ServeAppends);
  auto loop = NewLoop(1, 5000, {{"n1", n1.url()}, {"n2", n2.url()}});
  ASSERT_TRUE(loop);
  for (int i = 1; i <= 2; ++i) {
    const std::string v = "v0-" + std::to_string(i);
    targets::Completion got = RunOne(*loop, MakeJob(Append(v), n1.url(), "n1"));
    ASSERT_EQ(got.type, EventType::kOk) << got.error.value_or("");
    EXPECT_EQ(got.node, "n2");
    EXPECT_EQ(got.value["value"], v);
  }
  auto at_n1 = n1.bodies();
  auto at_n2 = n2.bodies();
  ASSERT_EQ(at_n1.size(), 2u);
  ASSERT_EQ(at_n2.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(at_n1[i], at_n2[i]) << "the hop must carry the same request";
    EXPECT_EQ(at_n1[i]["client_id"], "test-w0");
    EXPECT_EQ(at_n1[i]["seq"], i + 1);
  }
  EXPECT_EQ(loop->connections_opened(), 2);
}

TEST(EventLoopTest, APagedLogReadIsFollowedToTheHwmAndMerged) {
  // Pages of two entries up to the hwm (5); a read of [0, 5).
  FakeServer server([](FakeServer& s, Peer& p, int) {
    while (auto req = s.Read(p)) {
      const int64_t from = req->value("from", int64_t{0});
      const int64_t to = std::min<int64_t>(from + 2, 5);
      json entries = json::array();
      for (int64_t o = from; o < to; ++o) entries.push_back({o, "v" + std::to_string(o)});
      p.Send(Reply(200, json{{"from", from},
                             {"to", to},
                             {"hwm", 5},
                             {"consistency", "linearizable"},
                             {"entries", entries}}
                            .dump()));
    }
  });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  targets::Completion got = RunOne(*loop, MakeJob(LogRead(), server.url()));
  ASSERT_EQ(got.type, EventType::kOk) << got.error.value_or("");
  EXPECT_EQ(targets::FullValue(got),
            (json{{"from", 0},
                  {"to", 5},
                  {"hwm", 5},
                  {"consistency", "linearizable"},
                  {"entries", {{0, "v0"}, {1, "v1"}, {2, "v2"}, {3, "v3"}, {4, "v4"}}}}));
  auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0]["from"], 0);
  EXPECT_EQ(bodies[1]["from"], 2);
  EXPECT_EQ(bodies[2]["from"], 4);
  EXPECT_EQ(loop->connections_opened(), 1);
}

TEST(EventLoopTest, WaitReturnsEmptyAtUntilAndStopAbandonsWhatIsInFlightWithoutLeaks) {
  FakeServer silent([](FakeServer& s, Peer& p, int) {
    while (s.Read(p)) {
    }
  });
  // Answers one append and closes the connection (without saying so).
  FakeServer answering([](FakeServer& s, Peer& p, int) {
    if (auto req = s.Read(p)) p.Send(AppendOk(*req));
  });
  const int fds_before = CountFds();
  {
    auto loop = NewLoop(4, 10'000);
    ASSERT_TRUE(loop);
    // Slot 3 first leaves an idle connection behind, which its server then closes: epoll keeps
    // reporting its EOF until it is closed.
    ASSERT_EQ(RunOne(*loop, MakeJob(Append("v3-1"), answering.url()), 3).type, EventType::kOk);
    ASSERT_TRUE(Eventually([&] { return answering.open() == 0; }));
    for (int slot = 0; slot < 3; ++slot)
      loop->Dispatch(slot, MakeJob(Append("v" + std::to_string(slot) + "-1"), silent.url()));
    EXPECT_EQ(loop->outstanding(), 3);
    const auto start = Clock::now();
    const double cpu = ThreadCpuMs();
    EXPECT_TRUE(loop->WaitCompletions(start + milliseconds(300)).empty());
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, milliseconds(300));
    EXPECT_LT(waited, milliseconds(3000));
    EXPECT_LT(ThreadCpuMs() - cpu, 100.0) << "WaitCompletions spun instead of sleeping";
    EXPECT_EQ(loop->outstanding(), 3);
    ASSERT_TRUE(Eventually([&] { return silent.requests() == 3; }));
    const auto stop_start = Clock::now();
    loop->Stop();
    EXPECT_LT(Clock::now() - stop_start, milliseconds(500));
    EXPECT_EQ(loop->outstanding(), 0);
    loop->Stop();  // idempotent
    // The servers see every connection closed.
    EXPECT_TRUE(Eventually([&] { return silent.open() == 0 && answering.open() == 0; }));
  }
  EXPECT_EQ(CountFds(), fds_before);
}

TEST(EventLoopTest, NothingIsSentBeforeWaitCompletions) {
  FakeServer server(ServeAppends);
  auto loop = NewLoop(2);
  ASSERT_TRUE(loop);
  loop->Dispatch(0, MakeJob(Append("v0-1"), server.url()));
  loop->Dispatch(1, MakeJob(LogRead(), server.url()));
  EXPECT_EQ(loop->outstanding(), 2);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(server.connections(), 0);
  EXPECT_EQ(server.requests(), 0);
  EXPECT_EQ(loop->connections_opened(), 0);
  auto done = WaitFor(*loop, 2);
  ASSERT_EQ(done.size(), 2u);
  for (const Done& d : done) EXPECT_EQ(d.completion.type, EventType::kOk) << d.slot;
  // And on kept-alive connections too.
  loop->Dispatch(0, MakeJob(Append("v0-2"), server.url()));
  loop->Dispatch(1, MakeJob(Append("v1-1"), server.url()));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(server.requests(), 2);
  done = WaitFor(*loop, 2);
  ASSERT_EQ(done.size(), 2u);
  for (const Done& d : done) EXPECT_EQ(d.completion.type, EventType::kOk) << d.slot;
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(loop->connections_opened(), 2);
}

TEST(EventLoopTest, AClosedConnectionAnotherProcessStillHoldsReportsNothingMore) {
  // A child the supervisor is forking (a node restarted by a kill scenario) holds copies of
  // every socket until its exec. close() alone then leaves the socket in the epoll set, and its
  // EOF keeps being reported for a Conn already freed: a use-after-free that crashed the
  // controller in a kill-all run. The loop must deregister before it closes.
  FakeServer server([](FakeServer& s, Peer& p, int n) {
    if (n > 0) return ServeAppends(s, p, n);
    if (auto req = s.Read(p)) p.Send(AppendOk(*req));  // answer once, then close
  });
  auto loop = NewLoop(1);
  ASSERT_TRUE(loop);
  EXPECT_EQ(RunOne(*loop, MakeJob(Append("v0-1"), server.url())).type, EventType::kOk);
  // Copies of the loop's side of the connection, as a forked child has them.
  const std::string port = server.url().substr(server.url().rfind(':') + 1);
  std::vector<int> copies;
  for (int fd = 3; fd < 1024; ++fd) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
        peer.sin_family == AF_INET && std::to_string(ntohs(peer.sin_port)) == port)
      copies.push_back(fd);
  }
  for (int& fd : copies) fd = dup(fd);
  ASSERT_EQ(copies.size(), 1u);
  ASSERT_TRUE(Eventually([&] { return server.open() == 0; }));
  // The EOF on the idle connection: the loop closes it (and frees it after the batch).
  EXPECT_TRUE(loop->WaitCompletions(Clock::now() + milliseconds(100)).empty());
  // Still registered, the copy's EOF would now be reported on every wait, for the freed Conn
  // (AddressSanitizer: heap-use-after-free; otherwise a busy loop until `until`).
  const double cpu_before = ThreadCpuMs();
  EXPECT_TRUE(loop->WaitCompletions(Clock::now() + milliseconds(300)).empty());
  EXPECT_LT(ThreadCpuMs() - cpu_before, 150.0);
  EXPECT_EQ(RunOne(*loop, MakeJob(Append("v0-2"), server.url())).type, EventType::kOk);
  for (int fd : copies) close(fd);
}

// Raw TCP calls (HttpCall::reply_length), with the redis adapter: RESP bytes go out as they are,
// a reply in pieces is read until whole, the connection carries the next call, and a connection
// closed after the request is `info` for a write and never re-sent.
std::unique_ptr<EventLoop> NewRedisLoop() {
  auto loop = EventLoop::Create(
      1,
      [](int) -> std::unique_ptr<targets::SteppedClient> {
        targets::ClientOptions o;
        o.client_id = "test-w0";
        o.timeout_ms = 2000;
        auto c = targets::MakeSteppedClient("redis", o);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? std::move(c).value() : nullptr;
      },
      EventLoop::Options{});
  EXPECT_TRUE(loop.ok()) << loop.error().message;
  return loop.ok() ? std::move(loop).value() : nullptr;
}

// Reads bytes on `p` until they hold `commands` whole RESP arrays; the bytes, or "" at EOF.
std::string ReadResp(Peer& p, size_t commands) {
  std::string in;
  char buf[4096];
  while (targets::redis::Frame(in, commands, nullptr) <= 0) {
    pollfd pfd{p.fd(), POLLIN, 0};
    if (poll(&pfd, 1, 3000) <= 0) return "";
    const ssize_t n = read(p.fd(), buf, sizeof buf);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

TEST(EventLoopTest, RawCallsCarryRespAndReuseTheConnection) {
  std::atomic<int> commands{0};
  FakeServer server([&](FakeServer&, Peer& p, int) {
    for (int length = 1; !ReadResp(p, 1).empty(); ++length) {
      ++commands;
      p.Send(":");  // the reply in two pieces: not whole until the second
      std::this_thread::sleep_for(milliseconds(20));
      p.Send(std::to_string(length) + "\r\n");
    }
  });
  auto loop = NewRedisLoop();
  ASSERT_TRUE(loop);
  for (int i = 0; i < 3; ++i) {
    targets::Completion got = RunOne(*loop, MakeJob(Append("v" + std::to_string(i)), server.url()));
    ASSERT_EQ(got.type, EventType::kOk) << got.error.value_or("");
    EXPECT_EQ(got.value["offset"], i);
  }
  EXPECT_EQ(commands.load(), 3);
  EXPECT_EQ(server.connections(), 1);
}

TEST(EventLoopTest, RawCallClosedAfterReadingIsInfoAndNeverResent) {
  std::atomic<int> commands{0};
  FakeServer server([&](FakeServer&, Peer& p, int) {
    if (!ReadResp(p, 1).empty()) ++commands;
  });
  auto loop = NewRedisLoop();
  ASSERT_TRUE(loop);
  targets::Completion got = RunOne(*loop, MakeJob(Append("v0"), server.url()));
  EXPECT_EQ(got.type, EventType::kInfo);
  std::this_thread::sleep_for(milliseconds(200));  // room for a (wrong) re-send
  EXPECT_EQ(commands.load(), 1);
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace tidemark::run
