// Process supervision: start target nodes as real OS processes and control their lifecycle.
//
// Each node runs in its own process group (so kill/pause reach everything it forks), with stdout
// and stderr redirected to files (never pipes: a full pipe would stall the node), and dies with
// the controller (PR_SET_PDEATHSIG, set in the child; the controller is a child subreaper so
// orphaned grandchildren come back to us to be reaped).
//
// docs/platform.md: PR_SET_PDEATHSIG fires when the *forking thread* exits, so every spawn runs
// on one long-lived spawner thread owned by the Supervisor. Boost.Process v1 is used to spawn
// only; the child is detached at once and supervised by pid (its wait/terminate are unsafe with
// threads). A reaper thread collects exit statuses with waitpid.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"

namespace tidemark::process {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the executable path (no shell, no PATH search
                                  // unless it has no '/')
  std::string stdout_path;        // appended to
  std::string stderr_path;        // appended to
  std::string cwd;                // "" = inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to the controller's environment
  // Runs in the child between fork and exec (after setpgid/prctl); e.g. entering a network
  // namespace. Must be async-signal-safe. Returns false to abort the exec.
  std::function<bool()> in_child;
};

struct ExitStatus {
  bool exited = false;    // normal exit: code is valid
  int code = 0;           // exit code when exited
  bool signaled = false;  // killed by a signal
  int signal = 0;
  std::string Describe() const;  // "exit 0", "killed by SIGKILL"
};

class Supervisor {
 public:
  Supervisor();
  ~Supervisor();  // stops (SIGKILL) every process still running and joins its threads
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts a process in a new process group. Returns its pid (== its pgid).
  Result<pid_t> Spawn(const SpawnSpec& spec);

  bool Running(pid_t pid) const;
  std::optional<ExitStatus> Status(pid_t pid) const;  // nullopt while running / unknown pid

  // Blocks until the process exits or `timeout` passes; returns its status if it exited.
  std::optional<ExitStatus> Wait(pid_t pid, std::chrono::milliseconds timeout);

  // Signals the whole process group. Returns false if the process is not running.
  bool Signal(pid_t pid, int sig);

  // SIGCONT (in case it is paused), SIGTERM to the group, wait up to `grace`, then SIGKILL and
  // wait. Returns the exit status. Safe to call on an exited process.
  ExitStatus Stop(pid_t pid, std::chrono::milliseconds grace);

  // Stops every running process (SIGKILL at once when grace is zero).
  void StopAll(std::chrono::milliseconds grace);

  // Makes this process a child subreaper (once per process; idempotent).
  static void BecomeSubreaper();

 private:
  struct Task {
    SpawnSpec spec;
    std::optional<Result<pid_t>> result;
  };
  void SpawnerLoop();
  void ReaperLoop();
  void WakeReaper();
  Result<pid_t> DoSpawn(const SpawnSpec& spec);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Task*> tasks_;
  std::map<pid_t, std::optional<ExitStatus>> procs_;  // nullopt = running
  std::thread spawner_;
  std::thread reaper_;
  int wake_fd_ = -1;  // eventfd: a process was added, or stopping_ was set
};

}  // namespace tidemark::process
