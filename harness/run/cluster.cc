#include "harness/run/cluster.h"
#include "base/filename.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace tidemark::run {
namespace fs = std::filesystem;
using std::chrono::milliseconds;

Result<int> FreePort(const std::string& host, const std::vector<int>& avoid) {
  static std::mt19937 rng(
      static_cast<unsigned>(getpid()) ^
      static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> dist(20000, 32767);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = dist(rng);
    if (std::find(avoid.begin(), avoid.end(), port) != avoid.end()) continue;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{"socket(): " + std::string(strerror(errno))};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      close(fd);
      return Error{"not an IPv4 address: " + host};
    }
    int ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    close(fd);
    if (ok == 0) return port;
  }
  return Error{"no free TCP port found on " + host + " in 20000-32767"};
}

Cluster::Cluster(process::Supervisor& sup, ClusterOptions opts)
    : sup_(sup), opts_(std::move(opts)) {
  // Nodes run with their own directory as cwd: every path handed to them ({data_dir}) must be
  // absolute, whatever --store the user gave (the default, "store", is relative).
  if (!opts_.run_dir.empty())
    opts_.run_dir = fs::absolute(opts_.run_dir).lexically_normal().string();
}

Cluster::~Cluster() {
  StopAll();
  for (size_t i = 0; i < mounts_.size(); ++i) {
    const pid_t pid = mounts_[i]->pid();
    (void)mounts_[i]->Unmount();
    if (!opts_.registry) continue;
    (void)opts_.registry->RemoveProcess(pid);
    (void)opts_.registry->RemoveMount(fs::absolute(nodes_[i].data_dir).string());
  }
}

Status Cluster::Prepare() {
  std::vector<int> used;
  nodes_.clear();
  argv_.assign(static_cast<size_t>(opts_.nodes), {});
  for (int i = 0; i < opts_.nodes; ++i) {
    NodeState n;
    n.address.name = "n" + std::to_string(i + 1);
    n.address.index = i + 1;
    n.address.host = opts_.host_of ? opts_.host_of(i) : opts_.host;
    for (const std::string& port_name : opts_.descriptor.ports) {
      // Inside a network namespace the address is not bindable here; pick the port on loopback.
      auto port = FreePort(opts_.host_of ? "127.0.0.1" : opts_.host, used);
      if (!port.ok()) return port.error();
      used.push_back(*port);
      n.address.ports[port_name] = *port;
    }
    n.dir = filename::NodeDir(opts_.run_dir, n.address.name);
    n.data_dir = (fs::path(n.dir) / "data").string();
    std::error_code ec;
    fs::create_directories(n.data_dir, ec);
    if (ec) return Error{"cannot create " + n.data_dir + ": " + ec.message()};
    if (!opts_.lazyfs_binary.empty()) {
      auto m = std::make_unique<lazyfs::LazyMount>();
      // Listed before it exists, so the registry always lists a superset (nemesis/clean.h).
      if (opts_.registry) (void)opts_.registry->AddMount(fs::absolute(n.data_dir).string());
      if (Status s = m->Mount(opts_.lazyfs_binary, n.data_dir); !s.ok())
        return Error{n.address.name + ": lose-unfsynced: " + s.error().message};
      if (opts_.registry) (void)opts_.registry->AddProcess(m->pid());
      mounts_.push_back(std::move(m));
    }
    nodes_.push_back(std::move(n));
  }
  return OkStatus();
}

Result<nlohmann::json> Cluster::LoseUnfsynced(int node, std::optional<uint64_t> tear_seed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<size_t>(node) >= mounts_.size())
    return Error{"lose-unfsynced: no tidemark-lazyfs mount on " + Name(node)};
  const NodeState& n = nodes_[static_cast<size_t>(node)];
  if (n.pid > 0 && sup_.Running(n.pid))
    return Error{"lose-unfsynced: " + n.address.name + " is still running"};
  auto r = mounts_[static_cast<size_t>(node)]->Drop(tear_seed);
  if (!r.ok()) return r.error();
  return nlohmann::json{
      {"bytes", r->bytes}, {"files", r->files}, {"undone", r->undone}, {"torn", r->torn}};
}

targets::StartContext Cluster::ContextFor(int node) const {
  targets::StartContext ctx;
  ctx.self = nodes_[static_cast<size_t>(node)].address;
  for (int j = 0; j < size(); ++j) {
    targets::NodeAddress a =
        peer_address_ ? peer_address_(node, j) : nodes_[static_cast<size_t>(j)].address;
    ctx.all_nodes.push_back(j == node ? ctx.self : a);
    if (j != node) ctx.peers.push_back(a);
  }
  ctx.data_dir = nodes_[static_cast<size_t>(node)].data_dir;
  ctx.node_dir = nodes_[static_cast<size_t>(node)].dir;
  ctx.bin_dir = opts_.bin_dir;
  ctx.bugs = opts_.bugs;
  return ctx;
}

Status Cluster::Start(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  if (n.pid > 0 && sup_.Running(n.pid)) return OkStatus();
  auto argv = targets::ExpandStartArgv(opts_.descriptor, ContextFor(node));
  if (!argv.ok()) return Error{opts_.descriptor.path + ": " + argv.error().message};
  process::SpawnSpec spec;
  spec.argv = *argv;
  spec.argv.insert(spec.argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  spec.stdout_path = (fs::path(n.dir) / "stdout.log").string();
  spec.stderr_path = (fs::path(n.dir) / "stderr.log").string();
  spec.cwd = n.dir;
  for (const auto& [k, v] : opts_.descriptor.env) spec.env.emplace_back(k, v);
  if (in_child_) spec.in_child = in_child_(node);
  auto pid = sup_.Spawn(spec);
  if (!pid.ok()) return Error{n.address.name + ": " + pid.error().message};
  n.pid = *pid;
  n.paused = false;
  argv_[static_cast<size_t>(node)] = *argv;
  Status extras = StartExtras(node, n);
  ++n.starts;
  return extras;
}

Status Cluster::StartExtras(int node, NodeState& n) {
  const targets::Descriptor& d = opts_.descriptor;
  const targets::StartContext ctx = ContextFor(node);
  // Rendered once: a restarted node finds its files as its processes left them.
  for (size_t i = 0; n.starts == 0 && i < d.files.size(); ++i) {
    auto text = targets::RenderFile(d, i, ctx);
    if (!text.ok()) return Error{d.path + ": " + text.error().message};
    const fs::path path = fs::path(n.dir) / d.files[i].path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream f(path, std::ios::trunc);
    f << *text;
    if (!f.flush()) return Error{n.address.name + ": cannot write " + path.string()};
  }
  n.extra_pids.resize(d.processes.size(), -1);
  for (size_t i = 0; i < d.processes.size(); ++i) {
    pid_t& pid = n.extra_pids[i];
    if (pid > 0 && sup_.Running(pid)) continue;
    auto argv = targets::ExpandProcessArgv(d, i, ctx);
    if (!argv.ok()) return Error{d.path + ": " + argv.error().message};
    process::SpawnSpec spec;
    spec.argv = *argv;
    spec.stdout_path = (fs::path(n.dir) / (d.processes[i].name + ".stdout.log")).string();
    spec.stderr_path = (fs::path(n.dir) / (d.processes[i].name + ".stderr.log")).string();
    spec.cwd = n.dir;
    for (const auto& [k, v] : d.env) spec.env.emplace_back(k, v);
    if (in_child_) spec.in_child = in_child_(node);
    auto started = sup_.Spawn(spec);
    if (!started.ok())
      return Error{n.address.name + " " + d.processes[i].name + ": " + started.error().message};
    pid = *started;
  }
  return OkStatus();
}

std::string Cluster::ExitedExtra(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  for (size_t i = 0; i < n.extra_pids.size(); ++i) {
    if (n.extra_pids[i] <= 0 || sup_.Running(n.extra_pids[i])) continue;
    NoteExtraExits(n);
    const std::string& name = opts_.descriptor.processes[i].name;
    std::ifstream f(fs::path(n.dir) / (name + ".stdout.log"));
    std::deque<std::string> tail;
    for (std::string line; std::getline(f, line);) {
      tail.push_back("  | " + line);
      if (tail.size() > 15) tail.pop_front();
    }
    std::string text;
    for (const auto& l : tail) text += l + "\n";
    return n.address.name + " " + name + " exited during start-up (" +
           (n.exits.empty() ? std::string("unknown status") : n.exits.back()) +
           ")\nlast lines of " + n.dir + "/" + name + ".stdout.log:\n" + text;
  }
  return "";
}

void Cluster::SignalExtras(NodeState& n, int sig) {
  for (pid_t pid : n.extra_pids)
    if (pid > 0) sup_.Signal(pid, sig);
}

void Cluster::NoteExtraExits(NodeState& n) {
  for (size_t i = 0; i < n.extra_pids.size(); ++i) {
    pid_t& pid = n.extra_pids[i];
    if (pid <= 0) continue;
    if (auto st = sup_.Status(pid)) {
      n.exits.push_back(opts_.descriptor.processes[i].name + ": " + st->Describe());
      pid = -1;
    }
  }
}

void Cluster::NoteExit(int node) {
  NodeState& n = nodes_[static_cast<size_t>(node)];
  if (n.pid <= 0) return;
  if (auto st = sup_.Status(n.pid)) {
    n.exits.push_back(st->Describe());
    n.pid = -1;
    n.paused = false;
  }
}

Status Cluster::StartAll(const ReadyProbe& ready, int* failed_node) {
  auto fail = [&](int node, Status s) {
    if (failed_node) *failed_node = node;
    return s;
  };
  for (int i = 0; i < size(); ++i) {
    Status s = Start(i);
    if (!s.ok()) return fail(i, std::move(s));
  }
  auto deadline = std::chrono::steady_clock::now() +
                  milliseconds(static_cast<int64_t>(opts_.descriptor.ready_timeout_s * 1000));
  std::vector<bool> is_ready(static_cast<size_t>(size()), false);
  while (true) {
    bool all = true;
    for (int i = 0; i < size(); ++i) {
      if (is_ready[static_cast<size_t>(i)]) continue;
      if (!Running(i)) {
        std::lock_guard<std::mutex> lock(mu_);
        NoteExit(i);
        const NodeState& n = nodes_[static_cast<size_t>(i)];
        return fail(i, Error{n.address.name + " exited during start-up (" +
                             (n.exits.empty() ? "unknown status" : n.exits.back()) + "); argv: " +
                             [&] {
                               std::string a;
                               for (const auto& s : argv_[static_cast<size_t>(i)]) a += s + " ";
                               return a;
                             }() +
                             "\nlast lines of " + n.dir + "/stderr.log:\n" + LogTail(i, 15)});
      }
      if (std::string gone = ExitedExtra(i); !gone.empty()) return fail(i, Error{gone});
      is_ready[static_cast<size_t>(i)] = ready(i);
      all = all && is_ready[static_cast<size_t>(i)];
    }
    if (all) {
      // Some clusters need time after readiness (a monitor discovering the replicas).
      std::this_thread::sleep_for(
          milliseconds(static_cast<int64_t>(opts_.descriptor.ready_settle_s * 1000)));
      return OkStatus();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (int i = 0; i < size(); ++i) {
        if (is_ready[static_cast<size_t>(i)]) continue;
        return fail(i, Error{Name(i) + " did not become ready within " +
                             std::to_string(opts_.descriptor.ready_timeout_s) + " s (" +
                             ClientUrl(i) + ")\nlast lines of its stderr.log:\n" + LogTail(i, 15)});
      }
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

bool Cluster::Kill(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  SignalExtras(n, SIGKILL);
  for (pid_t pid : n.extra_pids)
    if (pid > 0) sup_.Wait(pid, std::chrono::seconds(10));
  NoteExtraExits(n);
  if (n.pid <= 0 || !sup_.Signal(n.pid, SIGKILL)) return false;
  sup_.Wait(n.pid, std::chrono::seconds(10));
  NoteExit(node);
  return true;
}

bool Cluster::Pause(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  if (n.pid <= 0 || n.paused || !sup_.Signal(n.pid, SIGSTOP)) return false;
  SignalExtras(n, SIGSTOP);
  n.paused = true;
  return true;
}

bool Cluster::Resume(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  if (n.pid <= 0 || !n.paused) return false;
  sup_.Signal(n.pid, SIGCONT);
  SignalExtras(n, SIGCONT);
  n.paused = false;
  return true;
}

void Cluster::Stop(int node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState& n = nodes_[static_cast<size_t>(node)];
  const milliseconds grace(static_cast<int64_t>(opts_.descriptor.stop_grace_s * 1000));
  for (pid_t pid : n.extra_pids)
    if (pid > 0) sup_.Stop(pid, grace);
  NoteExtraExits(n);
  if (n.pid <= 0) return;
  sup_.Stop(n.pid, grace);
  NoteExit(node);
}

void Cluster::StopAll() {
  // Signal everyone first so the grace periods overlap.
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (NodeState& n : nodes_) {
      SignalExtras(n, SIGCONT);
      SignalExtras(n, SIGTERM);
      if (n.pid <= 0 || !sup_.Running(n.pid)) continue;
      killpg(n.pid, SIGCONT);
      killpg(n.pid, SIGTERM);
    }
  }
  for (int i = 0; i < size(); ++i) Stop(i);
}

bool Cluster::Running(int node) const {
  std::lock_guard<std::mutex> lock(mu_);
  const NodeState& n = nodes_[static_cast<size_t>(node)];
  return n.pid > 0 && sup_.Running(n.pid);
}

bool Cluster::Paused(int node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_[static_cast<size_t>(node)].paused;
}

NodeState Cluster::State(int node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_[static_cast<size_t>(node)];
}

std::string Cluster::Name(int node) const { return nodes_[static_cast<size_t>(node)].address.name; }

std::string Cluster::ClientUrl(int node) const {
  const auto& a = nodes_[static_cast<size_t>(node)].address;
  return "http://" + a.host + ":" + std::to_string(a.ports.at(opts_.descriptor.client_port));
}

std::vector<std::string> Cluster::Argv(int node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return argv_[static_cast<size_t>(node)];
}

std::string Cluster::LogTail(int node, int lines) const {
  const std::string& dir = nodes_[static_cast<size_t>(node)].dir;
  for (const char* name : {"stderr.log", "stdout.log"}) {
    std::ifstream f(fs::path(dir) / name);
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(f, line)) {
      tail.push_back(line);
      if (static_cast<int>(tail.size()) > lines) tail.pop_front();
    }
    if (tail.empty()) continue;
    std::string out;
    for (const auto& l : tail) out += "  | " + l + "\n";
    return out;
  }
  return "  | (no output)\n";
}

namespace {

// Bytes of the regular files under `dir` (0 if it cannot be read).
uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      uintmax_t n = it->file_size(size_ec);
      if (!size_ec) total += n;
    }
  }
  return total;
}

std::string Seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string MiB(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// How long one node's dump may take: generous, and growing with what it has to read, so a
// big log on a loaded machine is not mistaken for a hung dump (tidelog dumps ~25 MiB/s).
milliseconds DumpTimeout(uint64_t data_bytes) {
  return std::chrono::seconds(60) + milliseconds(static_cast<int64_t>(data_bytes * 1000 >> 20));
}

}  // namespace

std::vector<Cluster::DumpResult> Cluster::Dump() {
  using Clock = std::chrono::steady_clock;
  const auto& tmpl = opts_.descriptor.capabilities.dump_argv;
  std::vector<DumpResult> out(static_cast<size_t>(size()));
  if (tmpl.empty()) {
    for (auto& r : out) r.error = "target has no dump_argv capability";
    return out;
  }
  // Start every node's dump at once (they read disjoint directories), then collect them; each
  // has its own deadline, scaled with the size of what it has to read.
  struct Pending {
    pid_t pid = -1;
    Clock::time_point started;
    Clock::time_point deadline;
    milliseconds timeout{0};
    uint64_t data_bytes = 0;
    std::string dump_path, stderr_path, argv;
    bool done = false;
  };
  std::vector<Pending> pending(out.size());
  for (int i = 0; i < size(); ++i) {
    Pending& p = pending[static_cast<size_t>(i)];
    DumpResult& r = out[static_cast<size_t>(i)];
    targets::StartContext ctx;
    std::string dir;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ctx = ContextFor(i);
      dir = nodes_[static_cast<size_t>(i)].dir;
    }
    p.done = true;  // until spawned
    auto argv = targets::ExpandArgv(tmpl, ctx);
    if (!argv.ok()) {
      r.error = Name(i) + ": " + argv.error().message;
      continue;
    }
    for (const auto& a : *argv) p.argv += (p.argv.empty() ? "" : " ") + a;
    p.dump_path = (fs::path(dir) / "dump.json").string();
    p.stderr_path = (fs::path(dir) / "dump.stderr.log").string();
    p.data_bytes = DirBytes(ctx.data_dir);
    p.timeout = DumpTimeout(p.data_bytes);
    std::error_code ec;
    fs::remove(p.dump_path, ec);
    fs::remove(p.stderr_path, ec);
    process::SpawnSpec spec;
    spec.argv = *argv;
    spec.stdout_path = p.dump_path;
    spec.stderr_path = p.stderr_path;
    auto pid = sup_.Spawn(spec);
    if (!pid.ok()) {
      r.error = Name(i) + ": cannot start the dump (" + p.argv + "): " + pid.error().message;
      continue;
    }
    p.pid = *pid;
    p.started = Clock::now();
    p.deadline = p.started + p.timeout;
    p.done = false;
  }

  // Poll rather than Wait() on one pid at a time, so each dump's elapsed time is its own.
  auto stderr_tail = [](const std::string& path) {
    std::ifstream f(path);
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(f, line)) {
      tail.push_back(line);
      if (tail.size() > 5) tail.pop_front();
    }
    std::string s;
    for (const auto& l : tail) s += "\n  | " + l;
    return s;
  };
  for (;;) {
    bool any_running = false;
    for (size_t i = 0; i < pending.size(); ++i) {
      Pending& p = pending[i];
      if (p.done) continue;
      const std::string node = Name(static_cast<int>(i));
      const auto now = Clock::now();
      auto st = sup_.Status(p.pid);
      if (!st && now < p.deadline) {
        any_running = true;
        continue;
      }
      p.done = true;
      const std::string elapsed = Seconds(now - p.started);
      if (!st) {
        sup_.Stop(p.pid, milliseconds(0));
        out[i].error = node + ": dump did not finish within " + elapsed + " (timeout " +
                       Seconds(p.timeout) + " for a " + MiB(p.data_bytes) +
                       " data dir: 60 s + 1 s per MiB); killed: " + p.argv;
        continue;
      }
      if (!st->exited || st->code != 0) {
        out[i].error = node + ": dump failed (" + st->Describe() + " after " + elapsed +
                       "): " + p.argv + stderr_tail(p.stderr_path);
        continue;
      }
      out[i].path = p.dump_path;
    }
    if (!any_running) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return out;
}

nlohmann::json Cluster::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json nodes = nlohmann::json::array();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& n = nodes_[i];
    nodes.push_back({{"name", n.address.name},
                     {"host", n.address.host},
                     {"ports", n.address.ports},
                     {"dir", n.dir},
                     {"argv", argv_[i]},
                     {"starts", n.starts},
                     {"exits", n.exits}});
  }
  return nodes;
}

}  // namespace tidemark::run
