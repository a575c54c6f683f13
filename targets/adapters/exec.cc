#include "targets/adapters/exec.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>

#include <curl/curl.h>  // CURLE_OPERATION_TIMEDOUT: how the event loop reports a wait's timeout

#include "base/filename.h"
#include "targets/adapters/exec_process.h"
#include "targets/adapters/exec_protocol.h"
#include "targets/adapters/stepped.h"

namespace tidemark::targets {
namespace {

using Clock = std::chrono::steady_clock;
using exec::ClientProcess;
using exec::NodeEndpoint;
using exec::Reply;
using history::EventType;
using nlohmann::json;
using std::chrono::milliseconds;

// client/client.log: one JSON object per line, "t_ms" since the session opened.
class ClientLog {
 public:
  explicit ClientLog(const std::string& path) : start_(Clock::now()) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  void Write(json entry) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!out_.is_open()) return;
    entry["t_ms"] = std::chrono::duration_cast<milliseconds>(Clock::now() - start_).count();
    out_ << entry.dump() << "\n" << std::flush;
  }

 private:
  std::mutex mu_;
  std::ofstream out_;
  Clock::time_point start_;
};

// What every part of a session reads; immutable but for the log.
struct Shared {
  std::vector<std::string> argv;
  ExecClientSpec spec;
  std::string run_dir;
  std::vector<NodeEndpoint> nodes;
  std::unique_ptr<ClientLog> log;

  std::string Argv() const { return json(argv).dump(); }
  std::string StderrPath(const std::string& role) const {
    return run_dir.empty() ? "/dev/null" : filename::ClientStderr(run_dir, role);
  }
  // The node at `base_url`, named as in the run when it is one of the run's nodes.
  Result<NodeEndpoint> Endpoint(const std::string& name, const std::string& base_url) const {
    auto e = exec::EndpointFromUrl(base_url);
    if (!e.ok()) return e.error();
    for (const NodeEndpoint& n : nodes)
      if ((n.name == name || name.empty()) && n.host == e->host && n.port == e->port) return n;
    e->name = name;
    return e;
  }
};

// The last `n` bytes of a file (the crashed program's stderr).
std::string Tail(const std::string& path, size_t n = 800) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(std::max<std::streamoff>(0, f.tellg()));
  f.seekg(static_cast<std::streamoff>(size > n ? size - n : 0));
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string LastLine(const std::string& text) {
  const size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// Starts a program in `role` and completes the hello/ready handshake.
Result<std::unique_ptr<ClientProcess>> Launch(const Shared& sh, const std::string& role) {
  ClientProcess::Spec spec{sh.argv, sh.spec.env, sh.StderrPath(role)};
  auto p = ClientProcess::Start(spec);
  if (!p.ok()) return Error{"client program " + sh.Argv() + ": " + p.error().message};
  const std::string who = "client program " + sh.Argv() + " (pid " + std::to_string((*p)->pid()) +
                          ", role " + role + ")";
  auto fail = [&](const std::string& why) -> Error {
    const std::string how = (*p)->Stop("", milliseconds(0));
    const std::string tail = Tail(spec.stderr_path);
    sh.log->Write({{"event", "start-failed"}, {"role", role}, {"why", why}, {"how", how}});
    return Error{who + " " + why + " (" + how + ")" +
                 (tail.empty() ? "" : "; its stderr ends: " + LastLine(tail))};
  };
  if (Status w = (*p)->Write(exec::HelloLine(role, sh.nodes)); !w.ok())
    return fail("did not take hello: " + w.error().message);
  const auto ready_ms = static_cast<int64_t>(sh.spec.ready_timeout_s * 1000);
  auto line = (*p)->ReadLine(Clock::now() + milliseconds(ready_ms));
  if (!line.ok())
    return fail("did not answer hello with ready within " + std::to_string(ready_ms) +
                " ms: " + line.error().message);
  if (Status r = exec::ParseReady(*line); !r.ok()) return fail(r.error().message);
  sh.log->Write({{"event", "start"}, {"role", role}, {"pid", (*p)->pid()}});
  return p;
}

class ExecStepped;

// The ops program as a Channel of the event loop: ops out by id, answers back to their client.
class OpsChannel : public Channel {
 public:
  OpsChannel(std::shared_ptr<Shared> sh, std::unique_ptr<ClientProcess> proc)
      : sh_(std::move(sh)), proc_(std::move(proc)) {}
  ~OpsChannel() override { Close(); }

  int fd() const override { return proc_ ? proc_->out_fd() : -1; }
  int64_t fd_epoch() const override { return epoch_; }
  void OnReadable() override;

  // Writes the op. Errors: it could not be written (nothing reached the program).
  Result<int64_t> Send(const history::OpRequest& op, const NodeEndpoint& node, int timeout_ms,
                       ExecStepped* waiter);
  // The harness gave up on `id`: an answer that still comes is a late reply.
  void Expire(int64_t id) {
    if (inflight_.erase(id)) expired_.insert(id);
  }
  const std::optional<std::string>& fatal() const { return fatal_; }
  void Close();
  json Describe() const;

 private:
  void Handle(const std::string& line);
  void Crashed(const std::string& why);
  void GoFatal(const std::string& reason, const std::string& op_error);
  void AnswerInFlight(const std::string& error);

  std::shared_ptr<Shared> sh_;
  std::unique_ptr<ClientProcess> proc_;
  std::unordered_map<int64_t, ExecStepped*> inflight_;
  std::set<int64_t> expired_;
  int64_t next_id_ = 1;
  int starts_ = 1;
  int restarts_ = 0;
  int64_t late_ = 0;
  json crashes_ = json::array();
  std::optional<std::string> fatal_;
  bool closed_ = false;
  int64_t epoch_ = 0;  // bumped whenever proc_ is replaced or dropped
};

// One slot's client: each op is one request on the shared channel.
class ExecStepped : public SteppedClient {
 public:
  ExecStepped(OpsChannel* channel, const Shared* sh, ClientOptions opts)
      : ch_(channel), sh_(sh), opts_(std::move(opts)) {}

  Step Begin(const OpRequest& op, const std::string& node_name,
             const std::string& base_url) override {
    op_ = op;
    node_ = node_name;
    answer_.reset();
    if (ch_->fatal())
      return Done(MakeCompletion(EventType::kFail, op.value,
                                 "not sent: the client program stopped: " + *ch_->fatal(), node_));
    auto ep = sh_->Endpoint(node_name, base_url);
    if (!ep.ok())
      return Done(
          MakeCompletion(EventType::kFail, op.value, "not sent: " + ep.error().message, node_));
    auto id = ch_->Send(op, *ep, opts_.timeout_ms, this);
    if (!id.ok())
      return Done(
          MakeCompletion(EventType::kFail, op.value, "not sent: " + id.error().message, node_));
    id_ = *id;
    return Wait(ch_, opts_.timeout_ms + kExecGraceMs);
  }
  // Only a wait's timeout comes here (the channel's answers come through Poll).
  Step Continue(HttpOutcome) override {
    if (answer_) return Done(std::move(*answer_));
    ch_->Expire(id_);
    return Done(MakeCompletion(EventType::kInfo, op_.value,
                               "timeout (no answer from the client program within " +
                                   std::to_string(opts_.timeout_ms + kExecGraceMs) + " ms)",
                               node_));
  }
  std::optional<Step> Poll() override {
    if (!answer_) return std::nullopt;
    Step s = Done(std::move(*answer_));
    answer_.reset();
    return s;
  }

  // From the channel: the program's answer.
  void Answer(const Reply& r) {
    json value = r.type == EventType::kOk && r.value ? *r.value : op_.value;
    std::optional<std::string> error = r.error;
    if (r.type != EventType::kOk && !error) error = "the client program gave no error";
    answer_ = MakeCompletion(r.type, std::move(value), std::move(error), node_);
  }
  // From the channel: no answer will come (the program crashed or was stopped).
  void Abandon(const std::string& error) {
    answer_ = MakeCompletion(EventType::kInfo, op_.value, error, node_);
  }

 private:
  OpsChannel* ch_;
  const Shared* sh_;
  ClientOptions opts_;
  OpRequest op_;
  std::string node_;
  int64_t id_ = 0;
  std::optional<Completion> answer_;
};

Result<int64_t> OpsChannel::Send(const history::OpRequest& op, const NodeEndpoint& node,
                                 int timeout_ms, ExecStepped* waiter) {
  if (!proc_) return Error{"the client program is not running"};
  const int64_t id = next_id_++;
  if (Status w = proc_->Write(exec::OpLine(id, op, node, timeout_ms)); !w.ok()) {
    Crashed("writing to its stdin: " + w.error().message);
    return Error{"the client program " + w.error().message};
  }
  inflight_[id] = waiter;
  return id;
}

void OpsChannel::OnReadable() {
  if (!proc_) return;
  std::vector<std::string> lines;
  const bool open = proc_->ReadLines(&lines);
  for (const std::string& line : lines) {
    if (!proc_) return;  // fatal: what follows is not read
    if (line.empty() || line == "\r") continue;
    Handle(line);
  }
  if (proc_ && !open) Crashed("it closed its stdout");
}

void OpsChannel::Handle(const std::string& line) {
  auto r = exec::ParseReply(line);
  if (!r.ok()) {
    GoFatal("the client program " + sh_->Argv() + " wrote a " + r.error().message,
            "client protocol error");
    return;
  }
  auto it = inflight_.find(r->id);
  if (it == inflight_.end()) {
    if (expired_.erase(r->id)) {
      ++late_;
      json entry = {{"event", "late-reply"}, {"id", r->id}, {"line", line}};
      sh_->log->Write(std::move(entry));
      return;
    }
    GoFatal("the client program " + sh_->Argv() + " answered id " + std::to_string(r->id) +
                (r->id < next_id_ ? ", which it had already answered" : ", which was never sent") +
                ": " + exec::Quote(line) + "; expected the id of an op in flight",
            "client protocol error");
    return;
  }
  ExecStepped* waiter = it->second;
  inflight_.erase(it);
  waiter->Answer(*r);
}

void OpsChannel::AnswerInFlight(const std::string& error) {
  for (auto& [id, waiter] : inflight_) waiter->Abandon(error);
  inflight_.clear();
  expired_.clear();  // a program that is gone answers nothing more
}

void OpsChannel::Crashed(const std::string& why) {
  const pid_t pid = proc_->pid();
  const std::string how = proc_->Reap(milliseconds(500));
  proc_.reset();
  ++epoch_;
  const std::string tail = Tail(sh_->StderrPath("ops"));
  json crash = {{"pid", pid},
                {"how", how},
                {"why", why},
                {"in_flight", inflight_.size()},
                {"stderr_tail", tail}};
  crashes_.push_back(crash);
  crash["event"] = "crash";
  sh_->log->Write(crash);
  AnswerInFlight("client crashed (" + how + ")");
  if (restarts_ >= sh_->spec.max_restarts) {
    fatal_ = "the client program " + sh_->Argv() + " crashed " + std::to_string(restarts_ + 1) +
             " times (client.max_restarts is " + std::to_string(sh_->spec.max_restarts) +
             "); last: " + why + ", " + how +
             (tail.empty() ? "" : "; its stderr ends: " + LastLine(tail));
    sh_->log->Write({{"event", "gave-up"}, {"reason", *fatal_}});
    return;
  }
  ++restarts_;
  auto p = Launch(*sh_, "ops");
  if (!p.ok()) {
    fatal_ = "the client program could not be restarted after a crash: " + p.error().message;
    sh_->log->Write({{"event", "gave-up"}, {"reason", *fatal_}});
    return;
  }
  ++starts_;
  proc_ = std::move(*p);
  ++epoch_;
}

void OpsChannel::GoFatal(const std::string& reason, const std::string& op_error) {
  fatal_ = reason;
  sh_->log->Write({{"event", "protocol-error"}, {"reason", reason}});
  const std::string how = proc_->Stop("", milliseconds(0));
  proc_.reset();
  ++epoch_;
  sh_->log->Write({{"event", "stop"}, {"role", "ops"}, {"how", how}});
  AnswerInFlight(op_error);
}

void OpsChannel::Close() {
  if (closed_) return;
  closed_ = true;
  AnswerInFlight("the run ended");
  if (!proc_) return;
  const auto grace = milliseconds(static_cast<int64_t>(sh_->spec.stop_grace_s * 1000));
  const std::string how = proc_->Stop(exec::ShutdownLine(), grace);
  proc_.reset();
  ++epoch_;
  sh_->log->Write({{"event", "stop"}, {"role", "ops"}, {"how", how}});
}

json OpsChannel::Describe() const {
  return json{{"argv", sh_->argv},
              {"protocol", exec::kProtocolVersion},
              {"starts", starts_},
              {"restarts", restarts_},
              {"crashes", crashes_},
              {"late_replies", late_},
              {"fatal", fatal_ ? json(*fatal_) : json(nullptr)}};
}

// A status client with a program of its own (role "status"), started on first use by the
// thread that uses it.
class ExecStatusClient : public StatusClient {
 public:
  ExecStatusClient(std::shared_ptr<Shared> sh, int timeout_ms)
      : sh_(std::move(sh)), timeout_ms_(timeout_ms) {}
  ~ExecStatusClient() override {
    if (proc_) {
      const std::string how = proc_->Stop(exec::ShutdownLine(), milliseconds(500));
      sh_->log->Write({{"event", "stop"}, {"role", "status"}, {"how", how}});
    }
  }

  Result<NodeStatus> Status(const std::string& base_url) override {
    auto ep = sh_->Endpoint("", base_url);
    if (!ep.ok()) return ep.error();
    if (!proc_) {
      if (starts_ > sh_->spec.max_restarts + 1)
        return Error{"status: the status client program was restarted too often"};
      ++starts_;
      auto p = Launch(*sh_, "status");
      if (!p.ok()) return p.error();
      proc_ = std::move(*p);
    }
    const int64_t id = next_id_++;
    if (tidemark::Status w = proc_->Write(exec::StatusLine(id, *ep, timeout_ms_)); !w.ok())
      return Lost("writing to its stdin: " + w.error().message);
    const auto deadline = Clock::now() + milliseconds(timeout_ms_ + 100);
    while (true) {
      auto line = proc_->ReadLine(deadline);
      if (!line.ok() && line.error().message == "timed out") {
        expired_.insert(id);
        return Error{"status of " + ep->name + ": no answer from the client program within " +
                     std::to_string(timeout_ms_ + 100) + " ms"};
      }
      if (!line.ok()) return Lost(line.error().message);
      auto r = exec::ParseReply(*line);
      if (r.ok() && r->id != id && expired_.erase(r->id)) continue;  // a late answer
      if (!r.ok() || r->id != id)
        return Lost("protocol error: " + (r.ok()
                                              ? "answered id " + std::to_string(r->id) + " while " +
                                                    std::to_string(id) + " was in flight"
                                              : r.error().message));
      return ToStatus(*r, *ep);
    }
  }

 private:
  // The program is of no more use: recorded, stopped; the next call starts another.
  Error Lost(const std::string& why) {
    const std::string how = proc_->Stop("", milliseconds(0));
    const std::string tail = Tail(sh_->StderrPath("status"));
    sh_->log->Write({{"event", "status-lost"}, {"why", why}, {"how", how}, {"stderr_tail", tail}});
    proc_.reset();
    expired_.clear();
    return Error{"status: the client program " + sh_->Argv() + ": " + why + " (" + how + ")"};
  }

  static Result<NodeStatus> ToStatus(const Reply& r, const NodeEndpoint& ep) {
    if (r.type != EventType::kOk)
      return Error{"status of " + ep.name + ": " + r.error.value_or("not ok")};
    if (!r.value || !r.value->is_object() || !r.value->contains("role") ||
        !(*r.value)["role"].is_string())
      return Error{"status of " + ep.name + ": value needs a string \"role\""};
    const json& v = *r.value;
    auto integer = [&v](const char* k) -> std::optional<int64_t> {
      auto it = v.find(k);
      if (it == v.end() || !it->is_number_integer()) return std::nullopt;
      return it->get<int64_t>();
    };
    auto text = [&v](const char* k) -> std::optional<std::string> {
      auto it = v.find(k);
      if (it == v.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    NodeStatus s;
    s.node = text("node").value_or(ep.name);
    s.role = v["role"].get<std::string>();
    s.generation = integer("generation").value_or(0);
    s.leader = text("leader");
    s.voted_for = text("voted_for");
    s.last_offset = integer("last_offset");
    s.hwm = integer("hwm").value_or(0);
    s.raw = v;
    return s;
  }

  std::shared_ptr<Shared> sh_;
  int timeout_ms_;
  std::unique_ptr<ClientProcess> proc_;
  int64_t next_id_ = 1;
  int starts_ = 0;
  std::set<int64_t> expired_;
};

class ExecSession : public Session {
 public:
  ExecSession(std::shared_ptr<Shared> sh, std::unique_ptr<OpsChannel> ch)
      : sh_(std::move(sh)), ch_(std::move(ch)) {}
  ~ExecSession() override { Close(); }
  Result<std::unique_ptr<SteppedClient>> NewClient(const ClientOptions& opts) override {
    if (Status st = CheckClientOptions(opts); !st.ok()) return st.error();
    return std::unique_ptr<SteppedClient>(
        std::make_unique<ExecStepped>(ch_.get(), sh_.get(), opts));
  }
  Result<std::unique_ptr<StatusClient>> NewStatusClient(int timeout_ms) override {
    if (timeout_ms <= 0) return Error{"status timeout must be positive (ms)"};
    return std::unique_ptr<StatusClient>(std::make_unique<ExecStatusClient>(sh_, timeout_ms));
  }
  std::optional<std::string> Fatal() const override { return ch_->fatal(); }
  json Describe() const override { return ch_->Describe(); }
  void Close() override { ch_->Close(); }

 private:
  std::shared_ptr<Shared> sh_;
  std::unique_ptr<OpsChannel> ch_;
};

Result<std::unique_ptr<Session>> OpenExecSession(const SessionContext& ctx) {
  auto sh = std::make_shared<Shared>();
  auto argv = ExpandClientArgv(ctx.descriptor, ctx.bin_dir);
  if (!argv.ok()) return argv.error();
  sh->argv = *argv;
  sh->spec = ctx.descriptor.client;
  sh->run_dir = ctx.run_dir;
  for (const auto& [name, url] : ctx.nodes) {
    auto e = exec::EndpointFromUrl(url);
    if (!e.ok()) return e.error();
    e->name = name;
    sh->nodes.push_back(*e);
  }
  std::string log_path;
  if (!ctx.run_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(filename::ClientDir(ctx.run_dir), ec);
    if (ec) return Error{"cannot create " + filename::ClientDir(ctx.run_dir) + ": " + ec.message()};
    log_path = filename::ClientLog(ctx.run_dir);
  }
  sh->log = std::make_unique<ClientLog>(log_path);
  auto proc = Launch(*sh, "ops");
  if (!proc.ok()) return proc.error();
  auto ch = std::make_unique<OpsChannel>(sh, std::move(*proc));
  return std::unique_ptr<Session>(std::make_unique<ExecSession>(sh, std::move(ch)));
}

}  // namespace

Result<std::vector<std::string>> ExpandClientArgv(const Descriptor& d, const std::string& bin_dir) {
  std::string dir = std::filesystem::path(d.path).parent_path().string();
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"{bin_dir}", bin_dir}, {"{descriptor_dir}", dir.empty() ? "." : dir}};
  std::vector<std::string> out;
  for (std::string arg : d.client.argv) {
    for (const auto& [name, value] : vars)
      for (size_t at; (at = arg.find(name)) != std::string::npos;)
        arg.replace(at, name.size(), value);
    if (size_t open = arg.find('{'); open != std::string::npos) {
      const size_t close = arg.find('}', open);
      return Error{"unknown placeholder " +
                   arg.substr(open, close == std::string::npos ? 1 : close - open + 1) +
                   " (known: {bin_dir}, {descriptor_dir})"};
    }
    out.push_back(std::move(arg));
  }
  return out;
}

Adapter ExecAdapter() {
  Adapter a;
  a.name = "exec";
  a.open_session = OpenExecSession;
  return a;
}

}  // namespace tidemark::targets
