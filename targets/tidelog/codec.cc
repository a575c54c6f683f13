#include "codec.h"

namespace tidemark::tidelog {
namespace {
using nlohmann::json;

bool GetU64(const json& j, const char* k, uint64_t* out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
  return true;
}
bool GetStr(const json& j, const char* k, std::string* out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}
bool GetBool(const json& j, const char* k, bool* out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}
}  // namespace

const char* EntryKindName(EntryKind k) {
  switch (k) {
    case EntryKind::kNoop:
      return "noop";
    case EntryKind::kAppend:
      return "append";
    case EntryKind::kKvWrite:
      return "kv-write";
    case EntryKind::kKvCas:
      return "kv-cas";
  }
  return "?";
}

json EntryToJson(const Entry& e) {
  return {{"offset", e.index},
          {"generation", e.generation},
          {"kind", EntryKindName(e.kind)},
          {"client_id", e.client_id},
          {"seq", e.seq},
          {"payload", e.payload}};
}

std::optional<Entry> EntryFromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Entry e;
  std::string kind;
  if (!GetU64(j, "offset", &e.index) || !GetU64(j, "generation", &e.generation) ||
      !GetStr(j, "kind", &kind) || !GetStr(j, "client_id", &e.client_id) ||
      !GetU64(j, "seq", &e.seq) || !GetStr(j, "payload", &e.payload))
    return std::nullopt;
  if (kind == "noop")
    e.kind = EntryKind::kNoop;
  else if (kind == "append")
    e.kind = EntryKind::kAppend;
  else if (kind == "kv-write")
    e.kind = EntryKind::kKvWrite;
  else if (kind == "kv-cas")
    e.kind = EntryKind::kKvCas;
  else
    return std::nullopt;
  return e;
}

json MessageToJson(const Message& m) {
  static const char* kTypes[] = {"vote", "vote-reply", "append", "append-reply"};
  json j = {{"type", kTypes[static_cast<int>(m.type)]},
            {"from", m.from},
            {"to", m.to},
            {"generation", m.generation}};
  switch (m.type) {
    case MsgType::kVote:
      j["last_end"] = m.last_end;
      j["last_gen"] = m.last_gen;
      break;
    case MsgType::kVoteReply:
      j["ok"] = m.ok;
      break;
    case MsgType::kAppend: {
      j["prev_end"] = m.prev_end;
      j["prev_gen"] = m.prev_gen;
      j["commit"] = m.commit;
      j["ctx"] = m.ctx;
      json es = json::array();
      for (const Entry& e : m.entries) es.push_back(EntryToJson(e));
      j["entries"] = std::move(es);
      break;
    }
    case MsgType::kAppendReply:
      j["ok"] = m.ok;
      j["ctx"] = m.ctx;
      j["match_end"] = m.match_end;
      break;
  }
  return j;
}

std::optional<Message> MessageFromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Message m;
  std::string type;
  if (!GetStr(j, "type", &type) || !GetStr(j, "from", &m.from) || !GetStr(j, "to", &m.to) ||
      !GetU64(j, "generation", &m.generation))
    return std::nullopt;
  if (type == "vote") {
    m.type = MsgType::kVote;
    if (!GetU64(j, "last_end", &m.last_end) || !GetU64(j, "last_gen", &m.last_gen))
      return std::nullopt;
  } else if (type == "vote-reply") {
    m.type = MsgType::kVoteReply;
    if (!GetBool(j, "ok", &m.ok)) return std::nullopt;
  } else if (type == "append") {
    m.type = MsgType::kAppend;
    if (!GetU64(j, "prev_end", &m.prev_end) || !GetU64(j, "prev_gen", &m.prev_gen) ||
        !GetU64(j, "commit", &m.commit) || !GetU64(j, "ctx", &m.ctx))
      return std::nullopt;
    auto it = j.find("entries");
    if (it == j.end() || !it->is_array()) return std::nullopt;
    uint64_t expect = m.prev_end;
    for (const json& ej : *it) {
      auto e = EntryFromJson(ej);
      // Entries must be contiguous from prev_end; anything else is a malformed message.
      if (!e || e->index != expect++) return std::nullopt;
      m.entries.push_back(std::move(*e));
    }
  } else if (type == "append-reply") {
    m.type = MsgType::kAppendReply;
    if (!GetBool(j, "ok", &m.ok) || !GetU64(j, "ctx", &m.ctx) ||
        !GetU64(j, "match_end", &m.match_end))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  return m;
}

namespace {
std::string Compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
json StringOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

bool WriteDumpJson(const WalState& st, std::ostream& out) {
  // Keys in the order nlohmann::json sorts them, so the output is the one of the whole object.
  std::string buf = "{\"corruption\":" + Compact(StringOrNull(st.corruption)) + ",\"entries\":[";
  for (size_t i = 0; i < st.log.size(); ++i) {
    if (i > 0) buf += ',';
    buf += Compact(EntryToJson(st.log[i]));
    if (buf.size() >= (1u << 16)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  buf += "],\"generation\":" + Compact(st.hard_state.generation);
  buf += ",\"hwm_hint\":" + Compact(st.hwm);
  buf += ",\"records\":" + Compact(st.records);
  buf += ",\"valid_bytes\":" + Compact(st.valid_bytes);
  buf += ",\"voted_for\":" + Compact(StringOrNull(st.hard_state.voted_for)) + "}\n";
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  return static_cast<bool>(out.flush());
}

}  // namespace tidemark::tidelog
