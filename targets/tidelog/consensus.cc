#include "consensus.h"

#include <algorithm>
#include <iostream>

namespace tidemark::tidelog {

namespace {
// Payload bytes per append message (at least one entry is always sent).
constexpr size_t kMaxMsgBytes = 4 << 20;
// Payload bytes in flight to one peer before the leader waits for replies.
constexpr size_t kMaxInflightBytes = 16 << 20;
}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

Consensus::Consensus(Config config, HardState hs, std::vector<Entry> log, uint64_t hwm_hint,
                     uint64_t now_ms)
    : cfg_(std::move(config)),
      hs_(std::move(hs)),
      log_(std::move(log)),
      now_(now_ms),
      rng_(cfg_.seed) {
  for (const Entry& e : log_)
    if (!e.client_id.empty()) dedup_[e.client_id][e.seq] = e.index;
  if (cfg_.bugs.truncate_to_local_hwm) {
    // Kafka before KIP-101: a restarted follower drops everything above its own HWM, even
    // entries it has acknowledged to a leader.
    if (hwm_hint < log_.size()) TruncateLocal(hwm_hint);
  }
  // The persisted HWM only ever named committed entries, so it is safe to serve below it.
  hwm_ = std::min<uint64_t>(hwm_hint, log_.size());
  for (const std::string& p : cfg_.peers) peers_[p] = Peer{};
  recovering_ = cfg_.recovering && !cfg_.peers.empty();
  ResetElectionTimer(now_ms);
}

void Consensus::ResetElectionTimer(uint64_t now_ms) {
  uint64_t span =
      cfg_.election_max_ms > cfg_.election_min_ms ? cfg_.election_max_ms - cfg_.election_min_ms : 0;
  election_deadline_ = now_ms + cfg_.election_min_ms + (span ? rng_() % (span + 1) : 0);
}

void Consensus::SetHardState(uint64_t generation, const std::string& voted_for) {
  hs_.generation = generation;
  hs_.voted_for = voted_for;
  ready_.hard_state = hs_;
}

void Consensus::Send(Message m) {
  m.from = cfg_.id;
  ready_.messages.push_back(std::move(m));
}

void Consensus::AppendLocal(Entry e) {
  if (!e.client_id.empty()) dedup_[e.client_id][e.seq] = e.index;
  ready_.entries.push_back(e);
  log_.push_back(std::move(e));
}

void Consensus::TruncateLocal(uint64_t end) {
  if (end >= log_.size()) return;
  if (end < hwm_) {
    // Only possible with a bug switched on; a correct node never drops committed entries.
    std::cerr << "tidelog " << cfg_.id << ": INVARIANT VIOLATION: truncating committed entries ["
              << end << ", " << hwm_ << ")\n";
    hwm_ = end;
  }
  for (uint64_t i = end; i < log_.size(); ++i) {
    const Entry& e = log_[i];
    if (e.client_id.empty()) continue;
    auto it = dedup_.find(e.client_id);
    if (it == dedup_.end()) continue;
    auto s = it->second.find(e.seq);
    if (s != it->second.end() && s->second == i) it->second.erase(s);
    if (it->second.empty()) dedup_.erase(it);
  }
  log_.resize(end);
  // Entries not yet persisted that were cut are dropped from the pending write too.
  while (!ready_.entries.empty() && ready_.entries.back().index >= end) ready_.entries.pop_back();
  ready_.truncate_to = ready_.truncate_to ? std::min(*ready_.truncate_to, end) : end;
}

void Consensus::BecomeFollower(uint64_t generation, const std::string& leader, uint64_t now_ms) {
  bool was_leader = role_ == Role::kLeader;
  if (generation != hs_.generation) SetHardState(generation, "");
  role_ = Role::kFollower;
  leader_ = leader;
  votes_.clear();
  if (was_leader) FailReads();
  ResetElectionTimer(now_ms);
}

void Consensus::StartElection(uint64_t now_ms) {
  SetHardState(hs_.generation + 1, cfg_.id);
  role_ = Role::kCandidate;
  leader_.clear();
  votes_ = {cfg_.id};
  ResetElectionTimer(now_ms);
  if (votes_.size() >= Quorum()) {
    BecomeLeader(now_ms);
    return;
  }
  for (const std::string& p : cfg_.peers) {
    Message m;
    m.type = MsgType::kVote;
    m.to = p;
    m.generation = hs_.generation;
    m.last_end = log_.size();
    m.last_gen = LastGen();
    Send(std::move(m));
  }
}

void Consensus::BecomeLeader(uint64_t now_ms) {
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  votes_.clear();
  for (auto& [id, p] : peers_) p = Peer{log_.size(), 0, 0, now_ms, std::nullopt};
  if (!cfg_.bugs.commit_old_generation) {
    Entry noop;
    noop.index = log_.size();
    noop.generation = hs_.generation;
    noop.kind = EntryKind::kNoop;
    AppendLocal(std::move(noop));
  }
  std::cerr << "tidelog " << cfg_.id << ": leader of generation " << hs_.generation << " (log end "
            << log_.size() << ", hwm " << hwm_ << ")\n";
  next_heartbeat_ = now_ms + cfg_.heartbeat_ms;
  BroadcastAppend();
}

void Consensus::OnPersisted() {
  // A single-node cluster is its own quorum: it commits once its own copy is durable. With
  // peers the leader's copy is durable before any ack can arrive (see the header).
  if (cfg_.peers.empty()) MaybeAdvanceHwm();
}

bool Consensus::CanServe() const {
  if (role_ != Role::kLeader) return false;
  if (cfg_.bugs.commit_old_generation) return true;
  return hwm_ > 0 && log_[hwm_ - 1].generation == hs_.generation;
}

bool Consensus::WindowFull(const Peer& p) const {
  if (p.next <= p.match) return false;
  if (p.next - p.match >= 4 * cfg_.max_entries_per_msg) return true;
  size_t bytes = 0;  // at most 4 * max_entries_per_msg iterations
  for (uint64_t i = p.match; i < p.next && i < log_.size(); ++i) {
    bytes += log_[i].payload.size();
    if (bytes >= kMaxInflightBytes) return true;
  }
  return false;
}

void Consensus::SendAppend(const std::string& peer, bool with_entries) {
  Peer& p = peers_[peer];
  Message m;
  m.type = MsgType::kAppend;
  m.to = peer;
  m.generation = hs_.generation;
  p.next = std::min<uint64_t>(p.next, log_.size());
  m.prev_end = p.next;
  m.prev_gen = p.next == 0 ? 0 : log_[p.next - 1].generation;
  uint64_t end =
      with_entries ? std::min<uint64_t>(log_.size(), p.next + cfg_.max_entries_per_msg) : p.next;
  size_t bytes = 0;
  for (uint64_t i = p.next; i < end && (m.entries.empty() || bytes < kMaxMsgBytes); ++i) {
    bytes += log_[i].payload.size();
    m.entries.push_back(log_[i]);
  }
  end = p.next + m.entries.size();
  m.commit = hwm_;
  m.ctx = ctx_;
  // Pipelining: assume delivery. A peer link is FIFO and drops only whole suffixes (on a
  // connection failure), so a later message being rejected is what proves a loss.
  p.next = end;
  Send(std::move(m));
}

void Consensus::BroadcastAppend() {
  for (const std::string& id : cfg_.peers) {
    // Bound what is in flight to a peer; its replies pull the rest. An empty append still
    // carries the HWM and the read-confirmation round.
    SendAppend(id, !WindowFull(peers_[id]));
  }
}

void Consensus::Tick(uint64_t now_ms) {
  // A tick long after the last event means this node's own loop was blocked (a slow fsync):
  // the peers' messages that arrived meanwhile are still queued, so judge no one silent yet.
  bool stalled = now_ms > now_ + cfg_.election_min_ms / 2;
  now_ = now_ms;
  // The leader was probably stalled by the same large fsync, so give it a whole timeout.
  if (stalled) election_deadline_ = std::max(election_deadline_, now_ms + cfg_.election_min_ms);
  if (role_ == Role::kLeader) {
    if (now_ms >= next_heartbeat_) {
      next_heartbeat_ = now_ms + cfg_.heartbeat_ms;
      for (const std::string& id : cfg_.peers) {
        Peer& p = peers_[id];
        // Heartbeats carry no entries: they probe at `next`, and a rejection rewinds it.
        p.rewound_to.reset();
        SendAppend(id, false);
      }
    }
    // With stale-leader-read the leader trusts that it leads: no read confirmation and no
    // stepping down, so a deposed leader keeps answering for as long as it is cut off.
    if (now_ms >= election_deadline_ && !cfg_.bugs.stale_leader_read) {
      // Check quorum: a leader that heard from no quorum for an election timeout steps down,
      // so an isolated leader stops accepting writes it can never commit.
      size_t heard = 1;
      for (auto& [id, p] : peers_)
        if (p.last_reply_ms + cfg_.election_max_ms > now_ms) heard++;
      if (heard < Quorum()) {
        std::cerr << "tidelog " << cfg_.id << ": lost quorum, stepping down\n";
        BecomeFollower(hs_.generation, "", now_ms);
      } else {
        ResetElectionTimer(now_ms);
      }
    }
    return;
  }
  if (now_ms >= election_deadline_) {
    if (recovering_)
      ResetElectionTimer(now_ms);  // it may lack acknowledged entries: it must not lead
    else
      StartElection(now_ms);
  }
}

void Consensus::Step(const Message& m, uint64_t now_ms) {
  now_ = now_ms;
  if (!peers_.count(m.from)) return;  // not a member
  bool stale = m.generation < hs_.generation;
  if (m.generation > hs_.generation) {
    BecomeFollower(m.generation, m.type == MsgType::kAppend ? m.from : "", now_ms);
  }
  switch (m.type) {
    case MsgType::kVote:
      HandleVote(m, now_ms);
      break;
    case MsgType::kVoteReply:
      if (!stale) HandleVoteReply(m, now_ms);
      break;
    case MsgType::kAppend:
      HandleAppend(m, now_ms);
      break;
    case MsgType::kAppendReply:
      if (!stale) HandleAppendReply(m, now_ms);
      break;
  }
}

void Consensus::HandleVote(const Message& m, uint64_t now_ms) {
  Message r;
  r.type = MsgType::kVoteReply;
  r.to = m.from;
  r.generation = hs_.generation;
  bool up_to_date =
      m.last_gen > LastGen() || (m.last_gen == LastGen() && m.last_end >= log_.size());
  if (cfg_.bugs.vote_without_log_check) up_to_date = true;
  bool can_vote = hs_.voted_for.empty() || hs_.voted_for == m.from;
  // A recovering node's log may lack entries it acknowledged: its vote proves nothing.
  if (m.generation == hs_.generation && role_ != Role::kLeader && can_vote && up_to_date &&
      !recovering_) {
    if (hs_.voted_for != m.from) SetHardState(hs_.generation, m.from);
    ResetElectionTimer(now_ms);
    r.ok = true;
  }
  Send(std::move(r));
}

void Consensus::HandleVoteReply(const Message& m, uint64_t now_ms) {
  if (role_ != Role::kCandidate || m.generation != hs_.generation || !m.ok) return;
  votes_.insert(m.from);
  if (votes_.size() >= Quorum()) BecomeLeader(now_ms);
}

void Consensus::HandleAppend(const Message& m, uint64_t now_ms) {
  Message r;
  r.type = MsgType::kAppendReply;
  r.to = m.from;
  r.generation = hs_.generation;
  r.ctx = m.ctx;
  if (m.generation < hs_.generation) {
    // The bug is a follower's; a leader still fences (its own log must never shrink).
    if (!cfg_.bugs.no_generation_fence || role_ == Role::kLeader) {
      Send(std::move(r));  // the fence: the old leader learns the newer generation
      return;
    }
    // Bug: act on a deposed leader's request and answer as if still in its generation.
    r.generation = m.generation;
  } else {
    if (role_ != Role::kFollower || leader_ != m.from)
      BecomeFollower(hs_.generation, m.from, now_ms);
    ResetElectionTimer(now_ms);
  }
  if (m.prev_end > log_.size()) {
    r.match_end = log_.size();
    Send(std::move(r));
    return;
  }
  if (m.prev_end > 0 && log_[m.prev_end - 1].generation != m.prev_gen) {
    // Skip back over the whole conflicting generation, but never below our HWM (committed
    // entries always match).
    uint64_t g = log_[m.prev_end - 1].generation;
    uint64_t hint = m.prev_end - 1;
    while (hint > hwm_ && log_[hint - 1].generation == g) --hint;
    r.match_end = hint;
    Send(std::move(r));
    return;
  }
  for (const Entry& e : m.entries) {
    if (e.index < log_.size()) {
      if (log_[e.index].generation == e.generation) continue;  // already have it
      TruncateLocal(e.index);  // a proven conflict: only then is a suffix dropped
    }
    AppendLocal(e);
  }
  uint64_t matched = m.prev_end + m.entries.size();
  uint64_t new_hwm = std::min(m.commit, matched);
  if (new_hwm > hwm_) hwm_ = new_hwm;
  // Everything the leader knows committed is here again: the damage is repaired.
  if (recovering_ && m.generation == hs_.generation && matched >= m.commit) {
    recovering_ = false;
    // The damage may have taken this generation's vote with it: count it as given to the
    // leader, so it cannot help elect a second leader in the same generation.
    if (hs_.voted_for.empty()) SetHardState(hs_.generation, m.from);
    std::cerr << "tidelog " << cfg_.id << ": caught up to the leader's hwm " << m.commit
              << " after a damaged WAL; voting again\n";
  }
  r.ok = true;
  r.match_end = matched;
  Send(std::move(r));
}

void Consensus::HandleAppendReply(const Message& m, uint64_t now_ms) {
  if (role_ != Role::kLeader || m.generation != hs_.generation) return;
  Peer& p = peers_[m.from];
  p.last_reply_ms = now_ms;
  p.acked_ctx = std::max(p.acked_ctx, m.ctx);
  if (m.ok) {
    p.match = std::max(p.match, m.match_end);
    p.next = std::max(p.next, p.match);
    MaybeAdvanceHwm();
    CheckReads();
    if (p.next < log_.size() && !WindowFull(p)) SendAppend(m.from, true);
  } else {
    uint64_t hint = std::max(p.match, std::min(m.match_end, p.next));
    CheckReads();
    // Every message in flight behind a lost one is rejected with the same hint: resend once
    // (again after the next heartbeat if the resend is lost too).
    if (p.rewound_to == hint) return;
    p.rewound_to = hint;
    p.next = hint;
    SendAppend(m.from, true);
  }
}

void Consensus::MaybeAdvanceHwm() {
  if (role_ != Role::kLeader) return;
  std::vector<uint64_t> ends = {log_.size()};
  for (auto& [id, p] : peers_) ends.push_back(p.match);
  std::sort(ends.rbegin(), ends.rend());
  uint64_t n = std::min<uint64_t>(ends[Quorum() - 1], log_.size());  // stored on a quorum
  if (n <= hwm_) return;
  // Raft §5.4.2: count replicas only for an entry of the current generation; older entries
  // commit indirectly below it. The bug counts them directly.
  if (!cfg_.bugs.commit_old_generation && log_[n - 1].generation != hs_.generation) return;
  hwm_ = n;
  // Followers learn the new HWM promptly rather than on the next heartbeat. With
  // truncate-to-local-hwm they learn it only from later appends and heartbeats (as Kafka
  // followers learn it from their next fetch), which is the window that bug needs.
  if (!cfg_.bugs.truncate_to_local_hwm) broadcast_pending_ = true;
}

std::optional<uint64_t> Consensus::RequestRead() {
  if (!CanServe()) return std::nullopt;
  uint64_t id = next_read_id_++;
  if (cfg_.bugs.stale_leader_read || cfg_.peers.empty()) {
    ready_.confirmed_reads.push_back(id);
    return id;
  }
  reads_[id] = ++ctx_;
  broadcast_pending_ = true;
  return id;
}

void Consensus::CheckReads() {
  while (!reads_.empty()) {
    auto it = reads_.begin();
    size_t acks = 1;
    for (auto& [pid, p] : peers_)
      if (p.acked_ctx >= it->second) acks++;
    if (acks < Quorum()) break;  // later reads need later rounds: none is confirmed either
    ready_.confirmed_reads.push_back(it->first);
    reads_.erase(it);
  }
}

void Consensus::FailReads() {
  for (auto& [id, ctx] : reads_) ready_.failed_reads.push_back(id);
  reads_.clear();
}

ProposeResult Consensus::Propose(EntryKind kind, const std::string& client_id, uint64_t seq,
                                 const std::string& payload) {
  if (role_ != Role::kLeader) return {ProposeStatus::kNotLeader};
  if (!CanServe()) return {ProposeStatus::kUnavailable};
  if (!cfg_.bugs.no_idempotency && !client_id.empty()) {
    auto it = dedup_.find(client_id);
    if (it != dedup_.end()) {
      auto s = it->second.find(seq);
      if (s != it->second.end()) return {ProposeStatus::kDuplicate, s->second};
    }
  }
  Entry e;
  e.index = log_.size();
  e.generation = hs_.generation;
  e.kind = kind;
  e.client_id = client_id;
  e.seq = seq;
  e.payload = payload;
  uint64_t index = e.index;
  AppendLocal(std::move(e));
  // One append message per peer per Ready batches every proposal of this turn (group commit).
  broadcast_pending_ = true;
  return {ProposeStatus::kOk, index};
}

Ready Consensus::TakeReady() {
  if (broadcast_pending_ && role_ == Role::kLeader) BroadcastAppend();
  broadcast_pending_ = false;
  Ready r = std::move(ready_);
  ready_ = Ready{};
  return r;
}

}  // namespace tidemark::tidelog
