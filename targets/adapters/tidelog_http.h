// The `tidelog-http` adapter: which request an OpRequest becomes, and which completion an HTTP
// exchange becomes (docs/protocol.md, docs/history-format.md, the outcome rule in client.h), and
// TidelogHttpAdapter, the registry entry whose SteppedClient strings those calls together. No
// I/O here, so every mapping is table-tested; the transport does the I/O (transport.h).
//
// Op vocabulary:
//   register (key set):  read -> /v1/kv/read {key, consistency:"linearizable"}
//                        write v -> /v1/kv/write {key, value:v, client_id, seq}
//                        cas [a,b] -> /v1/kv/cas {key, from:a, to:b, client_id, seq}
//   log (no key):        append v -> /v1/log/append {value:v, client_id, seq}
//                        read {from, consistency[, to][, final]} -> /v1/log/read
//                        {from, consistency[, to]} ("final" is the harness's own marker)
//
// Threading: the functions are pure and thread-safe; a client from TidelogHttpAdapter is not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "targets/adapters/client.h"
#include "targets/adapters/log_read_scan.h"
#include "targets/adapters/registry.h"
#include "targets/adapters/transport.h"

namespace tidemark::targets::tidelog_http {

struct HttpRequest {
  std::string path;       // "/v1/log/append"
  nlohmann::json body;    // the JSON object to POST
  bool mutating = false;  // carries client_id/seq; an ambiguous failure is kInfo
};

// True for ops that may change state (append, write, cas).
bool IsMutating(const OpRequest& op);

// The request for `op`. `seq` is only used (and must be fresh) for mutating ops. Errors: an op
// this adapter cannot express (unknown f, missing key, malformed value), with the reason.
Result<HttpRequest> BuildRequest(const OpRequest& op, const std::string& client_id, int64_t seq);

// The completion for `op` given how its exchange went, per the outcome rule (client.h).
// `node` is the node the request went to.
Completion MapOutcome(const OpRequest& op, const HttpOutcome& outcome, const std::string& node);
// The same with outcome.body already parsed (json::parse(..., nullptr, false): discarded when
// it is not JSON; ignored when the transport failed). Consumes `body` (a read's entries are
// moved into the completion, not copied).
Completion MapOutcome(const OpRequest& op, const HttpOutcome& outcome, nlohmann::json body,
                      const std::string& node);

// When `outcome` is a definite not_leader refusal, the leader it names (if any).
std::optional<std::string> NotLeaderHint(const HttpOutcome& outcome);

// The read to send next when a log read came back as one page of a longer range
// (`to < hwm`, docs/protocol.md paging); nullopt when the read is complete.
std::optional<nlohmann::json> NextPage(const nlohmann::json& request_body,
                                       const nlohmann::json& response_body);

// The same from the request and the latest page's `to` and `hwm` only.
std::optional<nlohmann::json> NextPage(const nlohmann::json& request_body, int64_t to, int64_t hwm);

// The ok completion of a log read whose pages were scanned (log_read_scan.h) and merged:
// `value` holds from, to, hwm and consistency (what the harness itself uses), `value_text` the
// whole result including the entries, exactly as MapOutcome's value would be written.
Completion LogReadCompletion(const OpRequest& op, const LogReadPage& merged,
                             const std::string& node);

// Parses a /v1/status response body. Errors name the missing or mistyped field.
Result<NodeStatus> ParseStatus(const std::string& body);

}  // namespace tidemark::targets::tidelog_http

namespace tidemark::targets {
// The registry entry (registry.h): the state machine of the calls above, with leader hops,
// idempotent re-sends (ClientOptions) and paged log reads; status over /v1/status.
Adapter TidelogHttpAdapter();
}  // namespace tidemark::targets
