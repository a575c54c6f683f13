#include "harness/cli/client_test_command.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/process/supervisor.h"
#include "harness/run/cluster.h"
#include "targets/adapters/exec.h"
#include "targets/adapters/exec_process.h"
#include "targets/adapters/exec_protocol.h"
#include "targets/target.h"

namespace tidemark::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using targets::exec::ClientProcess;
using targets::exec::NodeEndpoint;
using Clock = std::chrono::steady_clock;

std::string Text(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string Chomp(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

std::string Tail(const std::string& path, int lines) {
  std::ifstream f(path);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) all.push_back(l);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size();
       ++i)
    out += "    " + all[i] + "\n";
  return out;
}

// One client program and the lines exchanged with it, one request in flight at a time.
class Exchange {
 public:
  Exchange(std::ostream& out, std::vector<std::string> argv, std::string role,
           std::string stderr_path)
      : out_(out),
        argv_(std::move(argv)),
        role_(std::move(role)),
        stderr_(std::move(stderr_path)) {}
  ~Exchange() {
    if (proc_) proc_->Stop(targets::exec::ShutdownLine(), std::chrono::seconds(2));
  }

  // Starts the program and does the hello/ready handshake.
  Result<bool> Start(const targets::Descriptor& d, const std::vector<NodeEndpoint>& nodes) {
    auto p = ClientProcess::Start({argv_, d.client.env, stderr_});
    if (!p.ok()) return Error{"cannot start " + Who() + ": " + p.error().message};
    proc_ = std::move(*p);
    out_ << "\n" << Who() << ", pid " << proc_->pid() << "\n";
    Send(targets::exec::HelloLine(role_, nodes));
    const auto wait =
        std::chrono::milliseconds(static_cast<int64_t>(d.client.ready_timeout_s * 1000));
    auto line = proc_->ReadLine(Clock::now() + wait);
    if (!line.ok())
      return Error{"no ready within " + std::to_string(wait.count()) + " ms after hello (" +
                   line.error().message + ")"};
    out_ << "  < " << *line << "\n";
    if (Status s = targets::exec::ParseReady(*line); !s.ok()) return s.error();
    return true;
  }

  // Sends one request and waits for its answer. Answers to requests given up on (Abandon) are
  // skipped. Errors name the fault: a bad line, an unknown id, no answer in time, an exit.
  Result<targets::exec::Reply> Ask(int64_t id, const std::string& line, int wait_ms, bool quiet) {
    if (Status w = proc_->Write(line); !w.ok())
      return Error{"could not write to its stdin: " + w.error().message};
    if (!quiet) out_ << "  > " << Chomp(line) << "\n";
    const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
    while (true) {
      auto got = proc_->ReadLine(deadline);
      if (!got.ok() && got.error().message == "timed out")
        return Error{"no answer for id " + std::to_string(id) + " within " +
                     std::to_string(wait_ms) + " ms (timeout_ms + 500, as a run allows)"};
      if (!got.ok())
        return Error{"it closed its stdout before answering id " + std::to_string(id) + " (" +
                     proc_->Reap(std::chrono::seconds(1)) + ")"};
      auto r = targets::exec::ParseReply(*got);
      if (r.ok() && abandoned_.erase(r->id)) continue;  // a late answer to a quiet probe
      if (!quiet || !r.ok() || r->id != id) out_ << "  < " << *got << "\n";
      if (!r.ok()) return Error{"bad line: " + r.error().message};
      if (r->id != id)
        return Error{"unknown id: it answered id " + std::to_string(r->id) +
                     (answered_.count(r->id) ? " again (already answered)" : "") +
                     ", but the only request in flight was id " + std::to_string(id)};
      answered_.insert(id);
      return std::move(*r);
    }
  }
  void Abandon(int64_t id) { abandoned_.insert(id); }

  // Sends shutdown; returns how the program ended.
  std::string Stop() {
    Send(targets::exec::ShutdownLine());
    std::string how = proc_->Stop("", std::chrono::seconds(2));
    proc_.reset();
    return how;
  }
  std::string Who() const { return "client program (role " + role_ + "): " + Text(argv_); }

 private:
  void Send(const std::string& line) {
    out_ << "  > " << Chomp(line) << "\n";
    (void)proc_->Write(line);  // a write error shows as the missing answer
  }

  std::ostream& out_;
  std::vector<std::string> argv_;
  std::string role_;
  std::string stderr_;
  std::unique_ptr<ClientProcess> proc_;
  std::set<int64_t> abandoned_;
  std::set<int64_t> answered_;
};

// One op of the script and what a healthy cluster must answer: "" or what contradicts.
struct ScriptStep {
  history::OpRequest op;
  std::function<std::string(const std::string& type, const json& value)> check;
};

std::function<std::string(const std::string&, const json&)> Want(std::string type,
                                                                 std::optional<json> value) {
  return [type, value](const std::string& got, const json& v) -> std::string {
    if (got == "info") return "";  // unsure is always allowed
    if (got != type) return "expected " + type + ", got " + got;
    if (value && v != *value) return "expected the value " + value->dump() + ", got " + v.dump();
    return "";
  };
}

history::OpRequest Op(std::string f, std::optional<std::string> key, json value) {
  history::OpRequest op;
  op.f = std::move(f);
  op.key = std::move(key);
  op.value = std::move(value);
  return op;
}

std::vector<ScriptStep> RegisterScript(const std::string& key) {
  return {{Op("write", key, 1), Want("ok", std::nullopt)},
          {Op("read", key, nullptr), Want("ok", json(1))},
          {Op("cas", key, json::array({1, 2})), Want("ok", std::nullopt)},
          {Op("cas", key, json::array({1, 3})), Want("fail", std::nullopt)},
          {Op("read", key, nullptr), Want("ok", json(2))}};
}

std::vector<ScriptStep> LogScript(const std::string& tag) {
  const std::string a = tag + "-a", b = tag + "-b";
  auto appended = [](const std::string& got, const json& v) -> std::string {
    if (got != "ok") return Want("ok", std::nullopt)(got, v);
    return v.is_object() && v.contains("offset") ? "" : "an ok append needs an \"offset\"";
  };
  auto read_both = [a, b](const std::string& got, const json& v) -> std::string {
    if (got != "ok") return Want("ok", std::nullopt)(got, v);
    if (!v.is_object() || !v.contains("entries") || !v["entries"].is_array())
      return "an ok log read needs \"entries\" ([[offset, value], ...])";
    std::vector<std::string> ours;
    for (const json& e : v["entries"])
      if (e.is_array() && e.size() == 2 && (e[1] == a || e[1] == b)) ours.push_back(e[1]);
    return ours == std::vector<std::string>{a, b} ? "" : "the read misses the two appends";
  };
  return {{Op("append", std::nullopt, a), appended},
          {Op("append", std::nullopt, b), appended},
          {Op("read", std::nullopt, {{"from", 0}, {"consistency", "linearizable"}}), read_both}};
}

// How a run records an answer (exec.cc): an ok without a value keeps the invoked value.
json Recorded(const history::OpRequest& op, const targets::exec::Reply& r) {
  json rec{{"type", history::ToString(r.type)}, {"f", op.f}};
  if (op.key) rec["key"] = *op.key;
  rec["value"] = r.type == history::EventType::kOk && r.value ? *r.value : op.value;
  if (r.type != history::EventType::kOk)
    rec["error"] = r.error.value_or("the client program gave no error");
  return rec;
}

// What a status answer means to a run: "" when usable, else why not.
std::string StatusProblem(const targets::exec::Reply& r) {
  if (r.type != history::EventType::kOk) return "not ok: " + r.error.value_or("(no error)");
  if (!r.value || !r.value->is_object() || !(*r.value).contains("role") ||
      !(*r.value)["role"].is_string())
    return "an ok status needs a value with a string \"role\"";
  return "";
}

// One client-test: the nodes (started or given), the two programs, the script; prints as it goes.
class ClientTest {
 public:
  ClientTest(const ClientTestOptions& o, std::ostream& out) : o_(o), out_(out) {}

  // Returns the exit code.
  int Run(const targets::Descriptor& d, const std::string& bin_dir) {
    d_ = d;
    auto argv = targets::ExpandClientArgv(d, bin_dir);
    if (!argv.ok()) return Usage(argv.error().message);
    argv_ = *argv;
    if (Status s = Nodes(bin_dir); !s.ok()) {
      out_ << "client-test: " << s.error().message << "\n";
      return s.error().message.rfind("bad usage", 0) == 0 ? 254 : 255;
    }
    Result<bool> r = Converse();
    if (cluster_) {
      cluster_->StopAll();
      out_ << "\nstopped " << cluster_->size() << " node(s)\n";
    }
    if (!r.ok()) {
      out_ << "\nclient-test: FAILED: " << r.error().message << "\n";
      for (const char* role : {"status", "ops"}) {
        const std::string tail = Tail(dir_ + "/" + role + ".stderr", 10);
        if (!tail.empty()) out_ << "its stderr (" << role << ") ends:\n" << tail;
      }
      out_ << "kept " << dir_ << " (client stderr, node logs)\n";
      return cluster_failed_ ? 255 : 1;
    }
    out_ << "\nclient-test: ok: " << asked_ << " requests, every answer well-formed and as "
         << "expected\n";
    if (temp_dir_) fs::remove_all(dir_);
    return 0;
  }

 private:
  int Usage(const std::string& why) {
    out_ << "client-test: " << why << "\n";
    return 254;
  }

  Status Nodes(const std::string& bin_dir);
  Status StartCluster(const std::string& bin_dir);
  Result<bool> Converse();
  Result<bool> AskStatus(Exchange& ex);
  Result<bool> RunScript(Exchange& ex, const std::vector<ScriptStep>& script);
  std::optional<json> QuietStatus(Exchange& ex, int node);
  void WaitForLeader(Exchange& ex);

  const ClientTestOptions& o_;
  std::ostream& out_;
  targets::Descriptor d_;
  std::vector<std::string> argv_;
  std::string dir_;
  bool temp_dir_ = false;
  bool cluster_failed_ = false;  // a node exited while starting: not the client's fault
  std::vector<NodeEndpoint> nodes_;
  std::unique_ptr<process::Supervisor> sup_;
  std::unique_ptr<run::Cluster> cluster_;
  int target_node_ = 0;      // where ops go: the node that said it leads, else the first
  std::string probe_fault_;  // a protocol fault met while waiting for the nodes
  int64_t next_id_ = 1;
  int asked_ = 0;
  int timeout_ms_ = 3000;
};

Status ClientTest::Nodes(const std::string& bin_dir) {
  timeout_ms_ = static_cast<int>(o_.op_timeout_s * 1000);
  if (o_.dir.empty()) {
    char tmpl[] = "/tmp/tidemark-client-test-XXXXXX";
    if (!mkdtemp(tmpl)) return Error{"cannot create a directory under /tmp"};
    dir_ = tmpl;
    temp_dir_ = true;
  } else {
    dir_ = o_.dir;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Error{"cannot create " + dir_ + ": " + ec.message()};
  }
  if (o_.node_addrs.empty()) return StartCluster(bin_dir);
  for (const std::string& a : o_.node_addrs) {
    const size_t eq = a.find('=');
    auto ep =
        targets::exec::EndpointFromUrl("http://" + a.substr(eq == std::string::npos ? 0 : eq + 1));
    if (eq == std::string::npos || eq == 0 || !ep.ok())
      return Error{"bad usage: --node wants NAME=HOST:PORT, e.g. n1=127.0.0.1:2379; got '" + a +
                   "'"};
    ep->name = a.substr(0, eq);
    nodes_.push_back(*ep);
  }
  out_ << "using a running cluster: " << nodes_.size() << " node(s), nothing is started\n";
  return OkStatus();
}

Status ClientTest::StartCluster(const std::string& bin_dir) {
  process::Supervisor::BecomeSubreaper();
  sup_ = std::make_unique<process::Supervisor>();
  run::ClusterOptions co;
  co.descriptor = d_;
  co.nodes = o_.nodes;
  co.run_dir = dir_;
  co.bin_dir = bin_dir;
  cluster_ = std::make_unique<run::Cluster>(*sup_, co);
  if (Status s = cluster_->Prepare(); !s.ok()) return s;
  for (int i = 0; i < cluster_->size(); ++i) {
    auto ep = targets::exec::EndpointFromUrl(cluster_->ClientUrl(i));
    if (!ep.ok()) return ep.error();
    ep->name = cluster_->Name(i);
    nodes_.push_back(*ep);
  }
  out_ << "starting " << o_.nodes << " " << d_.name << " node(s) in " << dir_ << "\n" << std::flush;
  return OkStatus();  // the nodes start in Converse, once the status program is up to probe them
}

// A status request as a run's probes make it: quiet unless it is a protocol fault, which is
// kept in probe_fault_. Returns the status value, or nothing when the node is not usable.
std::optional<json> ClientTest::QuietStatus(Exchange& ex, int node) {
  if (!probe_fault_.empty()) return std::nullopt;
  const int64_t id = next_id_++;
  auto r = ex.Ask(id, targets::exec::StatusLine(id, nodes_[node], 500), 600, true);
  if (!r.ok() && r.error().message.rfind("no answer", 0) == 0) {
    ex.Abandon(id);  // the node may be slow to start: a late answer is no fault here
    return std::nullopt;
  }
  if (!r.ok()) probe_fault_ = r.error().message;
  if (!r.ok() || !StatusProblem(*r).empty()) return std::nullopt;
  return *r->value;
}

// Nodes we started: as a run waits before its ops, until some node says it leads (when the
// target can tell).
void ClientTest::WaitForLeader(Exchange& ex) {
  if (!cluster_ || !d_.capabilities.leader_status) return;  // a running cluster is as it is
  const auto until =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(d_.ready_timeout_s * 1000));
  while (probe_fault_.empty() && Clock::now() < until) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto v = QuietStatus(ex, static_cast<int>(i));
      if (v && (*v)["role"] == "leader") return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  out_ << "  (no node said it leads within " << d_.ready_timeout_s << " s)\n";
}

Result<bool> ClientTest::Converse() {
  Exchange status(out_, argv_, "status", dir_ + "/status.stderr");
  Result<bool> s = status.Start(d_, nodes_);
  if (!s.ok()) return Error{status.Who() + ": " + s.error().message};
  if (cluster_) {
    int failed = -1;
    // A protocol fault ends the wait at once (true), to be reported instead of a timeout.
    Status up = cluster_->StartAll(
        [&](int i) { return QuietStatus(status, i).has_value() || !probe_fault_.empty(); },
        &failed);
    // A node that exited is the cluster's failure (255); one that runs but never answers
    // status ok through the client may be the client's (1).
    cluster_failed_ = failed >= 0 && !cluster_->Running(failed);
    if (!up.ok())
      return Error{(cluster_failed_ ? "the cluster did not start: "
                                    : "the nodes did not get ready (the status program's "
                                      "answers decide): ") +
                   up.error().message + (failed >= 0 ? "\n" + cluster_->LogTail(failed, 5) : "")};
    if (!probe_fault_.empty()) return Error{status.Who() + ": " + probe_fault_};
    out_ << "  (" << nodes_.size() << " node(s) ready: their status answered ok)\n";
  }
  WaitForLeader(status);
  if (!probe_fault_.empty()) return Error{status.Who() + ": " + probe_fault_};
  if (s = AskStatus(status); !s.ok()) return Error{status.Who() + ": " + s.error().message};
  const std::string status_end = status.Stop();
  out_ << "  (it ended: " << status_end << ")\n";

  Exchange ops(out_, argv_, "ops", dir_ + "/ops.stderr");
  if (s = ops.Start(d_, nodes_); !s.ok()) return Error{ops.Who() + ": " + s.error().message};
  for (const std::string& w : d_.workloads) {
    if (!o_.workload.empty() && w != o_.workload) continue;
    const std::string tag = "client-test-" + std::to_string(getpid());
    out_ << "  (" << w << " workload, to " << nodes_[target_node_].name << ")\n";
    s = RunScript(ops, w == "log" ? LogScript(tag) : RegisterScript(tag));
    if (!s.ok()) return Error{ops.Who() + ": " + s.error().message};
  }
  const std::string ops_end = ops.Stop();
  out_ << "  (it ended: " << ops_end << ")\n";
  return true;
}

Result<bool> ClientTest::AskStatus(Exchange& ex) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const int64_t id = next_id_++;
    ++asked_;
    auto r = ex.Ask(id, targets::exec::StatusLine(id, nodes_[i], timeout_ms_),
                    timeout_ms_ + targets::kExecGraceMs, false);
    if (!r.ok()) return r.error();
    if (std::string why = StatusProblem(*r); !why.empty())
      return Error{"status of " + nodes_[i].name + ": " + why};
    const json& v = *r->value;
    out_ << "    = " << nodes_[i].name << " is " << v["role"].get<std::string>()
         << (v.contains("leader") && v["leader"].is_string()
                 ? ", leader " + v["leader"].get<std::string>()
                 : "")
         << "\n";
    if (v["role"] == "leader") target_node_ = static_cast<int>(i);
  }
  return true;
}

Result<bool> ClientTest::RunScript(Exchange& ex, const std::vector<ScriptStep>& script) {
  for (const ScriptStep& step : script) {
    const int64_t id = next_id_++;
    ++asked_;
    auto r = ex.Ask(id, targets::exec::OpLine(id, step.op, nodes_[target_node_], timeout_ms_),
                    timeout_ms_ + targets::kExecGraceMs, false);
    if (!r.ok()) return r.error();
    const json rec = Recorded(step.op, *r);
    out_ << "    = recorded " << rec.dump() << "\n";
    if (std::string why = step.check(rec["type"], rec["value"]); !why.empty())
      return Error{"unexpected outcome of id " + std::to_string(id) + " (" + step.op.f +
                   ") on a healthy cluster: " + why};
  }
  return true;
}

}  // namespace

CLI::App* AddClientTestCommand(CLI::App& app, ClientTestOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "client-test", "Try an exec descriptor's client program: a few ops, the exchange printed");
  cmd->add_option("target", o.target, "Descriptor: a name in targets/ or a path to a .json file")
      ->required();
  cmd->add_option("--nodes", o.nodes, "Nodes to start (not with --node)")
      ->capture_default_str()
      ->check(CLI::Range(1, 15));
  cmd->add_option("--node", o.node_addrs,
                  "NAME=HOST:PORT of a node of a cluster already running (repeatable); then "
                  "nothing is started");
  cmd->add_option("--workload", o.workload, "Only this workload (default: each the target lists)")
      ->check(CLI::IsMember({"log", "register"}));
  cmd->add_option("--op-timeout", o.op_timeout_s, "timeout_ms of each request, in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dir", o.dir,
                  "Where node directories and the client's stderr go (default: a fresh directory "
                  "under /tmp, removed when the test passes)");
  cmd->footer(
      "\nStarts the nodes, then the client program as a run would (role status, then role ops),\n"
      "and sends one request at a time: a status per node, then per workload a short script\n"
      "(register: write 1, read, cas 1->2, cas 1->3, read; log: two appends and a read).\n"
      "Prints each line sent (>) and received (<), and the outcome as a run records it (=).\n"
      "Stops everything at the end. Fails, naming the fault, on a line that is not an answer,\n"
      "an unknown id, no answer within timeout_ms + 500 ms, an early exit, or an outcome a\n"
      "healthy cluster cannot give (a read that misses the write before it).\n\n"
      "Examples:\n"
      "  tidemark client-test tidelog-exec-python\n"
      "  tidemark client-test etcd-exec-perl --nodes 3\n"
      "  tidemark client-test my-target.json --node n1=127.0.0.1:7001   # a cluster you started\n\n"
      "Exit codes: 0 the client passed, 1 the client failed (the message says how),\n"
      "254 bad usage (not an exec descriptor, bad --node), 255 the nodes could not be started\n"
      "(a node exited; its log's tail is printed).\n");
  return cmd;
}

int RunClientTestCommand(const ClientTestOptions& o, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const std::string bin_dir = ec ? "." : self.parent_path().string();
  auto d = targets::LoadDescriptor(
      o.target,
      {"targets", std::string(TIDEMARK_SOURCE_DIR) + "/targets", bin_dir + "/../targets"});
  if (!d.ok()) {
    err << "tidemark client-test: " << d.error().message << "\n";
    return 254;
  }
  if (d->adapter != "exec") {
    err << "tidemark client-test: " << d->name << " uses the built-in adapter '" << d->adapter
        << "', not a client program (\"adapter\": \"exec\"); try it with `tidemark run --target "
        << o.target << " --time-limit 5`\n";
    return 254;
  }
  out << "target " << d->name << " (" << d->path << ")\n";
  return ClientTest(o, out).Run(*d, bin_dir);
}

}  // namespace tidemark::cli
