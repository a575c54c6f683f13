#include "nemesis/lazyfs/mount.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

namespace tidemark::lazyfs {
namespace fs = std::filesystem;
namespace {

constexpr long kFuseSuperMagic = 0x65735546;

bool IsFuseMount(const std::string& path) {
  struct statfs s {};
  return ::statfs(path.c_str(), &s) == 0 && s.f_type == kFuseSuperMagic;
}

// Moves every entry of `from` into `to` (same filesystem). Errors name the entry.
Status MoveEntries(const std::string& from, const std::string& to) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(from, ec)) {
    fs::rename(e.path(), fs::path(to) / e.path().filename(), ec);
    if (ec) return Error{"cannot move " + e.path().string() + " to " + to + ": " + ec.message()};
  }
  if (ec) return Error{"cannot list " + from + ": " + ec.message()};
  return OkStatus();
}

// Waits up to `timeout` for `pid` to exit; true if it did (and was reaped).
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::string Unavailable(const std::string& binary) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0)
    return std::string("/dev/fuse is not usable (") + std::strerror(errno) +
           "): load the fuse module or run where FUSE is allowed (containers need "
           "--device /dev/fuse and CAP_SYS_ADMIN)";
  if (::access(binary.c_str(), X_OK) != 0)
    return "the filesystem program " + binary + " is missing (build target tidemark-lazyfs)";
  return "";
}

LazyMount::~LazyMount() { (void)Unmount(); }

Status LazyMount::Mount(const std::string& binary, const std::string& mountpoint) {
  if (std::string why = Unavailable(binary); !why.empty()) return Error{why};
  mountpoint_ = mountpoint;
  backing_ = mountpoint + ".backing";
  stash_ = mountpoint + ".stash";
  // An abstract socket: a file path under a deep run directory overflows sun_path (108 bytes).
  static std::atomic<uint64_t> seq{0};
  control_ = "@tidemark-lazyfs/" + std::to_string(::getpid()) + "/" + std::to_string(++seq);
  std::error_code ec;
  for (const std::string& d : {mountpoint_, backing_, stash_}) {
    fs::create_directories(d, ec);
    if (ec) return Error{"cannot create " + d + ": " + ec.message()};
  }
  if (Status s = MoveEntries(mountpoint_, backing_); !s.ok()) return s;
  std::string log = mountpoint + ".lazyfs.log";
  pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    ::setpgid(0, 0);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    const char* argv[] = {binary.c_str(),   "--backing",         backing_.c_str(),
                          "--stash",        stash_.c_str(),      "--control",
                          control_.c_str(), mountpoint_.c_str(), nullptr};
    ::execv(binary.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  pid_ = pid;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (WaitExit(pid_, std::chrono::milliseconds(0))) {
      pid_ = -1;
      (void)MoveEntries(backing_, mountpoint_);
      return Error{"tidemark-lazyfs exited before mounting " + mountpoint_ + " (see " + log + ")"};
    }
    auto pong = Command("ping");
    if (pong.ok() && *pong == "ok" && IsFuseMount(mountpoint_)) return OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (void)Unmount();
  return Error{"tidemark-lazyfs did not mount " + mountpoint_ + " within 10 s (see " + log + ")"};
}

Result<std::string> LazyMount::Command(const std::string& cmd) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (fd < 0 || control_.size() >= sizeof a.sun_path) {
    if (fd >= 0) ::close(fd);
    return Error{"control socket path too long: " + control_};
  }
  std::memcpy(a.sun_path, control_.c_str(), control_.size());
  a.sun_path[0] = '\0';  // abstract: control_ is "@NAME"
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + control_.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    int e = errno;
    ::close(fd);
    return Error{"cannot reach tidemark-lazyfs at " + control_ + ": " + std::strerror(e)};
  }
  std::string line = cmd + "\n";
  (void)!::write(fd, line.data(), line.size());
  std::string reply;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) reply.append(buf, size_t(n));
  ::close(fd);
  while (!reply.empty() && reply.back() == '\n') reply.pop_back();
  return reply;
}

Result<DropReport> LazyMount::Drop(std::optional<uint64_t> tear_seed) {
  if (pid_ <= 0) return Error{"lose-unfsynced: nothing mounted"};
  auto reply = Command(tear_seed ? "drop " + std::to_string(*tear_seed) : "drop");
  if (!reply.ok()) return reply.error();
  DropReport r;
  std::istringstream in(*reply);
  std::string word;
  in >> word;
  if (word != "ok") return Error{"tidemark-lazyfs drop failed: " + *reply};
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    uint64_t v = std::strtoull(word.c_str() + eq + 1, nullptr, 10);
    std::string k = word.substr(0, eq);
    if (k == "bytes") r.bytes = v;
    if (k == "files") r.files = v;
    if (k == "undone") r.undone = v;
    if (k == "torn") r.torn = v;
  }
  return r;
}

Status LazyMount::Unmount() {
  if (pid_ <= 0) return OkStatus();
  Status result = OkStatus();
  ::kill(pid_, SIGTERM);
  if (!WaitExit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    WaitExit(pid_, std::chrono::seconds(5));
    result = Error{"tidemark-lazyfs on " + mountpoint_ + " did not exit on SIGTERM; killed"};
  }
  pid_ = -1;
  // A killed program leaves its mount behind ("transport endpoint is not connected"); EINVAL
  // means nothing is mounted there any more.
  if (::umount2(mountpoint_.c_str(), MNT_DETACH) != 0 && errno != EINVAL && result.ok())
    result = Error{"cannot unmount " + mountpoint_ + ": " + std::strerror(errno)};
  if (Status s = MoveEntries(backing_, mountpoint_); !s.ok() && result.ok()) result = s;
  std::error_code ec;
  fs::remove(backing_, ec);
  fs::remove_all(stash_, ec);
  return result;
}

}  // namespace tidemark::lazyfs
