// ClientProcess: one running client program of the exec adapter (exec.h), with pipes to its
// stdin and from its stdout, and its stderr appended to a file.
//
// The program is started with Boost.Process in its own process group, dies with the controller
// (PR_SET_PDEATHSIG, so the thread that starts it should outlive it), and inherits no
// descriptor of the controller besides its three standard ones. Writes never block: the stdin
// pipe is enlarged and a full pipe is an error (the program is not reading). Writing to a
// program that has gone does not raise SIGPIPE in the controller.
//
// Threading: NOT thread-safe; one owner at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace tidemark::targets::exec {

class ClientProcess {
 public:
  using Clock = std::chrono::steady_clock;
  struct Spec {
    std::vector<std::string> argv;           // argv[0]: a path, or a name looked up on PATH
    std::map<std::string, std::string> env;  // added to the controller's environment
    std::string stderr_path;                 // appended to; created if absent
  };

  // Starts the program. Errors: the program cannot be found or started, a pipe or the stderr
  // file cannot be opened (the message says which).
  static Result<std::unique_ptr<ClientProcess>> Start(const Spec& spec);
  // Kills the process group (SIGKILL) if it still runs, and reaps it.
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The read end of its stdout, non-blocking; -1 once closed.
  int out_fd() const { return out_fd_; }

  // Writes `line` whole without blocking. Errors: the program closed its stdin or has exited
  // (EPIPE), or has left more than the pipe holds unread (it is not reading).
  Status Write(const std::string& line);
  // Reads what its stdout holds now and appends each complete line (without '\n') to `lines`.
  // Returns false once stdout is at end of file or fails: the program closed it or exited.
  bool ReadLines(std::vector<std::string>* lines);
  // Blocks until a whole line arrives, until `deadline`. Errors: "timed out", "end of output"
  // (the program closed stdout or exited).
  Result<std::string> ReadLine(Clock::time_point deadline);

  // Ends it politely: writes `goodbye` (if not empty), closes its stdin, waits up to `grace`
  // for it to exit, then SIGTERM, then after 1 s SIGKILL to its process group. Returns how it
  // ended ("exit 0", "killed by SIGTERM").
  std::string Stop(const std::string& goodbye, std::chrono::milliseconds grace);
  // After its stdout ended: waits up to `wait` for it to exit, kills its group if it does not.
  // Returns how it ended.
  std::string Reap(std::chrono::milliseconds wait);

 private:
  ClientProcess() = default;
  bool WaitExit(std::chrono::milliseconds wait);  // true: reaped
  void CloseFds();

  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  std::string ended_;  // how it ended, once reaped
  std::string buf_;    // stdout bytes after the last complete line
};

}  // namespace tidemark::targets::exec
