#include "targets/adapters/exec_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>  // before the Asio headers pulled in by Boost.Process (docs/platform.md)

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

namespace tidemark::targets::exec {
namespace bp = boost::process;
namespace {

// Runs in the child between fork and exec: own process group, dies with the controller, the
// pipes on fds 0 and 1, the log on 2, SIGPIPE unblocked, nothing else inherited.
struct PipeSetup : bp::extend::handler {
  pid_t parent;
  int in_fd;
  int out_fd;
  int err_fd;

  template <class Executor>
  void on_exec_setup(Executor&) const {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  }
};

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
  }
  return "ended";
}

}  // namespace

Result<std::unique_ptr<ClientProcess>> ClientProcess::Start(const Spec& spec) {
  if (spec.argv.empty()) return Error{"the client's argv is empty"};
  boost::filesystem::path exe = spec.argv[0];
  if (spec.argv[0].find('/') == std::string::npos) {
    exe = bp::search_path(spec.argv[0]);
    if (exe.empty()) return Error{"cannot find '" + spec.argv[0] + "' on PATH"};
  }
  const int err_fd =
      open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) return Error{"cannot open " + spec.stderr_path + ": " + std::strerror(errno)};
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    close(err_fd);
    return Error{std::string("pipe: ") + std::strerror(errno)};
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(err_fd);
    close(in[0]);
    close(in[1]);
    return Error{std::string("pipe: ") + std::strerror(errno)};
  }
  // Room for thousands of requests: a full pipe then means the client stopped reading.
  (void)fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : spec.env) env[k] = v;
  PipeSetup setup;
  setup.parent = getpid();
  setup.in_fd = in[0];
  setup.out_fd = out[1];
  setup.err_fd = err_fd;
  std::error_code ec;
  pid_t pid = -1;
  {
    bp::child c(bp::exe = exe, bp::args = args, bp::env = env, setup, ec);
    if (!ec) {
      pid = c.id();
      c.detach();  // reaped by pid (ClientProcess::WaitExit)
    }
  }
  close(in[0]);
  close(out[1]);
  close(err_fd);
  if (ec) {
    close(in[1]);
    close(out[0]);
    return Error{"cannot start " + spec.argv[0] + ": " + ec.message()};
  }
  setpgid(pid, pid);
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
  std::unique_ptr<ClientProcess> p(new ClientProcess());
  p->pid_ = pid;
  p->in_fd_ = in[1];
  p->out_fd_ = out[0];
  return p;
}

ClientProcess::~ClientProcess() {
  CloseFds();
  if (!reaped_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    WaitExit(std::chrono::milliseconds(2000));
  }
}

void ClientProcess::CloseFds() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  in_fd_ = out_fd_ = -1;
}

Status ClientProcess::Write(const std::string& line) {
  if (in_fd_ < 0) return Error{"its stdin is closed"};
  // A client that has gone must not SIGPIPE the controller: block SIGPIPE on this thread while
  // writing and swallow a pending one afterwards.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  size_t off = 0;
  int err = 0;
  while (off < line.size()) {
    const ssize_t n = write(in_fd_, line.data() + off, line.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      err = n < 0 ? errno : EIO;
      break;
    }
  }
  if (err == EPIPE) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (err == 0) return OkStatus();
  if (err == EAGAIN || err == EWOULDBLOCK)
    return Error{"it has not read its stdin (over 1 MiB of requests unread)"};
  if (err == EPIPE) return Error{"it closed its stdin"};
  return Error{std::string("writing to its stdin: ") + std::strerror(err)};
}

bool ClientProcess::ReadLines(std::vector<std::string>* lines) {
  if (out_fd_ < 0) return false;
  char chunk[65536];
  const ssize_t n = read(out_fd_, chunk, sizeof chunk);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  if (n <= 0) return false;
  buf_.append(chunk, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1)
    lines->emplace_back(buf_, start, nl - start);
  buf_.erase(0, start);
  return true;
}

Result<std::string> ClientProcess::ReadLine(Clock::time_point deadline) {
  std::vector<std::string> lines;
  while (true) {
    if (auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error{"timed out"};
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR)
      return Error{std::string("poll: ") + std::strerror(errno)};
    // ReadLines splits into `lines`; put them back in front of the partial tail.
    if (!ReadLines(&lines) && lines.empty()) return Error{"end of output"};
    std::string rest;
    for (std::string& l : lines) rest += l + "\n";
    lines.clear();
    buf_ = rest + buf_;
  }
}

bool ClientProcess::WaitExit(std::chrono::milliseconds wait) {
  if (reaped_) return true;
  const auto until = Clock::now() + wait;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      reaped_ = true;
      ended_ = r == pid_ ? Describe(status) : "ended (reaped elsewhere)";
      return true;
    }
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string ClientProcess::Reap(std::chrono::milliseconds wait) {
  CloseFds();
  if (!WaitExit(wait)) {
    kill(-pid_, SIGKILL);
    WaitExit(std::chrono::milliseconds(2000));
  }
  return ended_;
}

std::string ClientProcess::Stop(const std::string& goodbye, std::chrono::milliseconds grace) {
  if (!reaped_ && !goodbye.empty()) (void)Write(goodbye);
  CloseFds();
  if (WaitExit(grace)) return ended_;
  kill(-pid_, SIGTERM);
  if (WaitExit(std::chrono::milliseconds(1000))) return ended_;
  kill(-pid_, SIGKILL);
  WaitExit(std::chrono::milliseconds(2000));
  return ended_;
}

}  // namespace tidemark::targets::exec
