#include "targets/adapters/http1.h"

#include <netdb.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <curl/curl.h>  // CURLcode values only

namespace tidemark::targets::http1 {
namespace {

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

}  // namespace

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

std::optional<std::string> Resolve(const Url& url) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &res) != 0 || res == nullptr)
    return std::nullopt;
  std::string addr(reinterpret_cast<const char*>(res->ai_addr), res->ai_addrlen);
  freeaddrinfo(res);
  return addr;
}

std::string FormatPost(const Url& url, const std::string& body) {
  std::string request;
  request.reserve(160 + url.path.size() + url.authority.size() + body.size());
  request.append("POST ").append(url.path).append(" HTTP/1.1\r\nHost: ").append(url.authority);
  request.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  request.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return request;
}

ReplyParser::State ReplyParser::Fail(int code) {
  error_ = code;
  phase_ = Phase::kEnd;
  return State::kError;
}

ReplyParser::State ReplyParser::Finish(size_t consumed) {
  // Bytes beyond the reply would be taken for the next request's reply: never reuse then.
  keep_ = !close_ && !eof_ && consumed == in_.size();
  phase_ = Phase::kEnd;
  return State::kDone;
}

ReplyParser::State ReplyParser::Parse() {
  while (true) {
    switch (phase_) {
      case Phase::kHead:
        if (State s = ParseHead(); s != State::kDone) return s;
        break;  // the head is complete: on to the body (or the next head after a 1xx)
      case Phase::kLength:
        if (in_.size() - at_ >= length_) {
          body_.assign(in_, at_, length_);
          return Finish(at_ + length_);
        }
        return eof_ ? Fail(CURLE_RECV_ERROR) : State::kNeedMore;
      case Phase::kUntilEof:
        if (eof_) {
          body_.assign(in_, at_);
          return Finish(in_.size());
        }
        return in_.size() - at_ > kMaxBody ? Fail(CURLE_WRITE_ERROR) : State::kNeedMore;
      case Phase::kChunkSize:
      case Phase::kChunkData:
      case Phase::kTrailer:
        return ParseChunked();
      case Phase::kEnd:
        return error_ != 0 ? State::kError : State::kDone;
    }
  }
}

// Parses one response head at at_; kDone means "head complete, phase_ set", not "reply done".
ReplyParser::State ReplyParser::ParseHead() {
  const size_t end = in_.find("\r\n\r\n", at_);
  if (end == std::string::npos) {
    if (in_.size() - at_ > kMaxHeader) return Fail(CURLE_WEIRD_SERVER_REPLY);
    if (eof_) return Fail(in_.empty() ? CURLE_GOT_NOTHING : CURLE_RECV_ERROR);
    return State::kNeedMore;
  }
  std::string_view h(in_.data() + at_, end - at_);
  // Status line: HTTP/1.x NNN reason
  if (h.size() < 12 || h.substr(0, 7) != "HTTP/1." || h[8] != ' ')
    return Fail(CURLE_WEIRD_SERVER_REPLY);
  const bool http10 = h[7] == '0';
  auto status = ParseSize(h.substr(9, 3), 10);
  if (!status || *status < 100 || *status > 999) return Fail(CURLE_WEIRD_SERVER_REPLY);
  bool keep_alive_header = false;
  bool chunked = false;
  bool has_length = false;
  close_ = false;
  length_ = 0;
  size_t line = h.find("\r\n");
  while (line != std::string_view::npos) {
    const size_t next = h.find("\r\n", line + 2);
    std::string_view field = h.substr(
        line + 2, next == std::string_view::npos ? std::string_view::npos : next - line - 2);
    line = next;
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos) return Fail(CURLE_WEIRD_SERVER_REPLY);
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = Trim(field.substr(colon + 1));
    if (IEquals(name, "content-length")) {
      auto n = ParseSize(value, 10);
      if (!n || (has_length && length_ != *n)) return Fail(CURLE_WEIRD_SERVER_REPLY);
      length_ = *n;
      has_length = true;
    } else if (IEquals(name, "transfer-encoding")) {
      chunked = IContains(value, "chunked");
    } else if (IEquals(name, "connection")) {
      close_ = close_ || IContains(value, "close");
      keep_alive_header = keep_alive_header || IContains(value, "keep-alive");
    }
  }
  if (http10 && !keep_alive_header) close_ = true;
  at_ = end + 4;
  status_ = static_cast<long>(*status);
  if (*status < 200) return State::kDone;  // an interim response has no body: phase stays kHead
  if (*status == 204 || *status == 304) {
    length_ = 0;
    has_length = true;
    chunked = false;
  }
  if (chunked) {
    body_.clear();
    phase_ = Phase::kChunkSize;
  } else if (has_length) {
    if (length_ > kMaxBody) return Fail(CURLE_WRITE_ERROR);
    phase_ = Phase::kLength;
  } else {  // delimited by the end of the connection
    close_ = true;
    phase_ = Phase::kUntilEof;
  }
  return State::kDone;
}

ReplyParser::State ReplyParser::ParseChunked() {
  // A line (chunk size or trailer field) must be complete before it is parsed.
  auto need_line = [this](size_t* eol) -> std::optional<State> {
    *eol = in_.find("\r\n", at_);
    if (*eol != std::string::npos) return std::nullopt;
    if (in_.size() - at_ > kMaxHeader) return Fail(CURLE_WEIRD_SERVER_REPLY);
    if (eof_) return Fail(CURLE_RECV_ERROR);
    return State::kNeedMore;
  };
  while (true) {
    size_t eol = 0;
    if (phase_ == Phase::kChunkSize) {
      if (auto s = need_line(&eol)) return *s;
      std::string_view size_line(in_.data() + at_, eol - at_);
      size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions
      auto size = ParseSize(size_line, 16);
      if (!size) return Fail(CURLE_WEIRD_SERVER_REPLY);
      if (body_.size() + *size > kMaxBody) return Fail(CURLE_WRITE_ERROR);
      at_ = eol + 2;
      length_ = *size;
      phase_ = *size == 0 ? Phase::kTrailer : Phase::kChunkData;
    } else if (phase_ == Phase::kChunkData) {
      if (in_.size() < at_ + length_ + 2) return eof_ ? Fail(CURLE_RECV_ERROR) : State::kNeedMore;
      if (in_.compare(at_ + length_, 2, "\r\n") != 0) return Fail(CURLE_WEIRD_SERVER_REPLY);
      body_.append(in_, at_, length_);
      at_ += length_ + 2;
      phase_ = Phase::kChunkSize;
    } else {  // trailer fields, then an empty line
      if (auto s = need_line(&eol)) return *s;
      const bool empty = eol == at_;
      at_ = eol + 2;
      if (empty) return Finish(at_);
    }
  }
}

}  // namespace tidemark::targets::http1
