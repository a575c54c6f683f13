// Cluster: the target's nodes as real OS processes, started from a descriptor.
//
// Owns, per node, its ports, its directory under RUN/nodes/<n>/ (stdout.log, stderr.log, data/,
// the descriptor's rendered files, <process>.stdout.log/.stderr.log of further processes), its
// current pids and its life events (start, exit status, kill, pause). A node's main process is
// the one readiness and clients talk to; kill, pause, resume and stop act on all its processes.
// Starting a node expands the descriptor's argv template; readiness is decided by a probe the
// caller supplies (the client adapter's status call), so this layer knows nothing of protocols.
//
// Peer addresses: by default a node dials its peers at their real host:port. A network backend
// (the proxy) may install `peer_address` to make node `from` dial node `to` somewhere else.
//
// Thread safety: all methods may be called from any thread (one internal mutex); Start/Kill of
// the same node from two threads at once is serialised.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "harness/process/supervisor.h"
#include "nemesis/clean.h"
#include "nemesis/lazyfs/mount.h"
#include "targets/target.h"

namespace tidemark::run {

struct NodeState {
  targets::NodeAddress address;
  std::string dir;       // RUN/nodes/<name>
  std::string data_dir;  // RUN/nodes/<name>/data
  pid_t pid = -1;        // -1 when not running
  // The descriptor's further processes ("processes"), in order; -1 when not running.
  std::vector<pid_t> extra_pids;
  bool paused = false;
  int starts = 0;
  std::vector<std::string> exits;  // "exit 0", "killed by SIGKILL", one per ended process
};

struct ClusterOptions {
  targets::Descriptor descriptor;
  int nodes = 3;
  std::string run_dir;
  std::string bin_dir;  // where tidemark's binary lives ({bin_dir} in templates)
  std::vector<std::string> bugs;
  std::vector<std::string> extra_args;  // appended to every node's expanded start argv
  std::string host = "127.0.0.1";
  // Per-node host (a network namespace's address); overrides `host` when set.
  std::function<std::string(int node)> host_of;
  // When set, Prepare mounts this tidemark-lazyfs over every node's data dir (the
  // lose-unfsynced fault); the mounts go when the Cluster does, after its nodes stop.
  std::string lazyfs_binary;
  // When set, each mount and its tidemark-lazyfs process are listed here while they exist, so
  // `tidemark clean` can undo them after a SIGKILLed controller (nemesis/clean.h).
  nemesis::CleanupRegistry* registry = nullptr;
};

class Cluster {
 public:
  using ReadyProbe = std::function<bool(int node)>;
  using PeerAddress = std::function<targets::NodeAddress(int from, int to)>;

  Cluster(process::Supervisor& sup, ClusterOptions opts);
  ~Cluster();  // stops every node still running

  // Picks free TCP ports for every node and creates the node directories.
  Status Prepare();
  void SetPeerAddress(PeerAddress fn) { peer_address_ = std::move(fn); }
  // Runs in the child before exec (e.g. entering a network namespace); node index as argument.
  void SetInChild(std::function<std::function<bool()>(int node)> fn) { in_child_ = std::move(fn); }

  // Starts every node, then waits until `ready` holds for all (or the descriptor's
  // ready timeout), then the descriptor's settle time. A node that exits or never gets ready
  // is an error with its log's tail; its index goes to *failed_node when given.
  Status StartAll(const ReadyProbe& ready, int* failed_node = nullptr);
  Status Start(int node);  // (re)starts one node with the same argv and data directory
  // SIGKILL of the node's process groups; returns false if its main process was not running.
  bool Kill(int node);
  bool Pause(int node);
  // Drops every byte the node's data dir had not fsynced (tears the newest write when a seed is
  // given). The node must be down; needs lazyfs_binary. Returns what was dropped as JSON.
  Result<nlohmann::json> LoseUnfsynced(int node, std::optional<uint64_t> tear_seed);
  bool Resume(int node);
  // SIGTERM, grace, SIGKILL; records the exit status.
  void Stop(int node);
  void StopAll();

  int size() const { return static_cast<int>(nodes_.size()); }
  bool Running(int node) const;
  bool Paused(int node) const;
  NodeState State(int node) const;
  std::string Name(int node) const;
  std::string ClientUrl(int node) const;          // http://host:client_port
  std::vector<std::string> Argv(int node) const;  // as last started
  // The last `lines` lines of the node's stderr (and stdout if stderr is empty).
  std::string LogTail(int node, int lines) const;

  // Runs the descriptor's dump_argv for every node (nodes must be stopped or at least not
  // writing), each stdout kept in RUN/nodes/<n>/dump.json (stderr beside it in
  // dump.stderr.log) for the caller to read (a long run's dump is large: CollectReplicas reads
  // one at a time). The dumps run in parallel, one child process per node, each killed if it
  // takes longer than 60 s + 1 s per MiB of its data dir. Returns one result per node, in node
  // order; a node whose dump cannot start, fails or times out gets an error naming the node (and
  // the elapsed time, exit status or stderr tail).
  struct DumpResult {
    std::string path;  // the dump (RUN/nodes/<n>/dump.json) when error is empty
    std::string error;
  };
  std::vector<DumpResult> Dump();

  // A JSON summary for test.json / results.json (names, ports, argv, starts, exits).
  nlohmann::json Describe() const;

 private:
  targets::StartContext ContextFor(int node) const;
  void NoteExit(int node);
  // With mu_ held: renders the descriptor's files (first start only) and starts the further
  // processes of a node whose main process has just started.
  Status StartExtras(int node, NodeState& n);
  // With mu_ held: signals every running process of the node but the main one.
  void SignalExtras(NodeState& n, int sig);
  void NoteExtraExits(NodeState& n);
  // "" while every further process of the node runs; else what exited, with its log's tail.
  std::string ExitedExtra(int node);

  process::Supervisor& sup_;
  ClusterOptions opts_;
  PeerAddress peer_address_;
  std::function<std::function<bool()>(int)> in_child_;
  mutable std::mutex mu_;
  std::vector<NodeState> nodes_;
  std::vector<std::vector<std::string>> argv_;
  // Declared last: destroyed (unmounted) after ~Cluster has stopped the nodes.
  std::vector<std::unique_ptr<lazyfs::LazyMount>> mounts_;
};

// A TCP port on `host` that is free now, chosen below the kernel's ephemeral range (20000-32767)
// so that outgoing connections cannot grab it between this check and the node's bind. Ports in
// `avoid` are skipped.
Result<int> FreePort(const std::string& host, const std::vector<int>& avoid);

}  // namespace tidemark::run
