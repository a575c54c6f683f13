// Client adapters: how a worker performs one OpRequest against one node of the system under test
// and turns what happened into a history completion.
//
// Outcome rule (every adapter): a completion is
//   kOk   — the op took effect and `value` is its result, shaped per docs/history-format.md;
//   kFail — the op definitely did not and never will take effect: the request never reached the
//           node (connection refused, host unresolvable, connect timeout), the node rejected it
//           with an error it flags definite (not_leader, bad_request, unavailable, ...), a cas
//           precondition did not hold, or any error on a read (reads have no effect);
//   kInfo — anything ambiguous: a timeout after the request was sent (either side), a 5xx
//           without a definite flag, an empty reply or a dropped connection after sending, a
//           malformed success response. The op may take effect at any later time, or never.
// `error` carries a short reason for kFail/kInfo ("timeout", "not_leader (leader n2)",
// "connection refused"). Nothing the system does is reported as a Result error or exception.
//
// Every adapter is a SteppedClient (stepped.h) registered by name (registry.h); `tidemark run`
// drives it on the harness's event loop. A Client is the same machine driven by a blocking
// transport, for tools and tests.
//
// Threading: a Client is NOT thread-safe. Create one per thread and use it only there.
// Different Clients may be used concurrently. MakeClient and QueryStatus may be called from any
// thread (library initialisation is done once, safely).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/history/op_request.h"
#include "base/result.h"

namespace tidemark::targets {

using history::OpRequest;

struct Completion {
  history::EventType type = history::EventType::kInfo;  // kOk, kFail or kInfo
  nlohmann::json value;  // kOk: the result; otherwise the invoked argument
  // Optional: the result's exact JSON text when `value` holds only part of it (a log read's
  // entries stay text; history::Event::value_text). Empty: `value` is the whole result.
  std::string value_text;
  std::optional<std::string> error;  // kFail/kInfo: short reason
  std::string node;                  // the node that answered last (see follow-leader below)
};

// A completion as an adapter's outcome rule decides it.
Completion MakeCompletion(history::EventType type, nlohmann::json value,
                          std::optional<std::string> error, const std::string& node);

// The completion's whole value: value_text parsed when it is set, else value.
nlohmann::json FullValue(const Completion& c);

struct ClientOptions {
  // Limit for one HTTP exchange (connect + send + wait + receive), ms. A client-side timeout
  // after sending is kInfo for a mutating op. Should exceed the target's own commit timeout
  // (tidelog: 2000 ms) so that the server's definite answers are seen.
  int timeout_ms = 5000;
  // Optional: a shorter limit for ops that change nothing (reads), ms; 0 = timeout_ms. A read
  // that gives up early costs nothing (it is a failed read, not an unknown write) and frees the
  // client to observe again while a node stalls. Final reads ({"final": true}) keep timeout_ms.
  int read_timeout_ms = 0;
  // Limit for establishing the TCP connection, ms (capped at timeout_ms). Expiry is kFail:
  // nothing was sent.
  int connect_timeout_ms = 1000;
  // Sent with every mutating request together with a per-Client sequence number (1, 2, ...),
  // so the target can recognise a duplicate delivery. Required, non-empty, unique within the
  // run (e.g. "<run-id>-w<worker>").
  std::string client_id;
  // Optional: node name -> base URL of every node. When given, a definite `not_leader` answer
  // that names a leader is retried once (same client_id/seq; nothing was applied) at that
  // leader, and Completion::node names the leader. When empty, not_leader is a plain kFail and
  // the runner decides where to send the next op.
  std::map<std::string, std::string> node_urls;
  int max_leader_hops = 1;
  // How many times a mutating request whose outcome is unknown (kInfo: timed out, 504,
  // connection lost after sending) is sent again, same client_id and seq, to the same node —
  // what an idempotent client library does. The history records one op with the last outcome.
  // A target that deduplicates applies it once; one that does not shows a `duplicate`. 0 (the
  // default): never re-send.
  int retry_indefinite = 0;
};

// Errors: empty client_id, non-positive timeouts.
Status CheckClientOptions(const ClientOptions& opts);

class Client {
 public:
  virtual ~Client() = default;

  // Performs `op` against the node `node_name` at `base_url` ("http://127.0.0.1:7001") and
  // blocks until it has an outcome (at most about (1 + max_leader_hops) * timeout_ms, and for a
  // paged log read, per page). Never throws; every outcome is a Completion per the rule above.
  // An op this adapter cannot express (unknown f, malformed value) completes kFail with the
  // reason: it was never sent.
  virtual Completion Invoke(const OpRequest& op, const std::string& node_name,
                            const std::string& base_url) = 0;
};

// The adapter's SteppedClient (registry.h) driven by a RawHttpPoster (raw_http.h: kept-alive
// connections, never a re-send). Errors: unknown adapter name (listing the known ones), empty
// client_id, non-positive timeouts.
Result<std::unique_ptr<Client>> MakeClient(const std::string& adapter, const ClientOptions& opts);

// What a node says about itself (tidelog-http `/v1/status`). For the nemesis (whom to isolate
// or kill) and the report; never ground truth for checkers.
struct NodeStatus {
  std::string node;  // the node's own id
  std::string role;  // "leader", "follower" or "candidate"
  int64_t generation = 0;
  std::optional<std::string> leader;  // whom it believes leads, if anyone
  std::optional<std::string> voted_for;
  std::optional<int64_t> last_offset;  // offset of its last log entry; absent when empty
  int64_t hwm = 0;
  nlohmann::json raw;  // the whole response body
};

// Asks nodes for their status. NOT thread-safe (one libcurl handle): one per thread.
class StatusClient {
 public:
  virtual ~StatusClient() = default;
  // Asks the node at `base_url` (bounded by the timeout given at creation).
  // Errors (as Result): the node could not be reached, timed out, or answered something that is
  // not a status; the message says which. Never blocks longer than the timeout.
  virtual Result<NodeStatus> Status(const std::string& base_url) = 0;
  // Optional long-poll: the node's status once its generation, role or leader differ from
  // `known`, or after about `wait_ms` (docs/protocol.md, POST /v1/status with wait_ms). An
  // error when the adapter or the node has no long-poll (the caller then polls).
  virtual Result<NodeStatus> WaitForChange(const std::string& base_url, const NodeStatus& known,
                                           int wait_ms) {
    (void)base_url, (void)known, (void)wait_ms;
    return Error{"no status long-poll"};
  }
};

// The adapter's status client (registry.h). Errors: unknown adapter (listing the known ones),
// timeout_ms <= 0, the transport could not be set up.
Result<std::unique_ptr<StatusClient>> MakeStatusClient(const std::string& adapter, int timeout_ms);

// One-shot convenience: MakeStatusClient(adapter, timeout_ms)->Status(base_url). Thread-safe.
Result<NodeStatus> QueryStatus(const std::string& adapter, const std::string& base_url,
                               int timeout_ms = 1000);

}  // namespace tidemark::targets
