// Which node a client op goes to (`tidemark run --client-routing`), as a pure function.
//
// kLeader: every op without a node of its own goes to the leader the status watcher last saw
// (a random node when none is known). kNode: process p always talks to node p % nodes, as
// Jepsen's clients are bound to nodes, so a deposed leader that still believes it leads keeps
// getting requests. kMixed (the default): even processes follow the leader, odd process p is
// bound to node (p / 2) % nodes — when the leader stalls or is cut off, half the clients wait on
// it while the bound half keep reading and writing through every node, the deposed leader
// included, so a stale or dirty read has a client there to see it.
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

// The node for an op of `process` that names no node itself; `rng` is drawn from only when
// the op follows the leader and none is known.
inline int RouteOp(Routing r, int64_t process, int nodes, std::optional<int> leader, Rng& rng) {
  if (r == Routing::kNode) return static_cast<int>(process % nodes);
  if (r == Routing::kMixed && process % 2 == 1) return static_cast<int>((process / 2) % nodes);
  if (leader) return *leader;
  return static_cast<int>(rng.Uniform(static_cast<uint64_t>(nodes)));
}

}  // namespace tidemark::run
