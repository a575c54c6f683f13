// Test helper: run a shell command as a user would and capture its exit code and output.
// For tests only (popen; stdout and stderr together).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace tidemark::test_util {

struct CliRun {
  int exit_code = -1;  // -1 if it could not be started or did not exit normally
  std::string output;  // stdout and stderr together
};

inline CliRun RunCommand(const std::string& command) {
  CliRun r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace tidemark::test_util
