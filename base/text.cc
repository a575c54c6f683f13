#include "base/text.h"

#include <algorithm>

namespace tidemark {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendHexEscape(unsigned char c, std::string* out) {
  *out += "\\x";
  *out += kHex[c >> 4];
  *out += kHex[c & 0xf];
}

// Appends the escaped form of the control byte `c`; false when `c` is not a C0 control or DEL.
bool AppendC0Escape(unsigned char c, std::string* out) {
  switch (c) {
    case '\n':
      *out += "\\n";
      return true;
    case '\r':
      *out += "\\r";
      return true;
    case '\t':
      *out += "\\t";
      return true;
    default:
      break;
  }
  if (c >= 0x20 && c != 0x7f) return false;
  AppendHexEscape(c, out);
  return true;
}

// Length of the UTF-8 sequence a lead byte starts (1 for ASCII and for stray bytes).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

}  // namespace

std::string EscapeControls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (AppendC0Escape(c, &out)) continue;
    // U+0080..U+009F are C1 controls (U+009B is a one-character CSI): 0xC2 0x80..0x9F.
    if (c == 0xc2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) {
        out += "\\u00";
        out += kHex[next >> 4];
        out += kHex[next & 0xf];
        ++i;
        continue;
      }
    }
    out += static_cast<char>(c);
  }
  return out;
}

std::string Printable(std::string_view text, size_t max_chars) {
  max_chars = std::max<size_t>(max_chars, 16);
  // Escaping only grows text, so escaping a prefix of max_chars bytes is enough.
  std::string head = EscapeControls(text.substr(0, max_chars + 1));
  if (head.size() <= max_chars && text.size() <= max_chars) return head;
  std::string out;
  size_t budget = max_chars - std::min<size_t>(max_chars, 3);
  for (size_t i = 0; i < head.size();) {
    auto c = static_cast<unsigned char>(head[i]);
    // Keep escapes ("\x1b", "\u009b") and UTF-8 sequences whole.
    size_t n = SequenceLength(c);
    if (c == '\\' && i + 1 < head.size()) n = head[i + 1] == 'x' ? 4 : head[i + 1] == 'u' ? 6 : 2;
    if (out.size() + n > budget) break;
    out.append(head, i, n);
    i += n;
  }
  return out + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string CountOf(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace tidemark
