// The consensus core in an in-process cluster (sim_cluster.h): elections, the HWM rules, the
// Raft "Figure 8" situation, and the bug switches that break them.
#include <gtest/gtest.h>

#include "consensus.h"
#include "sim_cluster.h"

namespace tidemark::tidelog {
namespace {

using testing::SimCluster;

Config Base() {
  Config c;
  c.election_min_ms = 300;
  c.election_max_ms = 600;
  c.heartbeat_ms = 50;
  return c;
}

Bugs Bug(const std::string& name) {
  Bugs b;
  EXPECT_TRUE(b.Set(name)) << name;
  return b;
}

std::map<std::string, Bugs> AllHave(const std::string& name, int n = 3) {
  std::map<std::string, Bugs> m;
  for (int i = 1; i <= n; ++i) m["n" + std::to_string(i)] = Bug(name);
  return m;
}

uint64_t ProposeOk(Consensus& n, const std::string& value, uint64_t seq) {
  ProposeResult r = n.Propose(EntryKind::kAppend, "c", seq, value);
  EXPECT_EQ(r.status, ProposeStatus::kOk);
  return r.index;
}

TEST(ConsensusTest, ElectsOneLeaderWhoCommitsANoopFirst) {
  SimCluster c(3, Base());
  c.Advance(2000);
  std::string leader = c.Leader();
  ASSERT_FALSE(leader.empty());
  int leaders = 0;
  for (const char* id : {"n1", "n2", "n3"})
    if (c.node(id).role() == Role::kLeader) leaders++;
  EXPECT_EQ(leaders, 1);
  const Consensus& l = c.node(leader);
  ASSERT_GE(l.log_end(), 1u);
  EXPECT_EQ(l.log()[0].kind, EntryKind::kNoop);
  EXPECT_TRUE(l.CanServe());
  // Followers learn the HWM from heartbeats.
  for (const char* id : {"n1", "n2", "n3"}) EXPECT_EQ(c.node(id).hwm(), l.hwm()) << id;
  EXPECT_TRUE(c.violations().empty());
}

TEST(ConsensusTest, HwmAdvancesOnlyWithAQuorum) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  uint64_t hwm0 = c.node("n1").hwm();
  c.Isolate({"n1"});
  uint64_t i = ProposeOk(c.node("n1"), "x", 1);
  c.Advance(100, {"n1"});
  EXPECT_LE(c.node("n1").hwm(), i) << "committed without a quorum";
  EXPECT_EQ(c.node("n1").hwm(), hwm0);
  // One follower back: a quorum of two stores it and the HWM passes it.
  c.Isolate({"n1", "n2"});
  c.Advance(100, {"n1"});
  EXPECT_GT(c.node("n1").hwm(), i);
  EXPECT_GT(c.node("n2").hwm(), i) << "follower learns the HWM on heartbeats";
  EXPECT_LE(c.node("n3").hwm(), i);
}

TEST(ConsensusTest, FollowerRefusesProposalsAndLeaderDedups) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  EXPECT_EQ(c.node("n2").Propose(EntryKind::kAppend, "c", 1, "v").status,
            ProposeStatus::kNotLeader);
  ProposeResult a = c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v");
  ProposeResult b = c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v");
  EXPECT_EQ(a.status, ProposeStatus::kOk);
  EXPECT_EQ(b.status, ProposeStatus::kDuplicate);
  EXPECT_EQ(a.index, b.index);
  // The dedup table survives a restart (rebuilt from the log) and a change of leader.
  c.Advance(100);
  c.Crash("n1");
  ASSERT_TRUE(c.Campaign("n2"));
  c.Advance(100, {"n2"});
  ProposeResult d = c.node("n2").Propose(EntryKind::kAppend, "c", 1, "v");
  EXPECT_EQ(d.status, ProposeStatus::kDuplicate);
  EXPECT_EQ(d.index, a.index);
  c.Restart("n1");
  c.Advance(100, {"n2"});
  c.Crash("n2");
  ASSERT_TRUE(c.Campaign("n1"));
  EXPECT_EQ(c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v").status,
            ProposeStatus::kDuplicate);
}

TEST(ConsensusTest, NoIdempotencyBugAppendsARetryTwice) {
  SimCluster c(3, Base(), AllHave("no-idempotency"));
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  ProposeResult a = c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v");
  ProposeResult b = c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v");
  EXPECT_EQ(b.status, ProposeStatus::kOk);
  EXPECT_NE(a.index, b.index);
}

TEST(ConsensusTest, NewLeaderServesOnlyAfterItsNoopCommits) {
  SimCluster c(3, Base());
  c.Isolate({"n1"});
  ASSERT_FALSE(c.Campaign("n1", 700)) << "a lone node cannot win";
  c.HealAll();
  c.drop = [](const Message& m) { return m.type == MsgType::kAppendReply; };
  ASSERT_TRUE(c.Campaign("n1"));
  EXPECT_FALSE(c.node("n1").CanServe());
  EXPECT_EQ(c.node("n1").Propose(EntryKind::kAppend, "c", 1, "v").status,
            ProposeStatus::kUnavailable);
  EXPECT_FALSE(c.node("n1").RequestRead().has_value());
  c.HealAll();
  c.Advance(100, {"n1"});
  EXPECT_TRUE(c.node("n1").CanServe());
}

TEST(ConsensusTest, VoteRequiresAnUpToDateLog) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.Isolate({"n1", "n2"});
  uint64_t i = ProposeOk(c.node("n1"), "x", 1);
  c.Advance(100, {"n1"});
  ASSERT_GT(c.node("n1").hwm(), i);
  c.Crash("n1");
  c.HealAll();
  // n3 missed x: n2 must refuse it, so n3 cannot win; n2 can.
  EXPECT_FALSE(c.Campaign("n3", 2000));
  ASSERT_TRUE(c.Campaign("n2"));
  c.Advance(200, {"n2"});
  EXPECT_TRUE(c.violations().empty());
  EXPECT_EQ(c.node("n3").log()[i].payload, "x");
}

// x committed on {n1, n2} only (offset *i); then n1 crashes and n2 comes back from a damaged
// WAL without x.
void CommitXThenDamageN2(SimCluster& c, uint64_t* i) {
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.Isolate({"n1", "n2"});
  *i = ProposeOk(c.node("n1"), "x", 1);
  c.Advance(100, {"n1"});
  ASSERT_GT(c.node("n1").hwm(), *i);
  c.Crash("n1");
  c.Crash("n2");
  c.RestartDamaged("n2", *i);
}

// x is committed on {n1, n2}; n1 crashes and n2 comes back from a damaged WAL without x. A
// vote from n2 would let n3, which never had x, lead and overwrite it. Recovering, n2 neither
// votes nor campaigns; n1 returns and leads with n3's vote; once n2 has caught up it votes again.
TEST(ConsensusTest, ANodeBackFromADamagedWalDoesNotVoteUntilItCaughtUp) {
  SimCluster c(3, Base());
  uint64_t i = 0;
  ASSERT_NO_FATAL_FAILURE(CommitXThenDamageN2(c, &i));
  c.HealAll();
  EXPECT_TRUE(c.node("n2").recovering());
  EXPECT_FALSE(c.Campaign("n3", 2000)) << "n2's vote would elect a leader without x";
  EXPECT_FALSE(c.Campaign("n2", 2000)) << "a recovering node must not lead";
  c.Restart("n1");
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(300);
  EXPECT_FALSE(c.node("n2").recovering());
  EXPECT_EQ(c.node("n2").voted_for(), "n1");
  ASSERT_GT(c.node("n2").log_end(), i);
  EXPECT_EQ(c.node("n2").log()[i].payload, "x");
  EXPECT_TRUE(c.violations().empty()) << c.violations().front();
}

// Without the rule (a damaged node votes at once) the same schedule loses x: the test above
// can fail.
TEST(ConsensusTest, ADamagedNodeThatVotesAtOnceLetsALeaderWithoutXWin) {
  SimCluster c(3, Base());
  uint64_t i = 0;
  ASSERT_NO_FATAL_FAILURE(CommitXThenDamageN2(c, &i));
  c.Crash("n2");
  c.Restart("n2");  // the same disk, but nothing says it was damaged
  c.HealAll();
  ASSERT_TRUE(c.Campaign("n3", 2000));
  c.Advance(200, {"n3"});
  c.Restart("n1");
  c.Advance(300);
  EXPECT_FALSE(c.violations().empty());
}

TEST(ConsensusTest, VoteWithoutLogCheckBugLosesCommittedEntries) {
  SimCluster c(3, Base(), AllHave("vote-without-log-check"));
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.Isolate({"n1", "n2"});
  uint64_t i = ProposeOk(c.node("n1"), "x", 1);
  c.Advance(100, {"n1"});
  ASSERT_GT(c.node("n1").hwm(), i);
  c.Crash("n1");
  c.HealAll();
  ASSERT_TRUE(c.Campaign("n3", 2000)) << "with the bug n2 votes for the shorter log";
  c.Advance(200, {"n3"});
  EXPECT_FALSE(c.violations().empty());
}

// Raft Figure 8 with three nodes: an entry of an old generation that reaches a quorum must not
// be committed by counting replicas; a later leader may legitimately overwrite it.
struct Figure8 {
  uint64_t x_index = 0, x_gen = 0;
  bool n1_committed_x = false;
};

Figure8 RunFigure8(SimCluster& c) {
  Figure8 f;
  EXPECT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  // Every node isolated; X lands on n1 only.
  c.Isolate({"n1"});
  f.x_index = ProposeOk(c.node("n1"), "X", 1);
  f.x_gen = c.node("n1").generation();
  c.Pump();       // persisted on n1, delivered nowhere
  c.Crash("n1");  // stays down until n2 has written its own generation
  // n2 wins with n3's vote, but none of its appends reach n3; Y lands on n2 only.
  c.drop = [](const Message& m) { return m.from == "n2" && m.type == MsgType::kAppend; };
  EXPECT_TRUE(c.Campaign("n2"));
  // Without the bug n2 cannot serve yet (its no-op is not committed), and that no-op alone
  // puts n2's generation at X's offset; with the bug (no no-op) Y does.
  c.node("n2").Propose(EntryKind::kAppend, "c", 2, "Y");
  EXPECT_GT(c.node("n2").log_end(), f.x_index);
  c.Pump();
  c.Crash("n2");
  // n1 comes back and wins with n3. Messages carry one entry, and n1's appends of entries of
  // its new generation are lost: only X (old generation) reaches n3.
  c.Restart("n1");
  c.drop = [&c](const Message& m) {
    if (m.from != "n1" || m.type != MsgType::kAppend) return false;
    for (const Entry& e : m.entries)
      if (e.generation == c.node("n1").generation()) return true;
    return false;
  };
  EXPECT_TRUE(c.Campaign("n1"));
  c.Advance(200, {"n1"});
  EXPECT_EQ(c.node("n3").log_end() > f.x_index ? c.node("n3").log()[f.x_index].payload : "", "X")
      << "X should be on a quorum {n1, n3}";
  f.n1_committed_x = c.node("n1").hwm() > f.x_index;
  // n1 dies before its generation's entries spread; n2 (newer last generation) wins and
  // overwrites X on n3.
  c.Crash("n1");
  c.Restart("n2");
  c.HealAll();
  EXPECT_TRUE(c.Campaign("n2"));
  c.Advance(200, {"n2"});
  return f;
}

TEST(ConsensusTest, Figure8OldGenerationEntryIsNotCommittedByCounting) {
  Config base = Base();
  base.max_entries_per_msg = 1;
  SimCluster c(3, base);
  Figure8 f = RunFigure8(c);
  EXPECT_FALSE(f.n1_committed_x);
  EXPECT_FALSE(c.EverCommitted(f.x_index, f.x_gen));
  EXPECT_NE(c.node("n3").log()[f.x_index].payload, "X") << "overwritten, legitimately";
  EXPECT_TRUE(c.violations().empty());
}

TEST(ConsensusTest, Figure8CommitOldGenerationBugCommitsAndThenLosesIt) {
  Config base = Base();
  base.max_entries_per_msg = 1;
  SimCluster c(3, base, AllHave("commit-old-generation"));
  Figure8 f = RunFigure8(c);
  EXPECT_TRUE(f.n1_committed_x) << "the bug counts old-generation replicas";
  EXPECT_TRUE(c.EverCommitted(f.x_index, f.x_gen));
  EXPECT_FALSE(c.violations().empty()) << "the committed X was overwritten";
}

TEST(ConsensusTest, FollowersRejectAnOlderGeneration) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  // Only the n1-n2 link is cut: n2 wins with n3; n1 still believes it leads.
  c.drop = [](const Message& m) {
    return (m.from == "n1" && m.to == "n2") || (m.from == "n2" && m.to == "n1");
  };
  ASSERT_TRUE(c.Campaign("n2"));
  c.Advance(100, {"n2"});
  ASSERT_EQ(c.node("n1").role(), Role::kLeader);
  uint64_t a = ProposeOk(c.node("n1"), "A", 7);
  uint64_t gen1 = c.node("n1").generation();
  c.Pump();
  EXPECT_NE(c.node("n1").role(), Role::kLeader) << "n3's rejection tells n1 it is deposed";
  EXPECT_FALSE(c.EverCommitted(a, gen1));
  EXPECT_TRUE(c.violations().empty());
}

TEST(ConsensusTest, NoGenerationFenceBugLetsADeposedLeaderCommit) {
  SimCluster c(3, Base(), AllHave("no-generation-fence"));
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.drop = [](const Message& m) {
    return (m.from == "n1" && m.to == "n2") || (m.from == "n2" && m.to == "n1");
  };
  ASSERT_TRUE(c.Campaign("n2"));
  c.Advance(100, {"n2"});
  ASSERT_EQ(c.node("n1").role(), Role::kLeader);
  uint64_t gen1 = c.node("n1").generation();
  uint64_t a = ProposeOk(c.node("n1"), "A", 7);
  c.Pump();
  EXPECT_GT(c.node("n1").hwm(), a) << "n3 accepted a deposed leader's entry; n1 commits it";
  EXPECT_EQ(c.node("n1").generation(), gen1);
  // n2 keeps leading; its next heartbeats overwrite A on n3.
  ProposeOk(c.node("n2"), "B", 8);
  c.Advance(200, {"n2"});
  EXPECT_FALSE(c.violations().empty());
}

TEST(ConsensusTest, LinearizableReadNeedsAQuorumOfHeartbeats) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100, {"n1"});
  auto r1 = c.node("n1").RequestRead();
  ASSERT_TRUE(r1);
  c.Pump();
  EXPECT_EQ(c.confirmed_reads("n1"), std::vector<uint64_t>{*r1});
  c.Isolate({"n1"});
  auto r2 = c.node("n1").RequestRead();
  ASSERT_TRUE(r2);
  c.Advance(200, {"n1"});
  EXPECT_EQ(c.confirmed_reads("n1").size(), 1u) << "an isolated leader confirmed a read";
}

TEST(ConsensusTest, StaleLeaderReadBugConfirmsWithoutAQuorum) {
  SimCluster c(3, Base(), AllHave("stale-leader-read"));
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100, {"n1"});
  c.Isolate({"n1"});
  auto r = c.node("n1").RequestRead();
  ASSERT_TRUE(r);
  c.Pump();
  EXPECT_EQ(c.confirmed_reads("n1"), std::vector<uint64_t>{*r});
}

TEST(ConsensusTest, StaleLeaderReadBugKeepsAnIsolatedLeaderLeading) {
  SimCluster c(3, Base(), AllHave("stale-leader-read"));
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.Isolate({"n1"});
  c.Advance(1500, {"n1"});
  EXPECT_EQ(c.node("n1").role(), Role::kLeader);
}

TEST(ConsensusTest, IsolatedLeaderStepsDown) {
  SimCluster c(3, Base());
  ASSERT_TRUE(c.Campaign("n1"));
  c.Advance(100);
  c.Isolate({"n1"});
  c.Advance(1500, {"n1"});
  EXPECT_NE(c.node("n1").role(), Role::kLeader);
}

TEST(ConsensusTest, RestartKeepsUnreplicatedEntriesAboveTheHwm) {
  Config cfg = Base();
  cfg.id = "n1";
  cfg.peers = {"n2", "n3"};
  std::vector<Entry> log(3);
  for (uint64_t i = 0; i < 3; ++i) log[i] = Entry{i, 1, EntryKind::kAppend, "c", i, "v"};
  Consensus ok(cfg, HardState{1, ""}, log, 1, 0);
  EXPECT_EQ(ok.log_end(), 3u);
  EXPECT_EQ(ok.hwm(), 1u);
  cfg.bugs = Bug("truncate-to-local-hwm");
  Consensus bad(cfg, HardState{1, ""}, log, 1, 0);
  EXPECT_EQ(bad.log_end(), 1u);
  Ready r = bad.TakeReady();
  ASSERT_TRUE(r.truncate_to);
  EXPECT_EQ(*r.truncate_to, 1u);
}

TEST(ConsensusTest, TruncateToLocalHwmBugLosesAnAcknowledgedEntry) {
  // The BUG-ZOO schedule at core level: n3 away, x committed by {n1, n2}; n2 restarts before
  // learning the new HWM and drops x; n1 dies; n2 and n3 elect a leader without x.
  for (bool bug : {false, true}) {
    SimCluster c(3, Base(), bug ? AllHave("truncate-to-local-hwm") : std::map<std::string, Bugs>{});
    ASSERT_TRUE(c.Campaign("n1"));
    c.Advance(100);
    c.Isolate({"n1", "n2"});
    // n2's replies reach n1, but n1's next message (carrying the new HWM) does not reach n2.
    uint64_t x = c.node("n1").log_end();
    c.drop = [x](const Message& m) {
      if (m.to == "n3" || m.from == "n3") return true;
      return m.from == "n1" && m.to == "n2" && m.commit > x;
    };
    ASSERT_EQ(ProposeOk(c.node("n1"), "x", 1), x);
    uint64_t gen = c.node("n1").generation();
    c.Pump();
    ASSERT_GT(c.node("n1").hwm(), x);
    ASSERT_LE(c.node("n2").hwm(), x);
    c.Crash("n2");
    c.Restart("n2");
    c.Crash("n1");
    c.HealAll();
    c.Advance(3000);
    ASSERT_FALSE(c.Leader().empty());
    EXPECT_TRUE(c.EverCommitted(x, gen));
    EXPECT_EQ(c.violations().empty(), !bug) << "bug=" << bug;
  }
}

}  // namespace
}  // namespace tidemark::tidelog
