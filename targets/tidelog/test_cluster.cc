#include "test_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace tidemark::tidelog::testkit {

using nlohmann::json;

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

HttpResult HttpClient::Post(const std::string& path, const json& body) {
  HttpResult r;
  if (fd_ < 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      r.error = std::string("connect: ") + std::strerror(errno);
      Close();
      return r;
    }
  }
  std::string b = body.dump();
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " +
                    "application/json\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" +
                    b;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    // A server may answer early (413) and stop reading: try to read its answer anyway.
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string in;
  size_t header_end = std::string::npos, content_length = 0;
  char buf[65536];
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = in.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = in.substr(0, header_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto p = head.find("content-length:");
        if (p != std::string::npos) content_length = std::stoul(head.substr(p + 15));
        r.status = std::stoi(in.substr(9, 3));
      }
    }
    if (header_end != std::string::npos && in.size() >= header_end + 4 + content_length) break;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      r.status = 0;
      r.error = n == 0 ? "connection closed" : "recv timeout or error";
      Close();
      return r;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  r.body = json::parse(in.substr(header_end + 4, content_length), nullptr, false);
  if (in.find("Connection: close") != std::string::npos) Close();
  return r;
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

LocalCluster::LocalCluster(std::string binary, int count, std::string base_dir,
                           std::vector<std::string> extra_args)
    : binary_(std::move(binary)), base_(std::move(base_dir)), extra_(std::move(extra_args)) {
  std::filesystem::remove_all(base_);
  std::filesystem::create_directories(base_);
  for (int i = 0; i < count; ++i) {
    uint16_t p;
    do {
      p = FreePort();
    } while (std::find(ports_.begin(), ports_.end(), p) != ports_.end());
    ports_.push_back(p);
    pids_.push_back(0);
  }
}

LocalCluster::~LocalCluster() {
  for (int i = 0; i < size(); ++i) Kill(i, SIGKILL);
}

std::string LocalCluster::data_dir(int i) const { return base_ + "/" + id(i); }

bool LocalCluster::StartAll() {
  for (int i = 0; i < size(); ++i)
    if (!Start(i)) return false;
  return true;
}

bool LocalCluster::Start(int i) {
  std::vector<std::string> args = {
      binary_,      "--id",     id(i), "--listen", "127.0.0.1:" + std::to_string(ports_[i]),
      "--data-dir", data_dir(i)};
  for (int j = 0; j < size(); ++j)
    if (j != i) {
      args.push_back("--peer");
      args.push_back(id(j) + "=127.0.0.1:" + std::to_string(ports_[j]));
    }
  for (const auto& a : extra_) args.push_back(a);
  std::string log = base_ + "/" + id(i) + ".log";
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  pids_[i] = pid;
  return true;
}

void LocalCluster::Kill(int i, int sig) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], sig);
  if (sig == SIGKILL || sig == SIGTERM) {
    int status;
    ::waitpid(pids_[i], &status, 0);
    pids_[i] = 0;
  }
}

std::optional<int> LocalCluster::WaitForLeader(int timeout_ms, uint64_t min_generation) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      HttpClient c(ports_[i], 500);
      HttpResult r = c.Post("/v1/status", json::object());
      if (r.status == 200 && r.body.value("role", "") == "leader" &&
          r.body.value("generation", uint64_t{0}) > min_generation) {
        // Ready to serve once its no-op is committed: a linearizable HWM read answers.
        HttpResult h = c.Post("/v1/log/hwm", json::object());
        if (h.status == 200) return i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace tidemark::tidelog::testkit
