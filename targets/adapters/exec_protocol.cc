#include "targets/adapters/exec_protocol.h"

#include <charconv>

#include "base/text.h"

namespace tidemark::targets::exec {
namespace {

using nlohmann::json;

json NodeJson(const NodeEndpoint& n) {
  return json{{"name", n.name}, {"host", n.host}, {"port", n.port}};
}

std::string Line(const json& j) { return j.dump() + "\n"; }

const char kReplyShape[] =
    "expected one JSON object per line: {\"id\": N, \"type\": \"ok\"|\"fail\"|\"info\", "
    "\"value\": ..., \"error\": \"...\"}";

}  // namespace

Result<NodeEndpoint> EndpointFromUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Error{"not an http:// URL: " + url};
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return Error{"no host:port in URL: " + url};
  NodeEndpoint e;
  e.host = rest.substr(0, colon);
  const char* begin = rest.data() + colon + 1;
  const char* end = rest.data() + rest.size();
  auto [ptr, ec] = std::from_chars(begin, end, e.port);
  if (ec != std::errc() || ptr != end || e.port <= 0 || e.port > 65535)
    return Error{"bad port in URL: " + url};
  return e;
}

std::string HelloLine(const std::string& role, const std::vector<NodeEndpoint>& nodes) {
  json list = json::array();
  for (const NodeEndpoint& n : nodes) list.push_back(NodeJson(n));
  return Line(json{{"type", "hello"},
                   {"protocol", kProtocolVersion},
                   {"role", role},
                   {"nodes", std::move(list)}});
}

std::string OpLine(int64_t id, const history::OpRequest& op, const NodeEndpoint& node,
                   int timeout_ms) {
  json j{{"type", "op"}, {"id", id},          {"process", op.process},   {"node", NodeJson(node)},
         {"f", op.f},    {"value", op.value}, {"timeout_ms", timeout_ms}};
  if (op.key) j["key"] = *op.key;
  return Line(j);
}

std::string StatusLine(int64_t id, const NodeEndpoint& node, int timeout_ms) {
  return Line(
      json{{"type", "status"}, {"id", id}, {"node", NodeJson(node)}, {"timeout_ms", timeout_ms}});
}

std::string ShutdownLine() { return Line(json{{"type", "shutdown"}}); }

std::string Quote(const std::string& line, size_t n) { return "'" + Printable(line, n) + "'"; }

Result<Reply> ParseReply(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Error{"line " + Quote(line) + " is not a JSON object; " + kReplyShape};
  Reply r;
  auto id = j.find("id");
  if (id == j.end() || !(id->is_number_integer() || id->is_number_unsigned()) ||
      id->get<int64_t>() < 1)
    return Error{"line " + Quote(line) + " has no integer \"id\" >= 1; " + kReplyShape};
  r.id = id->get<int64_t>();
  auto type = j.find("type");
  const std::string t = type != j.end() && type->is_string() ? type->get<std::string>() : "";
  if (t == "ok") {
    r.type = history::EventType::kOk;
  } else if (t == "fail") {
    r.type = history::EventType::kFail;
  } else if (t == "info") {
    r.type = history::EventType::kInfo;
  } else {
    return Error{"line " + Quote(line) + " has no \"type\" ok, fail or info; " + kReplyShape};
  }
  if (auto v = j.find("value"); v != j.end()) r.value = *v;
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
    if (!e->is_string())
      return Error{"line " + Quote(line) + " has an \"error\" that is not a string; " +
                   kReplyShape};
    r.error = e->get<std::string>();
  }
  return r;
}

Status ParseReady(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  const std::string expected =
      "expected {\"type\": \"ready\", \"protocol\": " + std::to_string(kProtocolVersion) +
      "} in answer to hello";
  if (j.is_discarded() || !j.is_object() || j.value("type", std::string()) != "ready")
    return Error{"line " + Quote(line) + " is not a ready message; " + expected};
  auto p = j.find("protocol");
  if (p == j.end() || !p->is_number_integer())
    return Error{"line " + Quote(line) + " has no integer \"protocol\"; " + expected};
  if (p->get<int>() != kProtocolVersion)
    return Error{"the client speaks protocol " + std::to_string(p->get<int>()) +
                 ", tidemark speaks protocol " + std::to_string(kProtocolVersion)};
  return OkStatus();
}

}  // namespace tidemark::targets::exec
