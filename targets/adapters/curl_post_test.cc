// libcurl behaviour that the outcome rule depends on, and the tidelog-http client (over
// RawHttpPoster) end to end, against a tiny loopback HTTP server written here with POSIX
// sockets (one thread, one connection at a time).
#include "targets/adapters/curl_post.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include "targets/adapters/client.h"

namespace tidemark::targets {
namespace {

using nlohmann::json;

// What the fake server does with one request.
struct Reply {
  enum Kind { kRespond, kClose, kHang } kind = kRespond;
  int status = 200;
  std::string body;
};

class FakeServer {
 public:
  explicit FakeServer(std::function<Reply(const std::string& path, const json& body)> handler)
      : handler_(std::move(handler)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  std::vector<json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Polls so that the destructor can stop it; the timeouts only pace the loop.
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      Serve(c);
      close(c);
    }
  }
  // Serves requests on one connection until the client closes it (keep-alive is allowed, so a
  // client that reuses connections sends its next request here). Like a real server short of
  // threads, it drops an idle kept-alive connection when another client is waiting to connect.
  void Serve(int c) {
    std::string in;
    char buf[4096];
    while (!stop_) {
      size_t body_at = std::string::npos;
      size_t want = 0;
      while (!stop_) {
        if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
          body_at += 4;
          const size_t cl = in.find("Content-Length: ");
          want = cl == std::string::npos || cl > body_at ? 0 : std::stoul(in.substr(cl + 16));
        }
        if (body_at != std::string::npos && in.size() >= body_at + want) break;
        pollfd p[2] = {{c, POLLIN, 0}, {fd_, POLLIN, 0}};
        if (poll(p, 2, 20) <= 0) continue;
        if (in.empty() && !(p[0].revents & POLLIN)) return;  // idle, and someone else waits
        const ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      if (stop_) return;
      const std::string path = in.substr(5, in.find(' ', 5) - 5);  // "POST /path HTTP/1.1"
      const json body = json::parse(in.substr(body_at, want), nullptr, false);
      in.erase(0, body_at + want);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back({{"path", path}, {"body", body}});
      }
      const Reply r = handler_(path, body);
      if (r.kind == Reply::kClose) return;
      if (r.kind == Reply::kHang) {
        while (!stop_) {  // until the client gives up and closes
          pollfd p{c, POLLIN, 0};
          if (poll(&p, 1, 20) > 0 && read(c, buf, sizeof buf) <= 0) return;
        }
        return;
      }
      const std::string out = "HTTP/1.1 " + std::to_string(r.status) +
                              " X\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
      (void)!write(c, out.data(), out.size());
    }
  }

  std::function<Reply(const std::string&, const json&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<json> requests_;
  std::thread thread_;
};

int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

std::unique_ptr<Client> NewClient(ClientOptions o = {}) {
  if (o.client_id.empty()) o.client_id = "test-w0";
  auto c = MakeClient("tidelog-http", o);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(c).value() : nullptr;
}

OpRequest Append(std::string v) {
  OpRequest op;
  op.f = "append";
  op.value = std::move(v);
  return op;
}

json Ok(json extra) {
  json j = {{"node", "n1"}, {"generation", 1}, {"leader", "n1"}, {"hwm", 1}};
  j.update(extra);
  return j;
}

TEST(CurlPostTest, ConnectionRefusedIsNotSent) {
  auto poster = CurlPoster::Create();
  ASSERT_TRUE(poster.ok());
  auto out = (*poster)->Post("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/v1/status",
                             "{}", 2000, 1000);
  EXPECT_EQ(out.curl_code, static_cast<int>(CURLE_COULDNT_CONNECT));
  EXPECT_FALSE(out.request_sent);
}

TEST(CurlPostTest, FreshConnectionPerRequestAndNoResendAfterADrop) {
  // The etcd-v3 adapter's transport: FORBID_REUSE, so the libcurl hazard cannot arise; the
  // second request is read and dropped, and must not come again.
  std::atomic<int> calls{0};
  FakeServer server([&calls](const std::string&, const json&) {
    if (calls++ == 0) return Reply{Reply::kRespond, 200, "{}"};
    return Reply{Reply::kClose, 0, ""};
  });
  auto poster = CurlPoster::Create();
  ASSERT_TRUE(poster.ok());
  auto first = (*poster)->Post(server.url() + "/a", "{}", 2000, 1000);
  EXPECT_EQ(first.curl_code, 0);
  auto second = (*poster)->Post(server.url() + "/b", "{}", 2000, 1000);
  EXPECT_EQ(second.curl_code, static_cast<int>(CURLE_GOT_NOTHING));
  EXPECT_TRUE(second.request_sent);
  EXPECT_EQ(server.requests().size(), 2u) << "a request was re-sent";
  EXPECT_EQ(server.connections(), 2);
}

TEST(ClientTest, ConnectionRefusedAppendFails) {
  auto c = NewClient();
  Completion got =
      c->Invoke(Append("v0-1"), "n1", "http://127.0.0.1:" + std::to_string(UnusedPort()));
  EXPECT_EQ(got.type, history::EventType::kFail);
  EXPECT_EQ(got.error, "connection refused");
}

TEST(ClientTest, DroppedAfterReadingIsInfoAndNeverResent) {
  // The libcurl hazard of docs/platform.md: on a reused keep-alive connection that the server
  // drops after reading a request, libcurl would re-send it on a new connection. The server
  // keeps connections open, answers the first append and drops the connection on the second.
  std::atomic<int> appends{0};
  FakeServer server([&appends](const std::string&, const json& body) {
    if (appends++ == 0) {
      return Reply{Reply::kRespond, 200, Ok({{"value", body["value"]}, {"offset", 0}}).dump()};
    }
    return Reply{Reply::kClose, 0, ""};
  });
  auto c = NewClient();
  Completion first = c->Invoke(Append("v0-1"), "n1", server.url());
  ASSERT_EQ(first.type, history::EventType::kOk) << first.error.value_or("");
  Completion got = c->Invoke(Append("v0-2"), "n1", server.url());
  EXPECT_EQ(got.type, history::EventType::kInfo);
  EXPECT_EQ(got.error, "empty reply");
  EXPECT_EQ(server.requests().size(), 2u) << "a request was re-sent";
  // The second append went on the kept-alive connection (the hazard's setting), and nothing
  // went on a new one.
  EXPECT_EQ(server.connections(), 1);
}

TEST(ClientTest, ClientTimeoutAfterSendingIsInfo) {
  FakeServer server([](const std::string&, const json&) { return Reply{Reply::kHang, 0, ""}; });
  ClientOptions o;
  o.timeout_ms = 300;
  auto c = NewClient(o);
  Completion got = c->Invoke(Append("v0-1"), "n1", server.url());
  EXPECT_EQ(got.type, history::EventType::kInfo);
  EXPECT_EQ(got.error, "timeout");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientTest, SendsFreshSeqPerMutatingOp) {
  FakeServer server([](const std::string& path, const json& body) {
    if (path == "/v1/log/append") {
      return Reply{Reply::kRespond, 200, Ok({{"value", body["value"]}, {"offset", 0}}).dump()};
    }
    return Reply{
        Reply::kRespond, 200,
        Ok({{"from", 0}, {"to", 1}, {"entries", json::array({json::array({0, "a"})})}}).dump()};
  });
  auto c = NewClient();
  for (int i = 0; i < 3; ++i) {
    Completion got = c->Invoke(Append("v0-" + std::to_string(i)), "n1", server.url());
    ASSERT_EQ(got.type, history::EventType::kOk) << got.error.value_or("");
  }
  OpRequest read;
  read.f = "read";
  read.value = {{"from", 0}, {"consistency", "linearizable"}};
  EXPECT_EQ(c->Invoke(read, "n1", server.url()).type, history::EventType::kOk);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reqs[static_cast<size_t>(i)]["body"]["client_id"], "test-w0");
    EXPECT_EQ(reqs[static_cast<size_t>(i)]["body"]["seq"], i + 1);
  }
  EXPECT_FALSE(reqs[3]["body"].contains("seq"));
  EXPECT_EQ(server.connections(), 1);  // kept alive: one connection for the four exchanges
}

TEST(ClientTest, FollowsANotLeaderHintOnceWithTheSameSeq) {
  FakeServer leader([](const std::string&, const json& body) {
    return Reply{Reply::kRespond, 200,
                 Ok({{"node", "n2"}, {"value", body["value"]}, {"offset", 0}}).dump()};
  });
  FakeServer follower([](const std::string&, const json&) {
    json e = {{"code", "not_leader"}, {"definite", true}, {"text", "follower"}, {"leader", "n2"}};
    return Reply{Reply::kRespond, 409, Ok({{"error", e}}).dump()};
  });
  ClientOptions o;
  o.node_urls = {{"n1", follower.url()}, {"n2", leader.url()}};
  auto c = NewClient(o);
  Completion got = c->Invoke(Append("v0-1"), "n1", follower.url());
  EXPECT_EQ(got.type, history::EventType::kOk) << got.error.value_or("");
  EXPECT_EQ(got.node, "n2");
  ASSERT_EQ(leader.requests().size(), 1u);
  EXPECT_EQ(leader.requests()[0]["body"], follower.requests()[0]["body"]);

  // Without node_urls the refusal is the completion.
  auto plain = NewClient();
  Completion refused = plain->Invoke(Append("v0-2"), "n1", follower.url());
  EXPECT_EQ(refused.type, history::EventType::kFail);
  EXPECT_EQ(refused.error, "not_leader (leader n2)");
}

// --retry-writes: an unknown outcome is re-sent with the same client id and seq; a later
// definite failure cannot make the op "fail" (the first attempt may still be applied).
TEST(ClientTest, RetryIndefiniteResendsTheSameSeqAndNeverEndsInFail) {
  std::atomic<int> n{0};
  // 504, then 200: one op, ok, two identical requests.
  FakeServer server([&n](const std::string&, const json& body) {
    if (n++ == 0) {
      json e = {{"code", "timeout"}, {"definite", false}, {"text", "not committed"}};
      return Reply{Reply::kRespond, 504, Ok({{"error", e}}).dump()};
    }
    return Reply{Reply::kRespond, 200, Ok({{"value", body["value"]}, {"offset", 3}}).dump()};
  });
  ClientOptions o;
  o.retry_indefinite = 2;
  auto c = NewClient(o);
  Completion got = c->Invoke(Append("v0-1"), "n1", server.url());
  EXPECT_EQ(got.type, history::EventType::kOk) << got.error.value_or("");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0]["body"], reqs[1]["body"]) << "the re-send must carry the same seq";

  // 504, then a definite 409: the op stays info.
  std::atomic<int> m{0};
  FakeServer refusing([&m](const std::string&, const json&) {
    json e =
        m++ == 0
            ? json{{"code", "timeout"}, {"definite", false}, {"text", "not committed"}}
            : json{{"code", "not_leader"}, {"definite", true}, {"text", "x"}, {"leader", nullptr}};
    return Reply{Reply::kRespond, m == 1 ? 504 : 409, Ok({{"error", e}}).dump()};
  });
  Completion unknown = NewClient(o)->Invoke(Append("v0-2"), "n1", refusing.url());
  EXPECT_EQ(unknown.type, history::EventType::kInfo) << unknown.error.value_or("");
  EXPECT_EQ(refusing.requests().size(), 2u);

  // Without the option nothing is re-sent.
  std::atomic<int> k{0};
  FakeServer once([&k](const std::string&, const json&) {
    ++k;
    json e = {{"code", "timeout"}, {"definite", false}, {"text", "not committed"}};
    return Reply{Reply::kRespond, 504, Ok({{"error", e}}).dump()};
  });
  EXPECT_EQ(NewClient()->Invoke(Append("v0-3"), "n1", once.url()).type, history::EventType::kInfo);
  EXPECT_EQ(once.requests().size(), 1u);
}

TEST(ClientTest, PagedLogReadIsMergedIntoOneRead) {
  FakeServer server([](const std::string&, const json& body) {
    const int64_t from = body["from"].get<int64_t>();
    const int64_t to = std::min<int64_t>(from + 2, 5);  // pages of 2 offsets, hwm 5
    json entries = json::array();
    for (int64_t o = from; o < to; ++o) entries.push_back({o, "v" + std::to_string(o)});
    return Reply{
        Reply::kRespond, 200,
        Ok({{"hwm", 5}, {"from", from}, {"to", to}, {"consistency", "local"}, {"entries", entries}})
            .dump()};
  });
  auto c = NewClient();
  OpRequest read;
  read.f = "read";
  read.value = {{"from", 0}, {"consistency", "local"}, {"final", true}};
  Completion got = c->Invoke(read, "n1", server.url());
  ASSERT_EQ(got.type, history::EventType::kOk) << got.error.value_or("");
  EXPECT_EQ(got.value["from"], 0);
  EXPECT_EQ(got.value["to"], 5);
  EXPECT_EQ(got.value["hwm"], 5);
  // The entries are written from the replies' text (value_text), never parsed into `value`.
  EXPECT_FALSE(got.value.contains("entries"));
  json entries = json::array();
  for (int64_t o = 0; o < 5; ++o) entries.push_back({o, "v" + std::to_string(o)});
  EXPECT_EQ(
      FullValue(got),
      json({{"from", 0}, {"to", 5}, {"hwm", 5}, {"consistency", "local"}, {"entries", entries}}));
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_FALSE(server.requests()[0]["body"].contains("final"));
}

TEST(ClientTest, LogReadTheScannerRefusesStillCompletesThroughTheJsonPath) {
  // An entry whose value is not a string is outside the scanner's shape; the read is still ok,
  // with its entries in `value` as before.
  FakeServer server([](const std::string&, const json&) {
    return Reply{
        Reply::kRespond, 200,
        Ok({{"hwm", 1}, {"from", 0}, {"to", 1}, {"entries", json::array({{0, 7}})}}).dump()};
  });
  OpRequest read;
  read.f = "read";
  read.value = {{"from", 0}, {"consistency", "linearizable"}};
  Completion got = NewClient()->Invoke(read, "n1", server.url());
  ASSERT_EQ(got.type, history::EventType::kOk) << got.error.value_or("");
  EXPECT_TRUE(got.value_text.empty());
  EXPECT_EQ(got.value["entries"], json::array({{0, 7}}));
}

TEST(StatusClientTest, ParsesStatusAndReportsUnreachableNodes) {
  FakeServer server([](const std::string& path, const json&) {
    EXPECT_EQ(path, "/v1/status");
    return Reply{Reply::kRespond, 200,
                 Ok({{"role", "leader"}, {"voted_for", "n1"}, {"last_offset", 0}}).dump()};
  });
  auto sc = MakeStatusClient("tidelog-http", 1000);
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  auto st = (*sc)->Status(server.url());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->role, "leader");
  EXPECT_EQ(st->leader, "n1");
  auto down = (*sc)->Status("http://127.0.0.1:" + std::to_string(UnusedPort()));
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message.find("connection refused"), std::string::npos)
      << down.error().message;
}

TEST(MakeClientTest, RejectsUnknownAdapterAndMissingClientId) {
  ClientOptions o;
  o.client_id = "x";
  EXPECT_FALSE(MakeClient("carrier-pigeon", o).ok());
  EXPECT_FALSE(MakeClient("tidelog-http", ClientOptions{}).ok());
  EXPECT_FALSE(MakeStatusClient("carrier-pigeon", 100).ok());
}

}  // namespace
}  // namespace tidemark::targets
