// libFuzzer target for ScanLogReadPage (targets/adapters/log_read_scan.h), differential against
// nlohmann::json: when the scanner accepts a body, nlohmann must parse it to the same
// from/to/hwm/consistency and entries (the entries text re-parsed inside brackets), and the text
// must be compact; when nlohmann parses a body into the accepted shape, the scanner must accept it
// too, except for the documented difference (nlohmann ignores what follows a NUL after the
// value). Any mismatch aborts with the reason.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "targets/adapters/log_read_scan.h"

namespace {

using nlohmann::json;
using tidemark::targets::tidelog_http::LogReadPage;
using tidemark::targets::tidelog_http::ScanLogReadPage;

struct Expected {
  int64_t from = 0, to = 0, hwm = 0;
  std::optional<std::string> consistency;
  json entries;
};

// int64 as the scanner reads it: uint64 above INT64_MAX is out of shape.
std::optional<int64_t> Int64(const json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned() &&
      j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return j.get<int64_t>();
  }
  return std::nullopt;
}

std::optional<Expected> Oracle(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto field = [&j](const char* name) -> std::optional<int64_t> {
    auto it = j.find(name);
    return it == j.end() ? std::nullopt : Int64(*it);
  };
  const auto from = field("from"), to = field("to"), hwm = field("hwm");
  auto entries = j.find("entries");
  if (!from || !to || !hwm || entries == j.end() || !entries->is_array()) return std::nullopt;
  for (const json& e : *entries) {
    if (!e.is_array() || e.size() != 2 || !Int64(e[0]) || !e[1].is_string()) return std::nullopt;
  }
  Expected x{*from, *to, *hwm, std::nullopt, *entries};
  auto c = j.find("consistency");
  if (c != j.end() && c->is_string()) x.consistency = c->get<std::string>();
  return x;
}

bool Compact(const std::string& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const char c = entries[i];
    if (c == '"') {
      for (++i; entries[i] != '"'; ++i) i += entries[i] == '\\' ? 1 : 0;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '+') {
      return false;
    } else if (c == '-' && i + 1 < entries.size() && entries[i + 1] == '0') {
      return false;
    }
  }
  return true;
}

[[noreturn]] void Die(const char* what, std::string_view body) {
  std::fprintf(stderr, "log_read_scan mismatch (%s) on %zu bytes\n", what, body.size());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::optional<LogReadPage> got = ScanLogReadPage(body);
  const std::optional<Expected> want = Oracle(body);
  if (got) {
    if (!want) Die("scanner accepts what nlohmann refuses", body);
    if (got->from != want->from || got->to != want->to || got->hwm != want->hwm)
      Die("from/to/hwm", body);
    if (got->consistency != want->consistency) Die("consistency", body);
    if (got->count != static_cast<int64_t>(want->entries.size())) Die("count", body);
    const json entries = json::parse("[" + got->entries + "]", nullptr, false);
    if (entries.is_discarded()) Die("entries text is not JSON", body);
    if (entries != want->entries) Die("entries", body);
    if (!Compact(got->entries)) Die("entries not compact", body);
  } else if (want) {
    const size_t nul = body.find('\0');
    if (nul == std::string_view::npos) Die("nlohmann accepts what the scanner refuses", body);
    if (!ScanLogReadPage(body.substr(0, nul))) Die("refuses the part before the NUL", body);
  }
  return 0;
}
