// JSON encoding of peer messages and log entries (the /raft/msgs body and `tidelog dump`).
// Decoding validates every field and never throws. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "consensus.h"
#include "wal.h"

namespace tidemark::tidelog {

nlohmann::json EntryToJson(const Entry& e);
std::optional<Entry> EntryFromJson(const nlohmann::json& j);
nlohmann::json MessageToJson(const Message& m);
std::optional<Message> MessageFromJson(const nlohmann::json& j);
const char* EntryKindName(EntryKind k);

// Writes the `tidelog dump` document of a replayed WAL to `out`, then a newline:
// {"corruption": null|text, "entries": [EntryToJson...], "generation", "hwm_hint", "records",
// "valid_bytes", "voted_for": null|id}, compact, keys sorted, invalid UTF-8 replaced by U+FFFD:
// the bytes nlohmann::json prints for that object. Written entry by entry, so time and memory
// stay linear in the log (no document of the whole log is built). False if `out` fails.
bool WriteDumpJson(const WalState& st, std::ostream& out);

}  // namespace tidemark::tidelog
