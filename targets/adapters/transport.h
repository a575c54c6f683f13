// The transport: how a client adapter's HTTP POSTs reach a node, whoever makes them.
//
// An adapter never does I/O itself. It is a SteppedClient (stepped.h) that asks for one HttpCall
// at a time and is handed back the call's HttpOutcome. Three transports make calls:
//   - the harness's event loop (harness/run/event_loop.h): every client slot on one thread over
//     non-blocking sockets with kept-alive connections — what `tidemark run` uses for every op;
//   - RawHttpPoster (raw_http.h): the same guarantees, blocking, for tools and tests
//     (MakeClient in client.h drives a SteppedClient with it);
//   - CurlPoster (curl_post.h): libcurl on a fresh connection per request, for calls where a
//     re-send is harmless (status and leader probes).
//
// Contract for every transport (the outcome rule in client.h depends on it):
//   - one call sends the request at most once: never a silent re-send, on this or another
//     connection, whatever happens to the connection;
//   - HttpOutcome::request_sent is false only when no byte of this request can have reached the
//     server (nothing was handed to the kernel for this request);
//   - transport failures are reported with the equivalent libcurl CURLcode (curl_code), so one
//     mapping per adapter serves every transport.
//
// Threading: plain values; a poster is NOT thread-safe (one per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tidemark::targets {

// One POST to make: "http://host:port/path", the JSON text, and its time limits (ms).
struct HttpCall {
  std::string url;
  std::string body;
  int timeout_ms = 5000;  // the whole exchange
  int connect_timeout_ms = 1000;
  // Set: a raw TCP request/response instead of an HTTP POST (a non-HTTP protocol such as Redis's
  // RESP). `url` is then "tcp://host:port", `body` is written as is, and the reply is the bytes
  // read until reply_length(everything read so far) says how many of them form the whole reply
  // (> 0); 0: not complete yet; < 0: malformed (CURLE_WEIRD_SERVER_REPLY). The outcome's body
  // holds those bytes and http_status stays 0. Same at-most-once contract as HTTP calls; the
  // connection is kept for the next call only when nothing followed the reply. Only the
  // harness's event loop makes raw calls today.
  std::function<int64_t(std::string_view)> reply_length = nullptr;
};

// What one HTTP exchange produced, as seen by the transport.
struct HttpOutcome {
  // 0 when an HTTP response was received; otherwise libcurl's CURLcode for the failure.
  int curl_code = 0;
  // Whether any part of the request may have been handed to the network. False: the request
  // certainly never arrived.
  bool request_sent = false;
  int os_errno = 0;      // errno of a failed connect, if known
  long http_status = 0;  // when curl_code == 0 (0 for a raw call, HttpCall::reply_length)
  std::string body;      // response body (a raw call: the reply's bytes)
};

// A blocking transport: one call at a time on the caller's thread.
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // POSTs `body` (JSON text) to `url` ("http://host:port/path"). timeout_ms bounds the whole
  // exchange, connect_timeout_ms the TCP connect. Never throws.
  virtual HttpOutcome Post(const std::string& url, const std::string& body, int timeout_ms,
                           int connect_timeout_ms) = 0;
  HttpOutcome Post(const HttpCall& call) {
    return Post(call.url, call.body, call.timeout_ms, call.connect_timeout_ms);
  }
};

}  // namespace tidemark::targets
