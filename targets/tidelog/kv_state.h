// The key/value state machine of the register workload, applied from the committed log in
// offset order. Values are JSON values kept in their compact serialized form; a cas compares
// serialized forms (so 1 and 1.0 differ). Not thread-safe (the node's event loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "types.h"

namespace tidemark::tidelog {

class KvState {
 public:
  struct CasOutcome {
    bool ok = false;
    std::optional<std::string> current;  // the value seen (serialized JSON), nullopt if unset
  };
  // Applies log[applied(), end) to the state; entries other than kv ones only move the cursor.
  // Entries must be committed: applying is never undone.
  void ApplyUpTo(const std::vector<Entry>& log, uint64_t end);
  uint64_t applied() const { return applied_; }
  // The value of `key` (serialized JSON), nullopt if never written.
  std::optional<std::string> Get(const std::string& key) const;
  // The outcome of the cas applied at `offset`; nullopt if none was applied there.
  std::optional<CasOutcome> CasResult(uint64_t offset) const;

 private:
  uint64_t applied_ = 0;
  std::unordered_map<std::string, std::string> values_;
  std::map<uint64_t, CasOutcome> cas_results_;
};

}  // namespace tidemark::tidelog
