// A hand-written scanner for tidelog's reply to POST /v1/log/read (docs/protocol.md):
//
//   {"from":1000,"to":1140,"hwm":1140,"consistency":"linearizable",
//    "entries":[[1000,"v3-17"],[1001,"v12-18"]]}
//
// It validates the whole body as JSON and keeps the `entries` array as compact JSON text instead
// of building a nlohmann::json tree: the read path of the harness splices that text straight into
// the history line it writes, so a tree would be built only to be dumped again. The scanner
// accepts exactly the bodies that nlohmann::json::parse accepts *and* that have the shape above
// (the differential test and fuzz/log_read_scan_fuzzer.cc hold it to that), except for the
// deliberate differences listed at ScanLogReadPage.
//
// Ownership: a LogReadPage owns its strings; the scanner keeps no pointer into `body`.
// Threading: pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidemark::targets::tidelog_http {

// One page of a log read, as the node reported it.
struct LogReadPage {
  int64_t from = 0;
  int64_t to = 0;
  int64_t hwm = 0;
  // The reply's "consistency" when it is a JSON string (unescaped, UTF-8); nullopt when the key
  // is absent or its (last) value is not a string.
  std::optional<std::string> consistency;
  // The entries as JSON text without the outer brackets, compact (no whitespace), each element
  // `[offset,"value"]` with the offset in canonical decimal and the value string copied verbatim
  // (escapes included): `[1000,"v3-17"],[1001,"v12-18"]`, "" when there are none. Splicing it
  // between `[` and `]` in a larger JSON document gives valid JSON.
  std::string entries;
  int64_t count = 0;  // number of entries
};

// Parses a log read reply. Returns nullopt unless `body` is one complete JSON object (an optional
// UTF-8 BOM before it, only JSON whitespace after it) with
//   - integer "from", "to" and "hwm" that fit in int64 (no fraction, no exponent),
//   - an array "entries" whose elements are each exactly [integer offset (int64), string],
// and every other member any valid JSON value (skipped). Strings anywhere must be valid JSON:
// escapes are validated (\uD800-\uDBFF must be followed by \uDC00-\uDFFF, a lone low surrogate
// is refused), control characters below 0x20 are refused, and so is UTF-8 that nlohmann refuses
// (overlong forms, encoded surrogates, code points above U+10FFFF, truncated sequences).
//
// Duplicate keys: the last occurrence wins, as in nlohmann::json (an earlier "from": "x" followed
// by "from": 3 is accepted with 3; an earlier valid "entries" followed by a malformed one is
// refused). Keys are compared after unescaping ("fr\u006fm" is "from").
//
// Deliberate differences from nlohmann::json::parse(body, nullptr, false) followed by the shape
// check:
//   - nlohmann stops at a NUL byte after the top-level value and ignores everything after it
//     (`{...}\0junk` parses); this scanner refuses any byte after the object other than
//     whitespace.
//   - an integer above INT64_MAX parses in nlohmann as number_unsigned (and would be wrapped by
//     get<int64_t>()); this scanner refuses it for from/to/hwm and for offsets.
// `-0` is valid JSON and accepted (as 0); in `entries` it is re-emitted as `0`.
//
// Cost: one pass over `body`; when `entries` holds no whitespace and no `-0`, its text is copied
// with one append; otherwise a second pass over that span re-emits it compactly.
std::optional<LogReadPage> ScanLogReadPage(std::string_view body);

// Appends the next page of the same read to `into`: its entries (with a comma between when both
// are non-empty) and count; `to` and `hwm` become next's. `from` and `consistency` stay into's.
void AppendPage(LogReadPage& into, LogReadPage&& next);

}  // namespace tidemark::targets::tidelog_http
