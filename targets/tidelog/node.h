// One tidelog node without its network: the consensus core, the WAL, the kv state machine and
// the client calls waiting on them. The Asio server (server.h) feeds it requests, peer messages
// and ticks, and gives it a way to send messages; Node does everything else.
//
// Every entry point only changes memory and asks (through `schedule`) for Process() to run
// once soon. Process() persists what the core produced with ONE WAL sync for everything that
// accumulated (group commit), then sends messages and completes client calls. So nothing is
// acknowledged, and no message leaves, before the state it reflects is durable (except with
// bug lazy-fsync, whose WAL only pretends).
//
// Client calls are answered through a Reply callback exactly once. Not thread-safe: one event
// loop owns the Node.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "consensus.h"
#include "kv_state.h"
#include "wal.h"

namespace tidemark::tidelog {

class Node {
 public:
  // Called once with the HTTP status and the JSON body of the response.
  using Reply = std::function<void(int status, const nlohmann::json& body)>;
  using SendFn = std::function<void(const Message&)>;
  using ScheduleFn = std::function<void()>;

  Node(Consensus core, std::unique_ptr<Wal> wal, SendFn send, ScheduleFn schedule,
       uint64_t commit_timeout_ms);

  // A client call: `path` such as "/v1/log/append", `body` the raw request body. The method
  // and size checks happen in the server; everything else (including malformed JSON) here.
  void OnClient(const std::string& path, const std::string& body, Reply reply, uint64_t now_ms);
  // The body of POST /raft/msgs. Returns false if it is malformed (nothing applied then).
  bool OnPeerBody(const std::string& body, uint64_t now_ms);
  void OnTick(uint64_t now_ms);
  // Persists, sends, completes; see the header comment. Fatal (exit 3) if the WAL fails.
  void Process(uint64_t now_ms);
  // The lazy-fsync bug's periodic flush.
  void FlushLazy();

  // An error or success body with the envelope every response carries (docs/protocol.md).
  nlohmann::json Envelope() const;
  nlohmann::json ErrorBody(const std::string& code, bool definite, const std::string& text) const;
  const Consensus& core() const { return core_; }

 private:
  struct WriteWaiter {
    uint64_t generation;  // the entry we wait for is (index, generation)
    uint64_t deadline_ms;
    std::function<void(uint64_t index)> on_commit;  // builds and sends the success reply
    Reply reply;
  };
  struct ReadWaiter {
    uint64_t deadline_ms;
    std::function<void(bool confirmed)> done;
  };
  void Dirty();
  void Propose(EntryKind kind, const std::string& client_id, uint64_t seq,
               const std::string& payload, std::function<void(uint64_t index)> on_commit,
               Reply reply, uint64_t now_ms);
  void ReadLinearizable(std::function<void(bool)> done, uint64_t now_ms);
  void CompleteWaiters(uint64_t now_ms);

  void HandleAppend(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  void HandleLogRead(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  void HandleHwm(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  // A status long-poll (docs/protocol.md): what the caller knew, and until when to wait.
  struct StatusWaiter {
    nlohmann::json generation, role, leader;  // null when the caller did not say
    uint64_t deadline_ms = 0;
    Reply reply;
  };
  static constexpr uint64_t kMaxStatusWaitMs = 10000;
  void HandleStatus(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  bool StatusChanged(const StatusWaiter& w) const;
  nlohmann::json StatusBody() const;
  void HandleKvRead(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  void HandleKvWrite(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  void HandleKvCas(const nlohmann::json& req, Reply reply, uint64_t now_ms);
  nlohmann::json LogRange(uint64_t from, std::optional<uint64_t> to) const;
  uint64_t ServedHwm() const;

  Consensus core_;
  std::unique_ptr<Wal> wal_;
  KvState kv_;
  SendFn send_;
  ScheduleFn schedule_;
  uint64_t commit_timeout_ms_;
  bool scheduled_ = false;
  uint64_t persisted_hwm_ = 0;
  std::multimap<uint64_t, WriteWaiter> writes_;  // by log offset
  std::map<uint64_t, ReadWaiter> reads_;         // by read id
  std::vector<StatusWaiter> status_waits_;
};

}  // namespace tidemark::tidelog
