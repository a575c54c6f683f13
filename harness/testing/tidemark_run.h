// Test helpers for end-to-end tests of `tidemark run`: start a run in the background, read what
// it stored, and look for what it may have left behind. For tests only (fork/exec, /proc).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "base/filename.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tidemark::test_util {

// The JSON document in `p` (discarded, i.e. is_discarded(), when missing or unreadable).
inline nlohmann::json ReadJsonFile(const std::filesystem::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f, nullptr, false);
}

// How many tidelog processes whose command line mentions `store` are alive.
inline int SurvivingNodes(const std::string& store) {
  namespace fs = std::filesystem;
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream f(e.path() / "cmdline");
    std::string cmdline;
    std::getline(f, cmdline, '\0');
    std::string rest((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmdline.find("tidelog") != std::string::npos && rest.find(store) != std::string::npos) ++n;
  }
  return n;
}

// A fresh (removed if it existed) store directory for the running test:
// TMP/PREFIX_<pid>_<test name>.
inline std::string FreshTestStore(const std::string& prefix) {
  namespace fs = std::filesystem;
  std::string store = (fs::temp_directory_path() /
                       (prefix + "_" + std::to_string(getpid()) + "_" +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                          .string();
  fs::remove_all(store);
  return store;
}

struct BackgroundRun {
  pid_t pid = -1;                 // the controller (a child of the test); -1 if fork failed
  std::filesystem::path history;  // its history.jsonl; empty if it never grew past min_bytes
};

// Starts `BIN run RUN_ARGS... --store STORE` in the background with its output in
// STORE/out.txt and waits (up to 30 s) until its history holds more than `min_bytes`. The
// caller reaps the pid.
inline BackgroundRun StartRunInBackground(const std::string& bin, const std::string& store,
                                          const std::vector<std::string>& run_args,
                                          uintmax_t min_bytes) {
  namespace fs = std::filesystem;
  fs::create_directories(store);
  std::string out = store + "/out.txt";
  std::vector<std::string> args = {bin, "run"};
  args.insert(args.end(), run_args.begin(), run_args.end());
  args.insert(args.end(), {"--store", store});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  BackgroundRun r;
  r.pid = fork();
  if (r.pid == 0) {
    freopen(out.c_str(), "w", stdout);
    freopen(out.c_str(), "a", stderr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  for (int i = 0; i < 300 && r.history.empty() && r.pid > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(store, ec))
      if (e.path().filename() == filename::kHistory && fs::file_size(e.path(), ec) > min_bytes)
        r.history = e.path();
  }
  return r;
}

}  // namespace tidemark::test_util
