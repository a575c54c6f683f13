#include "base/history/import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "base/history/edn.h"
#include "base/history/jsonl.h"
#include "base/text.h"

namespace tidemark::history {
namespace {

using nlohmann::json;

constexpr int64_t kSyntheticNsPerEvent = 1000;
constexpr std::string_view kLogMarker = "jepsen.util - ";

std::string Where(const std::string& source, size_t line) {
  return source + ":" + std::to_string(line) + ": ";
}

std::string Short(const json& j) {
  return Printable(j.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

// Text of a :key or :node value: strings and keywords as is, integers in decimal.
std::optional<std::string> ScalarText(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return j.dump();
  return std::nullopt;
}

// An EDN op map -> Event. `index`/`time_ns` are -1 when the map has no :index / :time.
Result<Event> EventFromEdnMap(const json& m) {
  if (!m.is_object()) return Error{"expected an op map {...}, got " + Short(m)};
  Event e;
  e.index = -1;
  e.time_ns = -1;
  bool has_process = false, has_type = false, has_f = false;
  for (const auto& [k, v] : m.items()) {
    if (k == "process") {
      has_process = true;
      if (v.is_string() && v.get_ref<const std::string&>() == "nemesis") {
        e.process = kNemesisProcess;
      } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        e.process = v.get<int64_t>();
      } else {
        return Error{":process must be an integer >= 0 or :nemesis, got " + Short(v)};
      }
    } else if (k == "type") {
      has_type = true;
      auto t = v.is_string() ? ParseEventType(v.get_ref<const std::string&>()) : std::nullopt;
      if (!t) return Error{"unknown :type " + Short(v) + " (expected :invoke :ok :fail :info)"};
      e.type = *t;
    } else if (k == "f") {
      has_f = true;
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        return Error{":f must be a keyword or string, got " + Short(v)};
      e.f = v.get<std::string>();
    } else if (k == "value") {
      e.value = v;
    } else if (k == "key" || k == "node") {
      auto text = ScalarText(v);
      if (!text && !v.is_null())
        return Error{":" + k + " must be a string, keyword or integer, got " + Short(v)};
      (k == "key" ? e.key : e.node) = text;
    } else if (k == "error" && v.is_string()) {
      e.error = v.get<std::string>();
    } else if ((k == "index" || k == "time") && v.is_number_integer()) {
      int64_t n = v.get<int64_t>();
      if (n < 0) return Error{":" + k + " must be >= 0, got " + Short(v)};
      (k == "index" ? e.index : e.time_ns) = n;
    } else {
      e.extra[k] = v;
    }
  }
  if (!has_process) return Error{"op map has no :process"};
  if (!has_type) return Error{"op map has no :type"};
  if (!has_f) return Error{"op map has no :f"};
  return e;
}

// Index and time: kept when every event carries them, else synthesised from the position.
Status FinishTimes(LocatedHistory* h) {
  bool all_index = true, all_time = true;
  for (const Event& e : h->events) {
    all_index = all_index && e.index >= 0;
    all_time = all_time && e.time_ns >= 0;
  }
  for (size_t i = 0; i < h->events.size(); ++i) {
    Event& e = h->events[i];
    int64_t pos = static_cast<int64_t>(i);
    if (!all_index) {
      if (e.index >= 0) e.extra["index"] = e.index;
      e.index = pos;
    } else if (i > 0 && e.index <= h->events[i - 1].index) {
      return Error{Where(h->source, h->lines[i]) + ":index " + std::to_string(e.index) +
                   " does not increase (previous op has :index " +
                   std::to_string(h->events[i - 1].index) + ")"};
    }
    if (!all_time) {
      if (e.time_ns >= 0) e.extra["time"] = e.time_ns;
      e.time_ns = pos * kSyntheticNsPerEvent;
    }
  }
  return OkStatus();
}

Result<LocatedHistory> ImportEdn(std::string_view text, bool vector, const std::string& source) {
  LocatedHistory h;
  h.source = source;
  EdnReader r(text);
  if (vector) {
    if (!r.SkipToForm()) return Error{Where(source, r.line()) + "empty input, expected '['"};
    if (!r.Consume('[') && !r.Consume('('))
      return Error{Where(source, r.line()) + "expected a vector '[' of op maps"};
  }
  for (;;) {
    if (!r.SkipToForm()) {
      if (vector) return Error{Where(source, r.line()) + "unterminated vector, expected ']'"};
      break;
    }
    if (vector && (r.Consume(']') || r.Consume(')'))) {
      if (r.SkipToForm())
        return Error{Where(source, r.line()) + "unexpected text after the history vector"};
      break;
    }
    size_t line = r.line();
    json m;
    if (!r.Read(&m)) return Error{Where(source, r.error_line()) + r.error()};
    auto e = EventFromEdnMap(m);
    if (!e) return Error{Where(source, line) + e.error().message};
    h.events.push_back(std::move(*e));
    h.lines.push_back(line);
  }
  auto st = FinishTimes(&h);
  if (!st) return st.error();
  return h;
}

// The "P :type :f" that starts a console-log line, when each is a plain ASCII token (nearly every
// line): read as text, with no JSON value per token. 1: an event, `e` has its process, type and
// op name; 0: not an event; -1: something else, for ReadLeadGeneral, which decides every case
// this one does the same way.
int ReadLeadFast(EdnReader& r, Event* e) {
  auto ascii = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  };
  std::string_view process, type, f;
  if (!r.SkipToForm() || !r.ReadAtom(&process)) return -1;
  if (process == ":nemesis") {
    e->process = kNemesisProcess;
  } else {
    // Digits only: a sign, suffix or overflow is the general reader's to judge.
    auto [end, ec] = std::from_chars(process.data(), process.data() + process.size(), e->process);
    if (ec != std::errc() || end != process.data() + process.size() || process[0] == '-') return -1;
  }
  if (!r.SkipToForm() || !r.ReadAtom(&type) || type.size() < 2 || type[0] != ':') return -1;
  auto t = ParseEventType(type.substr(1));
  if (!t) return ascii(type) ? 0 : -1;
  e->type = *t;
  if (!r.SkipToForm() || !r.ReadAtom(&f) || f.size() < 2 || f[0] != ':' || !ascii(f)) return -1;
  e->f.assign(f.substr(1));
  return 1;
}

// ReadLeadFast for any line: true when the line is an event.
Result<bool> ReadLeadGeneral(EdnReader& r, Event* e) {
  json process, type;
  bool keyword = false;
  // Only "P :type ..." with P an integer or :nemesis is an event; other messages are not.
  if (!r.SkipToForm() || !r.Read(&process)) return false;
  if (!process.is_number_integer() && process != "nemesis") return false;
  if (!r.SkipToForm() || !r.Read(&type, &keyword) || !keyword || !type.is_string()) return false;
  auto t = ParseEventType(type.get_ref<const std::string&>());
  if (!t) return false;

  e->type = *t;
  if (process.is_number_integer()) {
    if (process.get<int64_t>() < 0) return Error{"process must be >= 0, got " + Short(process)};
    e->process = process.get<int64_t>();
  } else {
    e->process = kNemesisProcess;
  }
  json f;
  if (!r.SkipToForm()) return Error{"event line has no op name (:f) after the type"};
  if (!r.Read(&f, &keyword)) return Error{r.error()};
  if (!f.is_string() || f.get_ref<const std::string&>().empty())
    return Error{"op name must be a keyword, got " + Short(f)};
  e->f = f.get<std::string>();
  return true;
}

// One console-log line into `e` (a default Event). Returns false for a line that is not an
// event.
Result<bool> ParseLogLine(std::string_view line, Event* e) {
  size_t at = line.find(kLogMarker);
  if (at == std::string_view::npos) return false;
  const std::string_view rest = line.substr(at + kLogMarker.size());
  EdnReader r(rest);
  switch (ReadLeadFast(r, e)) {
    case 1:
      break;
    case 0:
      return false;
    default: {
      *e = Event();
      r = EdnReader(rest);
      auto lead = ReadLeadGeneral(r, e);
      if (!lead || !*lead) return lead;
    }
  }
  bool keyword = false;
  if (r.SkipToForm()) {
    if (!r.Read(&e->value, &keyword)) return Error{"bad value: " + r.error()};
    if (keyword && e->type != EventType::kInvoke) {
      e->error = e->value.get<std::string>();
      e->value = nullptr;
    }
  }
  if (r.SkipToForm()) {
    json err;
    if (!r.Read(&err)) return Error{"bad error after the value: " + r.error()};
    if (err.is_string())
      e->error = err.get<std::string>();
    else
      e->extra["error"] = err;
  }
  if (r.SkipToForm()) return Error{"unexpected text after the value and error"};
  return true;
}

Result<LocatedHistory> ImportLog(std::string_view text, const std::string& source) {
  LocatedHistory h;
  h.source = source;
  // At most one event a line: reserved, the events are built in place and never moved.
  size_t lines = 1;
  for (size_t at = text.find('\n'); at != std::string_view::npos; at = text.find('\n', at + 1))
    ++lines;
  h.events.reserve(lines);
  h.lines.reserve(lines);
  size_t lineno = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++lineno;
    Event& e = h.events.emplace_back();
    auto is_event = ParseLogLine(text.substr(pos, end - pos), &e);
    if (!is_event) return Error{Where(source, lineno) + is_event.error().message};
    if (*is_event) {
      int64_t i = static_cast<int64_t>(h.events.size()) - 1;
      e.index = i;
      e.time_ns = i * kSyntheticNsPerEvent;
      h.lines.push_back(lineno);
    } else {
      h.events.pop_back();
    }
    pos = end + 1;
  }
  return h;
}

// One open, one fstat and a read or two: a small history costs less to read than a stream's
// setup (locale, buffer) would.
Result<std::string> ReadAll(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::string text;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    text.resize(static_cast<size_t>(st.st_size) + 1);  // + 1: the read that sees the end
  size_t size = 0;
  for (;;) {
    if (size == text.size()) text.resize(std::max<size_t>(64 * 1024, text.size() * 2));
    ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Error{path + ": read error"};
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(size);
  return text;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "auto") return Format::kAuto;
  if (name == "jsonl") return Format::kJsonl;
  if (name == "jepsen-log") return Format::kJepsenLog;
  if (name == "jepsen-edn") return Format::kJepsenEdn;
  if (name == "edn-lines" || name == "jepsen-edn-lines") return Format::kEdnLines;
  return std::nullopt;
}

const char* ToString(Format format) {
  switch (format) {
    case Format::kAuto:
      return "auto";
    case Format::kJsonl:
      return "jsonl";
    case Format::kJepsenLog:
      return "jepsen-log";
    case Format::kJepsenEdn:
      return "jepsen-edn";
    case Format::kEdnLines:
      return "edn-lines";
  }
  return "?";
}

Result<Format> SniffFormat(std::string_view text, const std::string& source_name) {
  if (text.find(kLogMarker) != std::string_view::npos) return Format::kJepsenLog;
  EdnReader r(text);                           // skips whitespace and ; comments
  if (!r.SkipToForm()) return Format::kJsonl;  // empty: an empty history in any format
  {
    size_t p = r.position();
    if (text[p] == '[' || text[p] == '(') return Format::kJepsenEdn;
    if (text[p] == '{') {
      size_t q = text.find_first_not_of(" \t\r\n", p + 1);
      if (q != std::string_view::npos && (text[q] == '"' || text[q] == '}')) return Format::kJsonl;
      if (q != std::string_view::npos && text[q] == ':') return Format::kEdnLines;
    }
  }
  return Error{source_name +
               ": cannot tell the history format (expected JSONL objects, an EDN vector, EDN "
               "maps or a Jepsen console log); pass the format explicitly"};
}

Result<LocatedHistory> ImportTextLocated(std::string_view text, Format format,
                                         const std::string& source_name) {
  if (format == Format::kAuto) {
    auto f = SniffFormat(text, source_name);
    if (!f) return f.error();
    format = *f;
  }
  switch (format) {
    case Format::kJsonl:
      return ReadJsonlText(text, source_name);
    case Format::kJepsenLog:
      return ImportLog(text, source_name);
    case Format::kJepsenEdn:
      return ImportEdn(text, /*vector=*/true, source_name);
    case Format::kEdnLines:
      return ImportEdn(text, /*vector=*/false, source_name);
    case Format::kAuto:
      break;
  }
  return Error{source_name + ": unsupported format"};
}

Result<Format> SniffFileFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return SniffFormat(head, path);
}

Result<LocatedHistory> ImportFileLocated(const std::string& path, Format format,
                                         const ReadProgress& progress, LogReads reads) {
  // JSONL streams; the other formats are small, read whole.
  if (format == Format::kJsonl) return ReadJsonlFile(path, progress, reads);
  if (format == Format::kAuto) {
    auto f = SniffFileFormat(path);
    if (!f) return f.error();
    format = *f;
    if (format == Format::kJsonl) return ReadJsonlFile(path, progress, reads);
  }
  auto text = ReadAll(path);
  if (!text) return text.error();
  auto h = ImportTextLocated(*text, format, path);
  if (progress) progress(text->size(), text->size());
  return h;
}

Result<History> ImportText(std::string_view text, Format format, const std::string& source_name) {
  auto h = ImportTextLocated(text, format, source_name);
  if (!h) return h.error();
  return std::move(h->events);
}

Result<History> ImportFile(const std::string& path, Format format) {
  auto h = ImportFileLocated(path, format);
  if (!h) return h.error();
  return std::move(h->events);
}

}  // namespace tidemark::history
