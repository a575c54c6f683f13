// Which node a client op goes to (`tidemark run --client-routing`), as a pure function.
//
// kLeader: every op without a node of its own goes to the leader the status watcher last saw
// (a random node when none is known). kNode: process p always talks to node p % nodes, as
// Jepsen's clients are bound to nodes, so a deposed leader that still believes it leads keeps
// getting requests. kMixed (the default) gives each client slot s = p % concurrency (stable
// when a process is retired after an unknown outcome and its slot takes a new process id) a
// role: s % 3 == 0 follows the leader; the others are bound, the k-th bound slot
// (k = s - s / 3 - 1) to node k % nodes, and the first bound slot of each node (k < nodes) only
// reads. When the leader stalls or is cut off, a third of the clients wait on it while the
// bound ones keep reading and writing through every node — a deposed leader included — so a
// stale or dirty read has a client there to see it, and a deposed leader still gets writes.
//
// Threading: pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/rng.h"

namespace tidemark::run {

enum class Routing { kLeader, kNode, kMixed };

// "leader", "node", "mixed"; nullopt for anything else.
inline std::optional<Routing> ParseRouting(std::string_view s) {
  if (s == "leader") return Routing::kLeader;
  if (s == "node") return Routing::kNode;
  if (s == "mixed") return Routing::kMixed;
  return std::nullopt;
}

// kMixed: the bound index k of process p's slot, or -1 when the slot follows the leader.
inline int64_t BoundIndex(int64_t process, int concurrency) {
  const int64_t s = process % concurrency;
  return s % 3 == 0 ? -1 : s - s / 3 - 1;
}

// kMixed's per-node readers: only read (workloads::LogOptions::reader), so every node has a
// client observing it for the whole run. Reads time out as failures, never as unknown, so a
// reader's process is never retired.
inline bool IsNodeReader(int64_t process, int concurrency, int nodes) {
  const int64_t k = BoundIndex(process, concurrency);
  return k >= 0 && k < nodes;
}

// The node for an op of `process` that names no node itself; `rng` is drawn from only when
// the op follows the leader and none is known.
inline int RouteOp(Routing r, int64_t process, int concurrency, int nodes,
                   std::optional<int> leader, Rng& rng) {
  if (r == Routing::kNode) return static_cast<int>(process % nodes);
  if (r == Routing::kMixed) {
    if (int64_t k = BoundIndex(process, concurrency); k >= 0) return static_cast<int>(k % nodes);
  }
  if (leader) return *leader;
  return static_cast<int>(rng.Uniform(static_cast<uint64_t>(nodes)));
}

}  // namespace tidemark::run
