// tidemark's own history format: JSON Lines, one Event per line (docs/history-format.md).
//
// This header converts Events to and from JSON and reads JSONL files as a stream. Every
// malformed input is a returned Error "FILE:LINE: reason" (invalid JSON, a missing or mistyped
// field, an unknown type, index not increasing, a nemesis event that is not `info`); nothing is
// skipped silently except blank lines. No exception escapes these functions.
//
// Threading: all functions are pure or own their state; a JsonlReader is used by one thread.
// A run's history is written line by line (ToJsonLine) by its Recorder (harness/run/recorder.h).
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/history/compact_reads.h"
#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::history {

// The JSON object of one event. Known fields first; `key`, `node`, `error` only when set; the
// keys of `extra` are added unless they collide with a known field (the known field wins).
nlohmann::json ToJson(const Event& e);

// The same event as one compact JSON line without the trailing newline, fields in the order of
// docs/history-format.md (index, time, process, type, f, key, value, node, error, extras).
// Strings that are not valid UTF-8 have the bad bytes replaced by U+FFFD.
std::string ToJsonLine(const Event& e);

// Parses one event object. The error is the reason only ("missing field 'f'"); callers add
// the location.
Result<Event> FromJson(const nlohmann::json& j);

// Parses one line of JSONL text. Returns nullopt for a blank line. The error is the reason only.
Result<std::optional<Event>> ParseJsonlLine(std::string_view line);

// The longest torn last line that is dropped with a warning rather than refused.
inline constexpr size_t kMaxTornTailBytes = size_t{1} << 20;
// The longest line read at all: memory stays bounded even for a file with no newline. A final
// log read of a million entries is ~60 MiB, well under it.
inline constexpr size_t kMaxJsonlLineBytes = size_t{256} << 20;

// Streams events from a JSONL file; memory stays bounded by the longest line (at most
// kMaxJsonlLineBytes: a longer line is an error).
class JsonlReader {
 public:
  // Errors: the file cannot be opened ("FILE: cannot open: <strerror>").
  // `reads`: whether compact log reads come out expanded (compact_reads.h).
  static Result<std::unique_ptr<JsonlReader>> Open(const std::string& path,
                                                   LogReads reads = LogReads::kExpand);

  // The next event, or nullopt at the end of the file. Checks that `index` increases strictly
  // from one event to the next. A compact log read (compact_reads.h) comes out in full. Errors read
  // "FILE:LINE: reason"; after an error the reader is finished (Next keeps returning the same
  // error).
  Result<std::optional<Event>> Next();

  // A final line that has no newline and does not parse is what a writer killed mid-write
  // leaves: it is dropped (Next returns end of stream) and described here; "" otherwise. Only
  // up to kMaxTornTailBytes: a longer unparsable tail is not a torn write (one write(2) of a
  // round is far smaller) but a wrong file, and is an error "FILE:LINE: ...".
  const std::string& torn_tail() const { return torn_tail_; }
  // 1-based line of the event last returned by Next (0 before the first).
  size_t line() const { return event_line_; }
  // Bytes of the file consumed so far (for progress).
  uint64_t bytes_read() const { return bytes_read_; }
  const std::string& path() const { return path_; }

 private:
  JsonlReader(std::string path, std::ifstream in, LogReads reads)
      : path_(std::move(path)), in_(std::move(in)), reads_(reads) {}

  // Reads the next line into buf_; false at end of file. `*ended` tells whether a newline
  // ended it. An error when the line is longer than kMaxJsonlLineBytes.
  Result<bool> ReadLine(bool* ended);

  std::string path_;
  std::ifstream in_;
  std::string buf_;
  size_t line_ = 0;
  size_t event_line_ = 0;
  uint64_t bytes_read_ = 0;
  std::optional<int64_t> last_index_;
  std::optional<Error> error_;
  std::string torn_tail_;
  LogReads reads_;
  LogReadExpander expander_;  // compact log reads come out in full (kExpand)
};

// The number of newlines in a regular file (0 otherwise, or when it cannot be read: the reader
// will say why). A quick pass over text a reader is about to read anyway; it lets a vector be
// sized once, instead of doubling and ending up to twice as large as it needs to be.
size_t CountLines(const std::string& path);

// Reads a whole JSONL file / text with the same checks as JsonlReader. `source_name` is used in
// error messages and as LocatedHistory::source.
// `progress`, when set, is called now and then (about every 4 MiB) and once at the end with
// the bytes read so far and the file's size.
using ReadProgress = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;
Result<LocatedHistory> ReadJsonlFile(const std::string& path, const ReadProgress& progress = {},
                                     LogReads reads = LogReads::kExpand);
Result<LocatedHistory> ReadJsonlText(std::string_view text, const std::string& source_name);

// Reads the file and pairs it (PairOps with `opts`): additionally reports a completion with no
// outstanding invoke, a second invoke by a busy process and a completion whose f differs, each
// as "FILE:LINE: event N: reason". Returns the ops on success.
Result<std::vector<Op>> ValidateJsonlFile(const std::string& path, PairOptions opts = {});

}  // namespace tidemark::history
