// Test helper: a fake cluster and network backend for Nemesis tests (hooks that flip running /
// paused flags, a leader to report, every recorded event kept). Tests only.
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nemesis/nemesis.h"

namespace tidemark::nemesis::testing {

// A fake cluster and network: records what the nemesis did to it.
struct FakeCluster : NetBackend {
  int n = 3;
  std::optional<int> leader = 0;
  std::vector<bool> running = std::vector<bool>(3, true), paused = std::vector<bool>(3, false);
  std::vector<history::Event> events;
  std::optional<Grudge> applied;
  int heals = 0;
  bool fail_start = false;
  std::mutex mu;

  std::string Name() const override { return "fake"; }
  Status Prepare(const NetCluster&) override { return OkStatus(); }
  Status Apply(const Grudge& g) override {
    std::lock_guard<std::mutex> lock(mu);
    applied = g;
    return OkStatus();
  }
  Status Heal() override {
    std::lock_guard<std::mutex> lock(mu);
    applied.reset();
    ++heals;
    return OkStatus();
  }
  void Teardown() override {}
  nlohmann::json Describe() const override { return {}; }

  NemesisHooks Hooks() {
    NemesisHooks h;
    h.size = [this] { return n; };
    h.name = [](int i) { return "n" + std::to_string(i + 1); };
    h.kill = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      if (!running[static_cast<size_t>(i)]) return false;
      running[static_cast<size_t>(i)] = false;
      return true;
    };
    h.start = [this](int i) -> Status {
      std::lock_guard<std::mutex> lock(mu);
      if (fail_start) return Error{"spawn failed"};
      running[static_cast<size_t>(i)] = true;
      return OkStatus();
    };
    h.pause = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      if (paused[static_cast<size_t>(i)]) return false;
      paused[static_cast<size_t>(i)] = true;
      return true;
    };
    h.resume = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      bool was = paused[static_cast<size_t>(i)];
      paused[static_cast<size_t>(i)] = false;
      return was;
    };
    h.leader = [this] { return leader; };
    h.record = [this](history::Event e) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_EQ(e.process, history::kNemesisProcess);
      EXPECT_EQ(e.type, history::EventType::kInfo);
      events.push_back(std::move(e));
    };
    h.pid = [](int i) { return 1000 + i; };
    return h;
  }
  std::vector<std::string> Fs() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.f);
    return out;
  }
};

}  // namespace tidemark::nemesis::testing
