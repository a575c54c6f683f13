// SteppedClient: a client adapter as a state machine with no I/O, for the harness's event loop.
//
// A Client (client.h) blocks its thread for each op. A SteppedClient instead says which HTTP
// POST it wants made next; the caller makes it however it likes (the event loop: non-blocking,
// many ops at once on one thread) and hands back the outcome, until the client has the op's
// Completion. Leader hops, idempotent re-sends and paged reads are steps like any other, so
// the blocking Client of the same adapter is this machine driven by a blocking HttpPoster
// (client.cc): one implementation of the outcome rule, two ways to do the I/O.
//
// Transport contract: the same as HttpPoster's (http_poster.h) — a call is sent at most once,
// request_sent is false only when nothing can have reached the server, failures are CURLcodes.
//
// Threading: NOT thread-safe; one op at a time per SteppedClient (Begin, Continue..., done).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "targets/adapters/client.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets {

// One POST to make: "http://host:port/path", the JSON text, and its time limits (ms).
struct HttpCall {
  std::string url;
  std::string body;
  int timeout_ms = 5000;
  int connect_timeout_ms = 1000;
};

class SteppedClient {
 public:
  struct Step {
    std::optional<HttpCall> call;  // set: make this POST and pass its outcome to Continue
    Completion done;               // when call is empty: the op's completion
  };
  virtual ~SteppedClient() = default;
  // Starts `op` against the node `node_name` at `base_url` (see Client::Invoke).
  virtual Step Begin(const OpRequest& op, const std::string& node_name,
                     const std::string& base_url) = 0;
  // The outcome of the call the last step asked for.
  virtual Step Continue(tidelog_http::HttpOutcome outcome) = 0;
};

// The adapters that have a stepped form: "tidelog-http". Others (etcd-v3) return an error and
// are driven by Client on worker threads. Errors as MakeClient's.
Result<std::unique_ptr<SteppedClient>> MakeSteppedClient(const std::string& adapter,
                                                         const ClientOptions& opts);

// Whether MakeSteppedClient knows `adapter`.
bool HasSteppedClient(const std::string& adapter);

}  // namespace tidemark::targets
