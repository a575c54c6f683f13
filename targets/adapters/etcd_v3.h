// The `etcd-v3` adapter's pure parts: etcd's v3 JSON gateway (POST /v3/kv/range|put|txn,
// /v3/maintenance/status, /v3/cluster/member/list), base64 keys and values, int64 fields as
// strings, zero/false fields omitted (docs/platform.md).
//
// Op vocabulary (docs/writing-a-target.md):
//   register (key set):  read -> range {key[, serializable]}          ok: the integer or null
//                        write v -> put {key, value: "v"}              ok: v
//                        cas [a,b] -> txn compare value(key) == "a", success put b
//                                                                      ok: [a,b]; not taken: fail
//   log (no key): one key per entry, tidemark/log/v/<value> (the harness makes values unique);
//     etcd's store revision is the log offset. Offsets are therefore sparse (register writes or
//     anything else that bumps the revision leaves gaps), which docs/history-format.md allows.
//   append v: txn "if create_revision(key) == 0 then put key = v" — one round trip, no
//     contention between appenders. ok: {value, offset: r, hwm: r+1} where r is the answer's
//     header revision (the revision of this put; every revision <= r is committed). A compare
//     that did not hold means the value was appended before: fail, nothing written.
//   read {from, consistency}: one range over the prefix with min_mod_revision = from; the
//     answer's header revision R is the snapshot it was served at. `local` uses a serializable
//     range (a follower's applied revision: may be stale, never dirty).
//     ok: {from, to: max(from, R+1), hwm: R+1, consistency, entries: [[offset, value], ...]}
//     in offset order.
//
// Outcome rule (client.h): reads fail on any error; a put/txn whose exchange failed after the
// request was sent is info (etcd applies timed-out proposals later: docs/platform.md), except a
// gRPC InvalidArgument (code 3), which is definite.
//
// Threading: pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "targets/adapters/client.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets::etcd_v3 {

std::string Base64Encode(const std::string& s);
// Errors on characters outside the base64 alphabet.
Result<std::string> Base64Decode(const std::string& s);

inline constexpr const char* kLogPrefix = "tidemark/log/v/";

// Requests (path + body).
struct Request {
  std::string path;
  nlohmann::json body;
};
Request RangeRequest(const std::string& key, bool serializable);
Request PutRequest(const std::string& key, const std::string& value);
Request CasRequest(const std::string& key, const std::string& from, const std::string& to);
// Appends `value` as the key kLogPrefix + value, only if that key was never created.
Request AppendTxn(const std::string& value);
// Every log entry at offsets (revisions) >= from.
Request LogRange(int64_t from, bool serializable);

// Parsing etcd answers. Errors name what is missing or malformed.
struct KeyValue {
  std::string value;
  int64_t mod_revision = 0;
};
// The single kv of a range answer, nullopt when the key is absent.
Result<std::optional<KeyValue>> ParseRange(const nlohmann::json& body);
// Whether a txn's compare held (etcd omits `succeeded` when false).
bool TxnSucceeded(const nlohmann::json& body);
// The store revision an answer was served at (header.revision). Errors when absent.
Result<int64_t> HeaderRevision(const nlohmann::json& body);
// A LogRange answer: the snapshot revision and the entries at offsets in [from, revision], in
// offset order.
struct LogSnapshot {
  int64_t revision = 0;
  nlohmann::json entries = nlohmann::json::array();  // [[offset, value], ...]
};
Result<LogSnapshot> ParseLogRange(const nlohmann::json& body, int64_t from);

// The outcome class of a failed exchange for a mutating op: true when it definitely applied
// nothing (never sent, or a gRPC InvalidArgument answer).
bool DefinitelyNotApplied(const tidelog_http::HttpOutcome& out);
// A short reason for a failed exchange ("timeout", "http 503: etcdserver: request timed out").
std::string Reason(const tidelog_http::HttpOutcome& out);

// Maps /v3/maintenance/status and /v3/cluster/member/list answers to a NodeStatus (role from
// whether the member is the leader; leader and node as member names).
Result<NodeStatus> ParseStatus(const nlohmann::json& status, const nlohmann::json& members);

}  // namespace tidemark::targets::etcd_v3

namespace tidemark::targets {
class CurlPoster;
namespace etcd_v3 {
// The I/O halves (client.cc's MakeClient / MakeStatusClient build these for "etcd-v3").
std::unique_ptr<Client> NewClient(const ClientOptions& opts, std::unique_ptr<CurlPoster> poster);
std::unique_ptr<StatusClient> NewStatusClient(int timeout_ms, std::unique_ptr<CurlPoster> poster);
}  // namespace etcd_v3
}  // namespace tidemark::targets
