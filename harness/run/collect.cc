#include "harness/run/collect.h"

namespace tidemark::run {

std::vector<std::optional<int64_t>> FinalHwms(Cluster& cluster, targets::StatusClient& status) {
  std::vector<std::optional<int64_t>> hwm(static_cast<size_t>(cluster.size()));
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.Running(i) || cluster.Paused(i)) continue;
    if (auto st = status.Status(cluster.ClientUrl(i)); st.ok())
      hwm[static_cast<size_t>(i)] = st->hwm;
  }
  return hwm;
}

Result<std::vector<checkers::ReplicaLog>> CollectReplicas(
    Cluster& cluster, const std::vector<std::optional<int64_t>>& final_hwm) {
  std::vector<checkers::ReplicaLog> replicas;
  auto dumps = cluster.Dump();
  for (size_t i = 0; i < dumps.size(); ++i) {
    if (!dumps[i].error.empty()) return Error{dumps[i].error};
    auto r = checkers::ReplicaLogFromJson(
        NormalizeDump(std::move(dumps[i].doc), cluster.Name(static_cast<int>(i)), final_hwm[i]));
    if (!r.ok()) return r.error();
    replicas.push_back(std::move(*r));
  }
  return replicas;
}

nlohmann::json NormalizeDump(nlohmann::json dump, const std::string& node,
                             std::optional<int64_t> final_hwm) {
  if (!dump.is_object()) return dump;
  if (!dump.contains("node")) dump["node"] = node;
  if (!dump.contains("hwm") && !dump.contains("commit_index") && !dump.contains("commit")) {
    if (final_hwm) {
      dump["hwm"] = *final_hwm;
    } else if (dump.contains("hwm_hint")) {
      dump["hwm"] = dump["hwm_hint"];
    }
  }
  if (dump.contains("entries") && dump["entries"].is_array()) {
    for (auto& e : dump["entries"]) {
      if (e.is_object() && !e.contains("value") && e.contains("payload"))
        e["value"] = e.value("kind", "append") == "append" ? e["payload"] : nlohmann::json();
    }
  }
  return dump;
}

}  // namespace tidemark::run
