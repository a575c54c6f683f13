#include "harness/run/collect.h"

#include <fstream>

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
  // The nodes' logs hold nearly the same values: one table interns them for all.
  auto values = std::make_shared<checkers::logck::ValueTable>();
  auto dumps = cluster.Dump();
  for (size_t i = 0; i < dumps.size(); ++i) {
    if (!dumps[i].error.empty()) return Error{dumps[i].error};
    auto r = ReadDump(dumps[i].path, cluster.Name(static_cast<int>(i)), final_hwm[i], values);
    if (!r.ok()) return r.error();
    replicas.push_back(std::move(*r));
  }
  return replicas;
}

Result<checkers::ReplicaLog> ReadDump(const std::string& path, const std::string& node,
                                      std::optional<int64_t> final_hwm,
                                      std::shared_ptr<checkers::logck::ValueTable> values) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{node + ": cannot read its dump " + path};
  const std::string where = "replica " + node + ": ";
  checkers::ReplicaEntries entries(values ? std::move(values)
                                          : std::make_shared<checkers::logck::ValueTable>());
  std::optional<Error> bad;
  std::string key;  // the top-level key being read
  // Each element of the top-level "entries" (or "log") array becomes a ReplicaEntry as soon as
  // it is parsed, and is then dropped from the document.
  auto take = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth == 1 && event == Event::key) key = parsed.get<std::string>();
    const bool element =
        depth == 2 && (key == "entries" || key == "log") &&
        (event == Event::object_end || event == Event::array_end || event == Event::value);
    if (!element) return true;
    if (bad) return false;
    if (parsed.is_object() && !parsed.contains("value") && parsed.contains("payload"))
      parsed["value"] =
          parsed.value("kind", "append") == "append" ? parsed["payload"] : nlohmann::json();
    auto e = checkers::ReplicaEntryFromJson(parsed, where);
    if (!e.ok()) {
      bad = e.error();
    } else if (!entries.empty() && e->offset <= entries.offset(entries.size() - 1)) {
      bad = Error{where + "entries must be in strictly increasing offset order (" +
                  std::to_string(e->offset) + " after " +
                  std::to_string(entries.offset(entries.size() - 1)) + ")"};
    } else {
      entries.push_back(*e);
    }
    return false;
  };
  nlohmann::json doc = nlohmann::json::parse(in, take, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error{node + ": dump is not valid JSON (" + path + ")"};
  if (bad) return *bad;
  auto r = checkers::ReplicaLogFromJson(NormalizeDump(std::move(doc), node, final_hwm));
  if (!r.ok()) return r.error();
  r->entries = std::move(entries);
  return r;
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
