// Node: client calls over a real WAL, with peers simulated by hand-made messages.
#include "node.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "codec.h"

namespace tidemark::tidelog {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tidelog_node_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    node_.reset();
    fs::remove_all(dir_);
  }
  void Make(std::vector<std::string> peers, Bugs bugs = {}) {
    Config cfg;
    cfg.id = "n1";
    cfg.peers = std::move(peers);
    cfg.bugs = bugs;
    WalState st;
    std::string err;
    auto wal = Wal::Open(dir_.string(), bugs.lazy_fsync, &st, &err);
    ASSERT_TRUE(wal) << err;
    Consensus core(cfg, st.hard_state, st.log, st.hwm, now_);
    node_ = std::make_unique<Node>(
        std::move(core), std::move(wal), [this](const Message& m) { sent_.push_back(m); }, [] {},
        2000);
  }
  // Elects n1 in a three-node cluster by hand: n2 votes, n2 stores the no-op.
  void MakeLeader(Bugs bugs = {}) {
    Make({"n2", "n3"}, bugs);
    TickFor(1000);
    Message vote;
    vote.type = MsgType::kVoteReply;
    vote.from = "n2";
    vote.to = "n1";
    vote.generation = node_->core().generation();
    vote.ok = true;
    Peer(vote);
    ASSERT_EQ(node_->core().role(), Role::kLeader);
    AckUpTo(node_->core().log_end());
    ASSERT_TRUE(node_->core().CanServe());
  }
  // Advances the clock in 10 ms ticks, as the server does.
  void TickFor(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 10) {
      now_ += 10;
      node_->OnTick(now_);
      node_->Process(now_);
    }
  }
  void AckUpTo(uint64_t end) {
    Message ack;
    ack.type = MsgType::kAppendReply;
    ack.from = "n2";
    ack.to = "n1";
    ack.generation = node_->core().generation();
    ack.ok = true;
    ack.match_end = end;
    Peer(ack);
  }
  void Peer(const Message& m) {
    ASSERT_TRUE(
        node_->OnPeerBody(json{{"from", m.from}, {"msgs", {MessageToJson(m)}}}.dump(), now_));
    node_->Process(now_);
  }
  // Issues a call; the Answer fills in when (if) the node replies.
  std::shared_ptr<Answer> Call(const std::string& path, const std::string& body) {
    auto a = std::make_shared<Answer>();
    node_->OnClient(
        path, body,
        [a](int status, const json& b) {
          EXPECT_EQ(a->status, 0) << "replied twice";
          a->status = status;
          a->body = b;
        },
        now_);
    node_->Process(now_);
    return a;
  }
  static void ExpectEnvelope(const json& b) {
    EXPECT_TRUE(b.contains("node") && b.contains("generation") && b.contains("leader") &&
                b.contains("hwm"))
        << b;
  }
  fs::path dir_;
  uint64_t now_ = 0;
  std::unique_ptr<Node> node_;
  std::vector<Message> sent_;
};

TEST_F(NodeTest, BadInputIsADefinite4xxWithTheEnvelope) {
  Make({"n2", "n3"});
  struct Case {
    std::string path, body;
    int status;
  };
  std::vector<Case> cases = {
      {"/v1/log/append", "{", 400},
      {"/v1/log/append", "[1,2]", 400},
      {"/v1/log/append", R"({"value":"v","client_id":"c","seq":1,"extra":1})", 400},
      {"/v1/log/append", R"({"value":"v","client_id":"c"})", 400},
      {"/v1/log/append", R"({"value":"v","client_id":"c","seq":-1})", 400},
      {"/v1/log/append", R"({"value":7,"client_id":"c","seq":1})", 400},
      {"/v1/log/append", R"({"value":"v","client_id":"","seq":1})", 400},
      {"/v1/log/read", R"({"from":0,"consistency":"sometimes"})", 400},
      {"/v1/log/read", R"({})", 400},
      {"/v1/kv/cas", R"({"key":"k","from":null,"to":1,"client_id":"c","seq":1})", 400},
      {"/v1/kv/write", R"({"key":"k","client_id":"c","seq":1})", 400},
      {"/v1/nope", "{}", 404},
      {"/v1/log/append", "\xff\xfe", 400},
  };
  for (const Case& c : cases) {
    auto a = Call(c.path, c.body);
    EXPECT_EQ(a->status, c.status) << c.path << " " << c.body;
    EXPECT_EQ(a->body["error"]["definite"], true) << c.body;
    ExpectEnvelope(a->body);
  }
  EXPECT_FALSE(node_->OnPeerBody("{\"msgs\":[{\"type\":\"bogus\"}]}", now_));
}

TEST_F(NodeTest, FollowerRefusesWritesWithALeaderHint) {
  Make({"n2", "n3"});
  Message hb;
  hb.type = MsgType::kAppend;
  hb.from = "n2";
  hb.to = "n1";
  hb.generation = 1;
  Peer(hb);
  auto a = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  EXPECT_EQ(a->status, 409);
  EXPECT_EQ(a->body["error"]["code"], "not_leader");
  EXPECT_EQ(a->body["error"]["leader"], "n2");
  EXPECT_EQ(a->body["leader"], "n2");
  auto r = Call("/v1/log/read", R"({"from":0})");
  EXPECT_EQ(r->status, 409);
  auto s = Call("/v1/status", "");
  EXPECT_EQ(s->status, 200);
  EXPECT_EQ(s->body["role"], "follower");
}

// The status long-poll: answered at once when the node's generation, role or leader already
// differ from what the caller knows; otherwise held until one changes (here: the election) or
// wait_ms passes; a plain status call is unchanged.
TEST_F(NodeTest, StatusLongPollAnswersOnAChangeOrAtTheDeadline) {
  Make({"n2", "n3"});
  auto plain = Call("/v1/status", "{}");
  ASSERT_EQ(plain->status, 200);
  json known = {{"generation", plain->body["generation"]},
                {"role", plain->body["role"]},
                {"leader", plain->body["leader"]}};
  auto at_once = Call("/v1/status", json{{"wait_ms", 5000}, {"generation", 99}}.dump());
  EXPECT_EQ(at_once->status, 200) << "a caller that knows something else is answered now";
  json timed = known;
  timed["wait_ms"] = 50;
  auto deadline = Call("/v1/status", timed.dump());
  json held = known;
  held["wait_ms"] = 5000;
  auto change = Call("/v1/status", held.dump());
  EXPECT_EQ(change->status, 0) << "answered before anything changed: " << change->body;
  EXPECT_EQ(deadline->status, 0);
  now_ += 60;
  node_->Process(now_);
  EXPECT_EQ(deadline->status, 200) << "the deadline passed";
  EXPECT_EQ(deadline->body["generation"], known["generation"]);
  EXPECT_EQ(change->status, 0);
  TickFor(1000);  // the election timeout: n1 campaigns, a new generation
  ASSERT_EQ(change->status, 200);
  EXPECT_NE(change->body["generation"], known["generation"]);
  EXPECT_EQ(change->body["role"], "candidate");
  auto bad = Call("/v1/status", R"({"wait_ms":"soon"})");
  EXPECT_EQ(bad->status, 400);
}

TEST_F(NodeTest, AppendIsAcknowledgedOnlyOnceAQuorumStoresIt) {
  MakeLeader();
  auto a = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  EXPECT_EQ(a->status, 0) << "acknowledged before a quorum stored it: " << a->body;
  auto local = Call("/v1/log/read", R"({"from":0,"consistency":"local"})");
  EXPECT_EQ(local->body["entries"], json::array()) << "served above the HWM";
  AckUpTo(2);
  ASSERT_EQ(a->status, 200);
  EXPECT_EQ(a->body["offset"], 1);
  EXPECT_LT(a->body["offset"].get<uint64_t>(), a->body["hwm"].get<uint64_t>());
  // A retry gets the original answer and appends nothing.
  auto retry = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  EXPECT_EQ(retry->status, 200);
  EXPECT_EQ(retry->body["offset"], 1);
  EXPECT_EQ(node_->core().log_end(), 2u);
}

TEST_F(NodeTest, CommitTimeoutIsNotDefinite) {
  MakeLeader();
  auto a = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  now_ += 2500;
  node_->OnTick(now_);
  node_->Process(now_);
  ASSERT_EQ(a->status, 504);
  EXPECT_EQ(a->body["error"]["definite"], false);
}

TEST_F(NodeTest, AckBeforeQuorumBugAcknowledgesALocalOnlyEntry) {
  Bugs b;
  b.ack_before_quorum = true;
  MakeLeader(b);
  auto a = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  ASSERT_EQ(a->status, 200);
  EXPECT_EQ(node_->core().hwm(), 1u) << "not committed";
  EXPECT_EQ(a->body["hwm"], 2) << "but the ack claims it is";
}

TEST_F(NodeTest, ReadAboveHwmBugServesUncommittedEntries) {
  Bugs b;
  b.read_above_hwm = true;
  MakeLeader(b);
  auto a = Call("/v1/log/append", R"({"value":"v","client_id":"c","seq":1})");
  EXPECT_EQ(a->status, 0);
  auto local = Call("/v1/log/read", R"({"from":0,"consistency":"local"})");
  EXPECT_EQ(local->body["entries"], json::parse(R"([[1,"v"]])"));
}

TEST_F(NodeTest, LinearizableReadWaitsForAHeartbeatRound) {
  MakeLeader();
  auto r = Call("/v1/log/read", R"({"from":0})");
  EXPECT_EQ(r->status, 0);
  uint64_t ctx = 0;
  for (const Message& m : sent_) ctx = std::max(ctx, m.ctx);
  ASSERT_GT(ctx, 0u);
  Message ack;
  ack.type = MsgType::kAppendReply;
  ack.from = "n2";
  ack.to = "n1";
  ack.generation = node_->core().generation();
  ack.ok = true;
  ack.match_end = 1;
  ack.ctx = ctx;
  Peer(ack);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body["consistency"], "linearizable");
  EXPECT_EQ(r->body["to"], 1);
}

TEST_F(NodeTest, KvWriteCasAndReadOnASingleNode) {
  Make({});
  TickFor(1000);
  ASSERT_TRUE(node_->core().CanServe());
  EXPECT_EQ(Call("/v1/kv/read", R"({"key":"k"})")->body["value"], nullptr);
  EXPECT_EQ(Call("/v1/kv/write", R"({"key":"k","value":1,"client_id":"c","seq":1})")->status, 200);
  EXPECT_EQ(Call("/v1/kv/cas", R"({"key":"k","from":1,"to":2,"client_id":"c","seq":2})")->status,
            200);
  auto bad = Call("/v1/kv/cas", R"({"key":"k","from":1,"to":3,"client_id":"c","seq":3})");
  EXPECT_EQ(bad->status, 412);
  EXPECT_EQ(bad->body["error"]["definite"], true);
  EXPECT_EQ(bad->body["error"]["current"], 2);
  // A retried cas answers its original outcome.
  EXPECT_EQ(Call("/v1/kv/cas", R"({"key":"k","from":1,"to":2,"client_id":"c","seq":2})")->status,
            200);
  EXPECT_EQ(Call("/v1/kv/read", R"({"key":"k"})")->body["value"], 2);
  auto hwm = Call("/v1/log/hwm", R"({"consistency":"local"})");
  EXPECT_EQ(hwm->body["hwm"], 4);
}

}  // namespace
}  // namespace tidemark::tidelog
