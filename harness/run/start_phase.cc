#include <iostream>

#include "base/filename.h"
#include "harness/run/event_loop.h"
#include "harness/run/run_phases.h"
#include "targets/adapters/registry.h"

namespace tidemark::run {

// Start: the history, the network for faults, the nodes (until ready), the clients.
Status Run::Start(StopCause* cause) {
  auto rec = Recorder::Open(filename::History(dir_.path));
  if (!rec.ok()) return rec.error();
  rec_ = std::move(*rec);
  if (nemesis_->NetName() != "none")
    out_ << "network backend for partitions: " << nemesis_->NetName() << "\n";
  process::Supervisor::BecomeSubreaper();
  sup_ = std::make_unique<process::Supervisor>();
  ClusterOptions co;
  co.descriptor = plan_.desc;
  co.nodes = opts_.nodes;
  co.run_dir = dir_.path;
  co.bin_dir = opts_.bin_dir;
  co.bugs = opts_.bugs;
  co.extra_args = opts_.node_args;
  nemesis_->ConfigureCluster(co);
  cluster_ = std::make_unique<Cluster>(*sup_, co);
  if (Status s = cluster_->Prepare(); !s.ok()) return s;
  if (Status s = nemesis_->AttachCluster(*cluster_); !s.ok())
    return Error{"cannot set up the network for faults: " + s.error().message};
  auto status_client = targets::MakeStatusClient(plan_.desc.adapter, 500);
  if (!status_client.ok()) return status_client.error();
  status_ = std::move(*status_client);
  if (Status s = StartNodes(cause); !s.ok()) return s;
  return StartDispatcher();
}

Status Run::StartNodes(StopCause* cause) {
  out_ << "starting " << opts_.nodes << " " << plan_.desc.name << " nodes"
       << (opts_.bugs.empty() ? "" : " with --bug " + Join(opts_.bugs, " --bug ")) << "\n"
       << std::flush;
  int failed = -1;
  Status started = cluster_->StartAll(
      [&](int i) { return status_->Status(cluster_->ClientUrl(i)).ok(); }, &failed);
  test_["nodes"] = cluster_->Describe();
  (void)WriteTest();
  if (!started.ok()) {
    if (failed >= 0) {
      cause->node = cluster_->Name(failed);
      cause->log_tail = cluster_->LogTail(failed, 15);
    }
    return Error{"the cluster did not start: " + started.error().message +
                 "\n(node logs are under " + dir_.path + "/nodes/)"};
  }
  nemesis_->NodesStarted(*cluster_);
  return OkStatus();
}

// Every slot runs on the driver's thread (event_loop.h), whatever the adapter (registry.h).
Status Run::StartDispatcher() {
  const std::string& adapter = plan_.desc.adapter;
  auto client_options = [this](int slot) {
    targets::ClientOptions copt;
    copt.timeout_ms = static_cast<int>(opts_.op_timeout_s * 1000);
    copt.read_timeout_ms = static_cast<int>(opts_.read_timeout_s * 1000);
    copt.client_id = "tm-" + dir_.timestamp + "-w" + std::to_string(slot);
    copt.retry_indefinite = opts_.retry_writes;
    // A definite not_leader names the leader: the adapter retries there once (nothing applied).
    for (int i = 0; i < cluster_->size(); ++i)
      copt.node_urls[cluster_->Name(i)] = cluster_->ClientUrl(i);
    return copt;
  };
  auto loop = EventLoop::Create(
      opts_.concurrency,
      [&](int slot) {
        auto c = targets::MakeSteppedClient(adapter, client_options(slot));
        return c.ok() ? std::move(*c) : nullptr;
      },
      EventLoop::Options{});
  if (!loop.ok()) return loop.error();
  dispatcher_ = std::move(*loop);
  return OkStatus();
}

}  // namespace tidemark::run
