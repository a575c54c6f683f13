// Fault planning (docs/nemesis.md): pure functions that decide *which* links to cut and *which*
// nodes a process fault hits. Nothing here touches a process, a socket or a clock; randomness
// comes from the caller's Rng, so a seed reproduces every plan.
//
// Nodes are 0-based indices (0 is "n1"). A Grudge maps a node to the set of nodes whose packets
// it drops: grudge[b] ∋ a means the directed link a → b is cut — the messages a sends to b are
// lost (in both network backends: connections a opens to b fail or stall; see nemesis/net.h).
// A node absent from the map drops nothing. A symmetric grudge (a ∈ grudge[b] ⇔ b ∈ grudge[a])
// is an ordinary two-way partition; a "one-way" plan cuts only one direction of some links.
//
// Threading: value types and pure functions; thread-compatible.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/rng.h"

namespace tidemark::nemesis {

using Grudge = std::map<int, std::set<int>>;

// --- partitions -------------------------------------------------------------------------------

// The shapes of docs/nemesis.md (names as in `--nemesis partition:<shape>` and in the history).
enum class PartitionShape {
  kOne,             // "one": one random node isolated from all others
  kHalves,          // "halves": random minority | majority (sizes floor(n/2) | ceil(n/2))
  kMajoritiesRing,  // "majorities-ring": every node sees a majority, no two the same one
  kBridge,          // "bridge": two halves that only one node (the bridge) sees both of
  kLeader,          // "leader": the current leader isolated (needs a known leader)
  kExplicit,        // "explicit": a grudge given by the user
};

const char* ToString(PartitionShape s);
std::optional<PartitionShape> ParsePartitionShape(std::string_view s);
// The shapes a random "partition" fault picks from (every shape but kExplicit).
const std::vector<PartitionShape>& RandomPartitionShapes();

struct PartitionPlan {
  PartitionShape shape = PartitionShape::kOne;
  bool one_way = false;
  Grudge grudge;
  // Informative: the node(s) the shape centres on (isolated node, leader, bridge), 0-based.
  std::vector<int> focus;
};

// Grudge of a complete partition into `components`: nodes in different components drop each
// other's packets; nodes inside one component (and nodes in no component) keep every link among
// themselves. Components must be disjoint (aborts otherwise: an internal invariant).
Grudge CompletePartition(int n, const std::vector<std::vector<int>>& components);

// One-way cut: every node in `to` drops the packets of every node in `from` (and nothing else).
// from ∩ to is ignored (a node never drops itself).
Grudge OneWayCut(const std::vector<int>& from, const std::vector<int>& to);

// Isolate `node` from every other node, both directions.
Grudge IsolateNode(int n, int node);
// A random minority/majority split; minority first in the returned pair.
std::pair<std::vector<int>, std::vector<int>> RandomHalves(int n, Rng& rng);
// Jepsen's majorities-ring: a random ring order; node at ring position i sees the window of
// m = n/2+1 consecutive positions starting at i - (m-1)/2 and drops everyone else. For odd m
// the grudge is symmetric; for even m (n = 2, 6, 10, ...) it is asymmetric by construction.
Grudge MajoritiesRing(int n, Rng& rng);
// Bridge: a random order split into A (floor((n-1)/2) nodes), bridge b, C (the rest); A and C
// drop each other, b drops nobody. `bridge` receives b when non-null.
Grudge Bridge(int n, Rng& rng, int* bridge = nullptr);
struct BridgeSplit {
  std::vector<int> a, c;  // sorted
  int bridge = -1;
};
BridgeSplit SplitForBridge(int n, Rng& rng);  // the split Bridge() uses (same rng draws)

// Plans one partition of `shape` for n nodes (n >= 2). `leader` is the current leader if known;
// kLeader without a leader is an error (the caller records a skipped fault). `one_way` keeps only
// the cut *from* the isolated/minority side *to* the rest for kOne, kHalves, kLeader, and from A
// to C for kBridge: the isolated side's messages are lost while it still hears the others (the
// shape of the no-generation-fence bug). One-way kMajoritiesRing is an error (the ring is already
// asymmetric for even n). kExplicit needs `explicit_grudge` (validated: indices in [0,n), no
// self-drops) and takes it as given (`one_way` is ignored).
Result<PartitionPlan> PlanPartition(PartitionShape shape, bool one_way, int n,
                                    std::optional<int> leader, Rng& rng,
                                    const Grudge* explicit_grudge = nullptr);

// Link queries on a grudge.
bool Cut(const Grudge& g, int from, int to);  // is from → to cut (to drops from)?
// The set of nodes `node` receives from (itself included) = those it does not drop.
std::set<int> Sees(const Grudge& g, int n, int node);
bool Symmetric(const Grudge& g);
// Removes empty sets; grudges compare equal iff they cut the same links.
Grudge Normalize(Grudge g);

// History/JSON form: {"n1":["n2","n3"], ...} with node names from `name` (default "n<i+1>").
nlohmann::json GrudgeToJson(const Grudge& g, const std::function<std::string(int)>& name = nullptr);
// Parses {"n1":["n2"],...} (names n<k>, 1-based) into a Grudge for n nodes; errors name the key.
Result<Grudge> GrudgeFromJson(const nlohmann::json& j, int n);

// --- process faults ---------------------------------------------------------------------------

enum class ProcessTarget {
  kOne,        // "one": one random node
  kMinority,   // "minority": max(1, (n-1)/2) random nodes (fewer than a majority for n >= 3)
  kMajority,   // "majority": a random n/2+1 nodes
  kAll,        // "all": every node
  kLeader,     // "leader": the current leader (nothing when unknown)
  kFollowers,  // "followers": every node but the leader (nothing when the leader is unknown)
};

const char* ToString(ProcessTarget t);
std::optional<ProcessTarget> ParseProcessTarget(std::string_view s);
// The targets a plain "kill"/"pause" picks from at random.
const std::vector<ProcessTarget>& RandomProcessTargets();

// The nodes (sorted, 0-based) a process fault hits. Minority = max(1, (n-1)/2) random nodes
// (for n >= 3 strictly fewer than a majority), majority = n/2+1 random nodes. kLeader/kFollowers
// with no known leader give an empty set (the caller records the skip).
std::vector<int> SelectTargets(ProcessTarget t, int n, std::optional<int> leader, Rng& rng);

// A random permutation of 0..n-1 (Fisher–Yates on rng).
std::vector<int> Shuffled(int n, Rng& rng);

}  // namespace tidemark::nemesis
