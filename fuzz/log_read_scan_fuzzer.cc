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
#include "targets/adapters/log_read_scan_oracle.h"

namespace {

using nlohmann::json;
using tidemark::targets::tidelog_http::LogReadPage;
using tidemark::targets::tidelog_http::ScanLogReadPage;

using tidemark::targets::tidelog_http::oracle::Expected;
using tidemark::targets::tidelog_http::oracle::Oracle;

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
