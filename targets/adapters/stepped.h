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
// An adapter that does not speak HTTP (exec.h: a client program over pipes) sends the op on a
// Channel of its own and returns a step that waits on it; the driver watches the channel's fd,
// calls OnReadable when it is readable, then asks each waiting client to Poll.
//
// Threading: NOT thread-safe; one op at a time per SteppedClient (Begin, Continue..., done).
#pragma once

#include <optional>
#include <string>

#include "targets/adapters/client.h"
#include "targets/adapters/transport.h"

namespace tidemark::targets {

// A transport an adapter owns, shared by its clients (one per slot), driven by the same loop.
class Channel {
 public:
  virtual ~Channel() = default;
  // The descriptor to watch for readability (a pipe), or -1 when there is none. It may be
  // replaced by another during OnReadable or a client's Begin (a restarted client program; the
  // old one is then already closed, and the new one may reuse its number).
  virtual int fd() const = 0;
  // Counts the replacements of fd(): the driver re-registers whenever it changes.
  virtual int64_t fd_epoch() const = 0;
  // fd() is readable or hung up: read what is there without blocking.
  virtual void OnReadable() = 0;
};

class SteppedClient {
 public:
  struct Step {
    std::optional<HttpCall> call;  // set: make this POST and pass its outcome to Continue
    // Set (and no call): the op went out on this channel. Call Poll after each OnReadable of the
    // channel; once wait_ms (> 0) have passed without Poll returning a step, call Continue with
    // a timeout (curl_code CURLE_OPERATION_TIMEDOUT, request_sent true).
    Channel* wait = nullptr;
    int wait_ms = 0;
    Completion done;  // when neither call nor wait is set: the op's completion
  };
  virtual ~SteppedClient() = default;
  // Starts `op` against the node `node_name` at `base_url` ("http://127.0.0.1:7001"). An op the
  // adapter cannot express completes at once (kFail, never sent) with no call.
  virtual Step Begin(const OpRequest& op, const std::string& node_name,
                     const std::string& base_url) = 0;
  // The outcome of the call the last step asked for (or a wait's timeout).
  virtual Step Continue(HttpOutcome outcome) = 0;
  // For a step waiting on a channel: the next step once the channel has this op's answer,
  // nullopt while it has not. Adapters that never wait need not override it.
  virtual std::optional<Step> Poll() { return std::nullopt; }

 protected:
  static Step Call(HttpCall call) {
    Step s;
    s.call = std::move(call);
    return s;
  }
  static Step Wait(Channel* channel, int wait_ms) {
    Step s;
    s.wait = channel;
    s.wait_ms = wait_ms;
    return s;
  }
  static Step Done(Completion c) {
    Step s;
    s.done = std::move(c);
    return s;
  }
};

}  // namespace tidemark::targets
