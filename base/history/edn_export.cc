#include "base/history/edn_export.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>

namespace tidemark::history {
namespace {

using nlohmann::json;

constexpr std::string_view kWrittenKeys[] = {"index", "time",  "process", "type", "f",
                                             "key",   "value", "node",    "error"};

// Conservative: what Clojure's reader takes as a keyword name and our reader gives back as is.
bool KeywordSafe(std::string_view s) {
  if (s.empty()) return false;
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(s[0]) && std::string_view("*!_?<>=-+").find(s[0]) == std::string_view::npos)
    return false;
  if ((s[0] == '-' || s[0] == '+') && s.size() > 1 && s[1] >= '0' && s[1] <= '9') return false;
  for (char c : s) {
    if (!is_alpha(c) && !(c >= '0' && c <= '9') &&
        std::string_view("*!_?<>=-+.").find(c) == std::string_view::npos)
      return false;
  }
  return s != "nil" && s != "true" && s != "false";
}

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendName(std::string_view s, std::string* out) {  // keyword if possible, else string
  if (KeywordSafe(s)) {
    out->push_back(':');
    out->append(s);
  } else {
    AppendString(s, out);
  }
}

void AppendEdn(const json& v, std::string* out) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      *out += "nil";
      return;
    case json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      *out += v.dump();
      return;
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d))
        *out += "##NaN";
      else if (std::isinf(d))
        *out += d > 0 ? "##Inf" : "##-Inf";
      else
        *out += v.dump();
      return;
    }
    case json::value_t::string:
      AppendString(v.get_ref<const std::string&>(), out);
      return;
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const json& item : v) {
        if (!first) out->push_back(' ');
        first = false;
        AppendEdn(item, out);
      }
      out->push_back(']');
      return;
    }
    case json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        if (!first) *out += ", ";
        first = false;
        AppendName(k, out);
        out->push_back(' ');
        AppendEdn(item, out);
      }
      out->push_back('}');
      return;
    }
    case json::value_t::binary:
      *out += "nil";  // never produced by our parsers
      return;
  }
}

void AppendOp(const Event& e, std::string* out) {
  *out += "{:index ";
  *out += std::to_string(e.index);
  *out += ", :time ";
  *out += std::to_string(e.time_ns);
  *out += ", :process ";
  *out += e.process == kNemesisProcess ? std::string(":nemesis") : std::to_string(e.process);
  *out += ", :type :";
  *out += ToString(e.type);
  *out += ", :f ";
  AppendName(e.f, out);
  if (e.key) {
    *out += ", :key ";
    AppendString(*e.key, out);
  }
  *out += ", :value ";
  AppendEdn(e.value, out);
  if (e.node) {
    *out += ", :node ";
    AppendString(*e.node, out);
  }
  if (e.error) {
    *out += ", :error ";
    AppendString(*e.error, out);
  }
  if (e.extra.is_object()) {
    for (const auto& [k, v] : e.extra.items()) {
      bool written = false;
      for (std::string_view w : kWrittenKeys) written = written || k == w;
      // A non-string error lives in extra; it is written unless Event::error took the key.
      if (written && !(k == "error" && !e.error)) continue;
      *out += ", ";
      AppendName(k, out);
      out->push_back(' ');
      AppendEdn(v, out);
    }
  }
  out->push_back('}');
}

}  // namespace

std::string ToEdn(const json& value) {
  std::string out;
  AppendEdn(value, &out);
  return out;
}

std::string ToJepsenEdn(const History& h) {
  std::string out = "[";
  for (size_t i = 0; i < h.size(); ++i) {
    if (i > 0) out += "\n ";
    AppendOp(h[i], &out);
  }
  out += "]\n";
  return out;
}

Status WriteJepsenEdn(const History& h, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Error{path + ": cannot create: " + std::strerror(errno)};
  std::string text = ToJepsenEdn(h);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.close();
  if (!f) return Error{path + ": write failed: " + std::strerror(errno)};
  return OkStatus();
}

}  // namespace tidemark::history
