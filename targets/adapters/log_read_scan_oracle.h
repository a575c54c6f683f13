// The reference the scanner is checked against (log_read_scan_test.cc, the libFuzzer target):
// what nlohmann::json says a log-read reply means, when it has the shape ScanLogReadPage
// accepts. For tests only.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tidemark::targets::tidelog_http::oracle {

struct Expected {
  int64_t from = 0, to = 0, hwm = 0;
  std::optional<std::string> consistency;
  nlohmann::json entries;
};

// int64 as the scanner reads it: uint64 above INT64_MAX is out of shape.
inline std::optional<int64_t> Int64(const nlohmann::json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned() &&
      j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return j.get<int64_t>();
  }
  return std::nullopt;
}

inline std::optional<Expected> Oracle(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto field = [&j](const char* name) -> std::optional<int64_t> {
    auto it = j.find(name);
    return it == j.end() ? std::nullopt : Int64(*it);
  };
  const auto from = field("from"), to = field("to"), hwm = field("hwm");
  auto entries = j.find("entries");
  if (!from || !to || !hwm || entries == j.end() || !entries->is_array()) return std::nullopt;
  for (const nlohmann::json& e : *entries) {
    if (!e.is_array() || e.size() != 2 || !Int64(e[0]) || !e[1].is_string()) return std::nullopt;
  }
  Expected x{*from, *to, *hwm, std::nullopt, *entries};
  auto c = j.find("consistency");
  if (c != j.end() && c->is_string()) x.consistency = c->get<std::string>();
  return x;
}

}  // namespace tidemark::targets::tidelog_http::oracle
