// RawHttpPoster against a scripted loopback server (POSIX sockets, one connection at a time):
// connection reuse, and above all that no failure ever puts a second copy of a request on the
// wire and that every ambiguous failure of a mutating op is `info`.
#include "targets/adapters/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <curl/curl.h>

#include "targets/adapters/client.h"

namespace tidemark::targets {
namespace {

using history::EventType;

// Accepts connections one after another and hands each to `serve(fd, n)` (n counts from 0);
// the connection is closed when serve returns.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(ScriptedServer&, int fd, int n)> serve)
      : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (int n = 0; !stop_;) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        ++connections_;
        pending_.clear();
        serve_(*this, c, n++);
        close(c);
      }
    });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  // Requests whose last byte arrived (any connection).
  int requests() const { return requests_; }

  // Reads one whole request (headers and Content-Length body); "" at EOF or when stopping.
  std::string ReadRequest(int c) {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill(c)) return "";
    const size_t cl = pending_.find("Content-Length: ");
    const size_t want = end + 4 + (cl < end ? std::stoul(pending_.substr(cl + 16)) : 0);
    while (pending_.size() < want)
      if (!Fill(c)) return "";
    std::string req = pending_.substr(0, want);
    pending_.erase(0, want);
    ++requests_;
    return req;
  }
  // Reads at least `n` bytes of whatever comes; false at EOF.
  bool ReadBytes(int c, size_t n) {
    while (pending_.size() < n)
      if (!Fill(c)) return false;
    return true;
  }
  // Waits until the client closes the connection (or the server stops).
  void WaitForClose(int c) {
    while (Fill(c)) pending_.clear();
  }
  static void Send(int c, const std::string& s) { (void)!write(c, s.data(), s.size()); }
  static std::string Json200(const std::string& body, const std::string& extra_headers = "") {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

 private:
  bool Fill(int c) {
    char buf[65536];
    while (!stop_) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return false;
      pending_.append(buf, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  std::function<void(ScriptedServer&, int, int)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::string pending_;  // server thread only
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

const std::string kAppendOk = R"({"value":"v","offset":0,"hwm":1})";

OpRequest Append(std::string v) {
  OpRequest op;
  op.f = "append";
  op.value = std::move(v);
  return op;
}

std::unique_ptr<Client> NewClient(int timeout_ms = 5000) {
  ClientOptions o;
  o.client_id = "test-w0";
  o.timeout_ms = timeout_ms;
  auto c = MakeClient("tidelog-http", o);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(c).value() : nullptr;
}

TEST(RawHttpPosterTest, ReusesAKeptAliveConnection) {
  ScriptedServer server([](ScriptedServer& s, int c, int) {
    for (std::string req; !(req = s.ReadRequest(c)).empty();)
      s.Send(c, ScriptedServer::Json200(req.substr(req.find("\r\n\r\n") + 4)));
  });
  RawHttpPoster poster;
  for (int i = 0; i < 3; ++i) {
    const std::string body = "{\"i\":" + std::to_string(i) + "}";
    auto out = poster.Post(server.url() + "/v1/x", body, 2000, 1000);
    ASSERT_EQ(out.curl_code, 0) << i;
    EXPECT_EQ(out.http_status, 200);
    EXPECT_EQ(out.body, body);
  }
  EXPECT_EQ(poster.connections_opened(), 1);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(RawHttpPosterTest, AnIdleConnectionTheServerClosedIsReplacedBeforeSending) {
  // The server answers one request per connection and closes: the peek sees the EOF, so the
  // next request goes on a new connection and both succeed.
  ScriptedServer server([](ScriptedServer& s, int c, int) {
    if (!s.ReadRequest(c).empty()) s.Send(c, ScriptedServer::Json200(kAppendOk));
  });
  auto client = NewClient();
  for (int i = 0; i < 2; ++i) {
    Completion got = client->Invoke(Append("v"), "n1", server.url());
    EXPECT_EQ(got.type, EventType::kOk) << i << ": " << got.error.value_or("");
    // Let the server's FIN arrive before the next request looks at the connection.
    for (int w = 0; w < 100 && server.connections() == i + 1 && server.requests() == i + 1; ++w)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 2);
}

TEST(RawHttpPosterTest, DropAfterReadingOnAReusedConnectionIsInfoAndNeverResent) {
  // The libcurl hazard of docs/platform.md, on a connection that passed the reuse check: the
  // server reads the second request completely and closes without answering.
  ScriptedServer server([](ScriptedServer& s, int c, int n) {
    if (n > 0) return;  // a second connection would be a re-send: counted, never answered
    if (s.ReadRequest(c).empty()) return;
    s.Send(c, ScriptedServer::Json200(kAppendOk));
    (void)s.ReadRequest(c);
  });
  auto client = NewClient();
  ASSERT_EQ(client->Invoke(Append("v0-1"), "n1", server.url()).type, EventType::kOk);
  Completion got = client->Invoke(Append("v0-2"), "n1", server.url());
  EXPECT_EQ(got.type, EventType::kInfo);
  EXPECT_EQ(got.error, "empty reply");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // room for a (wrong) re-send
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.connections(), 1) << "a request was re-sent on a new connection";
}

TEST(RawHttpPosterTest, CloseMidRequestIsInfoAndNeverResent) {
  // The server reads the headers and part of a 2 MiB body, then closes (a reset, since data is
  // left unread): the request may have been partly delivered.
  ScriptedServer server([](ScriptedServer& s, int c, int) { (void)s.ReadBytes(c, 100000); });
  auto client = NewClient();
  Completion got = client->Invoke(Append(std::string(2u << 20, 'x')), "n1", server.url());
  EXPECT_EQ(got.type, EventType::kInfo) << got.error.value_or("");
  EXPECT_TRUE(got.error == "send error" || got.error == "connection dropped" ||
              got.error == "empty reply")
      << got.error.value_or("");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 0);
}

TEST(RawHttpPosterTest, CloseMidReplyIsInfo) {
  ScriptedServer server([](ScriptedServer& s, int c, int) {
    if (s.ReadRequest(c).empty()) return;
    s.Send(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"value\":");
  });
  auto client = NewClient();
  Completion got = client->Invoke(Append("v"), "n1", server.url());
  EXPECT_EQ(got.type, EventType::kInfo);
  EXPECT_EQ(got.error, "connection dropped");
  EXPECT_EQ(server.connections(), 1);
}

TEST(RawHttpPosterTest, TimeoutAfterSendingIsInfoAndTheConnectionIsNotReused) {
  // The late answer to the first request must never be read as the answer to the second.
  ScriptedServer server([](ScriptedServer& s, int c, int n) {
    if (s.ReadRequest(c).empty()) return;
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      s.Send(c, ScriptedServer::Json200(R"({"value":"late","offset":7,"hwm":8})"));
      s.WaitForClose(c);
      return;
    }
    s.Send(c, ScriptedServer::Json200(kAppendOk));
  });
  auto client = NewClient(/*timeout_ms=*/200);
  Completion first = client->Invoke(Append("v0-1"), "n1", server.url());
  EXPECT_EQ(first.type, EventType::kInfo);
  EXPECT_EQ(first.error, "timeout");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Completion second = client->Invoke(Append("v0-2"), "n1", server.url());
  ASSERT_EQ(second.type, EventType::kOk) << second.error.value_or("");
  EXPECT_EQ(second.value["offset"], 0);
  EXPECT_EQ(server.connections(), 2);
}

TEST(RawHttpPosterTest, ChunkedAndConnectionCloseReplies) {
  ScriptedServer server([](ScriptedServer& s, int c, int n) {
    if (s.ReadRequest(c).empty()) return;
    if (n == 0) {
      s.Send(c,
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5;x=y\r\n{\"a\":\r\n3\r\n12}\r\n0\r\nTrailer: t\r\n\r\n");
      if (s.ReadRequest(c).empty()) return;
      s.Send(c, ScriptedServer::Json200("{}", "Connection: close\r\n"));
      return;
    }
    s.Send(c, "HTTP/1.0 200 OK\r\n\r\n{\"eof\":1}");  // no length: the body ends with the stream
  });
  RawHttpPoster poster;
  auto a = poster.Post(server.url() + "/a", "{}", 2000, 1000);
  ASSERT_EQ(a.curl_code, 0);
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body, "{\"a\":12}");
  auto b = poster.Post(server.url() + "/b", "{}", 2000, 1000);
  ASSERT_EQ(b.curl_code, 0);
  EXPECT_EQ(b.body, "{}");
  auto c = poster.Post(server.url() + "/c", "{}", 2000, 1000);  // new connection: b said close
  ASSERT_EQ(c.curl_code, 0);
  EXPECT_EQ(c.body, "{\"eof\":1}");
  EXPECT_EQ(poster.connections_opened(), 2);
}

TEST(RawHttpPosterTest, MalformedReplyIsWeirdAndStaleIdleConnectionsAreNotReused) {
  ScriptedServer server([](ScriptedServer& s, int c, int n) {
    if (s.ReadRequest(c).empty()) return;
    if (n == 0) {
      s.Send(c, "SMTP ready\r\n\r\n");
      return;
    }
    s.Send(c, ScriptedServer::Json200("{}"));
    (void)s.ReadRequest(c);  // keeps the connection open; the client must not reuse it
  });
  RawHttpPoster poster(RawHttpPoster::Options{4, /*max_idle_ms=*/0});
  auto bad = poster.Post(server.url() + "/", "{}", 2000, 1000);
  EXPECT_EQ(bad.curl_code, static_cast<int>(CURLE_WEIRD_SERVER_REPLY));
  EXPECT_TRUE(bad.request_sent);
  ASSERT_EQ(poster.Post(server.url() + "/", "{}", 2000, 1000).curl_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  (void)poster.Post(server.url() + "/", "{}", 2000, 1000);
  EXPECT_EQ(poster.connections_opened(), 3);
}

TEST(RawHttpPosterTest, UnreachableOrUnsupportedIsNotSent) {
  RawHttpPoster poster;
  int port;
  {
    ScriptedServer gone([](ScriptedServer&, int, int) {});
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }  // nothing listens there now
  auto refused =
      poster.Post("http://127.0.0.1:" + std::to_string(port) + "/v1/status", "{}", 1000, 500);
  EXPECT_EQ(refused.curl_code, static_cast<int>(CURLE_COULDNT_CONNECT));
  EXPECT_FALSE(refused.request_sent);
  auto https = poster.Post("https://127.0.0.1:1/", "{}", 1000, 500);
  EXPECT_EQ(https.curl_code, static_cast<int>(CURLE_UNSUPPORTED_PROTOCOL));
  EXPECT_FALSE(https.request_sent);
  auto unresolved = poster.Post("http://no-such-host.invalid:80/", "{}", 1000, 500);
  EXPECT_EQ(unresolved.curl_code, static_cast<int>(CURLE_COULDNT_RESOLVE_HOST));
  EXPECT_FALSE(unresolved.request_sent);
}

}  // namespace
}  // namespace tidemark::targets
