// Small system helpers for the nemesis effects: running `ip` / `nft` and finding executables.
//
// RunCommand forks and execs argv directly (no shell), feeds `input` on stdin, captures stdout
// and stderr, and waits for that pid only (waitpid(pid), never -1, so it does not steal exit
// statuses from the process Supervisor). Safe to call from any thread.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace tidemark::nemesis {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or not started
  std::string out;     // stdout + stderr
};

// Runs argv[0] (looked up with FindExecutable when it has no '/').
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::string& input = "");
// RunCommand that turns a non-zero exit into an error quoting the command and its output.
Status RunOk(const std::vector<std::string>& argv, const std::string& input = "");

// Absolute path of `name` in PATH, /usr/sbin, /sbin, /usr/bin, /bin; "" when not found.
std::string FindExecutable(const std::string& name);

}  // namespace tidemark::nemesis
