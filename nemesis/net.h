// Network backends (docs/nemesis.md): how a Grudge becomes dropped messages between real nodes.
//
// Semantics shared by every backend: a directed link (a → b) is *cut* when b's grudge holds a.
// A cut link loses what a sends to b on connections a opens to b: new connections do not get
// through (they stall or are refused/reset), established ones stop delivering a's bytes. What b
// sends back on a's connections still flows (netns: conntrack "reply" direction; proxy: the
// upstream → downstream half). So a symmetric grudge is a complete two-way cut, and a one-way
// grudge cuts exactly the messages of systems that, like tidelog, send every message as a
// request on a connection opened by the sender (docs/nemesis.md).
//
// Life cycle, driven by the runner (see docs/nemesis.md "Wiring"):
//   backend = MakeNetBackend(...)          // nothing created yet
//   ClusterOptions::host_of = backend->HostOf()   (netns: node addresses; else empty)
//   cluster.Prepare()                      // picks ports
//   backend->Prepare(NetCluster{...})      // creates namespaces / starts proxy listeners
//   cluster.SetPeerAddress(backend->PeerAddress()); cluster.SetInChild(backend->InChild());
//   cluster.StartAll(...); ... Apply(g) / Heal() from the nemesis thread ...
//   backend->Teardown()                    // every exit path; idempotent
//
// Threading: Prepare/Apply/Heal/Teardown may be called from any thread but not concurrently
// (the runner calls Prepare and Teardown, the nemesis thread Apply/Heal; the backends serialise
// them with an internal mutex anyway). HostOf/PeerAddress/InChild return functions the Cluster
// calls from its own threads; those are safe after Prepare returned.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "nemesis/grudge.h"
#include "targets/target.h"

namespace tidemark::nemesis {

// What a backend needs to know about the cluster (after Cluster::Prepare).
struct NetCluster {
  std::vector<targets::NodeAddress> nodes;  // index i = node i (0-based), real addresses
  std::string peer_port = "client";         // descriptor's peer_port: the port peers dial
};

class NetBackend {
 public:
  virtual ~NetBackend() = default;

  // "proxy" or "netns" (stored in test.json).
  virtual std::string Name() const = 0;

  // Per-node host the Cluster must use (netns: the namespace address); empty function = keep the
  // descriptor's host. Valid before Prepare (the addresses are fixed at construction).
  virtual std::function<std::string(int node)> HostOf() const { return nullptr; }

  // Creates what the backend needs: proxy listeners, or bridge + namespaces. Every created
  // resource is recorded in the cleanup registry before it is created. On error, what was
  // created is torn down again.
  virtual Status Prepare(const NetCluster& cluster) = 0;

  // The address node `from` must dial to reach node `to` (install with Cluster::SetPeerAddress);
  // empty function = the real address. Call after Prepare.
  virtual std::function<targets::NodeAddress(int from, int to)> PeerAddress() const {
    return nullptr;
  }

  // Code to run in node `node`'s child before exec (install with Cluster::SetInChild); the
  // returned function must be async-signal-safe. Empty function = nothing. Call after Prepare.
  virtual std::function<std::function<bool()>(int node)> InChild() const { return nullptr; }

  // Makes exactly the links of `g` cut (replacing any previous grudge). Returns after the cut is
  // in effect. An error leaves the network in an unknown state: call Heal.
  virtual Status Apply(const Grudge& g) = 0;

  // Removes every cut (no-op when none). Idempotent.
  virtual Status Heal() = 0;

  // Removes everything Prepare created (listeners, namespaces, bridge, rules) and forgets it.
  // Idempotent; safe after a failed or absent Prepare; never throws. Call on every exit path.
  virtual void Teardown() = 0;

  // A JSON description for test.json (backend, subnet, names, ports).
  virtual nlohmann::json Describe() const = 0;
};

// `--net` values.
enum class NetKind { kAuto, kNetns, kProxy };
Result<NetKind> ParseNetKind(std::string_view s);  // auto|netns|proxy

// True when the netns backend can work here: running as root (CAP_NET_ADMIN assumed) and both
// `ip` and `nft` found in PATH or /usr/sbin, /sbin. `why_not` receives the reason when false.
bool NetnsAvailable(std::string* why_not = nullptr);

// auto → netns when NetnsAvailable(), else proxy. An explicit netns that is not available is an
// error naming the reason.
Result<NetKind> ResolveNetKind(NetKind requested);

class CleanupRegistry;  // nemesis/clean.h

struct NetOptions {
  // Unique per run; names and the netns subnet derive from it (use the run directory's path:
  // test name + timestamp, so parallel runs differ).
  std::string run_id;
  int nodes = 3;
  bool proxy_reset = false;  // proxy: a cut resets connections instead of blackholing them
  // Where the netns backend records what it creates before creating it (RUN_DIR/cleanup.json);
  // may be null (then a SIGKILLed controller's leftovers cannot be found by CleanLeftovers).
  // Must outlive the backend.
  CleanupRegistry* registry = nullptr;
};

// Constructs the backend for a resolved kind (kNetns or kProxy). Creates nothing yet.
Result<std::unique_ptr<NetBackend>> MakeNetBackend(NetKind kind, const NetOptions& opts);

}  // namespace tidemark::nemesis
