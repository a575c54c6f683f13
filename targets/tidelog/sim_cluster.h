// An in-process cluster of consensus cores for tests: a controllable network (a drop predicate
// over messages), a global clock with per-node ticking, simulated disks fed from each Ready
// (so a node can crash and restart from what it persisted), and a safety monitor that records
// every committed (offset, generation, payload) and flags any node whose committed prefix
// disagrees with what some node committed before (lost or changed committed entries).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "consensus.h"

namespace tidemark::tidelog::testing {

class SimCluster {
 public:
  // Nodes n1..n{count}; `bugs` applies to every node unless overridden by per_node_bugs.
  SimCluster(int count, Config base, std::map<std::string, Bugs> per_node_bugs = {});

  Consensus& node(const std::string& id) { return *nodes_.at(id); }
  bool up(const std::string& id) const { return nodes_.count(id) > 0; }
  uint64_t now() const { return now_; }

  // Messages for which `drop` returns true are lost. Default: none.
  std::function<bool(const Message&)> drop;
  // Convenience drop rules.
  void Isolate(const std::set<std::string>& group);  // only links inside `group` and inside
                                                     // its complement work
  void HealAll();

  // Collects Ready from every node and delivers messages until nothing moves.
  void Pump();
  // Advances the clock by `ms` in 10 ms steps, ticking only `ticking` (all live nodes if
  // empty), pumping after each step.
  void Advance(uint64_t ms, std::set<std::string> ticking = {});
  // Ticks only `id` until it leads (or `max_ms` passes). True if it leads.
  bool Campaign(const std::string& id, uint64_t max_ms = 5000);
  // The unique leader among live nodes with the highest generation, or "".
  std::string Leader() const;

  // Crash: forget the node's memory (its disk remains). Restart: rebuild from the disk.
  void Crash(const std::string& id);
  void Restart(const std::string& id);
  // Restart after a damaged disk: the log cut to its first `keep` entries (acknowledged ones
  // included), the vote forgotten, and Config::recovering set as tidelog's WAL would.
  void RestartDamaged(const std::string& id, uint64_t keep);

  const std::vector<std::string>& violations() const { return violations_; }
  // Whether some node ever had (offset, generation) below its HWM.
  bool EverCommitted(uint64_t offset, uint64_t generation) const;
  std::vector<uint64_t> confirmed_reads(const std::string& id) const;
  // One past the highest offset any node ever had committed (0 if none).
  uint64_t CommittedEnd() const { return committed_.empty() ? 0 : committed_.rbegin()->first + 1; }

 private:
  struct Disk {
    HardState hs;
    std::vector<Entry> log;
    uint64_t hwm = 0;
  };
  void CheckSafety(const std::string& id);
  Config ConfigFor(const std::string& id);  // base_ for node `id`, with the next seed

  Config base_;
  std::map<std::string, Bugs> bugs_;
  std::vector<std::string> ids_;
  std::map<std::string, std::unique_ptr<Consensus>> nodes_;
  std::map<std::string, Disk> disks_;
  std::map<std::string, std::vector<uint64_t>> confirmed_;
  std::map<uint64_t, Entry> committed_;  // offset -> first entry seen committed there
  std::vector<std::string> violations_;
  uint64_t now_ = 1000;
  uint64_t seed_ = 1;
};

}  // namespace tidemark::tidelog::testing
