// The network side of a tidelog node: one Boost.Asio io_context, single-threaded, no locks.
// One listening port serves both the client API (/v1/...) and the peer RPC (/raft/msgs); each
// peer gets one outgoing keep-alive connection that carries batches of messages, one request
// in flight at a time (so messages to a peer stay in order). A message that cannot be delivered
// is dropped: the consensus core retries by itself (heartbeats, elections).
//
// Timers: a 10 ms tick drives the core's clock; with bug lazy-fsync a 300 ms timer flushes the
// WAL. SIGTERM/SIGINT stop the loop; Run() then returns and the caller exits cleanly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "node.h"

namespace tidemark::tidelog {

struct ServerOptions {
  std::string listen_host;
  uint16_t listen_port = 0;
  std::map<std::string, std::pair<std::string, uint16_t>> peers;  // id -> address to send to
  uint64_t lazy_flush_ms = 300;
};

// Milliseconds on the monotonic clock.
uint64_t NowMs();

// Builds the Node from `core` and `wal`, listens, and runs until SIGTERM/SIGINT. Returns a
// process exit code (0 after a clean stop); errors are printed to stderr.
int RunServer(const ServerOptions& opts, Consensus core, std::unique_ptr<Wal> wal,
              uint64_t commit_timeout_ms);

}  // namespace tidemark::tidelog
