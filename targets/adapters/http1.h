// HTTP/1.1 client pieces with no I/O: URL splitting, the POST request text, and an incremental
// reply parser. RawHttpPoster (blocking) and the harness's event loop (non-blocking) both feed
// the parser whatever bytes the socket gave them and ask it whether the reply is complete.
//
// The parser accepts replies delimited by Content-Length, by chunked transfer coding, or by the
// end of the connection; skips 1xx interim replies; and says whether the connection may carry
// another request afterwards (not when the server said `Connection: close`, spoke HTTP/1.0
// without keep-alive, closed it, or sent bytes beyond the reply). Errors are libcurl's CURLcodes,
// so one outcome mapping serves every transport (transport.h).
//
// Threading: plain values; a ReplyParser is used by one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::targets::http1 {

struct Url {
  std::string host;
  std::string port;
  std::string authority;  // as written in the URL, for the Host header and connection pools
  std::string path;
};

// "http://host[:port][/path]" (IPv6 hosts in brackets); nullopt for anything else.
std::optional<Url> ParseUrl(const std::string& url);

// The socket address of the URL's host and port (getaddrinfo: the first stream address), as
// bytes to hand to connect(2); nullopt when it does not resolve.
std::optional<std::string> Resolve(const Url& url);

// The whole request text of a JSON POST of `body` to `url`.
std::string FormatPost(const Url& url, const std::string& body);

// Largest reply body accepted (CURLE_WRITE_ERROR beyond), and largest header block.
constexpr size_t kMaxBody = 256u << 20;
constexpr size_t kMaxHeader = 64u << 10;

class ReplyParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  // Bytes read from the connection, in order.
  void Append(const char* data, size_t n) { in_.append(data, n); }
  // The peer closed the connection (recv returned 0).
  void SetEof() { eof_ = true; }
  bool eof() const { return eof_; }
  // True when no byte of a reply has arrived yet.
  bool empty() const { return in_.empty(); }

  // Advances over what has arrived. kDone: status(), TakeBody() and keep_alive() are set.
  // kError: error() is the CURLcode. kNeedMore: feed more bytes (or SetEof) and call again.
  State Parse();

  long status() const { return status_; }
  std::string TakeBody() { return std::move(body_); }
  bool keep_alive() const { return keep_; }
  int error() const { return error_; }  // a CURLcode

 private:
  enum class Phase { kHead, kLength, kChunkSize, kChunkData, kTrailer, kUntilEof, kEnd };
  State Fail(int code);
  State ParseHead();
  State ParseChunked();
  State Finish(size_t consumed);

  std::string in_;
  bool eof_ = false;
  Phase phase_ = Phase::kHead;
  size_t at_ = 0;  // where parsing continues in in_
  long status_ = 0;
  bool close_ = false;
  size_t length_ = 0;  // Content-Length, or the current chunk's size
  std::string body_;
  bool keep_ = false;
  int error_ = 0;
};

}  // namespace tidemark::targets::http1
