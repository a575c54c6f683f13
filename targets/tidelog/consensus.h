// The consensus core of one tidelog node: leader election, replication and the high-water mark
// (HWM), as a deterministic state machine with no I/O. Messages and time go in; a Ready (what
// to persist, what to send) comes out. The Asio server (server.h) and the in-process tests
// (consensus_test.cc) drive the same code.
//
// Rules (Raft; docs/protocol.md): randomized election timeouts; a vote only for a candidate whose
// log is at least as up to date (last generation, then length); messages from older generations
// are rejected; a new leader appends a no-op; the HWM advances only to an end whose last entry
// belongs to the current generation and is stored on a quorum; followers learn the HWM from the
// leader's appends/heartbeats; a follower truncates only a conflicting suffix; linearizable
// reads wait for a quorum of heartbeat replies sent after the read arrived.
//
// Contract with the driver: after every call that may change state, call TakeReady() and
//  1. persist ready.hard_state, ready.truncate_to and ready.entries (in that order) durably,
//  2. only then send ready.messages and act on hwm()/confirmed reads.
// Entries are counted as stored on the leader as soon as they are in its log: the leader's own
// copy is persisted by step 1 before any message (and so any follower ack) leaves.
//
// Bug switches (Config::bugs) change exactly the rule they name; see docs/bug-zoo.md.
// Not thread-safe; time is injected (milliseconds on any monotonic clock).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "types.h"

namespace tidemark::tidelog {

enum class Role { kFollower, kCandidate, kLeader };
const char* RoleName(Role r);

enum class MsgType { kVote, kVoteReply, kAppend, kAppendReply };

struct Message {
  MsgType type = MsgType::kAppend;
  std::string from, to;
  uint64_t generation = 0;
  // kVote: the candidate's log end and last entry's generation.
  uint64_t last_end = 0, last_gen = 0;
  // kVoteReply: granted; kAppendReply: success.
  bool ok = false;
  // kAppend: entries start at prev_end; prev_gen is the generation of entry prev_end-1.
  uint64_t prev_end = 0, prev_gen = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;  // kAppend: the leader's HWM
  uint64_t ctx = 0;     // kAppend: read-confirmation round; echoed in kAppendReply
  // kAppendReply: on success the end of the matched log; on failure where to retry from.
  uint64_t match_end = 0;
  bool operator==(const Message&) const = default;
};

struct Config {
  std::string id;
  std::vector<std::string> peers;  // other nodes' ids (not including id)
  uint64_t election_min_ms = 300, election_max_ms = 600;
  uint64_t heartbeat_ms = 50;
  size_t max_entries_per_msg = 256;
  uint64_t seed = 1;
  Bugs bugs;
  // The node's WAL was damaged (wal.h WalState::recovering): it may have lost entries it had
  // acknowledged, so its vote could help elect a leader without them. Until a leader's append
  // brings its log up to that leader's HWM it neither votes nor stands for election (it still
  // follows and answers appends). A one-node cluster has no one to learn from and ignores it.
  bool recovering = false;
};

struct Ready {
  std::optional<HardState> hard_state;
  std::optional<uint64_t> truncate_to;  // the log shrank to this end (before `entries`)
  std::vector<Entry> entries;           // new entries, in index order
  std::vector<Message> messages;
  std::vector<uint64_t> confirmed_reads;  // read ids whose leadership check succeeded
  std::vector<uint64_t> failed_reads;     // read ids that can no longer be confirmed
  bool empty() const {
    return !hard_state && !truncate_to && entries.empty() && messages.empty() &&
           confirmed_reads.empty() && failed_reads.empty();
  }
};

enum class ProposeStatus { kOk, kDuplicate, kNotLeader, kUnavailable };
struct ProposeResult {
  ProposeStatus status;
  uint64_t index = 0;  // kOk / kDuplicate: the entry's offset
};

class Consensus {
 public:
  // Starts from recovered state (WAL). `hwm_hint` is the last persisted HWM: entries below it
  // are known committed. With bug truncate-to-local-hwm the log is cut to it (Ready has it).
  Consensus(Config config, HardState hs, std::vector<Entry> log, uint64_t hwm_hint,
            uint64_t now_ms);

  // Advances time: election timeouts, heartbeats, leader step-down without a quorum.
  void Tick(uint64_t now_ms);
  // Handles one message from a peer.
  void Step(const Message& m, uint64_t now_ms);
  // Appends a client entry (leader only). kDuplicate: (client_id, seq) is already in the log at
  // `index` and nothing was appended. kNotLeader / kUnavailable: nothing was appended.
  ProposeResult Propose(EntryKind kind, const std::string& client_id, uint64_t seq,
                        const std::string& payload);
  // Starts a leadership confirmation for a linearizable read. Returns the read id (confirmed or
  // failed later through Ready), or nullopt when this node cannot serve (not a ready leader).
  // With bug stale-leader-read the read is confirmed at once.
  std::optional<uint64_t> RequestRead();
  Ready TakeReady();
  // The driver made everything from the last TakeReady() durable.
  void OnPersisted();
  // Whether TakeReady() would return something.
  bool HasReady() const { return !ready_.empty() || broadcast_pending_; }

  // True when this node leads and has committed an entry of its own generation.
  bool CanServe() const;
  Role role() const { return role_; }
  uint64_t generation() const { return hs_.generation; }
  const std::string& voted_for() const { return hs_.voted_for; }
  const std::string& leader() const { return leader_; }
  const std::string& id() const { return cfg_.id; }
  uint64_t hwm() const { return hwm_; }
  uint64_t log_end() const { return log_.size(); }
  const std::vector<Entry>& log() const { return log_; }
  const Config& config() const { return cfg_; }
  // Config::recovering, until the node has caught up with a leader's HWM.
  bool recovering() const { return recovering_; }

 private:
  struct Peer {
    uint64_t next = 0, match = 0, acked_ctx = 0;
    uint64_t last_reply_ms = 0;
    std::optional<uint64_t> rewound_to;  // last rejection hint acted on since the heartbeat
  };
  bool WindowFull(const Peer& p) const;
  size_t Quorum() const { return (cfg_.peers.size() + 1) / 2 + 1; }
  uint64_t LastGen() const { return log_.empty() ? 0 : log_.back().generation; }
  void ResetElectionTimer(uint64_t now_ms);
  void BecomeFollower(uint64_t generation, const std::string& leader, uint64_t now_ms);
  void BecomeLeader(uint64_t now_ms);
  void StartElection(uint64_t now_ms);
  void SetHardState(uint64_t generation, const std::string& voted_for);
  void AppendLocal(Entry e);
  void TruncateLocal(uint64_t end);
  void SendAppend(const std::string& peer, bool with_entries);
  void BroadcastAppend();
  void MaybeAdvanceHwm();
  void CheckReads();
  void FailReads();
  void HandleVote(const Message& m, uint64_t now_ms);
  void HandleVoteReply(const Message& m, uint64_t now_ms);
  void HandleAppend(const Message& m, uint64_t now_ms);
  void HandleAppendReply(const Message& m, uint64_t now_ms);
  void Send(Message m);

  Config cfg_;
  HardState hs_;
  std::vector<Entry> log_;
  uint64_t hwm_ = 0;
  Role role_ = Role::kFollower;
  std::string leader_;
  uint64_t election_deadline_ = 0;
  uint64_t next_heartbeat_ = 0;
  uint64_t now_ = 0;
  std::mt19937_64 rng_;
  std::set<std::string> votes_;
  std::map<std::string, Peer> peers_;
  // Dedup table: client id -> seq -> offset, over the whole log (committed or not).
  std::unordered_map<std::string, std::map<uint64_t, uint64_t>> dedup_;
  // Pending linearizable reads: id -> the heartbeat round (ctx) that must reach a quorum.
  std::map<uint64_t, uint64_t> reads_;
  uint64_t next_read_id_ = 1;
  uint64_t ctx_ = 0;
  bool broadcast_pending_ = false;
  bool recovering_ = false;
  Ready ready_;
};

}  // namespace tidemark::tidelog
