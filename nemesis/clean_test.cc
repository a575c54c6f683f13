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

// The machine-wide list (a temporary one here: TIDEMARK_RUNS_DIR) finds a run whatever its store.
class MachineCleanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runs_ = TempDir("runs");
    setenv("TIDEMARK_RUNS_DIR", runs_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("TIDEMARK_RUNS_DIR");
    fs::remove_all(runs_);
  }
  size_t Entries() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(runs_)) n += e.path().extension() == ".run";
    return n;
  }
  std::string runs_;
};

TEST_F(MachineCleanTest, ACleanEndLeavesNoEntryACrashLeavesOne) {
  std::string store = TempDir("machine-store");
  {
    CleanupRegistry reg(store + "/cleanup.json");
    EXPECT_EQ(Entries(), 1u);
    ASSERT_TRUE(reg.AddNamespace("tmtest-n1").ok());
    ASSERT_TRUE(reg.RemoveNamespace("tmtest-n1").ok());
  }
  EXPECT_EQ(Entries(), 0u) << "a run that removed all it made must leave no entry";
  {
    CleanupRegistry reg(store + "/cleanup.json");
    ASSERT_TRUE(reg.AddMount(store + "/n1/data").ok());
  }
  EXPECT_EQ(Entries(), 1u) << "a run that ended with something listed must stay findable";
  fs::remove_all(store);
  CleanReport r = CleanMachine();  // its cleanup.json is gone with its store: entry dropped
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(MachineCleanTest, SweepingAStoreDropsTheEntriesOfWhatItSwept) {
  std::string store = TempDir("swept-store");
  fs::create_directories(store + "/t/r");
  const std::string reg_path = store + "/t/r/cleanup.json";
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddNamespace("tmgone-n1").ok());  // never created: nothing to delete
  }
  ASSERT_EQ(Entries(), 1u);
  EXPECT_TRUE(CleanLeftovers(store).skipped.size() == 1u);  // controller alive: in progress
  EXPECT_EQ(Entries(), 1u);
  PretendControllerDied(reg_path);
  CleanReport r = CleanLeftovers(store);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(Entries(), 0u) << "clean --store left the machine-wide entry of a swept run";
  fs::remove_all(store);
}

TEST_F(MachineCleanTest, SweepsAKilledControllersRunFromAnyStore) {
  std::string store = TempDir("elsewhere");
  std::string reg_path = store + "/run/cleanup.json";
  fs::create_directories(store + "/run");
  pid_t victim = SpawnSleep();
  {
    CleanupRegistry reg(reg_path);
    ASSERT_TRUE(reg.AddProcess(victim).ok());
  }
  CleanReport busy = CleanMachine();  // the controller (this test) is alive: left alone
  EXPECT_TRUE(busy.removed.empty());
  EXPECT_TRUE(Alive(victim));
  EXPECT_EQ(Entries(), 1u);

  PretendControllerDied(reg_path);
  CleanReport r = CleanMachine();
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.removed.size(), 1u);
  EXPECT_NE(r.removed[0].find("sleep 600"), std::string::npos);
  bool gone = false;
  for (int i = 0; i < 500 && !(gone = !Alive(victim)); ++i) usleep(2000);
  EXPECT_TRUE(gone) << "the leftover sleep " << victim << " survived";
  if (!gone) kill(victim, SIGKILL);
  EXPECT_EQ(Entries(), 0u) << "a swept run's entry must go";
  EXPECT_TRUE(CleanMachine().removed.empty()) << "a second sweep must be a no-op";
  fs::remove_all(store);
}

}  // namespace
}  // namespace tidemark::nemesis
