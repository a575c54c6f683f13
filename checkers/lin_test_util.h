// Test helpers: building op histories by hand (tests only).
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/history/history.h"

namespace tidemark::checkers::testing {

// Appends ops with explicit call/return times; ids and event indices are assigned densely.
class OpsBuilder {
 public:
  // status kOk/kFail/kInfo; ret is ignored for kInfo.
  OpsBuilder& Add(int64_t process, const std::string& f, nlohmann::json in, nlohmann::json out,
                  history::EventType status, int64_t call, int64_t ret,
                  std::optional<std::string> key = std::nullopt) {
    history::Op op;
    op.id = static_cast<int64_t>(ops_.size());
    op.process = process;
    op.f = f;
    op.key = std::move(key);
    op.invoke_value = std::move(in);
    op.value = status == history::EventType::kOk ? std::move(out) : op.invoke_value;
    op.status = status;
    op.call_ns = call;
    op.return_ns = status == history::EventType::kInfo ? history::kNever : ret;
    op.invoke_index = call;
    op.complete_index = status == history::EventType::kInfo ? -1 : ret;
    ops_.push_back(std::move(op));
    return *this;
  }
  OpsBuilder& Ok(int64_t p, const std::string& f, nlohmann::json in, nlohmann::json out,
                 int64_t call, int64_t ret, std::optional<std::string> key = std::nullopt) {
    return Add(p, f, std::move(in), std::move(out), history::EventType::kOk, call, ret, key);
  }
  OpsBuilder& Info(int64_t p, const std::string& f, nlohmann::json in, int64_t call,
                   std::optional<std::string> key = std::nullopt) {
    return Add(p, f, in, nullptr, history::EventType::kInfo, call, 0, key);
  }
  OpsBuilder& Fail(int64_t p, const std::string& f, nlohmann::json in, int64_t call, int64_t ret,
                   std::optional<std::string> key = std::nullopt) {
    return Add(p, f, in, nullptr, history::EventType::kFail, call, ret, key);
  }
  const std::vector<history::Op>& ops() const { return ops_; }

 private:
  std::vector<history::Op> ops_;
};

// Runs `body` in a forked child whose data segment is capped 48 MiB above what it holds now (so
// that allocating more throws std::bad_alloc), and returns what body returned. A child that ended
// otherwise (a signal, a failed write) fails the test and gives "".
inline std::string InCappedChild(const std::function<std::string()>& body) {
  const auto data_bytes = [] {  // /proc/self/statm: the data segment's size
    FILE* f = std::fopen("/proc/self/statm", "r");
    unsigned long v[6] = {};
    if (f == nullptr) return size_t{0};
    int n = std::fscanf(f, "%lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
    std::fclose(f);
    return n == 6 ? v[5] * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : size_t{0};
  };
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return "";
  }
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return "";
  }
  if (pid == 0) {
    close(fds[0]);
    rlim_t cap = data_bytes() + (rlim_t{48} << 20);
    struct rlimit rl = {cap, cap};
    if (setrlimit(RLIMIT_DATA, &rl) != 0) _exit(3);
    const std::string out = body();
    ssize_t w = write(fds[1], out.data(), out.size());
    _exit(w == static_cast<ssize_t>(out.size()) ? 0 : 4);
  }
  close(fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    ADD_FAILURE() << "the check ended the process (signal " << WTERMSIG(status) << ")";
    return "";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
  return got;
}

}  // namespace tidemark::checkers::testing
