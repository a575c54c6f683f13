#include "base/history/import.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

// One console-log line. Returns nullopt for a line that is not an event.
Result<std::optional<Event>> ParseLogLine(std::string_view line) {
  size_t at = line.find(kLogMarker);
  if (at == std::string_view::npos) return std::optional<Event>();
  EdnReader r(line.substr(at + kLogMarker.size()));
  json process, type;
  bool keyword = false;
  // Only "P :type ..." with P an integer or :nemesis is an event; other messages are not.
  if (!r.SkipToForm() || !r.Read(&process)) return std::optional<Event>();
  if (!process.is_number_integer() && process != "nemesis") return std::optional<Event>();
  if (!r.SkipToForm() || !r.Read(&type, &keyword) || !keyword || !type.is_string())
    return std::optional<Event>();
  auto t = ParseEventType(type.get_ref<const std::string&>());
  if (!t) return std::optional<Event>();

  Event e;
  e.type = *t;
  if (process.is_number_integer()) {
    if (process.get<int64_t>() < 0) return Error{"process must be >= 0, got " + Short(process)};
    e.process = process.get<int64_t>();
  } else {
    e.process = kNemesisProcess;
  }
  json f;
  if (!r.SkipToForm()) return Error{"event line has no op name (:f) after the type"};
  if (!r.Read(&f, &keyword)) return Error{r.error()};
  if (!f.is_string() || f.get_ref<const std::string&>().empty())
    return Error{"op name must be a keyword, got " + Short(f)};
  e.f = f.get<std::string>();
  if (r.SkipToForm()) {
    if (!r.Read(&e.value, &keyword)) return Error{"bad value: " + r.error()};
    if (keyword && e.type != EventType::kInvoke) {
      e.error = e.value.get<std::string>();
      e.value = nullptr;
    }
  }
  if (r.SkipToForm()) {
    json err;
    if (!r.Read(&err)) return Error{"bad error after the value: " + r.error()};
    if (err.is_string())
      e.error = err.get<std::string>();
    else
      e.extra["error"] = err;
  }
  if (r.SkipToForm()) return Error{"unexpected text after the value and error"};
  return std::optional<Event>(std::move(e));
}

Result<LocatedHistory> ImportLog(std::string_view text, const std::string& source) {
  LocatedHistory h;
  h.source = source;
  size_t lineno = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++lineno;
    auto e = ParseLogLine(text.substr(pos, end - pos));
    if (!e) return Error{Where(source, lineno) + e.error().message};
    if (*e) {
      int64_t i = static_cast<int64_t>(h.events.size());
      (*e)->index = i;
      (*e)->time_ns = i * kSyntheticNsPerEvent;
      h.events.push_back(std::move(**e));
      h.lines.push_back(lineno);
    }
    pos = end + 1;
  }
  return h;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{path + ": read error"};
  return std::move(ss).str();
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
