// SteppedClient: a client adapter as a state machine with no I/O.
//
// A SteppedClient says which HTTP POST it wants made next (an HttpCall, transport.h); whoever
// drives it makes the call however it likes — the harness's event loop, non-blocking, many ops
// at once on one thread; a blocking HttpPoster in tools and tests (MakeClient, client.h) — and
// hands back the outcome, until the client has the op's Completion. Leader hops, idempotent
// re-sends and paged reads are steps like any other, so each adapter has one implementation of
// the outcome rule whatever does its I/O.
//
// Transport contract: transport.h — a call is sent at most once, request_sent is false only
// when nothing can have reached the server, failures are CURLcodes.
//
// Threading: NOT thread-safe; one op at a time per SteppedClient (Begin, Continue..., done).
#pragma once

#include <optional>
#include <string>

#include "targets/adapters/client.h"
#include "targets/adapters/transport.h"

namespace tidemark::targets {

class SteppedClient {
 public:
  struct Step {
    std::optional<HttpCall> call;  // set: make this POST and pass its outcome to Continue
    Completion done;               // when call is empty: the op's completion
  };
  virtual ~SteppedClient() = default;
  // Starts `op` against the node `node_name` at `base_url` ("http://127.0.0.1:7001"). An op the
  // adapter cannot express completes at once (kFail, never sent) with no call.
  virtual Step Begin(const OpRequest& op, const std::string& node_name,
                     const std::string& base_url) = 0;
  // The outcome of the call the last step asked for.
  virtual Step Continue(HttpOutcome outcome) = 0;

 protected:
  static Step Call(HttpCall call) {
    Step s;
    s.call = std::move(call);
    return s;
  }
  static Step Done(Completion c) {
    Step s;
    s.done = std::move(c);
    return s;
  }
};

}  // namespace tidemark::targets
