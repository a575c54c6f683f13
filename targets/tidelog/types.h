// Plain data shared by tidelog's layers: log entries, the persisted hard state, bug switches.
//
// Log offsets ("indexes") are 0-based and dense; `log_end` is the number of entries. A
// generation is tidelog's Raft term. No threading concerns: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tidemark::tidelog {

enum class EntryKind : uint8_t {
  kNoop = 0,     // a new leader's first entry; never shown to clients
  kAppend = 1,   // a client value of the `log` workload; payload = the value
  kKvWrite = 2,  // payload = JSON {"key","value"}
  kKvCas = 3,    // payload = JSON {"key","from","to"}
};

struct Entry {
  uint64_t index = 0;
  uint64_t generation = 0;
  EntryKind kind = EntryKind::kNoop;
  std::string client_id;  // empty for no-ops
  uint64_t seq = 0;
  std::string payload;
  bool operator==(const Entry&) const = default;
};

// What must survive a crash before it is acted upon (vote and generation).
struct HardState {
  uint64_t generation = 0;
  std::string voted_for;  // empty: no vote in `generation`
  bool operator==(const HardState&) const = default;
};

// The deliberately unsafe behaviours of the bug zoo (docs/bug-zoo.md). All false = correct.
struct Bugs {
  bool ack_before_quorum = false;
  bool stale_leader_read = false;
  bool read_above_hwm = false;
  bool commit_old_generation = false;
  bool vote_without_log_check = false;
  bool no_generation_fence = false;
  bool truncate_to_local_hwm = false;
  bool lazy_fsync = false;
  bool skip_fsync = false;
  bool no_idempotency = false;

  // Switches on the bug called `name` (kebab-case); false when no such bug exists.
  bool Set(const std::string& name);
  // The names of the bugs switched on, in declaration order.
  std::vector<std::string> Names() const;
  // Every bug name, for --help.
  static std::vector<std::string> AllNames();
};

}  // namespace tidemark::tidelog
