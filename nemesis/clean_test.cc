#include "nemesis/clean.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace tidemark::nemesis {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("tidemark-nemesis-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

pid_t SpawnSleep() {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execlp("sleep", "sleep", "600", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until exec happened (cmdline reads "sleep 600").
  for (int i = 0; i < 500 && ProcCmdline(pid) != "sleep 600"; ++i) usleep(2000);
  return pid;
}

// A pid that certainly belongs to no live process: a child that has exited and been reaped.
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// Rewrites the registry's controller so it looks like a controller that was SIGKILLed.
void PretendControllerDied(const std::string& path) {
  std::ifstream in(path);
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["controller"]["pid"] = DeadPid();
  std::ofstream(path, std::ios::trunc) << doc.dump();
}

bool Alive(pid_t pid) {
  // Reap it if it is our zombie, so "gone" is observable.
  int st;
  if (waitpid(pid, &st, WNOHANG) == pid) return false;
  return kill(pid, 0) == 0;
}

TEST(ProcTest, CmdlineAndStartTime) {
  EXPECT_NE(ProcCmdline(getpid()), "");
  EXPECT_GT(ProcStartTime(getpid()), 0);
  EXPECT_EQ(ProcCmdline(DeadPid()), "");
  EXPECT_EQ(ProcStartTime(DeadPid()), -1);
}

TEST(CleanTest, KillsARecordedLeftoverProcessOnlyOnce) {
  std::string store = TempDir("store");
  fs::create_directories(store + "/t/20260101T000000Z");
  std::string reg_path = store + "/t/20260101T000000Z/cleanup.json";
  pid_t victim = SpawnSleep();
  ASSERT_EQ(ProcCmdline(victim), "sleep 600");
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddProcess(victim).ok());
    EXPECT_EQ(reg.Snapshot()["processes"][0]["cmdline"], "sleep 600");
  }
  // While the controller (this test) is alive the run counts as in progress.
  CleanReport busy = CleanLeftovers(store);
  EXPECT_TRUE(busy.removed.empty());
  ASSERT_EQ(busy.skipped.size(), 1u);
  EXPECT_TRUE(Alive(victim));

  PretendControllerDied(reg_path);
  CleanReport r = CleanLeftovers(store);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.removed.size(), 1u);
  EXPECT_NE(r.removed[0].find("sleep 600"), std::string::npos);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !Alive(victim);
    if (!gone) usleep(2000);
  }
  EXPECT_TRUE(gone) << "the leftover sleep " << victim << " survived";
  if (!gone) kill(victim, SIGKILL);
  CleanReport again = CleanLeftovers(store);
  EXPECT_TRUE(again.removed.empty()) << "a second sweep must be a no-op";
  fs::remove_all(store);
}

TEST(CleanTest, NeverSignalsAReusedPid) {
  std::string store = TempDir("reuse");
  std::string reg_path = store + "/cleanup.json";
  pid_t unrelated = SpawnSleep();
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddProcess(unrelated).ok());
  }
  // Same pid, different command line: what a reused pid looks like.
  std::ifstream in(reg_path);
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["processes"][0]["cmdline"] = "tidelog --id n1";
  doc["controller"]["pid"] = DeadPid();
  std::ofstream(reg_path, std::ios::trunc) << doc.dump();
  CleanReport r = CleanLeftovers(store);
  EXPECT_TRUE(r.removed.empty());
  EXPECT_EQ(r.skipped.size(), 1u);
  EXPECT_TRUE(Alive(unrelated)) << "an unrelated process was killed";
  kill(unrelated, SIGKILL);
  waitpid(unrelated, nullptr, 0);
  fs::remove_all(store);
}

TEST(CleanTest, IgnoresNamesThatAreNotOurs) {
  std::string store = TempDir("names");
  std::string reg_path = store + "/cleanup.json";
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddLink("eth0").ok());
    ASSERT_TRUE(reg.AddNamespace("../../etc").ok());
  }
  PretendControllerDied(reg_path);
  CleanReport r = CleanLeftovers(store);
  EXPECT_TRUE(r.removed.empty());
  EXPECT_EQ(r.skipped.size(), 2u);
  fs::remove_all(store);
}

}  // namespace
}  // namespace tidemark::nemesis
