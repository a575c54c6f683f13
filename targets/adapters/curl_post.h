// CurlPost: one HTTP POST over a fresh TCP connection, with libcurl, reported as an HttpOutcome.
//
// Why fresh connections: libcurl 7.88 silently re-sends a request on a new connection when a
// kept-alive one is dropped after the server read it (docs/platform.md), which would apply a
// mutating op twice behind the history's back. So every exchange uses CURLOPT_FORBID_REUSE and
// CURLOPT_FRESH_CONNECT, never follows redirects, ignores proxy environment variables, and
// reports whether any byte of the request may have left (HttpOutcome::request_sent).
//
// Threading: a CurlPoster owns one easy handle and is NOT thread-safe; one per thread.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "targets/adapters/http_poster.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {

// Initialises libcurl once per process (thread-safe). Errors: curl_global_init failed.
tidemark::Status EnsureCurlInitialized();

class CurlPoster : public HttpPoster {
 public:
  // Errors: the easy handle could not be created.
  static Result<std::unique_ptr<CurlPoster>> Create();
  ~CurlPoster() override;
  CurlPoster(const CurlPoster&) = delete;
  CurlPoster& operator=(const CurlPoster&) = delete;

  // POSTs `body` (JSON text) to `url`. timeout_ms bounds the whole exchange, connect_timeout_ms
  // the TCP connect. Never throws; transport failures are in the outcome.
  tidelog_http::HttpOutcome Post(const std::string& url, const std::string& body, int timeout_ms,
                                 int connect_timeout_ms) override;

 private:
  CurlPoster(void* handle, void* headers) : handle_(handle), headers_(headers) {}
  void* handle_;   // CURL*
  void* headers_;  // curl_slist*
};

}  // namespace tidemark::targets
