// `tidemark client-test DESCRIPTOR`: try a client program of an exec descriptor by hand
// (docs/client-protocol.md) before a whole run.
//
// It starts the descriptor's nodes (or uses a running cluster given with --node), starts the
// client program twice as a run would (role "status", then role "ops"), and sends a short,
// fixed script one request at a time: a status request per node, then per workload a few ops
// whose outcomes on a healthy cluster are known (register: write, read, cas taken, cas refused,
// read; log: two appends and a read). It prints every line sent and received, and the outcome
// as a run would record it. Then it shuts the programs down and stops the nodes: nothing is
// left running.
//
// A client fails the test, with a message naming what was wrong, when it does not answer hello
// with ready, writes a line that is not an answer, answers an id that was not asked, does not
// answer within the op's timeout_ms + 500 ms (the grace a run allows), exits early, or gives
// an outcome that contradicts the script (e.g. a read that misses the write before it).
//
// Exit codes: 0 every answer well-formed and as expected; 1 the client failed as above;
// 254 bad usage (not an exec descriptor, bad --node); 255 the cluster could not be prepared or
// started (ports, directories, a node that exited). Nodes that run but never get ready count
// as the client's failure (1): a run learns readiness from the client's status answers.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tidemark::cli {

struct ClientTestOptions {
  std::string target;                   // a name in targets/ or a path to a .json file
  int nodes = 1;                        // nodes to start (ignored with --node)
  std::vector<std::string> node_addrs;  // NAME=HOST:PORT of a running cluster; empty: start one
  std::string workload;                 // "" = every workload the descriptor lists
  double op_timeout_s = 3;              // each request's timeout_ms
  std::string dir;                      // node dirs and the client's stderr; "" = a temp dir
};

CLI::App* AddClientTestCommand(CLI::App& app, ClientTestOptions& opts);

int RunClientTestCommand(const ClientTestOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace tidemark::cli
