// The exec client protocol (docs/client-protocol.md): the lines tidemark and a user's client
// program exchange over the program's stdin and stdout, one JSON object per line.
//
//   tidemark -> client                              client -> tidemark
//   {"type":"hello","protocol":1,...}               {"type":"ready","protocol":1}
//   {"type":"op","id":7,"process":2,"node":{..},    {"id":7,"type":"ok","value":..}
//    "f":"append","value":"v2-7","timeout_ms":3000}  (or "fail"/"info" with "error")
//   {"type":"status","id":8,"node":{..},...}        {"id":8,"type":"ok","value":{"role":..}}
//   {"type":"shutdown"}                             (exits)
//
// This file is the pure part: formatting requests and parsing replies, no I/O. A parse error's
// message says what the line should have been; the caller adds which client wrote it.
//
// Threading: plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/history/op_request.h"
#include "base/result.h"

namespace tidemark::targets::exec {

inline constexpr int kProtocolVersion = 1;

// Where a node listens for clients.
struct NodeEndpoint {
  std::string name;  // "n1"
  std::string host;  // "127.0.0.1"
  int port = 0;      // its client port
};

// "http://127.0.0.1:7001" -> {"", "127.0.0.1", 7001}. Errors: not http://host:port.
Result<NodeEndpoint> EndpointFromUrl(const std::string& url);

// Each returns one line, '\n' included.
std::string HelloLine(const std::string& role, const std::vector<NodeEndpoint>& nodes);
std::string OpLine(int64_t id, const history::OpRequest& op, const NodeEndpoint& node,
                   int timeout_ms);
std::string StatusLine(int64_t id, const NodeEndpoint& node, int timeout_ms);
std::string ShutdownLine();

// A client's answer to one op or status request.
struct Reply {
  int64_t id = 0;
  history::EventType type = history::EventType::kInfo;  // kOk, kFail or kInfo
  std::optional<nlohmann::json> value;                  // absent: the client gave none
  std::optional<std::string> error;
};

// One line the client wrote (without its '\n'). Errors: not a JSON object, no integer "id" >= 1,
// "type" not one of ok/fail/info, "error" not a string; the message quotes the line and says
// what was expected.
Result<Reply> ParseReply(const std::string& line);

// The client's answer to hello. Errors: not {"type":"ready","protocol":1}; a different
// protocol version says which one each side speaks.
Status ParseReady(const std::string& line);

// A line shortened for a message: at most `n` bytes, control characters escaped.
std::string Quote(const std::string& line, size_t n = 120);

}  // namespace tidemark::targets::exec
