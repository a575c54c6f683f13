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

namespace tidemark::targets {
namespace {

using tidelog_http::HttpOutcome;
using Clock = std::chrono::steady_clock;

// Same cut-off as CurlPoster (a final read of a huge log pages long before that).
constexpr size_t kMaxBody = 256u << 20;
constexpr size_t kMaxHeader = 64u << 10;

struct Url {
  std::string host;
  std::string port;
  std::string authority;  // as written in the URL, for the Host header and the pool
  std::string path;
};

std::optional<Url> ParseUrl(const std::string& url) {
  static const std::string kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) return std::nullopt;
  const size_t slash = url.find('/', kScheme.size());
  Url u;
  u.authority = url.substr(kScheme.size(),
                           slash == std::string::npos ? std::string::npos : slash - kScheme.size());
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  const std::string& a = u.authority;
  size_t port_at = std::string::npos;
  if (!a.empty() && a[0] == '[') {  // [IPv6]:port
    const size_t close = a.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = a.substr(1, close - 1);
    if (close + 1 < a.size()) {
      if (a[close + 1] != ':') return std::nullopt;
      port_at = close + 2;
    }
  } else {
    const size_t colon = a.find(':');
    u.host = a.substr(0, colon);
    if (colon != std::string::npos) port_at = colon + 1;
  }
  u.port = port_at == std::string::npos ? "80" : a.substr(port_at);
  if (u.host.empty() || u.port.empty() || u.port.size() > 5 ||
      !std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return u;
}

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

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IContains(std::string_view hay, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<size_t> ParseSize(std::string_view s, int base) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  size_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (v > (kMaxBody + 1) * 16) return kMaxBody + 1;  // saturate: only "too large" matters
    v = v * static_cast<size_t>(base) + static_cast<size_t>(d);
  }
  return v;
}

// Reads one reply from a connection whose request was sent.
class ReplyReader {
 public:
  ReplyReader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  // Fills out->http_status and out->body; *keep says whether the connection may carry another
  // request afterwards.
  CURLcode Read(HttpOutcome* out, bool* keep) {
    *keep = false;
    size_t head = 0;  // start of the current response
    size_t body_at = 0;
    bool chunked = false;
    bool close = false;
    // Content-Length (a plain pair: GCC 12 warns falsely about an optional here).
    size_t length = 0;
    bool has_length = false;
    while (true) {  // skips 1xx interim responses
      size_t end;
      while ((end = in_.find("\r\n\r\n", head)) == std::string::npos) {
        if (in_.size() - head > kMaxHeader) return CURLE_WEIRD_SERVER_REPLY;
        if (CURLcode rc = Fill(out); rc != CURLE_OK) return rc;
        if (eof_) return in_.empty() ? CURLE_GOT_NOTHING : CURLE_RECV_ERROR;
      }
      std::string_view h(in_.data() + head, end - head);
      // Status line: HTTP/1.x NNN reason
      if (h.size() < 12 || h.substr(0, 7) != "HTTP/1." || h[8] != ' ')
        return CURLE_WEIRD_SERVER_REPLY;
      const bool http10 = h[7] == '0';
      auto status = ParseSize(h.substr(9, 3), 10);
      if (!status || *status < 100 || *status > 999) return CURLE_WEIRD_SERVER_REPLY;
      bool keep_alive_header = false;
      chunked = false;
      close = false;
      has_length = false;
      size_t line = h.find("\r\n");
      while (line != std::string_view::npos) {
        const size_t next = h.find("\r\n", line + 2);
        std::string_view field = h.substr(
            line + 2, next == std::string_view::npos ? std::string_view::npos : next - line - 2);
        line = next;
        const size_t colon = field.find(':');
        if (colon == std::string_view::npos) return CURLE_WEIRD_SERVER_REPLY;
        const std::string_view name = field.substr(0, colon);
        const std::string_view value = Trim(field.substr(colon + 1));
        if (IEquals(name, "content-length")) {
          auto n = ParseSize(value, 10);
          if (!n || (has_length && length != *n)) return CURLE_WEIRD_SERVER_REPLY;
          length = *n;
          has_length = true;
        } else if (IEquals(name, "transfer-encoding")) {
          chunked = IContains(value, "chunked");
        } else if (IEquals(name, "connection")) {
          close = close || IContains(value, "close");
          keep_alive_header = keep_alive_header || IContains(value, "keep-alive");
        }
      }
      if (http10 && !keep_alive_header) close = true;
      body_at = end + 4;
      out->http_status = static_cast<long>(*status);
      if (*status >= 200) break;
      head = body_at;  // an interim response has no body
    }
    const long st = out->http_status;
    if (st == 204 || st == 304) {
      length = 0;
      has_length = true;
      chunked = false;
    }
    CURLcode rc;
    size_t consumed = 0;
    if (chunked) {
      rc = ReadChunked(body_at, out, &consumed);
    } else if (has_length) {
      if (length > kMaxBody) return CURLE_WRITE_ERROR;
      while (in_.size() - body_at < length) {
        if (rc = Fill(out); rc != CURLE_OK) return rc;
        if (eof_) return CURLE_RECV_ERROR;
      }
      out->body.assign(in_, body_at, length);
      consumed = body_at + length;
      rc = CURLE_OK;
    } else {  // delimited by the end of the connection
      close = true;
      while (!eof_) {
        if (in_.size() - body_at > kMaxBody) return CURLE_WRITE_ERROR;
        if (rc = Fill(out); rc != CURLE_OK) return rc;
      }
      out->body.assign(in_, body_at);
      consumed = in_.size();
      rc = CURLE_OK;
    }
    // Bytes beyond the reply would be taken for the next request's reply: never reuse then.
    *keep = rc == CURLE_OK && !close && !eof_ && consumed == in_.size();
    return rc;
  }

 private:
  CURLcode Fill(HttpOutcome* out) {
    if (!WaitFor(fd_, POLLIN, deadline_)) return CURLE_OPERATION_TIMEDOUT;
    // Into a stack buffer, then appended: growing in_ by a zero-filled 16 KiB each time cost a
    // memset and, through malloc trimming, page faults on every reply.
    char buf[16384];
    ssize_t n;
    do {
      n = recv(fd_, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return CURLE_OK;
    }
    if (n == 0) {
      eof_ = true;
      return CURLE_OK;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return CURLE_OK;
    out->os_errno = errno;
    return CURLE_RECV_ERROR;
  }

  CURLcode ReadChunked(size_t at, HttpOutcome* out, size_t* consumed) {
    std::string body;
    while (true) {
      size_t eol;
      while ((eol = in_.find("\r\n", at)) == std::string::npos) {
        if (in_.size() - at > kMaxHeader) return CURLE_WEIRD_SERVER_REPLY;
        if (CURLcode rc = Fill(out); rc != CURLE_OK) return rc;
        if (eof_) return CURLE_RECV_ERROR;
      }
      std::string_view size_line(in_.data() + at, eol - at);
      size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions
      auto size = ParseSize(size_line, 16);
      if (!size) return CURLE_WEIRD_SERVER_REPLY;
      if (body.size() + *size > kMaxBody) return CURLE_WRITE_ERROR;
      at = eol + 2;
      if (*size == 0) {  // trailer fields, then an empty line
        while (true) {
          while ((eol = in_.find("\r\n", at)) == std::string::npos) {
            if (in_.size() - at > kMaxHeader) return CURLE_WEIRD_SERVER_REPLY;
            if (CURLcode rc = Fill(out); rc != CURLE_OK) return rc;
            if (eof_) return CURLE_RECV_ERROR;
          }
          const bool empty = eol == at;
          at = eol + 2;
          if (empty) break;
        }
        out->body = std::move(body);
        *consumed = at;
        return CURLE_OK;
      }
      while (in_.size() < at + *size + 2) {
        if (CURLcode rc = Fill(out); rc != CURLE_OK) return rc;
        if (eof_) return CURLE_RECV_ERROR;
      }
      if (in_.compare(at + *size, 2, "\r\n") != 0) return CURLE_WEIRD_SERVER_REPLY;
      body.append(in_, at, *size);
      at += *size + 2;
    }
  }

  int fd_;
  Clock::time_point deadline_;
  std::string in_;
  bool eof_ = false;
};

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
  auto u = ParseUrl(url);
  if (!u) {
    out.curl_code = CURLE_UNSUPPORTED_PROTOCOL;
    return out;
  }

  int fd = TakeIdle(u->authority);
  if (fd < 0) {
    auto it = resolved_.find(u->authority);
    if (it == resolved_.end()) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_NUMERICSERV;
      addrinfo* res = nullptr;
      if (getaddrinfo(u->host.c_str(), u->port.c_str(), &hints, &res) != 0 || res == nullptr) {
        out.curl_code = CURLE_COULDNT_RESOLVE_HOST;
        return out;
      }
      std::vector<char> addr(reinterpret_cast<const char*>(res->ai_addr),
                             reinterpret_cast<const char*>(res->ai_addr) + res->ai_addrlen);
      freeaddrinfo(res);
      it = resolved_.emplace(u->authority, std::move(addr)).first;
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

  std::string request;
  request.reserve(160 + u->path.size() + u->authority.size() + body.size());
  request.append("POST ").append(u->path).append(" HTTP/1.1\r\nHost: ").append(u->authority);
  request.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  request.append(std::to_string(body.size())).append("\r\n\r\n").append(body);

  bool keep = false;
  CURLcode rc = SendAll(fd, request, deadline, &out);
  if (rc == CURLE_OK) rc = ReplyReader(fd, deadline).Read(&out, &keep);
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
