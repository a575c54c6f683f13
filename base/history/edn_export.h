// Export of a history as a Jepsen EDN vector, so Knossos or Elle users can cross-check tidemark
// histories (docs/history-format.md; `tidemark export --to jepsen-edn`).
//
// Output: "[{:index 0, :time 1200, :process 3, :type :invoke, :f :read, :value nil}\n {...}]\n",
// one op map per line. `:process` is `:nemesis` for kNemesisProcess; `:type` and `:f` are
// keywords (`:f` a string when it is not a valid keyword); `:key`, `:node`, `:error` only when
// set; then every Event::extra key not already written. JSON values map back to EDN: null -> nil,
// arrays -> vectors, objects -> maps with keyword keys (string keys when not keyword-safe),
// NaN/inf -> ##NaN/##Inf. Reading the output with ImportText(..., Format::kJepsenEdn, ...) gives
// the same events back (ToJson-equal), except that NaN never compares equal.
// Threading: pure functions, except WriteJepsenEdn which writes its own file.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::history {

// One JSON value as EDN text.
std::string ToEdn(const nlohmann::json& value);

// The whole history as a Jepsen EDN vector (ends with a newline).
std::string ToJepsenEdn(const History& h);

// Writes ToJepsenEdn(h) to `path` (created or truncated). Errors: "PATH: <reason>".
Status WriteJepsenEdn(const History& h, const std::string& path);

}  // namespace tidemark::history
