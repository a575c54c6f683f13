// HttpPoster: the transport a client adapter POSTs its JSON requests through.
//
// Contract for every implementation (the outcome rule in client.h depends on it):
//   - one call sends the request at most once: never a silent re-send, on this or another
//     connection, whatever happens to the connection;
//   - HttpOutcome::request_sent is false only when no byte of this request can have reached the
//     server (nothing was handed to the kernel for this request);
//   - transport failures are reported with the equivalent libcurl CURLcode (curl_code), so one
//     mapping (tidelog_http::MapOutcome) serves every transport.
// Implementations: CurlPoster (curl_post.h, a fresh connection per request) and RawHttpPoster
// (raw_http.h, kept-alive connections that are checked before reuse).
//
// Threading: a poster is NOT thread-safe; one per thread.
#pragma once

#include <string>

#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // POSTs `body` (JSON text) to `url` ("http://host:port/path"). timeout_ms bounds the whole
  // exchange, connect_timeout_ms the TCP connect. Never throws.
  virtual tidelog_http::HttpOutcome Post(const std::string& url, const std::string& body,
                                         int timeout_ms, int connect_timeout_ms) = 0;
};

}  // namespace tidemark::targets
