// CurlPost: one HTTP POST over a fresh TCP connection, with libcurl, reported as an HttpOutcome.
//
// Why fresh connections: libcurl 7.88 silently re-sends a request on a new connection when a
// kept-alive one is dropped after the server read it, which would apply a
// mutating op twice behind the history's back. So every exchange uses CURLOPT_FORBID_REUSE and
// CURLOPT_FRESH_CONNECT, never follows redirects, ignores proxy environment variables, and
// reports whether any byte of the request may have left (HttpOutcome::request_sent).
//
// libcurl is loaded (dlopen) by the first call that needs it, not at process start: most tidemark
// processes never make an HTTP call, and libcurl's own dependencies cost every process start-up
// time (docs/architecture.md "Start-up").
//
// Threading: a CurlPoster owns one easy handle and is NOT thread-safe; one per thread.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "targets/adapters/transport.h"

namespace tidemark::targets {

// The library loaded: its SONAME since libcurl 7.16 (Debian's libcurl4 package).
inline constexpr char kLibcurlSoname[] = "libcurl.so.4";

// Loads and initialises libcurl once per process (thread-safe). Errors: the library is missing
// or lacks a function, or curl_global_init failed.
tidemark::Status EnsureCurlInitialized();

// libcurl's text for a CURLcode (curl_easy_strerror), or "libcurl error N" if it cannot load.
std::string CurlErrorText(int code);

class CurlPoster : public HttpPoster {
 public:
  // Errors: the easy handle could not be created.
  static Result<std::unique_ptr<CurlPoster>> Create();
  ~CurlPoster() override;
  CurlPoster(const CurlPoster&) = delete;
  CurlPoster& operator=(const CurlPoster&) = delete;

  // POSTs `body` (JSON text) to `url`. timeout_ms bounds the whole exchange, connect_timeout_ms
  // the TCP connect. Never throws; transport failures are in the outcome.
  HttpOutcome Post(const std::string& url, const std::string& body, int timeout_ms,
                   int connect_timeout_ms) override;

 private:
  CurlPoster(void* handle, void* headers) : handle_(handle), headers_(headers) {}
  void* handle_;   // CURL*
  void* headers_;  // curl_slist*
};

}  // namespace tidemark::targets
