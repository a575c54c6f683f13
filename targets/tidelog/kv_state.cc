#include "kv_state.h"

#include <iostream>
#include <nlohmann/json.hpp>

namespace tidemark::tidelog {

void KvState::ApplyUpTo(const std::vector<Entry>& log, uint64_t end) {
  if (end > log.size()) end = log.size();
  for (; applied_ < end; ++applied_) {
    const Entry& e = log[applied_];
    if (e.kind != EntryKind::kKvWrite && e.kind != EntryKind::kKvCas) continue;
    // The payload was validated before it was proposed; a bad one here means a corrupt log
    // that slipped through, and is skipped rather than crashing the node.
    nlohmann::json j = nlohmann::json::parse(e.payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string()) {
      std::cerr << "tidelog: skipping malformed kv entry at " << applied_ << "\n";
      continue;
    }
    std::string key = j["key"].get<std::string>();
    if (e.kind == EntryKind::kKvWrite) {
      values_[key] = j.value("value", nlohmann::json()).dump();
    } else {
      std::string from = j.value("from", nlohmann::json()).dump();
      CasOutcome out;
      auto it = values_.find(key);
      if (it != values_.end()) out.current = it->second;
      if (out.current && *out.current == from) {
        out.ok = true;
        it->second = j.value("to", nlohmann::json()).dump();
      }
      cas_results_[applied_] = out;
    }
  }
}

std::optional<std::string> KvState::Get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<KvState::CasOutcome> KvState::CasResult(uint64_t offset) const {
  auto it = cas_results_.find(offset);
  if (it == cas_results_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tidemark::tidelog
