// Test/bench kit: runs real tidelog processes on loopback and talks to them over HTTP.
// Used by e2e_test.cc and bench.cc only (never by tidelog itself).
//
// LocalCluster owns every process it starts and kills them (SIGKILL by PID, then waitpid) in
// its destructor, so a failing test leaves nothing behind; children also get PR_SET_PDEATHSIG
// so they die if the test process itself is killed. HttpClient is blocking, one connection,
// keep-alive, with socket timeouts; not thread-safe (one per thread).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tidemark::tidelog::testkit {

struct HttpResult {
  int status = 0;  // 0: no HTTP response (connect refused, timeout, connection dropped)
  nlohmann::json body;
  std::string error;
};

class HttpClient {
 public:
  HttpClient(uint16_t port, int timeout_ms) : port_(port), timeout_ms_(timeout_ms) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // POSTs `body` to `path` on 127.0.0.1:port. On any transport error the connection is closed
  // (never silently re-sent).
  HttpResult Post(const std::string& path, const nlohmann::json& body);

 private:
  void Close();
  uint16_t port_;
  int timeout_ms_;
  int fd_ = -1;
};

// A port on 127.0.0.1 that was free a moment ago.
uint16_t FreePort();

class LocalCluster {
 public:
  // Prepares nodes n1..n{count} with data dirs under `base_dir` (created, emptied first).
  LocalCluster(std::string binary, int count, std::string base_dir,
               std::vector<std::string> extra_args = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  bool StartAll();
  bool Start(int i);          // 0-based; stderr goes to base_dir/n{i+1}.log
  void Kill(int i, int sig);  // signal by PID; SIGKILL/SIGTERM also reap
  bool running(int i) const { return pids_[i] > 0; }
  int size() const { return static_cast<int>(ports_.size()); }
  uint16_t port(int i) const { return ports_[i]; }
  std::string id(int i) const { return "n" + std::to_string(i + 1); }
  std::string data_dir(int i) const;
  // Polls /v1/status of running nodes until one reports role leader with a generation above
  // `min_generation` and can append; returns its index.
  std::optional<int> WaitForLeader(int timeout_ms, uint64_t min_generation = 0);

 private:
  std::string binary_, base_;
  std::vector<std::string> extra_;
  std::vector<uint16_t> ports_;
  std::vector<pid_t> pids_;
};

}  // namespace tidemark::tidelog::testkit
