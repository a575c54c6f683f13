// Target descriptors (docs/writing-a-target.md): how to start, reach and fault a system under test.
//
// A descriptor is a JSON file (targets/tidelog.json, targets/etcd.json, or the user's own). It
// says how to start node i (an argv template — never a shell string), how to tell it is ready,
// which client adapter speaks its protocol, which workloads it supports and which faults it can
// take. LoadDescriptor validates everything up front: an unknown key, a wrong type or an unknown
// placeholder is an error naming the file, the key and what to do.
//
// Placeholders in argv templates:
//   {node} {index} {host} {data_dir} {node_dir} {bin_dir} {<port>_port} (one per name in "ports"),
//   {nodes} (how many nodes), {quorum} (a majority of them: nodes/2 + 1),
//   {first_host} {first_<port>_port} (node 1, as this node dials it),
//   {peers} (comma list of the *other* nodes, formatted by "peer_entry"),
//   {cluster} (comma list of *all* nodes, formatted by "peer_entry"),
//   and, inside "peer_entry" / "per_peer": {peer} {peer_host} {peer_<port>_port}.
// An argv element that is exactly "{per_peer}" expands to the "per_peer" fragment once per other
// node; "{bug_args}" expands to "bug_argv" once per --bug; "{role_args}" expands to
// "roles.first" on node 1 and "roles.others" on every other node (a primary and its replicas).
// Peer addresses are as seen by the node being started: the proxy network backend substitutes
// its own listen addresses.
//
// A node may run more than one process: "start" is its main process (readiness and the client
// talk to it), "processes" lists further ones started beside it, in its directory, its network
// namespace and its own process group (e.g. a monitoring sidecar). kill and pause hit every
// process of the node; a partition cuts the node's namespace, so all of them too. "files" are
// rendered from their line templates (same placeholders) into the node's directory before its
// first start; a restart keeps the file as the node's processes left it (some rewrite theirs).
//
// Pure data and string work; no I/O besides reading the file; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tidemark::targets {

struct Capabilities {
  bool kill = false;
  bool pause = false;
  bool partition = false;
  bool leader_status = false;          // the adapter's status call names the leader
  std::vector<std::string> dump_argv;  // argv template printing a node's stored log; empty = none
};

// A further process of every node ("processes").
struct ProcessSpec {
  std::string name;               // "sentinel": names its logs (<name>.stdout.log) and exits
  std::vector<std::string> argv;  // template, as start.argv
};

// A file rendered into every node's directory before its first start ("files").
struct FileSpec {
  std::string path;                // relative to the node's directory, no ".."
  std::vector<std::string> lines;  // templates, one per line
};

// "client": the user's client program, for "adapter": "exec" (docs/client-protocol.md).
struct ExecClientSpec {
  // argv template; placeholders {bin_dir} (the build directory) and {descriptor_dir} (the
  // directory of the descriptor file), filled by ExpandClientArgv (adapters/exec.h).
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the controller's environment
  double ready_timeout_s = 10;             // to answer hello with ready
  int max_restarts = 3;                    // crashes after this many restarts end the run
  double stop_grace_s = 2;                 // after shutdown, before SIGTERM
};

struct Descriptor {
  std::string path;  // where it was loaded from
  std::string name;
  std::string description;
  std::string adapter;                 // "tidelog-http", "etcd-v3"
  std::vector<std::string> workloads;  // "register", "log"
  std::vector<std::string> ports;      // names: {"client"} or {"client", "peer"}
  std::string client_port = "client";  // the port clients talk to
  std::string peer_port = "client";    // the port peers talk to (what the proxy intercepts)
  std::string host = "127.0.0.1";      // default host (the netns backend overrides it)
  std::vector<std::string> argv;       // start template
  std::vector<std::string> per_peer;   // fragment repeated per other node at "{per_peer}"
  std::string peer_entry = "{peer}={peer_host}:{peer_client_port}";
  std::vector<std::string> bug_argv;          // fragment repeated per --bug at "{bug_args}"
  std::vector<std::string> first_role_argv;   // at "{role_args}" on node 1
  std::vector<std::string> others_role_argv;  // at "{role_args}" on the other nodes
  std::vector<ProcessSpec> processes;         // further processes per node
  std::vector<FileSpec> files;                // rendered per node before its first start
  double ready_timeout_s = 20;
  // After every node is ready, how long to let the cluster settle before ops and faults begin
  // (e.g. until monitors have discovered every node). 0: none.
  double ready_settle_s = 0;
  double stop_grace_s = 3;
  Capabilities capabilities;
  std::map<std::string, std::string> env;
  ExecClientSpec client;  // "adapter": "exec" only
};

// Loads and validates a descriptor. `name_or_path` is a path to a .json file, or a bare name
// looked up as <search_dir>/<name>.json for each search dir in order.
Result<Descriptor> LoadDescriptor(const std::string& name_or_path,
                                  const std::vector<std::string>& search_dirs);
Result<Descriptor> ParseDescriptor(const std::string& json_text, const std::string& path);

// Where a node lives, as seen by one particular node (for peers) or by the harness (for self).
struct NodeAddress {
  std::string name;                  // n1
  int index = 1;                     // 1-based
  std::string host;                  // 127.0.0.1 or a namespace address
  std::map<std::string, int> ports;  // port name -> number
};

struct StartContext {
  NodeAddress self;
  std::vector<NodeAddress> peers;      // the other nodes, addresses as this node must dial them
  std::vector<NodeAddress> all_nodes;  // every node incl. self, as peers dial them ({cluster})
  std::string data_dir;
  std::string node_dir;  // the node's directory (its processes' cwd)
  std::string bin_dir;
  std::vector<std::string> bugs;
};

// Expands the start argv for one node. Errors name the placeholder that could not be filled.
Result<std::vector<std::string>> ExpandStartArgv(const Descriptor& d, const StartContext& ctx);
// Expands the argv of the node's further process `process` (an index into d.processes), with
// every placeholder start.argv may use.
Result<std::vector<std::string>> ExpandProcessArgv(const Descriptor& d, size_t process,
                                                   const StartContext& ctx);
// The text of d.files[file] for one node: its lines filled in, each ending in '\n'.
Result<std::string> RenderFile(const Descriptor& d, size_t file, const StartContext& ctx);
// Expands any template (e.g. the dump argv) with the node-level placeholders.
Result<std::vector<std::string>> ExpandArgv(const std::vector<std::string>& tmpl,
                                            const StartContext& ctx);

}  // namespace tidemark::targets
