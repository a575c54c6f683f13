// The `redis` and `redis-wait` adapters: Redis (a primary and asynchronous replicas, failover by
// Sentinel) over RESP, as raw TCP calls on the harness's event loop (transport.h,
// HttpCall::reply_length). Replies are parsed by hiredis's reader (hiredis/read.h); commands are
// RESP arrays of bulk strings built here. docs/redis.md describes the target as a whole.
//
// Op vocabulary:
//   register (key k): read -> GET k                      ok: the integer, or null when absent
//                     write v -> SET k v                 ok: v
//                     cas [a,b] -> EVAL (GET k == a ? SET k b, 1 : 0)
//                                                         ok: [a,b]; 0 (not taken): fail
//   log (no key): a Redis list, kLogKey.
//     append v -> RPUSH kLogKey v; the answer is the list's new length L, so the entry's offset
//       is L-1. Redis has no commit point, so the node's own length is reported as the high-water
//       mark: ok {value, offset: L-1, hwm: L} (docs/anomalies.md, "Targets without a
//       high-water mark").
//     read {from} -> EVAL_RO returning LLEN and LRANGE from..-1 atomically (any node; replicas
//       serve reads): ok {from, to: max(from, len), hwm: len, consistency, entries}.
//   redis-wait: every write, cas and append is followed, in the same exchange, by
//     WAIT <nodes/2> <wait_timeout_ms>.
//
// Outcome rule (client.h), for Redis:
//   fail — nothing was sent (connection refused, connect timeout); an error reply to the op's
//          command (READONLY from a replica, NOREPLICAS under min-replicas-to-write, -ERR,
//          -LOADING, -MASTERDOWN, ...: Redis executes nothing of a command it answers with an
//          error, and our scripts write only in their last call); a cas whose compare did not
//          hold; any failure of a read (reads change nothing).
//   info — a mutating op whose request was sent but whose reply never came whole (timeout,
//          reset, EOF), a malformed reply, and under redis-wait a WAIT that answered fewer
//          replicas than asked (the primary applied the write; whether it survives a failover
//          is unknown) or an error.
//
// Leader status (StatusClient): ROLE on the node. A "slave" is a follower whose leader is the
// "host:port" of the primary it follows; a "master" is a "leader" whose generation is the number
// of replicas that, when this status client last asked them, named it as their primary. The
// runner routes to the leader with the highest generation (ties: the lowest node): the primary
// the replicas follow, which after a failover is the one Sentinel promoted — what a client asking
// the majority's Sentinels is told — while a cut-off old primary, still calling itself master,
// has no votes. Before the failover the old primary keeps its votes (the replicas have not been
// re-pointed yet), so clients keep writing to it, as real ones do. The status client is
// therefore stateful: one per watcher, asking every node in turn.
//
// Threading: the functions are pure and thread-safe; a client from the adapters is not.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "targets/adapters/client.h"
#include "targets/adapters/registry.h"
#include "targets/adapters/transport.h"

namespace tidemark::targets::redis {

inline constexpr const char* kLogKey = "tidemark:log";

// One RESP reply, as hiredis's reader parsed it.
struct Reply {
  enum class Type { kString, kStatus, kError, kInteger, kNil, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<Reply> elements;  // kArray
};

// A command as a RESP array of bulk strings.
std::string Command(const std::vector<std::string>& args);

// How many leading bytes of `bytes` hold `count` whole replies: > 0 when they are all there, 0
// when more bytes are needed, -1 when the bytes are not RESP. Fills `out` when non-null.
int64_t Frame(std::string_view bytes, size_t count, std::vector<Reply>* out);

// What one op sends: the commands (one exchange), and how many replies to read.
struct Request {
  std::string bytes;
  size_t replies = 0;
};
// The request for `op` (the vocabulary above); wait_replicas > 0 adds WAIT after a write.
// Errors: an op this adapter cannot express (unknown f, malformed value): it is never sent.
Result<Request> BuildOp(const OpRequest& op, int wait_replicas, int wait_timeout_ms);

// The completion of `op` (sent to `node` as BuildOp built it) given how its exchange went.
Completion MapOutcome(const OpRequest& op, const HttpOutcome& out, const std::string& node,
                      int wait_replicas);

// Which primary each replica last said it follows; a primary's votes. Not thread-safe.
class FollowerVotes {
 public:
  // Records what `st` (a ParseRole result) says its node follows (nothing, for a primary).
  void Note(const NodeStatus& st);
  // The node did not answer: its last word no longer counts.
  void Forget(const std::string& node);
  // How many replicas follow `node` ("host:port").
  int64_t For(const std::string& node) const;

 private:
  std::map<std::string, std::string> follows_;  // replica -> primary, both "host:port"
};

// ROLE's answer as a NodeStatus (generation 0; FollowerVotes supplies it). Errors: not a ROLE
// answer.
Result<NodeStatus> ParseRole(const Reply& role, const std::string& self);

// "http://host:port" -> {host, port}. Errors on anything else.
Result<std::pair<std::string, std::string>> HostPort(const std::string& base_url);

}  // namespace tidemark::targets::redis

namespace tidemark::targets {
// The registry entries (registry.h). `redis`: the async profile, one command per op.
// `redis-wait`: WAIT for nodes/2 replicas after each write (nodes = ClientOptions::node_urls).
Adapter RedisAdapter();
Adapter RedisWaitAdapter();
}  // namespace tidemark::targets
