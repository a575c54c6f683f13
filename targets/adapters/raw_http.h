// RawHttpPoster: a small blocking HTTP/1.1 client on POSIX sockets that keeps connections alive,
// for the harness's hot path (a fresh libcurl connection per request cost the controller about
// 300 us of CPU per op; a kept-alive exchange costs a few syscalls).
//
// Never a re-send (the libcurl hazard of docs/platform.md): Post writes the request once, on
// one connection, and whatever happens next is reported, never retried. An idle connection is
// reused only when it is younger than Options::max_idle_ms and a non-blocking peek shows it still
// open with nothing unread (no EOF, no error, no stray bytes); otherwise it is closed and a new
// one is opened before anything is sent, which is safe. A failure on a reused connection (the
// server closed it between the peek and the request) is reported like any failure after
// sending: request_sent = true, so a mutating op is `info` under the outcome rule.
//
// What each failure reports (HttpOutcome, same CURLcodes as libcurl so MapOutcome applies):
//   unsupported URL (not http://)            CURLE_UNSUPPORTED_PROTOCOL, not sent
//   host does not resolve                    CURLE_COULDNT_RESOLVE_HOST, not sent
//   connect refused / unreachable            CURLE_COULDNT_CONNECT (+ os_errno), not sent
//   connect did not finish in time           CURLE_OPERATION_TIMEDOUT, not sent
//   send failed before any byte was taken    CURLE_SEND_ERROR, not sent
//   send failed after some bytes             CURLE_SEND_ERROR, sent
//   timeout after sending                    CURLE_OPERATION_TIMEDOUT, sent
//   connection closed before any reply byte  CURLE_GOT_NOTHING, sent
//   closed or reset within the reply         CURLE_RECV_ERROR, sent
//   unparseable reply                        CURLE_WEIRD_SERVER_REPLY, sent
//   body over 256 MiB                        CURLE_WRITE_ERROR, sent
// After any failure the connection is closed. Replies may use Content-Length, chunked transfer
// coding, or end at EOF; `Connection: close` (or HTTP/1.0 without keep-alive) closes it after.
//
// Threading: NOT thread-safe; one per thread (each worker owns its connections).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "targets/adapters/http_poster.h"

namespace tidemark::targets {

class RawHttpPoster : public HttpPoster {
 public:
  struct Options {
    // Idle connections kept open (least recently used closed first). 0: one per request.
    size_t max_idle_connections = 4;
    // An idle connection older than this is not reused (servers drop idle connections on their
    // own schedule, and a drop that races the next request turns a write into `info`).
    int max_idle_ms = 2000;
  };
  RawHttpPoster() : RawHttpPoster(Options{}) {}
  explicit RawHttpPoster(Options opts) : opts_(opts) {}
  ~RawHttpPoster() override;
  RawHttpPoster(const RawHttpPoster&) = delete;
  RawHttpPoster& operator=(const RawHttpPoster&) = delete;

  tidelog_http::HttpOutcome Post(const std::string& url, const std::string& body, int timeout_ms,
                                 int connect_timeout_ms) override;

  // TCP connections opened so far (for tests and benchmarks).
  int64_t connections_opened() const { return connections_opened_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::string authority;  // "host:port"
    int fd = -1;
    Clock::time_point since;
  };
  // A reusable open connection to `authority`, or -1.
  int TakeIdle(const std::string& authority);
  void PutIdle(const std::string& authority, int fd);

  Options opts_;
  std::vector<Idle> idle_;                       // most recently used last
  std::map<std::string, std::string> resolved_;  // authority -> sockaddr bytes
  int64_t connections_opened_ = 0;
};

}  // namespace tidemark::targets
