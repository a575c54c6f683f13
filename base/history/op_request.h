// OpRequest: one operation a client performs, as the generator asks for it and as a client
// adapter executes it. It lives on the ground floor because both sides use it: workloads/
// produce it, targets/adapters/ consume it, and neither depends on the other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tidemark::history {

// One operation to invoke. The runner records it as the `invoke` event verbatim (process, f, key,
// value) and hands it to a client adapter.
struct OpRequest {
  int64_t process = 0;             // the logical client process (a GenContext free process)
  std::string f;                   // "read", "write", "cas", "append"
  std::optional<std::string> key;  // register workload: "k17"; absent for the log
  nlohmann::json value;            // the invoke argument, shaped per docs/history-format.md
  // Which node (index into the run's node list, 0-based) the op must be sent to, when the
  // workload cares (local reads from a chosen node, final reads from every node). Absent: the
  // runner chooses (e.g. the process's own node, or the last known leader).
  std::optional<int> node;
};

}  // namespace tidemark::history
