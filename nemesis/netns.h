// The `netns` network backend: every node in its own Linux network namespace (needs root).
//
// Per run (names carry a 6-hex id derived from NetOptions::run_id, interface names <= 15 chars):
//   bridge   tm<id>br  in the root namespace, address 10.X.Y.1/24 (the controller reaches every
//                      node through it; X.Y derived from the id, moved on if the /24 is in use)
//   per node tm<id>-n<i>  namespace, with lo up and veth tm<id>p<i> = 10.X.Y.(i+1)/24 whose peer
//                      tm<id>v<i> is enslaved to the bridge
//   nftables table `inet tidemark` in every namespace, chain `input` (policy accept), and a chain
//   `track` whose one `ct` rule turns connection tracking on before any node connects (the
//   drop rules match on a connection's direction, which conntrack must see from the SYN).
// Nodes are started inside their namespace: InChild() returns a setns() on an fd opened at
// Prepare (async-signal-safe in the child); HostOf() gives the namespace address.
//
// A grudge installs, in the namespace of every node b, `ip saddr {A...} ct direction original
// drop` for the a ∈ grudge[b]: packets of connections a opened to b are dropped (SYNs included),
// replies on b's own connections to a still pass — the link semantics of nemesis/net.h. Heal
// flushes the chain. Teardown deletes the namespaces (their veths go with them), the bridge and
// any host-side veth left, and empties the registry entries. Nodes must be stopped before
// Teardown: a process still inside a namespace keeps it alive after its name is deleted.
//
// Threading: see nemesis/net.h (one internal mutex).
#pragma once

#include <memory>
#include <string>

#include "nemesis/net.h"

namespace tidemark::nemesis {

std::unique_ptr<NetBackend> MakeNetnsBackend(const NetOptions& opts);

// The 6-hex id used in names for a run id (pure; exposed for tests and `tidemark clean`).
std::string NetnsShortId(const std::string& run_id);

}  // namespace tidemark::nemesis
