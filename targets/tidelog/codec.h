// JSON encoding of peer messages and log entries (the /raft/msgs body and `tidelog dump`).
// Decoding validates every field and never throws. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "consensus.h"

namespace tidemark::tidelog {

nlohmann::json EntryToJson(const Entry& e);
std::optional<Entry> EntryFromJson(const nlohmann::json& j);
nlohmann::json MessageToJson(const Message& m);
std::optional<Message> MessageFromJson(const nlohmann::json& j);
const char* EntryKindName(EntryKind k);

}  // namespace tidemark::tidelog
