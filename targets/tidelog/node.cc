#include "node.h"

#include <unistd.h>

#include <iostream>

#include "codec.h"

namespace tidemark::tidelog {

using nlohmann::json;

Node::Node(Consensus core, std::unique_ptr<Wal> wal, SendFn send, ScheduleFn schedule,
           uint64_t commit_timeout_ms)
    : core_(std::move(core)),
      wal_(std::move(wal)),
      send_(std::move(send)),
      schedule_(std::move(schedule)),
      commit_timeout_ms_(commit_timeout_ms),
      persisted_hwm_(core_.hwm()) {
  // The constructor of the core may already have work (bug truncate-to-local-hwm).
  Dirty();
}

void Node::Dirty() {
  if (scheduled_) return;
  scheduled_ = true;
  schedule_();
}

json Node::Envelope() const {
  json j;
  j["node"] = core_.id();
  j["generation"] = core_.generation();
  j["leader"] = core_.leader().empty() ? json(nullptr) : json(core_.leader());
  j["hwm"] = core_.hwm();
  return j;
}

json Node::ErrorBody(const std::string& code, bool definite, const std::string& text) const {
  json j = Envelope();
  j["error"] = {{"code", code}, {"definite", definite}, {"text", text}};
  if (code == "not_leader")
    j["error"]["leader"] = core_.leader().empty() ? json(nullptr) : json(core_.leader());
  return j;
}

uint64_t Node::ServedHwm() const {
  return core_.config().bugs.read_above_hwm ? core_.log_end() : core_.hwm();
}

bool Node::OnPeerBody(const std::string& body, uint64_t now_ms) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("msgs") || !j["msgs"].is_array())
    return false;
  std::vector<Message> msgs;
  for (const json& mj : j["msgs"]) {
    auto m = MessageFromJson(mj);
    if (!m || m->to != core_.id()) return false;
    msgs.push_back(std::move(*m));
  }
  for (const Message& m : msgs) core_.Step(m, now_ms);
  Dirty();
  return true;
}

void Node::OnTick(uint64_t now_ms) {
  core_.Tick(now_ms);
  Dirty();
}

void Node::FlushLazy() {
  if (!wal_->FlushLazy()) {
    std::cerr << "tidelog: WAL flush failed; exiting\n";
    _exit(3);
  }
}

void Node::Process(uint64_t now_ms) {
  scheduled_ = false;
  // Sending can make no new work for the core, but confirmed reads may; a few rounds suffice.
  for (int round = 0; round < 4; ++round) {
    Ready r = core_.TakeReady();
    if (r.hard_state) wal_->AppendHardState(*r.hard_state);
    if (r.truncate_to) wal_->AppendTruncate(*r.truncate_to);
    for (const Entry& e : r.entries) wal_->AppendEntry(e);
    if (core_.hwm() != persisted_hwm_) {
      wal_->AppendHwm(core_.hwm());
      persisted_hwm_ = core_.hwm();
    }
    if (!wal_->Sync()) {
      // Acknowledging anything now could lose it; a node with a failing disk must stop.
      std::cerr << "tidelog: WAL sync failed; exiting\n";
      _exit(3);
    }
    core_.OnPersisted();
    // Caught up after a damaged WAL, with what it caught up on durable: drop the mark.
    if (!core_.recovering() && !wal_->ClearRecovering()) {
      std::cerr << "tidelog: cannot remove the WAL's recovering mark; exiting\n";
      _exit(3);
    }
    for (const Message& m : r.messages) send_(m);
    kv_.ApplyUpTo(core_.log(), core_.hwm());
    for (uint64_t id : r.confirmed_reads) {
      auto it = reads_.find(id);
      if (it == reads_.end()) continue;
      auto done = std::move(it->second.done);
      reads_.erase(it);
      done(true);
    }
    for (uint64_t id : r.failed_reads) {
      auto it = reads_.find(id);
      if (it == reads_.end()) continue;
      auto done = std::move(it->second.done);
      reads_.erase(it);
      done(false);
    }
    if (r.empty() && !core_.HasReady()) break;
  }
  CompleteWaiters(now_ms);
}

void Node::CompleteWaiters(uint64_t now_ms) {
  const auto& log = core_.log();
  bool ack_early = core_.config().bugs.ack_before_quorum && core_.role() == Role::kLeader;
  for (auto it = writes_.begin(); it != writes_.end();) {
    uint64_t idx = it->first;
    WriteWaiter& w = it->second;
    bool present = idx < log.size() && log[idx].generation == w.generation;
    if (present && (idx < core_.hwm() || ack_early)) {
      w.on_commit(idx);
    } else if (!present) {
      w.reply(504, ErrorBody("timeout", false,
                             "the entry at offset " + std::to_string(idx) +
                                 " was replaced by another leader's; it may still be "
                                 "committed elsewhere, or never"));
    } else if (now_ms >= w.deadline_ms) {
      w.reply(504, ErrorBody("timeout", false,
                             "not committed within " + std::to_string(commit_timeout_ms_) +
                                 " ms; it may still be committed later, or never"));
    } else {
      ++it;
      continue;
    }
    it = writes_.erase(it);
  }
  for (auto it = status_waits_.begin(); it != status_waits_.end();) {
    if (!StatusChanged(*it) && now_ms < it->deadline_ms) {
      ++it;
      continue;
    }
    Reply reply = std::move(it->reply);
    it = status_waits_.erase(it);
    reply(200, StatusBody());
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (now_ms < it->second.deadline_ms) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = reads_.erase(it);
    done(false);
  }
}

void Node::Propose(EntryKind kind, const std::string& client_id, uint64_t seq,
                   const std::string& payload, std::function<void(uint64_t index)> on_commit,
                   Reply reply, uint64_t now_ms) {
  ProposeResult r = core_.Propose(kind, client_id, seq, payload);
  switch (r.status) {
    case ProposeStatus::kNotLeader:
      reply(409, ErrorBody("not_leader", true, core_.id() + " is not the leader"));
      return;
    case ProposeStatus::kUnavailable:
      reply(503, ErrorBody("unavailable", true,
                           "leader has not yet committed an entry of its generation; nothing "
                           "was appended"));
      return;
    case ProposeStatus::kOk:
    case ProposeStatus::kDuplicate:
      break;
  }
  uint64_t gen = core_.log()[r.index].generation;
  writes_.emplace(r.index, WriteWaiter{gen, now_ms + commit_timeout_ms_, std::move(on_commit),
                                       std::move(reply)});
  Dirty();
}

void Node::ReadLinearizable(std::function<void(bool)> done, uint64_t now_ms) {
  std::optional<uint64_t> id = core_.RequestRead();
  if (!id) {
    done(false);
    return;
  }
  reads_[*id] = ReadWaiter{now_ms + commit_timeout_ms_, std::move(done)};
  Dirty();
}

}  // namespace tidemark::tidelog
