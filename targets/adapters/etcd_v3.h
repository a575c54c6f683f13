// The `etcd-v3` adapter's pure parts: etcd's v3 JSON gateway (POST /v3/kv/range|put|txn,
// /v3/maintenance/status, /v3/cluster/member/list), base64 keys and values, int64 fields as
// strings, zero/false fields omitted (PLATFORM-NOTES.md).
//
// Op vocabulary (docs/writing-a-target.md):
//   register (key set):  read -> range {key[, serializable]}          ok: the integer or null
//                        write v -> put {key, value: "v"}              ok: v
//                        cas [a,b] -> txn compare value(key) == "a", success put b
//                                                                      ok: [a,b]; not taken: fail
//   log (no key), built from a tail counter and one key per entry:
//     tidemark/log/tail       -> decimal offset of the next entry (absent = 0)
//     tidemark/log/e/<20 digits> -> the value at that offset
//   append v: read the tail (revision r), then txn compare mod_revision(tail) == r (or
//     version(tail) == 0 when absent) → put tail = n+1 and the entry n = v. A failed compare
//     applied nothing: re-read and retry (bounded). ok: {value, offset: n, hwm: n+1}.
//   read {from, consistency}: one txn of two ranges (tail, entries from..), so both come from
//     one revision; `local` uses serializable ranges (may be stale, never dirty).
//     ok: {from, to: tail, hwm: tail, consistency, entries: [[offset, value], ...]}.
//
// Outcome rule (client.h): reads fail on any error; a put/txn whose exchange failed after the
// request was sent is info (etcd applies timed-out proposals later: PLATFORM-NOTES.md), except a
// gRPC InvalidArgument (code 3), which is definite.
//
// Threading: pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/history/result.h"
#include "targets/adapters/client.h"
#include "targets/adapters/tidelog_http.h"

namespace tidemark::targets::etcd_v3 {

std::string Base64Encode(const std::string& s);
// Errors on characters outside the base64 alphabet.
Result<std::string> Base64Decode(const std::string& s);

inline constexpr const char* kTailKey = "tidemark/log/tail";
std::string EntryKey(int64_t offset);  // tidemark/log/e/00000000000000000042

// Requests (path + body).
struct Request {
  std::string path;
  nlohmann::json body;
};
Request RangeRequest(const std::string& key, bool serializable);
Request PutRequest(const std::string& key, const std::string& value);
Request CasRequest(const std::string& key, const std::string& from, const std::string& to);
// Append at offset n, guarded by the tail's mod revision (0 = tail absent).
Request AppendTxn(int64_t n, int64_t tail_mod_revision, const std::string& value);
// Tail and entries [from, ∞) in one revision.
Request LogReadTxn(int64_t from, bool serializable);

// Parsing etcd answers. Errors name what is missing or malformed.
struct KeyValue {
  std::string value;
  int64_t mod_revision = 0;
};
// The single kv of a range answer, nullopt when the key is absent.
Result<std::optional<KeyValue>> ParseRange(const nlohmann::json& body);
// Whether a txn's compare held (etcd omits `succeeded` when false).
bool TxnSucceeded(const nlohmann::json& body);
// Tail and entries from a LogReadTxn answer.
struct LogSnapshot {
  int64_t tail = 0;
  nlohmann::json entries = nlohmann::json::array();  // [[offset, value], ...]
};
Result<LogSnapshot> ParseLogRead(const nlohmann::json& body, int64_t from);

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
