#include "harness/run/read_compactor.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace tidemark::run {
namespace {

using history::KnownLog;
using nlohmann::json;

// The head of a log read: from, to, hwm (integers >= 0) and an optional string consistency.
// False when `v` holds anything else besides "entries".
struct Head {
  int64_t from = 0, to = 0, hwm = 0;
  std::string consistency_json;
};
bool ParseHead(const json& v, Head* h) {
  if (!v.is_object()) return false;
  for (const auto& [k, x] : v.items()) {
    if (k == "from" || k == "to" || k == "hwm" || k == "entries") continue;
    if (k == "consistency" && x.is_string()) continue;
    return false;
  }
  auto get = [&v](const char* k, int64_t* out) {
    auto it = v.find(k);
    return it != v.end() && history::JsonNonNegative(*it, out);
  };
  if (!get("from", &h->from) || !get("to", &h->to) || !get("hwm", &h->hwm)) return false;
  if (auto c = v.find("consistency"); c != v.end()) h->consistency_json = c->dump();
  return true;
}

// Entries as the tidelog adapter writes them (targets/adapters/log_read_scan.h): compact text
// `[1000,"v3-17"],[1001,"v12-18"]` from `text[pos]` up to the array's closing bracket, which
// *end receives. The payload is the value's string token, quotes and escapes included.
bool SplitEntriesText(std::string_view text, size_t pos, std::vector<KnownLog::EntryView>* out,
                      size_t* end) {
  if (pos < text.size() && text[pos] == ']') {
    *end = pos;
    return true;
  }
  while (pos < text.size()) {
    if (text[pos++] != '[') return false;
    KnownLog::EntryView e;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 18) {
      e.offset = e.offset * 10 + (text[pos++] - '0');
      ++digits;
    }
    if (digits == 0 || pos + 1 >= text.size() || text[pos] != ',' || text[pos + 1] != '"') {
      return false;
    }
    const size_t open = ++pos;
    for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] == '\\') ++pos;
    }
    if (pos + 1 >= text.size() || text[pos + 1] != ']') return false;
    e.payload = text.substr(open, pos + 1 - open);
    pos += 2;
    out->push_back(e);
    if (pos < text.size() && text[pos] == ']') {
      *end = pos;
      return true;
    }
    if (pos >= text.size() || text[pos++] != ',') return false;
  }
  return false;
}

bool InOrder(int64_t from, const std::vector<KnownLog::EntryView>& entries) {
  int64_t prev = -1;
  for (const auto& e : entries) {
    if (e.offset < from || e.offset <= prev) return false;
    prev = e.offset;
  }
  return true;
}

}  // namespace

std::optional<std::string> ReadCompactor::Compact(const history::Event& e) {
  if (e.type != history::EventType::kOk || e.f != "read") return std::nullopt;
  Head head;
  if (!ParseHead(e.value, &head)) return std::nullopt;
  std::vector<KnownLog::EntryView>& entries = entries_;  // reused: no allocation per read
  entries.clear();
  if (!e.value_text.empty()) {
    // The text is the head as nlohmann writes it with `"entries":[...]` spliced in: a quote
    // inside a JSON string is always escaped, so the first `"entries":[` is the key.
    if (e.value.contains("entries")) return std::nullopt;
    constexpr std::string_view kKey = "\"entries\":[";
    const size_t at = e.value_text.find(kKey);
    size_t end = 0;
    if (at == std::string::npos ||
        !SplitEntriesText(e.value_text, at + kKey.size(), &entries, &end)) {
      return std::nullopt;
    }
    // Whatever is not the entries must be the head itself, or the text holds more than it.
    if (e.value_text.size() - (end + 1 - at) - 1 != e.value.dump().size()) return std::nullopt;
  } else {
    auto it = e.value.find("entries");
    if (it == e.value.end() || !it->is_array()) return std::nullopt;
    // The payloads' texts live in dumped_, sized first so that no view moves.
    dumped_.clear();
    dumped_.reserve(it->size());
    entries.reserve(it->size());
    for (const json& pair : *it) {
      KnownLog::EntryView x;
      if (!pair.is_array() || pair.size() != 2 || !history::JsonNonNegative(pair[0], &x.offset) ||
          !pair[1].is_string()) {
        return std::nullopt;
      }
      dumped_.push_back(pair[1].dump());
      x.payload = dumped_.back();
      entries.push_back(x);
    }
  }
  if (!InOrder(head.from, entries)) return std::nullopt;
  return history::CompactLogRead(known_, head.from, head.to, head.hwm, head.consistency_json,
                                 entries);
}

}  // namespace tidemark::run
