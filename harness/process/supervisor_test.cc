#include "harness/process/supervisor.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace tidemark::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tidemark_supervisor_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  SpawnSpec Sh(const std::string& script) {
    SpawnSpec s;
    s.argv = {"/bin/sh", "-c", script};
    s.stdout_path = (dir_ / "out.log").string();
    s.stderr_path = (dir_ / "err.log").string();
    return s;
  }
  std::string Slurp(const std::string& name) {
    std::ifstream f(dir_ / name);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

TEST_F(SupervisorTest, RecordsExitCodeAndCapturesOutputInFiles) {
  Supervisor sup;
  auto pid = sup.Spawn(Sh("echo hello; echo oops >&2; exit 3"));
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  auto st = sup.Wait(*pid, milliseconds(5000));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exited);
  EXPECT_EQ(st->code, 3);
  EXPECT_EQ(st->Describe(), "exit 3");
  EXPECT_EQ(Slurp("out.log"), "hello\n");
  EXPECT_EQ(Slurp("err.log"), "oops\n");
}

TEST_F(SupervisorTest, RestartAppendsToTheSameLogs) {
  Supervisor sup;
  for (int i = 0; i < 2; ++i) {
    auto pid = sup.Spawn(Sh("echo run" + std::to_string(i)));
    ASSERT_TRUE(pid.ok());
    ASSERT_TRUE(sup.Wait(*pid, milliseconds(5000)).has_value());
  }
  EXPECT_EQ(Slurp("out.log"), "run0\nrun1\n");
}

TEST_F(SupervisorTest, StopTerminatesTheWholeProcessGroup) {
  Supervisor sup;
  // The shell starts a grandchild and records its pid; stopping the node must end both.
  auto pid = sup.Spawn(Sh("sleep 60 & echo $! > " + (dir_ / "grandchild").string() + "; wait"));
  ASSERT_TRUE(pid.ok());
  pid_t grandchild = 0;
  for (int i = 0; i < 500 && grandchild == 0; ++i) {
    std::ifstream f(dir_ / "grandchild");
    f >> grandchild;
    if (grandchild == 0) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(sup.Running(*pid));
  ExitStatus st = sup.Stop(*pid, milliseconds(2000));
  EXPECT_TRUE(st.signaled || st.exited) << st.Describe();
  EXPECT_FALSE(sup.Running(*pid));
  // The grandchild was in the node's group: it got the signal too (it is reparented and reaped
  // by init or us; either way kill(pid, 0) fails once it is gone).
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    std::error_code ec;
    gone = kill(grandchild, 0) != 0 ||
           fs::read_symlink("/proc/" + std::to_string(grandchild) + "/exe", ec)
                   .string()
                   .find("sleep") == std::string::npos;
    if (!gone) {
      std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
      std::string s;
      std::getline(stat, s);
      gone = s.find(") Z") != std::string::npos;  // a zombie is dead
    }
    if (!gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the stop";
}

TEST_F(SupervisorTest, PauseStopsProgressAndResumeContinues) {
  Supervisor sup;
  auto pid = sup.Spawn(Sh("while true; do echo x; sleep 0.01; done"));
  ASSERT_TRUE(pid.ok());
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(sup.Signal(*pid, SIGSTOP));
  std::this_thread::sleep_for(milliseconds(100));
  size_t paused_size = Slurp("out.log").size();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Slurp("out.log").size(), paused_size);
  ASSERT_TRUE(sup.Signal(*pid, SIGCONT));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_GT(Slurp("out.log").size(), paused_size);
  // A paused process can still be stopped.
  ASSERT_TRUE(sup.Signal(*pid, SIGSTOP));
  ExitStatus st = sup.Stop(*pid, milliseconds(1000));
  EXPECT_TRUE(st.signaled) << st.Describe();
}

TEST_F(SupervisorTest, SigkillIsReportedAsSuch) {
  Supervisor sup;
  auto pid = sup.Spawn(Sh("sleep 60"));
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(sup.Signal(*pid, SIGKILL));
  auto st = sup.Wait(*pid, milliseconds(5000));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->signaled);
  EXPECT_EQ(st->signal, SIGKILL);
  EXPECT_EQ(st->Describe(), "killed by SIGKILL");
  EXPECT_FALSE(sup.Signal(*pid, SIGKILL));  // not running any more
}

TEST_F(SupervisorTest, MissingExecutableIsAClearError) {
  Supervisor sup;
  SpawnSpec s = Sh("true");
  s.argv = {"/nonexistent/tidelog", "--id", "n1"};
  auto pid = sup.Spawn(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message.find("/nonexistent/tidelog"), std::string::npos);
  s.argv = {"no-such-program-anywhere"};
  pid = sup.Spawn(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message.find("PATH"), std::string::npos);
}

TEST_F(SupervisorTest, DestructorKillsWhatIsStillRunning) {
  pid_t child = 0;
  {
    Supervisor sup;
    auto pid = sup.Spawn(Sh("sleep 60"));
    ASSERT_TRUE(pid.ok());
    child = *pid;
  }
  // Reaped by the supervisor before it returned: no such process.
  EXPECT_NE(kill(child, 0), 0);
}

}  // namespace
}  // namespace tidemark::process
