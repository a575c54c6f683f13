#include "harness/process/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>  // before the Asio headers pulled in by Boost.Process (docs/platform.md)

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

namespace tidemark::process {
namespace bp = boost::process;

namespace {

// Runs in the child between fork and exec: own process group, die with the controller, logs on
// fds 1 and 2, every other inherited descriptor closed on exec.
struct ChildSetup : bp::extend::handler {
  pid_t parent;
  int out_fd;
  int err_fd;
  const std::function<bool()>* in_child;

  template <class Executor>
  void on_exec_setup(Executor&) const {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The controller may have died between fork and prctl: then we must not run orphaned.
    if (getppid() != parent) _exit(127);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    // Descriptors the controller opened without O_CLOEXEC (history file, sockets) must not leak
    // into nodes; marking them close-on-exec keeps Boost's own exec-error pipe working.
    syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    if (*in_child && !(*in_child)()) _exit(126);
  }
};

int OpenLog(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (exited) return "exit " + std::to_string(code);
  if (signaled) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by SIG") + (name ? name : std::to_string(signal).c_str());
  }
  return "unknown";
}

void Supervisor::BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

Supervisor::Supervisor() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  spawner_ = std::thread([this] { SpawnerLoop(); });
  reaper_ = std::thread([this] { ReaperLoop(); });
}

Supervisor::~Supervisor() {
  StopAll(std::chrono::milliseconds(0));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  WakeReaper();
  spawner_.join();
  reaper_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Supervisor::WakeReaper() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

Result<pid_t> Supervisor::Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Error{"cannot start a process with an empty argv"};
  Task task{spec, std::nullopt};
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Error{"supervisor is shutting down"};
  tasks_.push_back(&task);
  cv_.notify_all();
  cv_.wait(lock, [&] { return task.result.has_value(); });
  return std::move(*task.result);
}

void Supervisor::SpawnerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty() && stopping_) return;
    Task* task = tasks_.front();
    tasks_.pop_front();
    lock.unlock();
    Result<pid_t> r = DoSpawn(task->spec);
    lock.lock();
    if (r.ok()) {
      procs_[*r] = std::nullopt;
      WakeReaper();
    }
    task->result = std::move(r);
    cv_.notify_all();
  }
}

Result<pid_t> Supervisor::DoSpawn(const SpawnSpec& spec) {
  int out_fd = OpenLog(spec.stdout_path.empty() ? "/dev/null" : spec.stdout_path);
  if (out_fd < 0) return Error{"cannot open " + spec.stdout_path + ": " + std::strerror(errno)};
  int err_fd = OpenLog(spec.stderr_path.empty() ? "/dev/null" : spec.stderr_path);
  if (err_fd < 0) {
    close(out_fd);
    return Error{"cannot open " + spec.stderr_path + ": " + std::strerror(errno)};
  }
  boost::filesystem::path exe = spec.argv[0];
  if (spec.argv[0].find('/') == std::string::npos) {
    exe = bp::search_path(spec.argv[0]);
    if (exe.empty()) {
      close(out_fd);
      close(err_fd);
      return Error{"cannot find '" + spec.argv[0] + "' on PATH"};
    }
  }
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : spec.env) env[k] = v;
  ChildSetup setup;
  setup.parent = getpid();
  setup.out_fd = out_fd;
  setup.err_fd = err_fd;
  setup.in_child = &spec.in_child;

  std::error_code ec;
  pid_t pid = -1;
  {
    boost::filesystem::path cwd = spec.cwd.empty() ? boost::filesystem::current_path() : spec.cwd;
    bp::child c(bp::exe = exe, bp::args = args, bp::env = env, bp::start_dir = cwd, setup, ec);
    if (!ec) {
      pid = c.id();
      c.detach();  // supervised by pid from here on (Boost's wait/terminate are thread-unsafe)
    }
  }
  close(out_fd);
  close(err_fd);
  if (ec) return Error{"cannot start " + spec.argv[0] + ": " + ec.message()};
  // The child may not have reached setpgid yet; make the group exist before anyone signals it.
  setpgid(pid, pid);
  return pid;
}

// Sleeps in poll() on a pidfd per running process (readable when it exits) and the wake
// eventfd, so an exit is seen at once and an idle controller does not wake up; the 5 ms polling
// this replaced cost a few microseconds of controller CPU per op at one client. Without pidfds
// (kernel < 5.3) it falls back to polling every 5 ms.
void Supervisor::ReaperLoop() {
  std::map<pid_t, int> pidfds;
  while (true) {
    std::vector<pid_t> running;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) break;
      for (const auto& [pid, st] : procs_)
        if (!st) running.push_back(pid);
    }
    std::vector<pollfd> fds;
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    bool fallback = wake_fd_ < 0;
    for (pid_t pid : running) {
      auto it = pidfds.find(pid);
      if (it == pidfds.end()) {
        const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (fd < 0) {
          fallback = true;
          continue;
        }
        it = pidfds.emplace(pid, fd).first;
      }
      fds.push_back(pollfd{it->second, POLLIN, 0});
    }
    (void)poll(fds.data(), fds.size(), fallback ? 5 : 1000);
    if (fds[0].revents != 0) {
      uint64_t n;
      (void)!read(wake_fd_, &n, sizeof n);
    }
    for (pid_t pid : running) {
      int status = 0;
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r != pid) continue;
      if (auto it = pidfds.find(pid); it != pidfds.end()) {
        close(it->second);
        pidfds.erase(it);
      }
      ExitStatus es;
      if (WIFEXITED(status)) {
        es.exited = true;
        es.code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        es.signaled = true;
        es.signal = WTERMSIG(status);
      }
      std::lock_guard<std::mutex> lock(mu_);
      procs_[pid] = es;
      cv_.notify_all();
    }
  }
  for (const auto& [pid, fd] : pidfds) close(fd);
}

bool Supervisor::Running(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(pid);
  return it != procs_.end() && !it->second;
}

std::optional<ExitStatus> Supervisor::Status(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = procs_.find(pid);
  if (it == procs_.end()) return std::nullopt;
  return it->second;
}

std::optional<ExitStatus> Supervisor::Wait(pid_t pid, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = procs_.find(pid);
  if (it == procs_.end()) return std::nullopt;
  cv_.wait_for(lock, timeout, [&] { return procs_[pid].has_value(); });
  return procs_[pid];
}

bool Supervisor::Signal(pid_t pid, int sig) {
  if (!Running(pid)) return false;
  return killpg(pid, sig) == 0;
}

ExitStatus Supervisor::Stop(pid_t pid, std::chrono::milliseconds grace) {
  if (auto st = Status(pid)) return *st;
  if (!Running(pid)) return ExitStatus{};
  killpg(pid, SIGCONT);  // a paused node cannot act on SIGTERM
  if (grace.count() > 0) {
    killpg(pid, SIGTERM);
    if (auto st = Wait(pid, grace)) return *st;
  }
  killpg(pid, SIGKILL);
  if (auto st = Wait(pid, std::chrono::seconds(10))) return *st;
  return ExitStatus{};
}

void Supervisor::StopAll(std::chrono::milliseconds grace) {
  std::vector<pid_t> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [pid, st] : procs_)
      if (!st) running.push_back(pid);
  }
  if (grace.count() > 0) {
    for (pid_t pid : running) {
      killpg(pid, SIGCONT);
      killpg(pid, SIGTERM);
    }
  }
  for (pid_t pid : running) Stop(pid, grace);
}

}  // namespace tidemark::process
