// A small EDN reader: the subset of EDN that Jepsen and Knossos write into histories, read into
// nlohmann::json values so the rest of the harness handles one value type.
//
// Mapping (docs/history-format.md, "Imported formats"):
//   nil -> null; true/false -> booleans; integers (optional N suffix) -> int64 (uint64 above
//   INT64_MAX); floats (optional
//   M suffix) -> double; "strings" -> strings (\" \\ \n \t \r \b \f \uXXXX escapes);
//   :keywords and symbols -> strings without the colon; \c characters -> one-character strings;
//   [vectors], (lists) and #{sets} -> arrays; {maps} -> objects whose keys are the key's string
//   form (a keyword or string key as is, any other key as its compact JSON text).
//   #_ discards the next form; any other #tag is dropped and its form kept; ; starts a comment.
// A map whose keys collide after that mapping keeps the last value. Bytes that are not valid
// UTF-8 in strings, keywords and symbols become U+FFFD, so every value serialises as JSON.
//
// The reader never throws and never reads past the text; nesting deeper than kMaxEdnDepth is an
// error (not a stack overflow). Plain values; no threads, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::history {

inline constexpr int kMaxEdnDepth = 512;

// One EDN form read from `text` starting at a cursor. Errors carry the 1-based line of the
// problem in `error_line` and a reason without any file name (callers prefix "FILE:LINE: ").
class EdnReader {
 public:
  explicit EdnReader(std::string_view text) : text_(text) {}

  // Skips whitespace, commas and comments. Returns false at the end of the text.
  bool SkipToForm();

  // If the next character (after SkipToForm) is `c`, consumes it and returns true. Used to walk
  // the elements of a top-level vector one by one, knowing each one's line.
  bool Consume(char c);

  // Reads the next form into `*out`. Precondition: SkipToForm() returned true. On failure
  // returns false, and error()/error_line() describe the problem; the cursor is then unspecified.
  // `*was_keyword` (optional) is set when the form was a bare keyword.
  bool Read(nlohmann::json* out, bool* was_keyword = nullptr);

  // Reads the next form's text without building a value, when that form is a plain token: a
  // number, keyword (`*out` keeps its ':') or symbol. Returns false, consuming nothing, when the
  // text is at its end or the next form is anything else (a string, character, collection, tag
  // or #_ discard), which Read() then reads. Precondition: SkipToForm() returned true. Used by
  // importers for the op names and types of nearly every line, where a JSON string per token
  // would cost more than the rest of the line.
  bool ReadAtom(std::string_view* out);

  size_t line() const { return line_; }     // 1-based line of the cursor
  size_t position() const { return pos_; }  // byte offset of the cursor
  const std::string& error() const { return error_; }
  size_t error_line() const { return error_line_; }

 private:
  bool ReadForm(nlohmann::json* out, int depth, bool* was_keyword);
  bool ReadSeq(char close, nlohmann::json* out, int depth);
  bool ReadMap(nlohmann::json* out, int depth);
  bool ReadString(nlohmann::json* out);
  bool ReadChar(nlohmann::json* out);
  bool ReadToken(nlohmann::json* out, bool* was_keyword);
  bool Fail(std::string reason);
  void SkipSpace();

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::string error_;
  size_t error_line_ = 0;
};

// Parses `text` as exactly one EDN form (surrounding whitespace and comments allowed).
// Errors: "LINE: reason" is not prefixed; the message is "line N: reason".
Result<nlohmann::json> ParseEdn(std::string_view text);

}  // namespace tidemark::history
