// Escaping for everything the reports write: HTML text and attributes, JSON embedded in a
// <script> block, and XML (junit.xml).
//
// Every string that came from the system under test or the history passes through one of these
// before it reaches a report. They never throw: bytes that are not valid UTF-8 become U+FFFD, and
// characters XML 1.0 cannot hold (control characters other than tab, newline, carriage return)
// become U+FFFD too.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tidemark::reports {

// `s` with invalid UTF-8 sequences replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);

// Text safe inside an HTML element or a quoted attribute value: & < > " ' escaped.
std::string EscapeHtml(std::string_view s);

// Text safe inside an XML element or attribute (junit.xml): & < > " ' escaped, characters XML
// cannot represent replaced by U+FFFD.
std::string EscapeXml(std::string_view s);

// Compact JSON safe to embed between <script type="application/json"> and </script>: `<`, `>`
// and `&` are written as \u003c, \u003e, \u0026 (so neither `</script>` nor `<!--` can appear),
// U+2028/U+2029 as \u2028/\u2029. JSON.parse of the result gives back `j` exactly (invalid UTF-8
// in `j`'s strings is replaced by U+FFFD).
std::string ScriptJson(const nlohmann::json& j);

// Replaces every occurrence of `placeholder` in `text` by `value` (used to fill the templates).
// Returns the number of replacements.
int ReplaceAll(std::string& text, std::string_view placeholder, std::string_view value);

}  // namespace tidemark::reports
