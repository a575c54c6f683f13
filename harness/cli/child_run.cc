#include "harness/cli/child_run.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace tidemark::cli {
namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<pid_t> g_child{0};

void OnSignal(int sig) {
  g_interrupted.store(true);
  pid_t c = g_child.load();
  // The child tears its cluster down on SIGINT/SIGTERM and exits 130 with what it recorded.
  if (c > 0) kill(c, sig == SIGINT ? SIGINT : SIGTERM);
}

// Runs argv with stdout and stderr to `log`; returns the exit code (128+signal if killed),
// or -1 if it could not be spawned.
int Spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  g_child.store(pid);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  g_child.store(0);
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

std::string RunDirFromLog(const std::string& log) {
  std::ifstream in(log);
  const std::string key = "run directory: ";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

std::string LastLines(const std::string& log, int n) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > static_cast<size_t>(n) ? lines.size() - n : 0; i < lines.size();
       ++i)
    out += lines[i] + (i + 1 < lines.size() ? " | " : "");
  return out;
}

}  // namespace

void InstallInterruptForwarding() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted.load(); }

std::string JoinArgs(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" '\"\\$`") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return out;
}

std::string SelfPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : self.string();
}

zoo::RunRecord RunChild(const std::vector<std::string>& argv, const std::string& log,
                        const std::string& row, uint64_t seed) {
  auto t0 = std::chrono::steady_clock::now();
  int rc = Spawn(argv, log);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string run_dir = RunDirFromLog(log);
  zoo::RunRecord r = run_dir.empty() ? zoo::RunRecord{} : zoo::ReadRun(run_dir);
  r.row = row;
  r.seed = seed;
  r.exit_code = rc;
  r.wall_s = wall;
  if (rc == -1)
    r.error = "could not start " + argv[0];
  else if (rc == 254 || rc == 255 || run_dir.empty())
    r.error = "tidemark run exited " + std::to_string(rc) + ": " + LastLines(log, 3);
  if (rc == 130 || Interrupted()) r.verdict.clear();  // an interrupted run proves nothing
  return r;
}

}  // namespace tidemark::cli
