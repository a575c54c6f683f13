// The run's collect phase: what the nodes hold at the end, gathered for the checkers. Each
// node's HWM is asked just before shutdown (it bounds its committed prefix), then, with the
// nodes stopped, each node's log is dumped (Cluster::Dump, kept in RUN/nodes/<n>/dump.json) and
// brought into the shape CheckReplicas reads.
//
// Threading: the runner's thread; Cluster::Dump runs one child process per node.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "checkers/log/log_checker.h"
#include "harness/run/cluster.h"
#include "targets/adapters/client.h"

namespace tidemark::run {

// Each running, unpaused node's HWM as its status reports it now (nullopt where it cannot say).
std::vector<std::optional<int64_t>> FinalHwms(Cluster& cluster, targets::StatusClient& status);

// Every node's dumped log as a ReplicaLog; an error naming the first node whose dump failed or
// could not be read. Call with the nodes stopped.
Result<std::vector<checkers::ReplicaLog>> CollectReplicas(
    Cluster& cluster, const std::vector<std::optional<int64_t>>& final_hwm);

// Reads a node's dump file (JSON, as ReplicaLogFromJson takes it, after NormalizeDump) without
// holding it as JSON: each entry is added to the log's ReplicaEntries as it is parsed, its value
// interned in `values` (shared by the nodes of a run; a table of its own when null). Errors name
// the node.
Result<checkers::ReplicaLog> ReadDump(
    const std::string& path, const std::string& node, std::optional<int64_t> final_hwm,
    std::shared_ptr<checkers::logck::ValueTable> values = nullptr);

// Brings a node's dump into the shape CheckReplicas reads (docs/anomalies.md "Replica dumps"):
// the node's name, its committed prefix end (the HWM it reported just before shutdown, else the
// dump's own hint), and entry values (tidelog calls them `payload`).
nlohmann::json NormalizeDump(nlohmann::json dump, const std::string& node,
                             std::optional<int64_t> final_hwm);

}  // namespace tidemark::run
