#include "base/history/edn.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include "base/text.h"

namespace tidemark::history {
namespace {

using nlohmann::json;

// Character classes, one table lookup per byte: the reader's inner loops (SkipSpace and the
// token scan) run once per input byte.
constexpr uint8_t kSpace = 1;      // skipped between forms: whitespace and ','
constexpr uint8_t kDelimiter = 2;  // ends a token: whitespace, ',', brackets, '"', ';'

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : std::string_view(" \t\n\r\f\v,")) t[c] = kSpace | kDelimiter;
  for (unsigned char c : std::string_view("()[]{}\";")) t[c] = kDelimiter;
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

bool IsDelimiter(char c) { return kClasses[static_cast<unsigned char>(c)] & kDelimiter; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Replaces every byte that does not start or continue a valid UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF included) by U+FFFD, so imported text is always
// valid JSON text and serialises losslessly.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xE  ? 3
                 : (b >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? b : len == 2 ? b & 0x1Fu : len == 3 ? b & 0x0Fu : b & 0x07u;
    for (size_t k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c >> 6) == 0x2;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (ok) {
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp < 0xE000);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string Text(std::string_view s) { return IsAscii(s) ? std::string(s) : ValidUtf8(s); }

bool ParseHex4(std::string_view s, uint32_t* out) {
  if (s.size() < 4) return false;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + 4, v, 16);
  if (ec != std::errc() || p != s.data() + 4) return false;
  *out = v;
  return true;
}

}  // namespace

bool EdnReader::Fail(std::string reason) {
  if (error_.empty()) {
    // The reason quotes input, which may be a control character or a megabyte-long token.
    error_ = Printable(reason, 160);
    error_line_ = line_;
  }
  return false;
}

void EdnReader::SkipSpace() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '\n') {
      ++line_;
      ++pos_;
    } else if (kClasses[static_cast<unsigned char>(c)] & kSpace) {
      ++pos_;
    } else if (c == ';') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else {
      return;
    }
  }
}

bool EdnReader::SkipToForm() {
  SkipSpace();
  return pos_ < text_.size();
}

bool EdnReader::Consume(char c) {
  SkipSpace();
  if (pos_ < text_.size() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

bool EdnReader::Read(json* out, bool* was_keyword) {
  error_.clear();
  if (was_keyword) *was_keyword = false;
  return ReadForm(out, 0, was_keyword);
}

bool EdnReader::ReadAtom(std::string_view* out) {
  if (pos_ >= text_.size()) return false;
  switch (text_[pos_]) {  // the forms ReadForm does not hand to ReadToken
    case '[':
    case '(':
    case '{':
    case '"':
    case '\\':
    case ')':
    case ']':
    case '}':
    case '#':
      return false;
    default:
      break;
  }
  size_t start = pos_;
  while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
  *out = text_.substr(start, pos_ - start);
  if (out->empty()) return false;  // a delimiter SkipToForm leaves (none does, but never loop)
  return true;
}

bool EdnReader::ReadForm(json* out, int depth, bool* was_keyword) {
  if (depth > kMaxEdnDepth) return Fail("EDN nested deeper than " + std::to_string(kMaxEdnDepth));
  SkipSpace();
  if (pos_ >= text_.size()) return Fail("unexpected end of input, expected an EDN value");
  char c = text_[pos_];
  switch (c) {
    case '[':
      ++pos_;
      return ReadSeq(']', out, depth + 1);
    case '(':
      ++pos_;
      return ReadSeq(')', out, depth + 1);
    case '{':
      ++pos_;
      return ReadMap(out, depth + 1);
    case '"':
      return ReadString(out);
    case '\\':
      return ReadChar(out);
    case ')':
    case ']':
    case '}':
      return Fail(std::string("unexpected '") + c + "'");
    case '#': {
      if (pos_ + 1 >= text_.size()) return Fail("'#' at end of input");
      char n = text_[pos_ + 1];
      if (n == '{') {
        pos_ += 2;
        return ReadSeq('}', out, depth + 1);
      }
      if (n == '_') {  // discard the next form, then read the one after it
        pos_ += 2;
        json ignored;
        if (!ReadForm(&ignored, depth + 1, nullptr)) return false;
        return ReadForm(out, depth + 1, was_keyword);
      }
      if (n == '#') {  // ##Inf, ##-Inf, ##NaN
        pos_ += 2;
        size_t start = pos_;
        while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
        std::string_view sym = text_.substr(start, pos_ - start);
        if (sym == "Inf")
          *out = std::numeric_limits<double>::infinity();
        else if (sym == "-Inf")
          *out = -std::numeric_limits<double>::infinity();
        else if (sym == "NaN")
          *out = std::numeric_limits<double>::quiet_NaN();
        else
          return Fail("unknown symbolic value ##" + std::string(sym));
        return true;
      }
      // A tagged element (#inst "...", #uuid "...", #jepsen.foo{...}): keep the form, drop the
      // tag, which the checkers have no use for.
      ++pos_;
      size_t start = pos_;
      while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
      if (pos_ == start) return Fail("'#' must be followed by a tag, '{', '_' or '#'");
      return ReadForm(out, depth + 1, nullptr);
    }
    default:
      return ReadToken(out, was_keyword);
  }
}

bool EdnReader::ReadSeq(char close, json* out, int depth) {
  // Items are read in place: json::array() (an initializer list) and a moved temporary per item
  // cost more than a two-number vector's own parsing. A history's vectors are mostly pairs
  // ([from to], [key value]): room for two is one allocation where growing was two.
  *out = json(json::value_t::array);
  auto& items = out->get_ref<json::array_t&>();
  items.reserve(2);
  for (;;) {
    SkipSpace();
    if (pos_ >= text_.size())
      return Fail(std::string("unterminated collection, expected '") + close + "'");
    if (text_[pos_] == close) {
      ++pos_;
      return true;
    }
    if (!ReadForm(&items.emplace_back(), depth, nullptr)) return false;
  }
}

bool EdnReader::ReadMap(json* out, int depth) {
  *out = json(json::value_t::object);
  for (;;) {
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unterminated map, expected '}'");
    if (text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    json key;
    if (!ReadForm(&key, depth, nullptr)) return false;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') return Fail("map has a key with no value");
    json value;
    if (!ReadForm(&value, depth, nullptr)) return false;
    std::string k = key.is_string() ? key.get<std::string>()
                                    : key.dump(-1, ' ', false, json::error_handler_t::replace);
    (*out)[k] = std::move(value);
  }
}

bool EdnReader::ReadString(json* out) {
  ++pos_;  // opening quote
  std::string s;
  while (pos_ < text_.size()) {
    char c = text_[pos_++];
    if (c == '"') {
      *out = IsAscii(s) ? std::move(s) : ValidUtf8(s);
      return true;
    }
    if (c == '\n') ++line_;
    if (c != '\\') {
      s.push_back(c);
      continue;
    }
    if (pos_ >= text_.size()) break;
    char e = text_[pos_++];
    switch (e) {
      case '"':
        s.push_back('"');
        break;
      case '\\':
        s.push_back('\\');
        break;
      case 'n':
        s.push_back('\n');
        break;
      case 't':
        s.push_back('\t');
        break;
      case 'r':
        s.push_back('\r');
        break;
      case 'b':
        s.push_back('\b');
        break;
      case 'f':
        s.push_back('\f');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!ParseHex4(text_.substr(pos_), &cp)) return Fail("bad \\u escape in string");
        pos_ += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate wants its low half
          uint32_t lo = 0;
          if (text_.substr(pos_, 2) == "\\u" && ParseHex4(text_.substr(pos_ + 2), &lo) &&
              lo >= 0xDC00 && lo < 0xE000) {
            pos_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          cp = 0xFFFD;
        }
        AppendUtf8(cp, &s);
        break;
      }
      default:
        return Fail(std::string("unknown escape '\\") + e + "' in string");
    }
  }
  return Fail("unterminated string");
}

bool EdnReader::ReadChar(json* out) {
  ++pos_;  // backslash
  if (pos_ >= text_.size()) return Fail("'\\' at end of input");
  size_t start = pos_++;
  while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
  std::string_view name = text_.substr(start, pos_ - start);
  if (name.size() == 1)
    *out = Text(name);
  else if (name == "newline")
    *out = "\n";
  else if (name == "space")
    *out = " ";
  else if (name == "tab")
    *out = "\t";
  else if (name == "return")
    *out = "\r";
  else if (name == "formfeed")
    *out = "\f";
  else if (name == "backspace")
    *out = "\b";
  else if (name.size() == 5 && name[0] == 'u') {
    uint32_t cp = 0;
    if (!ParseHex4(name.substr(1), &cp))
      return Fail("bad character literal \\" + std::string(name));
    std::string s;
    AppendUtf8(cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : cp, &s);
    *out = std::move(s);
  } else {
    return Fail("unknown character literal \\" + std::string(name));
  }
  return true;
}

bool EdnReader::ReadToken(json* out, bool* was_keyword) {
  size_t start = pos_;
  while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
  std::string_view tok = text_.substr(start, pos_ - start);
  if (tok.empty()) return Fail(std::string("unexpected character '") + text_[start] + "'");
  bool numeric =
      IsDigit(tok[0]) || (tok.size() > 1 && (tok[0] == '-' || tok[0] == '+') && IsDigit(tok[1]));
  if (numeric) {
    std::string_view num = tok;
    if (num[0] == '+') num.remove_prefix(1);
    bool is_float = num.find_first_of(".eE") != std::string_view::npos || num.back() == 'M';
    if (num.back() == 'N' || num.back() == 'M') num.remove_suffix(1);
    if (is_float) {
      double d = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), d);
      if (ec != std::errc() || p != num.data() + num.size())
        return Fail("bad number '" + std::string(tok) + "'");
      *out = d;
    } else {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), i);
      if (ec == std::errc::result_out_of_range) {
        uint64_t u = 0;  // JSON histories may hold integers up to 2^64-1; keep them
        auto [pu, ecu] = std::from_chars(num.data(), num.data() + num.size(), u);
        if (ecu == std::errc() && pu == num.data() + num.size()) {
          *out = u;
          return true;
        }
        return Fail("integer '" + std::string(tok) + "' does not fit in 64 bits");
      }
      if (ec != std::errc() || p != num.data() + num.size())
        return Fail("bad number '" + std::string(tok) + "' (ratios and radix forms unsupported)");
      *out = i;
    }
    return true;
  }
  if (tok[0] == ':') {
    if (tok.size() == 1) return Fail("empty keyword ':'");
    *out = Text(tok.substr(1));
    if (was_keyword) *was_keyword = true;
    return true;
  }
  if (tok == "nil")
    *out = nullptr;
  else if (tok == "true")
    *out = true;
  else if (tok == "false")
    *out = false;
  else
    *out = Text(tok);  // a symbol
  return true;
}

Result<json> ParseEdn(std::string_view text) {
  EdnReader r(text);
  if (!r.SkipToForm()) return Error{"line " + std::to_string(r.line()) + ": no EDN value"};
  json v;
  if (!r.Read(&v)) return Error{"line " + std::to_string(r.error_line()) + ": " + r.error()};
  if (r.SkipToForm())
    return Error{"line " + std::to_string(r.line()) + ": unexpected text after the EDN value"};
  return v;
}

}  // namespace tidemark::history
