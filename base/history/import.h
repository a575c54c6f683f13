// Reading histories in every format tidemark accepts: its own JSONL, and the formats peers
// publish (docs/history-format.md, "Imported formats"):
//   jsonl       tidemark's history.jsonl (jsonl.h)
//   jepsen-log  Jepsen 0.0.x console log; events are the lines "... jepsen.util - P :type :f V"
//   jepsen-edn  one EDN vector of op maps, as Jepsen and Knossos write it
//   edn-lines   one EDN op map per line (Porcupine's kv corpus); any whitespace between maps is
//               accepted
//
// Imported events get a dense `index` (0, 1, ...) and `time_ns` = index * 1000 (one microsecond
// per event, which keeps real-time order, all the checkers use), unless every op map of an EDN
// history carries an integer `:index` / `:time`, which are then kept (`:index` must increase).
// EDN op maps: `:process` an integer >= 0 or `:nemesis` (-> kNemesisProcess); `:type` one of
// :invoke :ok :fail :info; `:f` a keyword, symbol or string; `:value` any EDN (absent -> null);
// `:key` and `:node` a string, keyword or integer (kept as its text); `:error` a string or
// keyword goes to Event::error, any other error value (e.g. [:timeout nil]) to Event::extra;
// every other key goes to Event::extra under its keyword name.
// In jepsen-log, a completion whose value is a bare keyword (`:timed-out`) records an error, not a
// value: Event::error = "timed-out", value = null, so the op keeps its invoked argument.
//
// Importing does not pair operations: call PairOps (history.h) on the result; on a
// LocatedHistory its errors name FILE:LINE. All errors are returned, never thrown; every
// malformed input is an error "SOURCE:LINE: reason", never a crash or a silent skip (the only
// lines skipped are a jepsen-log's non-event lines, by design of that format).
// Threading: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/history/history.h"
#include "base/history/jsonl.h"
#include "base/result.h"

namespace tidemark::history {

enum class Format { kAuto, kJsonl, kJepsenLog, kJepsenEdn, kEdnLines };

// "auto", "jsonl", "jepsen-log", "jepsen-edn", "edn-lines" (also "jepsen-edn-lines", the name
// ../shared/histories/MANIFEST.tsv uses). nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view name);
const char* ToString(Format format);

// Guesses the format from the start of a text: "jepsen.util - " in it -> jepsen-log; first form
// '[' -> jepsen-edn; '{' followed by '"' -> jsonl; '{' followed by ':' -> edn-lines; only
// whitespace -> jsonl (an empty history in any format). Errors when none matches.
Result<Format> SniffFormat(std::string_view text, const std::string& source_name);
// SniffFormat on the first 64 KiB of a file.
Result<Format> SniffFileFormat(const std::string& path);

// Reads a history in `format` (kAuto: sniffed from the content). `source_name` names the text in
// errors. The Located variants also give the line of every event; ImportFileLocated calls
// `progress` (jsonl.h) as it reads a JSONL file, and once at the end for the other formats.
Result<History> ImportFile(const std::string& path, Format format);
Result<History> ImportText(std::string_view text, Format format, const std::string& source_name);
// `reads` applies to JSONL files (the only format compact log reads exist in).
Result<LocatedHistory> ImportFileLocated(const std::string& path, Format format,
                                         const ReadProgress& progress = {},
                                         LogReads reads = LogReads::kExpand);
Result<LocatedHistory> ImportTextLocated(std::string_view text, Format format,
                                         const std::string& source_name);

}  // namespace tidemark::history
