#include "base/history/jsonl.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include "base/text.h"

namespace tidemark::history {
namespace {

using nlohmann::json;

constexpr const char* kKnownKeys[] = {"index", "time",  "process", "type", "f",
                                      "key",   "value", "node",    "error"};

bool IsKnownKey(std::string_view k) {
  for (const char* known : kKnownKeys)
    if (k == known) return true;
  return false;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A JSON integer that fits in int64_t (floats such as 1.0 are refused: an index is an integer).
std::optional<int64_t> AsInt64(const json& j) {
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

std::string TypeName(const json& j) { return j.type_name(); }

Result<int64_t> NonNegativeInt(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end()) return Error{std::string("missing field '") + field + "'"};
  auto v = AsInt64(*it);
  if (!v || *v < 0)
    return Error{std::string("field '") + field + "' must be an integer >= 0, got " +
                 Printable(Dump(*it))};
  return *v;
}

// An optional string field: absent or null -> nullopt; a string -> it; anything else -> error.
Result<std::optional<std::string>> OptionalString(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return Error{std::string("field '") + field + "' must be a string, got " + TypeName(*it)};
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

json ToJson(const Event& e) {
  json j = json::object();
  if (e.extra.is_object())
    for (const auto& [k, v] : e.extra.items())
      if (!IsKnownKey(k)) j[k] = v;
  j["index"] = e.index;
  j["time"] = e.time_ns;
  if (e.process == kNemesisProcess)
    j["process"] = "nemesis";
  else
    j["process"] = e.process;
  j["type"] = ToString(e.type);
  j["f"] = e.f;
  if (e.key) j["key"] = *e.key;
  j["value"] = e.value;
  if (e.node) j["node"] = *e.node;
  if (e.error) j["error"] = *e.error;
  return j;
}

std::string ToJsonLine(const Event& e) {
  std::string s;
  s.reserve(96);
  s += "{\"index\":";
  s += std::to_string(e.index);
  s += ",\"time\":";
  s += std::to_string(e.time_ns);
  s += ",\"process\":";
  s += e.process == kNemesisProcess ? std::string("\"nemesis\"") : std::to_string(e.process);
  s += ",\"type\":\"";
  s += ToString(e.type);
  s += "\",\"f\":";
  s += Dump(e.f);
  if (e.key) {
    s += ",\"key\":";
    s += Dump(*e.key);
  }
  s += ",\"value\":";
  if (e.value_text.empty()) {
    s += Dump(e.value);
  } else {
    s += e.value_text;
  }
  if (e.node) {
    s += ",\"node\":";
    s += Dump(*e.node);
  }
  if (e.error) {
    s += ",\"error\":";
    s += Dump(*e.error);
  }
  if (e.extra.is_object()) {
    for (const auto& [k, v] : e.extra.items()) {
      if (IsKnownKey(k)) continue;
      s += ',';
      s += Dump(k);
      s += ':';
      s += Dump(v);
    }
  }
  s += '}';
  return s;
}

namespace {

// FromJson on an owned object, so the value and extras are moved, not copied (the JSONL reader
// parses a million lines).
Result<Event> FromOwnedJson(json&& j) {
  if (!j.is_object()) return Error{"an event must be a JSON object, got " + TypeName(j)};
  Event e;
  auto index = NonNegativeInt(j, "index");
  if (!index) return index.error();
  e.index = *index;
  auto time = NonNegativeInt(j, "time");
  if (!time) return time.error();
  e.time_ns = *time;

  auto p = j.find("process");
  if (p == j.end()) return Error{"missing field 'process'"};
  if (p->is_string() && p->get_ref<const std::string&>() == "nemesis") {
    e.process = kNemesisProcess;
  } else if (auto v = AsInt64(*p); v && *v >= 0) {
    e.process = *v;
  } else {
    return Error{"field 'process' must be an integer >= 0 or \"nemesis\", got " +
                 Printable(Dump(*p))};
  }

  auto t = j.find("type");
  if (t == j.end()) return Error{"missing field 'type'"};
  if (!t->is_string()) return Error{"field 'type' must be a string, got " + TypeName(*t)};
  auto type = ParseEventType(t->get_ref<const std::string&>());
  if (!type)
    return Error{"unknown type '" + Printable(t->get_ref<const std::string&>(), 40) +
                 "' (expected invoke, ok, fail or info)"};
  e.type = *type;
  if (e.process == kNemesisProcess && e.type != EventType::kInfo)
    return Error{"a nemesis event must have type 'info', got '" + std::string(ToString(e.type)) +
                 "'"};

  auto f = j.find("f");
  if (f == j.end()) return Error{"missing field 'f'"};
  if (!f->is_string() || f->get_ref<const std::string&>().empty())
    return Error{"field 'f' must be a non-empty string, got " + Printable(Dump(*f))};
  e.f = f->get<std::string>();

  auto key = OptionalString(j, "key");
  if (!key) return key.error();
  e.key = std::move(*key);
  auto node = OptionalString(j, "node");
  if (!node) return node.error();
  e.node = std::move(*node);
  auto error = OptionalString(j, "error");
  if (!error) return error.error();
  e.error = std::move(*error);
  if (auto v = j.find("value"); v != j.end()) e.value = std::move(*v);

  for (auto& [k, v] : j.items())
    if (!IsKnownKey(k)) e.extra[k] = std::move(v);
  return e;
}

}  // namespace

Result<Event> FromJson(const json& j) { return FromOwnedJson(json(j)); }

Result<std::optional<Event>> ParseJsonlLine(std::string_view line) {
  size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return std::optional<Event>();
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Only on this error path: parse again with exceptions to get nlohmann's explanation; the
    // exception is caught here and never leaves the library.
    std::string detail;
    try {
      [[maybe_unused]] json again = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& ex) {
      std::string_view what = ex.what();
      size_t at = what.find("column ");
      // nlohmann quotes the token it stopped at, which may be megabytes long.
      detail = ": " + Printable(at == std::string_view::npos ? what : what.substr(at), 120);
    } catch (const std::exception& ex) {
      detail = ": " + Printable(ex.what(), 120);
    }
    // A torn last line (a writer killed mid-write) is the likely cause when the object is open.
    size_t last = line.find_last_not_of(" \t\r");
    bool torn = line[first] == '{' && line[last] != '}';
    return Error{std::string("invalid JSON") + (torn ? " (truncated line?)" : "") + detail};
  }
  auto e = FromOwnedJson(std::move(j));
  if (!e) return e.error();
  return std::optional<Event>(std::move(*e));
}

namespace {

// Shared by the stream and the in-memory reader: parses one line and checks index order.
Result<std::optional<Event>> NextFromLine(std::string_view line, size_t lineno,
                                          const std::string& source,
                                          std::optional<int64_t>* last_index) {
  auto e = ParseJsonlLine(line);
  if (!e) return Error{source + ":" + std::to_string(lineno) + ": " + e.error().message};
  if (*e && *last_index && (*e)->index <= **last_index) {
    return Error{source + ":" + std::to_string(lineno) + ": index " + std::to_string((*e)->index) +
                 " does not increase (previous event has index " + std::to_string(**last_index) +
                 ")"};
  }
  if (*e) *last_index = (*e)->index;
  return e;
}

// A line that does not parse, has no newline and ends the file: a torn write when short.
std::string TornTailWarning(const std::string& where, size_t bytes, const std::string& reason) {
  if (bytes > kMaxTornTailBytes) return "";
  return where + "dropped an incomplete last line (the writer was killed mid-write?): " + reason;
}

Error TornTailTooLong(const std::string& where, size_t bytes, const std::string& reason) {
  return Error{where + "the last line has no newline, does not parse and is " +
               std::to_string(bytes) + " bytes (a torn write leaves at most " +
               std::to_string(kMaxTornTailBytes >> 20) + " MiB): " + reason};
}

}  // namespace

Result<std::unique_ptr<JsonlReader>> JsonlReader::Open(const std::string& path, LogReads reads) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  return std::unique_ptr<JsonlReader>(new JsonlReader(path, std::move(in), reads));
}

Result<bool> JsonlReader::ReadLine(bool* ended) {
  buf_.clear();
  *ended = false;
  char chunk[64 * 1024];
  for (;;) {
    in_.getline(chunk, sizeof chunk);
    auto got = static_cast<size_t>(in_.gcount());
    bytes_read_ += got;
    bool full = in_.fail() && !in_.eof() && got == sizeof chunk - 1;
    if (!full && !in_.eof()) {  // stopped at a newline, which gcount counts
      buf_.append(chunk, got - 1);
      *ended = true;
      return true;
    }
    buf_.append(chunk, got);
    if (buf_.size() > kMaxJsonlLineBytes)
      return Error{path_ + ":" + std::to_string(line_ + 1) + ": line longer than " +
                   std::to_string(kMaxJsonlLineBytes >> 20) +
                   " MiB without a newline: not a JSONL history?"};
    if (!full) return !buf_.empty();  // end of file
    in_.clear();                      // the chunk filled up: the line goes on
  }
}

Result<std::optional<Event>> JsonlReader::Next() {
  if (error_) return *error_;
  bool ended = false;
  for (;;) {
    auto more = ReadLine(&ended);
    if (!more) {
      error_ = more.error();
      return *error_;
    }
    if (!*more) break;
    ++line_;
    auto e = NextFromLine(buf_, line_, path_, &last_index_);
    if (!e && !ended) {
      // The line stopped at end of file, not at a newline: the last write never finished.
      std::string where = path_ + ":" + std::to_string(line_) + ": ";
      torn_tail_ = TornTailWarning(where, buf_.size(), e.error().message);
      if (!torn_tail_.empty()) return std::optional<Event>();
      error_ = TornTailTooLong(where, buf_.size(), e.error().message);
      return *error_;
    }
    if (!e) {
      error_ = e.error();
      return *error_;
    }
    if (*e) {
      if (auto x = reads_ == LogReads::kExpand ? expander_.Expand(**e) : Result<Ok>(Ok{}); !x) {
        error_ = Error{path_ + ":" + std::to_string(line_) + ": " + x.error().message};
        return *error_;
      }
      event_line_ = line_;
      return e;
    }
  }
  if (in_.bad()) {
    error_ = Error{path_ + ":" + std::to_string(line_ + 1) + ": read error"};
    return *error_;
  }
  return std::optional<Event>();
}

size_t CountLines(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return 0;  // a pipe is read once, by the reader
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::vector<char> buf(size_t{1} << 20);
  size_t lines = 0, n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
    lines += static_cast<size_t>(std::count(buf.data(), buf.data() + n, '\n'));
  std::fclose(f);
  return lines;
}

Result<LocatedHistory> ReadJsonlFile(const std::string& path, const ReadProgress& progress,
                                     LogReads reads) {
  auto reader = JsonlReader::Open(path, reads);
  if (!reader) return reader.error();
  LocatedHistory out;
  out.source = path;
  const size_t lines = CountLines(path) + 1;  // + a last line without its newline
  out.events.reserve(lines);
  out.lines.reserve(lines);
  uint64_t total = 0, next_report = 0;
  if (progress) {
    std::error_code ec;
    total = std::filesystem::file_size(path, ec);
    if (ec) total = 0;
  }
  for (;;) {
    auto e = (*reader)->Next();
    if (!e) return e.error();
    if (!*e) break;
    out.events.push_back(std::move(**e));
    out.lines.push_back((*reader)->line());
    if (progress && (*reader)->bytes_read() >= next_report) {
      progress((*reader)->bytes_read(), total);
      next_report = (*reader)->bytes_read() + (uint64_t{4} << 20);
    }
  }
  if (progress) progress((*reader)->bytes_read(), total);
  if (!(*reader)->torn_tail().empty()) out.warnings.push_back((*reader)->torn_tail());
  return out;
}

Result<LocatedHistory> ReadJsonlText(std::string_view text, const std::string& source_name) {
  LocatedHistory out;
  out.source = source_name;
  std::optional<int64_t> last_index;
  LogReadExpander expander;
  size_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++lineno;
    auto e = NextFromLine(text.substr(pos, end - pos), lineno, source_name, &last_index);
    if (!e && end == text.size()) {
      std::string where = source_name + ":" + std::to_string(lineno) + ": ";
      std::string warning = TornTailWarning(where, end - pos, e.error().message);
      if (warning.empty()) return TornTailTooLong(where, end - pos, e.error().message);
      out.warnings.push_back(std::move(warning));
      break;
    }
    if (!e) return e.error();
    if (*e) {
      if (auto x = expander.Expand(**e); !x) {
        return Error{source_name + ":" + std::to_string(lineno) + ": " + x.error().message};
      }
      out.events.push_back(std::move(**e));
      out.lines.push_back(lineno);
    }
    pos = end + 1;
  }
  return out;
}

Result<std::vector<Op>> ValidateJsonlFile(const std::string& path, PairOptions opts) {
  auto h = ReadJsonlFile(path);
  if (!h) return h.error();
  return PairOps(*h, opts);
}

}  // namespace tidemark::history
