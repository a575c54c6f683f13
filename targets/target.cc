#include "targets/target.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/text.h"
#include "targets/adapters/exec.h"
#include "targets/adapters/registry.h"

namespace tidemark::targets {
namespace {

using nlohmann::json;

std::string Where(const std::string& path, const std::string& key) {
  return path + ": key \"" + key + "\"";
}

Result<std::string> GetString(const json& j, const std::string& key, const std::string& path) {
  if (!j.is_string()) return Error{Where(path, key) + " must be a string"};
  return j.get<std::string>();
}

Result<std::vector<std::string>> GetStrings(const json& j, const std::string& key,
                                            const std::string& path) {
  if (!j.is_array()) return Error{Where(path, key) + " must be an array of strings"};
  std::vector<std::string> out;
  for (const json& e : j) {
    if (!e.is_string())
      return Error{Where(path, key) + " must be an array of strings (argv elements), found " +
                   e.dump()};
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Fills {name} placeholders from `vars`. Unknown names are errors.
Result<std::string> Fill(const std::string& tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) return Error{"unclosed '{' in \"" + tmpl + "\""};
    std::string name = tmpl.substr(i + 1, end - i - 1);
    auto it = vars.find(name);
    if (it == vars.end()) return Error{"unknown placeholder {" + name + "} in \"" + tmpl + "\""};
    out += it->second;
    i = end + 1;
  }
  return out;
}

std::map<std::string, std::string> NodeVars(const StartContext& ctx) {
  std::map<std::string, std::string> v = {
      {"node", ctx.self.name},    {"index", std::to_string(ctx.self.index)},
      {"host", ctx.self.host},    {"data_dir", ctx.data_dir},
      {"node_dir", ctx.node_dir}, {"bin_dir", ctx.bin_dir}};
  for (const auto& [name, port] : ctx.self.ports) v[name + "_port"] = std::to_string(port);
  const size_t n = ctx.all_nodes.empty() ? 1 : ctx.all_nodes.size();
  v["nodes"] = std::to_string(n);
  v["quorum"] = std::to_string(n / 2 + 1);
  const NodeAddress& first = ctx.all_nodes.empty() ? ctx.self : ctx.all_nodes[0];
  v["first_host"] = first.host;
  for (const auto& [name, port] : first.ports) v["first_" + name + "_port"] = std::to_string(port);
  return v;
}

std::map<std::string, std::string> PeerVars(const NodeAddress& peer,
                                            std::map<std::string, std::string> base) {
  base["peer"] = peer.name;
  base["peer_host"] = peer.host;
  for (const auto& [name, port] : peer.ports) base["peer_" + name + "_port"] = std::to_string(port);
  return base;
}

// A synthetic context with every placeholder defined, to validate templates at load time.
StartContext SampleContext(const Descriptor& d) {
  StartContext ctx;
  for (int i = 1; i <= 3; ++i) {
    NodeAddress a{"n" + std::to_string(i), i, "127.0.0.1", {}};
    for (const std::string& p : d.ports) a.ports[p] = 10000 + i;
    ctx.all_nodes.push_back(a);
  }
  ctx.self = ctx.all_nodes[0];
  ctx.peers = {ctx.all_nodes[1], ctx.all_nodes[2]};
  ctx.data_dir = "/data";
  ctx.node_dir = "/node";
  ctx.bin_dir = "/bin";
  ctx.bugs = {"sample-bug"};
  return ctx;
}

// "PATH:LINE:COLUMN: not valid JSON: <why>" for text nlohmann refused. Only on this error path
// is the text parsed again with exceptions, to learn where and why (caught here).
std::string JsonSyntaxError(const std::string& text, const std::string& path) {
  size_t byte = text.size();
  std::string why;
  try {
    [[maybe_unused]] json again = json::parse(text);
  } catch (const json::parse_error& ex) {
    byte = std::min(ex.byte > 0 ? ex.byte - 1 : 0, text.size());
    std::string_view what = ex.what();
    size_t at = what.find(": ", what.find("column "));
    why = at == std::string_view::npos ? std::string(what) : std::string(what.substr(at + 2));
  } catch (const std::exception& ex) {
    why = ex.what();
  }
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + byte, '\n'));
  size_t line_start = text.rfind('\n', byte == 0 ? 0 : byte - 1);
  size_t column = line_start == std::string::npos || byte == 0 ? byte + 1 : byte - line_start;
  return path + ":" + std::to_string(line) + ":" + std::to_string(column) +
         ": not valid JSON: " + Printable(why, 160);
}

// "roles": {"first": [argv fragment], "others": [argv fragment]}, both optional.
Status ParseRoles(const json& j, const std::string& path, Descriptor& d) {
  if (!j.is_object()) return Error{Where(path, "start.roles") + " must be an object"};
  for (const auto& [key, value] : j.items()) {
    auto* out = key == "first"    ? &d.first_role_argv
                : key == "others" ? &d.others_role_argv
                                  : nullptr;
    if (!out)
      return Error{Where(path, "start.roles." + key) + " is not a role (known: first, others)"};
    auto a = GetStrings(value, "start.roles." + key, path);
    if (!a.ok()) return a.error();
    *out = *a;
  }
  return OkStatus();
}

// "processes": [{"name": "sentinel", "argv": [...]}, ...]
Status ParseProcesses(const json& j, const std::string& path, Descriptor& d) {
  if (!j.is_array()) return Error{Where(path, "processes") + " must be an array of objects"};
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = "processes[" + std::to_string(i) + "]";
    const json& p = j[i];
    if (!p.is_object() || !p.contains("name") || !p.contains("argv") || p.size() != 2)
      return Error{Where(path, where) + " must be {\"name\": ..., \"argv\": [...]}"};
    ProcessSpec spec;
    auto name = GetString(p["name"], where + ".name", path);
    if (!name.ok()) return name.error();
    spec.name = *name;
    if (spec.name.empty() || spec.name.find_first_of("/. ") != std::string::npos)
      return Error{Where(path, where + ".name") + " must be a plain word (it names log files)"};
    auto argv = GetStrings(p["argv"], where + ".argv", path);
    if (!argv.ok()) return argv.error();
    if (argv->empty()) return Error{Where(path, where + ".argv") + " must name the program"};
    spec.argv = *argv;
    d.processes.push_back(std::move(spec));
  }
  return OkStatus();
}

// "files": [{"path": "redis.conf", "lines": [...]}, ...]
Status ParseFiles(const json& j, const std::string& path, Descriptor& d) {
  if (!j.is_array()) return Error{Where(path, "files") + " must be an array of objects"};
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = "files[" + std::to_string(i) + "]";
    const json& f = j[i];
    if (!f.is_object() || !f.contains("path") || !f.contains("lines") || f.size() != 2)
      return Error{Where(path, where) + " must be {\"path\": ..., \"lines\": [...]}"};
    FileSpec spec;
    auto p = GetString(f["path"], where + ".path", path);
    if (!p.ok()) return p.error();
    spec.path = *p;
    if (spec.path.empty() || spec.path[0] == '/' || spec.path.find("..") != std::string::npos)
      return Error{Where(path, where + ".path") +
                   " must be a relative path inside the node's directory"};
    auto lines = GetStrings(f["lines"], where + ".lines", path);
    if (!lines.ok()) return lines.error();
    spec.lines = *lines;
    d.files.push_back(std::move(spec));
  }
  return OkStatus();
}

// "client": required with "adapter": "exec", refused with any other adapter.
Status ParseClient(const json& j, const std::string& path, Descriptor& d) {
  if (!j.contains("client")) {
    if (d.adapter == "exec")
      return Error{Where(path, "client") +
                   " is required with \"adapter\": \"exec\" (the client program's argv; "
                   "docs/client-protocol.md)"};
    return OkStatus();
  }
  if (d.adapter != "exec")
    return Error{Where(path, "client") + " is only for \"adapter\": \"exec\""};
  const json& c = j["client"];
  if (!c.is_object()) return Error{Where(path, "client") + " must be an object with \"argv\""};
  ExecClientSpec& spec = d.client;
  for (const auto& [key, value] : c.items()) {
    if (key == "argv") {
      auto a = GetStrings(value, "client.argv", path);
      if (!a.ok()) return a.error();
      spec.argv = *a;
    } else if (key == "env") {
      if (!value.is_object()) return Error{Where(path, "client.env") + " must be an object"};
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) return Error{Where(path, "client.env." + k) + " must be a string"};
        spec.env[k] = v.get<std::string>();
      }
    } else if ((key == "ready_timeout_s" || key == "stop_grace_s") && value.is_number() &&
               value.get<double>() > 0) {
      (key == "ready_timeout_s" ? spec.ready_timeout_s : spec.stop_grace_s) = value.get<double>();
    } else if (key == "max_restarts" && value.is_number_integer() && value.get<int>() >= 0) {
      spec.max_restarts = value.get<int>();
    } else if (key == "ready_timeout_s" || key == "stop_grace_s" || key == "max_restarts") {
      return Error{Where(path, "client." + key) + (key == "max_restarts"
                                                       ? " must be an integer >= 0"
                                                       : " must be a positive number of seconds")};
    } else {
      return Error{Where(path, "client." + key) +
                   " is not a client key (known: argv, env, ready_timeout_s, max_restarts, "
                   "stop_grace_s)"};
    }
  }
  if (spec.argv.empty()) return Error{Where(path, "client.argv") + " must name the program"};
  if (auto a = ExpandClientArgv(d, "/bin"); !a.ok())
    return Error{Where(path, "client.argv") + ": " + a.error().message};
  return OkStatus();
}

}  // namespace

Result<Descriptor> ParseDescriptor(const std::string& text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{JsonSyntaxError(text, path)};
  if (!j.is_object()) return Error{path + ": a target descriptor must be a JSON object"};
  static const std::set<std::string> kKnown = {
      "name",      "description", "adapter",  "workloads", "ports", "client_port",
      "peer_port", "host",        "start",    "ready",     "stop",  "capabilities",
      "env",       "client",      "$comment", "processes", "files"};
  for (const auto& [key, value] : j.items()) {
    if (!kKnown.count(key))
      return Error{Where(path, key) +
                   " is not a descriptor key (known: name, description, "
                   "adapter, workloads, ports, client_port, peer_port, host, "
                   "start, processes, files, ready, stop, capabilities, env, client)"};
  }
  Descriptor d;
  d.path = path;
  for (const char* required : {"name", "adapter", "start"}) {
    if (!j.contains(required)) return Error{Where(path, required) + " is required"};
  }
  auto str = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return OkStatus();
    auto s = GetString(j[key], key, path);
    if (!s.ok()) return s.error();
    out = *s;
    return OkStatus();
  };
  for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &d.name},
                          {"description", &d.description},
                          {"adapter", &d.adapter},
                          {"client_port", &d.client_port},
                          {"peer_port", &d.peer_port},
                          {"host", &d.host}}) {
    Status s = str(key, *out);
    if (!s.ok()) return s.error();
  }
  if (!FindAdapter(d.adapter).ok())
    return Error{Where(path, "adapter") + ": unknown adapter \"" + d.adapter +
                 "\" (known: " + KnownAdapterNames() + ")"};
  if (j.contains("workloads")) {
    auto w = GetStrings(j["workloads"], "workloads", path);
    if (!w.ok()) return w.error();
    for (const std::string& name : *w)
      if (name != "register" && name != "log")
        return Error{Where(path, "workloads") + ": unknown workload \"" + name +
                     "\" (known: register, log)"};
    d.workloads = *w;
  } else {
    d.workloads = {"register", "log"};
  }
  if (j.contains("ports")) {
    auto p = GetStrings(j["ports"], "ports", path);
    if (!p.ok()) return p.error();
    d.ports = *p;
  } else {
    d.ports = {"client"};
  }
  for (const std::string* port : {&d.client_port, &d.peer_port}) {
    if (std::find(d.ports.begin(), d.ports.end(), *port) == d.ports.end())
      return Error{Where(path, port == &d.client_port ? "client_port" : "peer_port") + ": \"" +
                   *port + "\" is not one of the names in \"ports\""};
  }

  const json& start = j["start"];
  if (!start.is_object()) return Error{Where(path, "start") + " must be an object with \"argv\""};
  for (const auto& [key, value] : start.items()) {
    if (key == "argv") {
      auto a = GetStrings(value, "start.argv", path);
      if (!a.ok()) return a.error();
      d.argv = *a;
    } else if (key == "per_peer") {
      auto a = GetStrings(value, "start.per_peer", path);
      if (!a.ok()) return a.error();
      d.per_peer = *a;
    } else if (key == "peer_entry") {
      auto s = GetString(value, "start.peer_entry", path);
      if (!s.ok()) return s.error();
      d.peer_entry = *s;
    } else if (key == "bug_argv") {
      auto a = GetStrings(value, "start.bug_argv", path);
      if (!a.ok()) return a.error();
      d.bug_argv = *a;
    } else if (key == "roles") {
      Status st = ParseRoles(value, path, d);
      if (!st.ok()) return st.error();
    } else {
      return Error{Where(path, "start." + key) +
                   " is not a start key (known: argv, per_peer, peer_entry, bug_argv, roles)"};
    }
  }
  if (d.argv.empty()) return Error{Where(path, "start.argv") + " must name the program to run"};
  if (d.argv[0].find(' ') != std::string::npos && d.argv.size() == 1)
    return Error{Where(path, "start.argv") +
                 " looks like a shell command line; give one array element per argument"};

  if (j.contains("ready")) {
    const json& r = j["ready"];
    if (!r.is_object()) return Error{Where(path, "ready") + " must be an object"};
    for (const auto& [key, value] : r.items()) {
      if (key == "timeout_s" && value.is_number() && value.get<double>() > 0) {
        d.ready_timeout_s = value.get<double>();
      } else if (key == "settle_s" && value.is_number() && value.get<double>() >= 0) {
        d.ready_settle_s = value.get<double>();
      } else {
        return Error{Where(path, "ready." + key) +
                     (key == "timeout_s"  ? " must be a positive number of seconds"
                      : key == "settle_s" ? " must be a number of seconds >= 0"
                                          : " is not a ready key (known: timeout_s, settle_s)")};
      }
    }
  }
  if (j.contains("stop")) {
    const json& s = j["stop"];
    if (!s.is_object()) return Error{Where(path, "stop") + " must be an object"};
    for (const auto& [key, value] : s.items()) {
      if (key == "grace_s" && value.is_number() && value.get<double>() >= 0) {
        d.stop_grace_s = value.get<double>();
      } else {
        return Error{Where(path, "stop." + key) + (key == "grace_s"
                                                       ? " must be a number of seconds >= 0"
                                                       : " is not a stop key (known: grace_s)")};
      }
    }
  }
  if (j.contains("capabilities")) {
    const json& c = j["capabilities"];
    if (!c.is_object()) return Error{Where(path, "capabilities") + " must be an object"};
    for (const auto& [key, value] : c.items()) {
      bool* flag = key == "kill"            ? &d.capabilities.kill
                   : key == "pause"         ? &d.capabilities.pause
                   : key == "partition"     ? &d.capabilities.partition
                   : key == "leader_status" ? &d.capabilities.leader_status
                                            : nullptr;
      if (flag) {
        if (!value.is_boolean())
          return Error{Where(path, "capabilities." + key) + " must be true or false"};
        *flag = value.get<bool>();
      } else if (key == "dump_argv") {
        auto a = GetStrings(value, "capabilities.dump_argv", path);
        if (!a.ok()) return a.error();
        d.capabilities.dump_argv = *a;
      } else {
        return Error{Where(path, "capabilities." + key) +
                     " is not a capability (known: kill, pause, partition, leader_status, "
                     "dump_argv)"};
      }
    }
  }
  if (j.contains("processes")) {
    Status st = ParseProcesses(j["processes"], path, d);
    if (!st.ok()) return st.error();
  }
  if (j.contains("files")) {
    Status st = ParseFiles(j["files"], path, d);
    if (!st.ok()) return st.error();
  }
  if (j.contains("env")) {
    if (!j["env"].is_object()) return Error{Where(path, "env") + " must be an object of strings"};
    for (const auto& [key, value] : j["env"].items()) {
      if (!value.is_string()) return Error{Where(path, "env." + key) + " must be a string"};
      d.env[key] = value.get<std::string>();
    }
  }
  if (Status st = ParseClient(j, path, d); !st.ok()) return st.error();
  // Validate every template now, so a typo fails before any process starts.
  StartContext sample = SampleContext(d);
  if (auto a = ExpandStartArgv(d, sample); !a.ok())
    return Error{Where(path, "start") + ": " + a.error().message};
  // Fragments are checked on their own too: a "{per_peer}" typo must fail even when unused.
  auto peer_vars = PeerVars(sample.peers[0], NodeVars(sample));
  peer_vars["peers"] = peer_vars["cluster"] = peer_vars["bug"] = "";
  for (const auto& [key, frags] :
       {std::pair<const char*, const std::vector<std::string>*>{"start.per_peer", &d.per_peer},
        {"start.bug_argv", &d.bug_argv},
        {"start.roles.first", &d.first_role_argv},
        {"start.roles.others", &d.others_role_argv}}) {
    for (const std::string& frag : *frags)
      if (auto s = Fill(frag, peer_vars); !s.ok())
        return Error{Where(path, key) + ": " + s.error().message};
  }
  for (size_t i = 0; i < d.processes.size(); ++i)
    if (auto a = ExpandProcessArgv(d, i, sample); !a.ok())
      return Error{Where(path, "processes[" + std::to_string(i) + "].argv") + ": " +
                   a.error().message};
  for (size_t i = 0; i < d.files.size(); ++i)
    if (auto f = RenderFile(d, i, sample); !f.ok())
      return Error{Where(path, "files[" + std::to_string(i) + "].lines") + ": " +
                   f.error().message};
  if (auto a = ExpandArgv(d.capabilities.dump_argv, sample); !a.ok())
    return Error{Where(path, "capabilities.dump_argv") + ": " + a.error().message};
  return d;
}

Result<Descriptor> LoadDescriptor(const std::string& name_or_path,
                                  const std::vector<std::string>& search_dirs) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".json")) {
    candidates.push_back(name_or_path);
  } else {
    for (const std::string& dir : search_dirs)
      candidates.push_back(dir + "/" + name_or_path + ".json");
  }
  for (const std::string& c : candidates) {
    std::ifstream f(c);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    return ParseDescriptor(ss.str(), c);
  }
  std::string tried;
  for (const std::string& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
  return Error{"no target descriptor '" + name_or_path + "' (looked for " + tried +
               "); pass --target NAME for a file in targets/, or a path to a .json descriptor"};
}

Result<std::vector<std::string>> ExpandArgv(const std::vector<std::string>& tmpl,
                                            const StartContext& ctx) {
  std::vector<std::string> out;
  auto vars = NodeVars(ctx);
  for (const std::string& t : tmpl) {
    auto s = Fill(t, vars);
    if (!s.ok()) return s.error();
    out.push_back(*s);
  }
  return out;
}

namespace {

// Expands `tmpl` (start.argv or a further process's argv) for one node.
Result<std::vector<std::string>> ExpandTemplate(const Descriptor& d,
                                                const std::vector<std::string>& tmpl,
                                                const StartContext& ctx) {
  auto vars = NodeVars(ctx);
  auto join = [&](const std::vector<NodeAddress>& nodes) -> Result<std::string> {
    std::string out;
    for (const NodeAddress& n : nodes) {
      auto e = Fill(d.peer_entry, PeerVars(n, vars));
      if (!e.ok()) return Error{"peer_entry: " + e.error().message};
      out += (out.empty() ? "" : ",") + *e;
    }
    return out;
  };
  auto peers = join(ctx.peers);
  if (!peers.ok()) return peers.error();
  auto cluster = join(ctx.all_nodes);
  if (!cluster.ok()) return cluster.error();
  vars["peers"] = *peers;
  vars["cluster"] = *cluster;

  std::vector<std::string> out;
  auto fill_all = [&](const std::vector<std::string>& frags,
                      const std::map<std::string, std::string>& v, const char* what) -> Status {
    for (const std::string& frag : frags) {
      auto s = Fill(frag, v);
      if (!s.ok()) return Error{std::string(what) + ": " + s.error().message};
      out.push_back(*s);
    }
    return OkStatus();
  };
  for (const std::string& t : tmpl) {
    Status st = OkStatus();
    if (t == "{per_peer}") {
      for (const NodeAddress& p : ctx.peers)
        if (st.ok()) st = fill_all(d.per_peer, PeerVars(p, vars), "per_peer");
    } else if (t == "{bug_args}") {
      for (const std::string& bug : ctx.bugs) {
        auto bv = vars;
        bv["bug"] = bug;
        if (st.ok()) st = fill_all(d.bug_argv, bv, "bug_argv");
      }
    } else if (t == "{role_args}") {
      const bool first = ctx.self.index == 1;
      st = fill_all(first ? d.first_role_argv : d.others_role_argv, vars,
                    first ? "roles.first" : "roles.others");
    } else {
      auto s = Fill(t, vars);
      if (!s.ok()) return s.error();
      out.push_back(*s);
    }
    if (!st.ok()) return st.error();
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> ExpandStartArgv(const Descriptor& d, const StartContext& ctx) {
  return ExpandTemplate(d, d.argv, ctx);
}

Result<std::vector<std::string>> ExpandProcessArgv(const Descriptor& d, size_t process,
                                                   const StartContext& ctx) {
  return ExpandTemplate(d, d.processes.at(process).argv, ctx);
}

Result<std::string> RenderFile(const Descriptor& d, size_t file, const StartContext& ctx) {
  auto lines = ExpandTemplate(d, d.files.at(file).lines, ctx);
  if (!lines.ok()) return lines.error();
  std::string text;
  for (const std::string& line : *lines) text += line + "\n";
  return text;
}

}  // namespace tidemark::targets
