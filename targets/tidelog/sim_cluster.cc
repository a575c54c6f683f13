#include "sim_cluster.h"

#include <algorithm>
#include <deque>

namespace tidemark::tidelog::testing {

SimCluster::SimCluster(int count, Config base, std::map<std::string, Bugs> per_node_bugs)
    : base_(std::move(base)), bugs_(std::move(per_node_bugs)) {
  for (int i = 1; i <= count; ++i) ids_.push_back("n" + std::to_string(i));
  for (const std::string& id : ids_) {
    disks_[id] = Disk{};
    Restart(id);
  }
}

Config SimCluster::ConfigFor(const std::string& id) {
  Config c = base_;
  c.id = id;
  c.peers.clear();
  for (const std::string& p : ids_)
    if (p != id) c.peers.push_back(p);
  if (bugs_.count(id)) c.bugs = bugs_.at(id);
  c.seed = seed_++;
  return c;
}

void SimCluster::Restart(const std::string& id) {
  const Disk& d = disks_.at(id);
  nodes_[id] = std::make_unique<Consensus>(ConfigFor(id), d.hs, d.log, d.hwm, now_);
}

void SimCluster::RestartDamaged(const std::string& id, uint64_t keep) {
  Disk& d = disks_.at(id);
  if (d.log.size() > keep) d.log.resize(keep);
  d.hwm = std::min<uint64_t>(d.hwm, keep);
  d.hs.voted_for.clear();
  Config c = ConfigFor(id);
  c.recovering = true;
  nodes_[id] = std::make_unique<Consensus>(c, d.hs, d.log, d.hwm, now_);
}

void SimCluster::Crash(const std::string& id) { nodes_.erase(id); }

void SimCluster::Isolate(const std::set<std::string>& group) {
  drop = [group](const Message& m) { return group.count(m.from) != group.count(m.to); };
}

void SimCluster::HealAll() { drop = nullptr; }

void SimCluster::CheckSafety(const std::string& id) {
  const Consensus& n = *nodes_.at(id);
  for (uint64_t i = 0; i < n.hwm() && i < n.log_end(); ++i) {
    const Entry& e = n.log()[i];
    auto it = committed_.find(i);
    if (it == committed_.end()) {
      committed_[i] = e;
    } else if (it->second != e) {
      violations_.push_back(id + " has a different committed entry at offset " + std::to_string(i));
    }
  }
}

bool SimCluster::EverCommitted(uint64_t offset, uint64_t generation) const {
  auto it = committed_.find(offset);
  return it != committed_.end() && it->second.generation == generation;
}

std::vector<uint64_t> SimCluster::confirmed_reads(const std::string& id) const {
  auto it = confirmed_.find(id);
  return it == confirmed_.end() ? std::vector<uint64_t>{} : it->second;
}

void SimCluster::Pump() {
  for (int round = 0; round < 10000; ++round) {
    std::deque<Message> wire;
    for (auto& [id, n] : nodes_) {
      Ready r = n->TakeReady();
      Disk& d = disks_[id];
      if (r.hard_state) d.hs = *r.hard_state;
      if (r.truncate_to) d.log.resize(*r.truncate_to);
      for (const Entry& e : r.entries) {
        d.log.resize(e.index);
        d.log.push_back(e);
      }
      n->OnPersisted();
      d.hwm = n->hwm();
      for (uint64_t c : r.confirmed_reads) confirmed_[id].push_back(c);
      for (Message& m : r.messages)
        if (!(drop && drop(m))) wire.push_back(std::move(m));
      CheckSafety(id);
    }
    if (wire.empty()) return;
    for (const Message& m : wire)
      if (nodes_.count(m.to)) nodes_.at(m.to)->Step(m, now_);
  }
}

void SimCluster::Advance(uint64_t ms, std::set<std::string> ticking) {
  for (uint64_t t = 0; t < ms; t += 10) {
    now_ += 10;
    for (auto& [id, n] : nodes_)
      if (ticking.empty() || ticking.count(id)) n->Tick(now_);
    Pump();
  }
}

bool SimCluster::Campaign(const std::string& id, uint64_t max_ms) {
  for (uint64_t t = 0; t < max_ms; t += 10) {
    if (up(id) && node(id).role() == Role::kLeader) return true;
    Advance(10, {id});
  }
  return up(id) && node(id).role() == Role::kLeader;
}

std::string SimCluster::Leader() const {
  std::string best;
  uint64_t gen = 0;
  for (auto& [id, n] : nodes_)
    if (n->role() == Role::kLeader && (best.empty() || n->generation() > gen)) {
      best = id;
      gen = n->generation();
    }
  return best;
}

}  // namespace tidemark::tidelog::testing
