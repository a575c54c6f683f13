#include "targets/adapters/log_read_scan.h"

#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace tidemark::targets::tidelog_http {
namespace {

constexpr bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Bytes that end a run of plain string content: '"', '\\', control characters and every
// non-ASCII byte (validated as UTF-8 one sequence at a time).
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> t{};
  for (size_t c = 0; c < t.size(); ++c) t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return t;
}();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  auto byte = [out](uint32_t b) { out->push_back(static_cast<char>(b)); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
}

enum class Key { kOther, kFrom, kTo, kHwm, kConsistency, kEntries };

Key Classify(std::string_view k) {
  if (k == "from") return Key::kFrom;
  if (k == "to") return Key::kTo;
  if (k == "hwm") return Key::kHwm;
  if (k == "consistency") return Key::kConsistency;
  if (k == "entries") return Key::kEntries;
  return Key::kOther;
}

struct Number {
  bool is_int64 = false;  // integral (no fraction, no exponent) and within int64
  bool negative_zero = false;
  int64_t value = 0;
};

// A cursor over the body. Every Scan* function starts at the first byte of its token and, on
// success, leaves the cursor just past it; on failure the cursor is unspecified.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  const char* pos() const { return p_; }
  void Rewind(const char* at) { p_ = at; }
  bool AtEnd() const { return p_ == end_; }
  // The current byte, or '\0' at the end ('\0' matches no token the scanner looks for).
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }
  void Advance() { ++p_; }

  void SkipBom() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
  }
  // Returns whether any whitespace was skipped.
  bool SkipWs() {
    const char* start = p_;
    while (p_ < end_ && IsWs(*p_)) ++p_;
    return p_ != start;
  }

  // A JSON number; `out` says whether it is an int64 as nlohmann would store it (nlohmann falls
  // back to a double for integers outside int64/uint64; uint64 above INT64_MAX is refused here).
  bool ScanNumber(Number* out) {
    bool negative = false;
    if (p_ < end_ && *p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ >= end_) return false;
    uint64_t magnitude = 0;
    bool overflow = false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      do {
        const auto digit = static_cast<uint64_t>(*p_ - '0');
        if (overflow || magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          overflow = true;
        } else {
          magnitude = magnitude * 10 + digit;
        }
        ++p_;
      } while (p_ < end_ && IsDigit(*p_));
    } else {
      return false;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return false;
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    out->is_int64 = integral && !overflow && magnitude <= kMax + (negative ? 1 : 0);
    out->negative_zero = integral && negative && magnitude == 0;
    if (out->is_int64) {
      // Negate in uint64 (well defined) so INT64_MIN needs no special case.
      out->value = static_cast<int64_t>(negative ? ~magnitude + 1 : magnitude);
    }
    return true;
  }

  // A JSON string starting at '"'; unescaped into `decoded` when it is not null.
  bool ScanString(std::string* decoded) {
    ++p_;
    for (;;) {
      const char* run = p_;
      while (p_ < end_ && !kStringStop[static_cast<unsigned char>(*p_)]) ++p_;
      if (decoded != nullptr) decoded->append(run, p_);
      if (p_ >= end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!ScanEscape(decoded)) return false;
        continue;
      }
      if (c < 0x20) return false;
      const char* sequence = p_;
      if (!ScanUtf8()) return false;
      if (decoded != nullptr) decoded->append(sequence, p_);
    }
  }

  // An object key and the ':' after it (with whitespace around), classified after unescaping.
  bool ScanKey(Key* key) {
    if (Peek() != '"') return false;
    const char* open = p_;
    if (!ScanString(nullptr)) return false;
    const std::string_view raw(open + 1, static_cast<size_t>(p_ - open - 2));
    if (raw.find('\\') == std::string_view::npos) {
      *key = Classify(raw);
    } else {
      std::string decoded;
      p_ = open;
      if (!ScanString(&decoded)) return false;
      *key = Classify(decoded);
    }
    SkipWs();
    if (Peek() != ':') return false;
    ++p_;
    SkipWs();
    return true;
  }

  // Any JSON value, validated and skipped. Iterative, so deep nesting cannot exhaust the stack.
  bool SkipValue() {
    std::string closers;  // the closing bracket of every open container, innermost last
    for (;;) {
      SkipWs();
      if (p_ >= end_) return false;
      switch (*p_) {
        case '{':
          ++p_;
          SkipWs();
          if (Peek() == '}') {
            ++p_;
            break;
          }
          closers.push_back('}');
          if (!SkipKey()) return false;
          continue;
        case '[':
          ++p_;
          SkipWs();
          if (Peek() == ']') {
            ++p_;
            break;
          }
          closers.push_back(']');
          continue;
        case '"':
          if (!ScanString(nullptr)) return false;
          break;
        case 't':
          if (!Literal("true")) return false;
          break;
        case 'f':
          if (!Literal("false")) return false;
          break;
        case 'n':
          if (!Literal("null")) return false;
          break;
        default: {
          Number ignored;
          if (!ScanNumber(&ignored)) return false;
        }
      }
      // After a complete value: close containers until one continues with ','.
      for (;;) {
        if (closers.empty()) return true;
        SkipWs();
        const char c = Peek();
        if (c == ',') {
          ++p_;
          SkipWs();
          if (closers.back() == '}' && !SkipKey()) return false;
          break;
        }
        if (c != closers.back()) return false;
        ++p_;
        closers.pop_back();
      }
    }
  }

  // The entries array starting at '['; fills page->entries and page->count only on success.
  // Fails on a syntax error and on a shape error alike (the caller tells them apart).
  bool ScanEntries(LogReadPage* page) {
    ++p_;
    bool clean = !SkipWs();
    const char* begin = p_;
    int64_t count = 0;
    if (Peek() != ']') {
      for (;;) {
        if (Peek() != '[') return false;
        ++p_;
        clean &= !SkipWs();
        Number offset;
        if (!ScanNumber(&offset) || !offset.is_int64) return false;
        clean &= !offset.negative_zero;
        clean &= !SkipWs();
        if (Peek() != ',') return false;
        ++p_;
        clean &= !SkipWs();
        if (Peek() != '"' || !ScanString(nullptr)) return false;
        clean &= !SkipWs();
        if (Peek() != ']') return false;
        ++p_;
        ++count;
        clean &= !SkipWs();
        if (Peek() == ']') break;
        if (Peek() != ',') return false;
        ++p_;
        clean &= !SkipWs();
      }
    }
    const char* stop = p_;
    ++p_;
    if (clean) {
      page->entries.assign(begin, stop);
    } else {
      ReEmit(begin, stop, &page->entries);
    }
    page->count = count;
    return true;
  }

 private:
  bool SkipKey() {
    Key ignored;
    return ScanKey(&ignored);
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = HexValue(p_[i]);
      if (h < 0) return false;
      v = v << 4 | static_cast<uint32_t>(h);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // At '\\'. Surrogates follow nlohmann: a high one must be followed by an escaped low one, a
  // lone low one is an error.
  bool ScanEscape(std::string* decoded) {
    ++p_;
    if (p_ >= end_) return false;
    const char c = *p_++;
    char plain = 0;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        plain = c;
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4(&cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
          p_ += 2;
          if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        if (decoded != nullptr) AppendUtf8(cp, decoded);
        return true;
      }
      default:
        return false;
    }
    if (decoded != nullptr) decoded->push_back(plain);
    return true;
  }

  // One UTF-8 sequence starting at a byte >= 0x80, with the ranges of RFC 3629 (the ones
  // nlohmann's lexer checks): no overlong forms, no surrogates, nothing above U+10FFFF.
  bool ScanUtf8() {
    const auto lead = static_cast<unsigned char>(*p_);
    int tail = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      tail = 1;
    } else if (lead == 0xE0) {
      tail = 2;
      lo = 0xA0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      tail = 2;
    } else if (lead == 0xED) {
      tail = 2;
      hi = 0x9F;
    } else if (lead == 0xF0) {
      tail = 3;
      lo = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      tail = 3;
    } else if (lead == 0xF4) {
      tail = 3;
      hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ <= tail) return false;
    for (int i = 1; i <= tail; ++i) {
      const auto b = static_cast<unsigned char>(p_[i]);
      if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return false;
    }
    p_ += tail + 1;
    return true;
  }

  // Copies validated entries text without whitespace outside strings, "-0" as "0", in runs.
  static void ReEmit(const char* begin, const char* stop, std::string* out) {
    out->clear();
    out->reserve(static_cast<size_t>(stop - begin));
    const char* run = begin;
    for (const char* q = begin; q < stop;) {
      const char c = *q;
      // Validated: "-0" here is a whole number (leading zeros and fractions were refused).
      if (IsWs(c) || (c == '-' && q[1] == '0')) {
        out->append(run, q);
        run = ++q;
      } else if (c == '"') {
        for (++q; *q != '"';) q += *q == '\\' ? 2 : 1;
        ++q;
      } else {
        ++q;
      }
    }
    out->append(run, stop);
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<LogReadPage> ScanLogReadPage(std::string_view body) {
  Scanner s(body);
  s.SkipBom();
  s.SkipWs();
  if (s.Peek() != '{') return std::nullopt;
  s.Advance();
  s.SkipWs();
  LogReadPage page;
  // Whether the last occurrence of each required key had the right type (last one wins).
  bool has_from = false;
  bool has_to = false;
  bool has_hwm = false;
  bool has_entries = false;
  for (;;) {
    Key key = Key::kOther;
    if (!s.ScanKey(&key)) return std::nullopt;  // also refuses "{}": a reply has members
    switch (key) {
      case Key::kFrom:
      case Key::kTo:
      case Key::kHwm: {
        int64_t& field = key == Key::kFrom ? page.from : key == Key::kTo ? page.to : page.hwm;
        bool& has = key == Key::kFrom ? has_from : key == Key::kTo ? has_to : has_hwm;
        const char c = s.Peek();
        if (c == '-' || IsDigit(c)) {
          Number n;
          if (!s.ScanNumber(&n)) return std::nullopt;
          has = n.is_int64;
          field = n.value;
        } else {
          if (!s.SkipValue()) return std::nullopt;
          has = false;
        }
        break;
      }
      case Key::kConsistency:
        if (s.Peek() == '"') {
          std::string value;
          if (!s.ScanString(&value)) return std::nullopt;
          page.consistency = std::move(value);
        } else {
          if (!s.SkipValue()) return std::nullopt;
          page.consistency.reset();
        }
        break;
      case Key::kEntries: {
        const char* at = s.pos();
        if (s.Peek() == '[' && s.ScanEntries(&page)) {
          has_entries = true;
        } else {
          // Not the expected shape, or not JSON: the generic scan decides which.
          s.Rewind(at);
          if (!s.SkipValue()) return std::nullopt;
          has_entries = false;
        }
        break;
      }
      case Key::kOther:
        if (!s.SkipValue()) return std::nullopt;
        break;
    }
    s.SkipWs();
    if (s.Peek() == '}') break;
    if (s.Peek() != ',') return std::nullopt;
    s.Advance();
    s.SkipWs();
  }
  s.Advance();
  s.SkipWs();
  if (!s.AtEnd()) return std::nullopt;
  if (!has_from || !has_to || !has_hwm || !has_entries) return std::nullopt;
  return page;
}

void AppendPage(LogReadPage& into, LogReadPage&& next) {
  if (into.entries.empty()) {
    into.entries = std::move(next.entries);
  } else if (!next.entries.empty()) {
    into.entries.reserve(into.entries.size() + 1 + next.entries.size());
    into.entries.push_back(',');
    into.entries.append(next.entries);
  }
  into.count += next.count;
  into.to = next.to;
  into.hwm = next.hwm;
}

}  // namespace tidemark::targets::tidelog_http
