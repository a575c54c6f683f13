// A simulated cluster behind ScenarioActions, for unit tests of scenarios and of the default
// mix: who leads follows the actions (a leader that is killed or cut off from a majority hands
// leadership to the lowest running node that sees a majority, at the next sleep), time passes
// only in Sleep, and every action is logged as a line ("partition leader n2", "kill n1", "heal").
//
// Threading: single-threaded (test only).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nemesis/scenario.h"

namespace tidemark::nemesis::testing {

inline std::string N(int i) { return "n" + std::to_string(i + 1); }

class SimActions : public ScenarioActions {
 public:
  explicit SimActions(int n, double budget_s) : n_(n), budget_s_(budget_s) {}

  int Size() override { return n_; }
  std::optional<int> Leader() override { return leader_; }
  bool Sleep(double s) override {
    clock_ += s;
    Elect();
    return clock_ < budget_s_;
  }
  // Logged as "ack": the simulated clients acknowledge a write at once.
  bool AwaitWriteAck(double) override {
    log_.push_back("ack");
    return clock_ < budget_s_;
  }
  Status Partition(const Grudge& g, const std::string& shape,
                   const std::vector<int>& focus) override {
    grudge_ = g;
    std::string f;
    for (int i : focus) f += " " + N(i);
    log_.push_back("partition " + shape + f);
    return OkStatus();
  }
  Status Heal() override {
    if (grudge_.empty()) return OkStatus();
    grudge_.clear();
    log_.push_back("heal");
    return OkStatus();
  }
  Status Kill(const std::vector<int>& nodes, const std::string&) override {
    for (int i : nodes) {
      killed_.insert(i);
      log_.push_back("kill " + N(i));
      if (leader_ == i) leader_.reset();
    }
    return OkStatus();
  }
  Status PowerCut(const std::vector<int>& nodes, const std::string& target) override {
    ++power_cuts_;
    return Kill(nodes, target);
  }
  Status Restart(const std::vector<int>& nodes) override {
    for (int i : nodes)
      if (killed_.erase(i)) log_.push_back("restart " + N(i));
    return OkStatus();
  }
  Status Pause(const std::vector<int>& nodes, const std::string&) override {
    for (int i : nodes) {
      paused_.insert(i);
      log_.push_back("pause " + N(i));
    }
    return OkStatus();
  }
  Status Resume(const std::vector<int>& nodes) override {
    for (int i : nodes)
      if (paused_.erase(i)) log_.push_back("resume " + N(i));
    return OkStatus();
  }
  Status RestoreAll() override {
    (void)Heal();
    (void)Resume({paused_.begin(), paused_.end()});
    (void)Restart({killed_.begin(), killed_.end()});
    return OkStatus();
  }
  void Note(const std::string& step) override { notes_.push_back(step); }

  // A leader cut off from a majority, or killed, is replaced by the lowest running node that
  // sees a majority.
  void Elect() {
    auto sees_majority = [&](int i) {
      if (killed_.count(i) || paused_.count(i)) return false;
      int seen = 0;
      for (int j = 0; j < n_; ++j)
        if (!killed_.count(j) && !paused_.count(j) && !Cut(grudge_, i, j) && !Cut(grudge_, j, i))
          ++seen;
      return seen > n_ / 2;
    };
    if (leader_ && sees_majority(*leader_)) return;
    leader_.reset();
    for (int i = 0; i < n_; ++i)
      if (sees_majority(i)) {
        leader_ = i;
        return;
      }
  }

  double clock() const { return clock_; }
  bool Clean() const { return grudge_.empty() && killed_.empty() && paused_.empty(); }
  const std::vector<std::string>& log() const { return log_; }
  int power_cuts() const { return power_cuts_; }  // PowerCut calls (each also logs its kills)
  std::optional<int> leader_ = 0;

 private:
  int n_;
  double budget_s_, clock_ = 0;
  Grudge grudge_;
  std::set<int> killed_, paused_;
  std::vector<std::string> log_, notes_;
  int power_cuts_ = 0;
};

}  // namespace tidemark::nemesis::testing
