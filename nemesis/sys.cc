#include "nemesis/sys.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace tidemark::nemesis {

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  std::string dirs = getenv("PATH") ? getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty()) {
      std::string p = dir + "/" + name;
      if (access(p.c_str(), X_OK) == 0) return p;
    }
    start = end + 1;
  }
  return "";
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty()) return Error{"RunCommand: empty argv"};
  std::string exe = FindExecutable(argv[0]);
  if (exe.empty()) return Error{argv[0] + ": not found in PATH, /usr/sbin or /sbin"};
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + strerror(errno)};
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Error{std::string("pipe: ") + strerror(errno)};
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return Error{std::string("fork: ") + strerror(errno)};
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    execv(exe.c_str(), cargv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  // A command that exits before reading all its input must not SIGPIPE the controller: block
  // SIGPIPE on this thread while writing and swallow a pending one afterwards.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  // Write stdin and read output together so neither side can block on a full pipe.
  size_t written = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  CommandResult r;
  char buf[4096];
  while (true) {
    pollfd fds[2];
    nfds_t nf = 0;
    fds[nf++] = {out[0], POLLIN, 0};
    if (in[1] >= 0) fds[nf++] = {in[1], POLLOUT, 0};
    if (poll(fds, nf, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (nf > 1 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) {
        close(in[1]);
        in[1] = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n > 0) {
        r.out.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  }
  if (in[1] >= 0) close(in[1]);
  close(out[0]);
  timespec zero{0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Status RunOk(const std::vector<std::string>& argv, const std::string& input) {
  auto r = RunCommand(argv, input);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    std::string out = r->out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return Error{"`" + cmd + "` failed (exit " + std::to_string(r->exit_code) + "): " + out};
  }
  return OkStatus();
}

}  // namespace tidemark::nemesis
