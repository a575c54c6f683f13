#include "targets/adapters/raw_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include <curl/curl.h>  // CURLcode values only: HttpOutcome speaks libcurl's codes

#include "targets/adapters/http1.h"

namespace tidemark::targets {
namespace {

using Clock = std::chrono::steady_clock;

using http1::ReplyParser;

// poll() for `events` until `deadline`; false when the deadline passed first. Errors and hangups
// count as ready: the next send/recv reports them.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left_us =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left_us <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc =
        poll(&p, 1, static_cast<int>(std::min<int64_t>((left_us + 999) / 1000, INT_MAX)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;
  }
}

// Reads one reply from a connection whose request was sent: fills out->http_status and
// out->body; *keep says whether the connection may carry another request afterwards.
CURLcode ReadReply(int fd, Clock::time_point deadline, HttpOutcome* out, bool* keep) {
  ReplyParser parser;
  *keep = false;
  while (true) {
    switch (parser.Parse()) {
      case ReplyParser::State::kDone:
        out->http_status = parser.status();
        out->body = parser.TakeBody();
        *keep = parser.keep_alive();
        return CURLE_OK;
      case ReplyParser::State::kError:
        return static_cast<CURLcode>(parser.error());
      case ReplyParser::State::kNeedMore:
        break;
    }
    if (!WaitFor(fd, POLLIN, deadline)) return CURLE_OPERATION_TIMEDOUT;
    // Into a stack buffer, then appended: growing a string by a zero-filled 16 KiB each time
    // cost a memset and, through malloc trimming, page faults on every reply.
    char buf[16384];
    ssize_t n;
    do {
      n = recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      parser.Append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      parser.SetEof();
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      out->os_errno = errno;
      return CURLE_RECV_ERROR;
    }
  }
}

// Writes all of `data`; *sent becomes true once the kernel took any byte of it.
CURLcode SendAll(int fd, const std::string& data, Clock::time_point deadline, HttpOutcome* out) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      out->request_sent = true;
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return CURLE_OPERATION_TIMEDOUT;
      continue;
    }
    out->os_errno = n < 0 ? errno : 0;
    return CURLE_SEND_ERROR;
  }
  return CURLE_OK;
}

}  // namespace

RawHttpPoster::~RawHttpPoster() {
  for (const Idle& c : idle_) ::close(c.fd);
}

int RawHttpPoster::TakeIdle(const std::string& authority) {
  const auto now = Clock::now();
  for (size_t i = idle_.size(); i-- > 0;) {
    if (idle_[i].authority != authority) continue;
    const Idle c = idle_[i];
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    if (now - c.since <= std::chrono::milliseconds(opts_.max_idle_ms)) {
      // Still open with nothing to read: EAGAIN. EOF (0), stray bytes (> 0) or an error: drop.
      char byte;
      const ssize_t n = recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c.fd;
    }
    ::close(c.fd);
  }
  return -1;
}

void RawHttpPoster::PutIdle(const std::string& authority, int fd) {
  const auto now = Clock::now();
  idle_.push_back(Idle{authority, fd, now});
  // Drop what is too old to be reused, then the least recently used beyond the limit.
  for (size_t i = idle_.size(); i-- > 0;) {
    if (now - idle_[i].since > std::chrono::milliseconds(opts_.max_idle_ms) ||
        idle_.size() > opts_.max_idle_connections) {
      ::close(idle_[i].fd);
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

HttpOutcome RawHttpPoster::Post(const std::string& url, const std::string& body, int timeout_ms,
                                int connect_timeout_ms) {
  HttpOutcome out;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(timeout_ms);
  const auto connect_deadline =
      start + std::chrono::milliseconds(std::min(timeout_ms, connect_timeout_ms));
  auto u = http1::ParseUrl(url);
  if (!u) {
    out.curl_code = CURLE_UNSUPPORTED_PROTOCOL;
    return out;
  }

  int fd = TakeIdle(u->authority);
  if (fd < 0) {
    auto it = resolved_.find(u->authority);
    if (it == resolved_.end()) {
      auto addr = http1::Resolve(*u);
      if (!addr) {
        out.curl_code = CURLE_COULDNT_RESOLVE_HOST;
        return out;
      }
      it = resolved_.emplace(u->authority, std::move(*addr)).first;
    }
    const auto* sa = reinterpret_cast<const sockaddr*>(it->second.data());
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      out.curl_code = CURLE_COULDNT_CONNECT;
      out.os_errno = errno;
      return out;
    }
    ++connections_opened_;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int err = 0;
    if (connect(fd, sa, static_cast<socklen_t>(it->second.size())) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!WaitFor(fd, POLLOUT, connect_deadline)) {
          ::close(fd);
          out.curl_code = CURLE_OPERATION_TIMEDOUT;  // request_sent stays false
          return out;
        }
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    if (err != 0) {
      ::close(fd);
      out.curl_code = CURLE_COULDNT_CONNECT;
      out.os_errno = err;
      return out;
    }
  }

  const std::string request = http1::FormatPost(*u, body);

  bool keep = false;
  CURLcode rc = SendAll(fd, request, deadline, &out);
  if (rc == CURLE_OK) rc = ReadReply(fd, deadline, &out, &keep);
  out.curl_code = static_cast<int>(rc);
  if (rc != CURLE_OK) {
    out.http_status = 0;
    out.body.clear();
  }
  if (rc == CURLE_OK && keep && opts_.max_idle_connections > 0) {
    PutIdle(u->authority, fd);
  } else {
    ::close(fd);
  }
  return out;
}

}  // namespace tidemark::targets
