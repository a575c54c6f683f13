// The `proxy` network backend: an unprivileged userspace TCP proxy per directed link.
//
// For every ordered pair (from, to) of distinct nodes the proxy listens on 127.0.0.1:<port>
// (a kernel-chosen port) and forwards to the real peer port of `to`. The runner installs
// PeerAddress() with Cluster::SetPeerAddress, so node `from` dials `to` through link (from,to)'s
// listener. Client traffic (harness → node) never goes through the proxy.
//
// A cut link (grudge[to] ∋ from):
//   blackhole (default): new connections are accepted and held (not connected upstream);
//     established connections stop forwarding from → to bytes (already-read bytes are held);
//     to → from bytes still flow. On heal, held connections connect upstream and held bytes are
//     delivered — as TCP retransmission would after a real partition heals.
//   reset (NetOptions::proxy_reset): every connection of the link is reset (RST) at the cut and
//     new ones are reset on accept until the heal.
//
// Threading: one Boost.Asio io_context on one internal thread owns every socket; Apply/Heal
// post to it and wait until the change is in effect. Works only for targets whose peer
// addresses the harness controls (an argv template with {peers}/{per_peer}).
#pragma once

#include <memory>

#include "nemesis/net.h"

namespace tidemark::nemesis {

// The proxy runs in the controller's process and dies with it: nothing goes to the registry.
std::unique_ptr<NetBackend> MakeProxyBackend(const NetOptions& opts);

}  // namespace tidemark::nemesis
