// Text that came from outside (history values, file contents, user arguments) made safe to
// print on a terminal and short enough to read in an error message.
//
// A history value is whatever the system under test returned: it may hold terminal escape
// sequences (ESC [ 2 J clears the screen) or a megabyte-long token. Everything tidemark prints
// from such text goes through Printable(), which escapes control characters and shortens.
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidemark {

// `text` with every control character escaped: \n \r \t as such, other C0 bytes, DEL and the
// UTF-8 encoded C1 controls (U+0080..U+009F) as \xNN / \u00NN; a backslash stays as it is.
// Bytes that are not valid UTF-8 are kept (a terminal shows them as U+FFFD, they cannot start
// an escape sequence on their own once ESC and the C1 CSI are escaped).
std::string EscapeControls(std::string_view text);

// EscapeControls, then, when longer than `max_chars` (>= 16), the head of it followed by
// "... (N bytes)" giving the original length. Never cuts inside an escape or a UTF-8 sequence.
std::string Printable(std::string_view text, size_t max_chars = 80);

// "1 window", "3 windows": the count and the noun in the right number.
std::string CountOf(int64_t n, std::string_view one, std::string_view many);

}  // namespace tidemark
