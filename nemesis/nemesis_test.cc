#include "nemesis/nemesis.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "nemesis/fake_cluster.h"

namespace tidemark::nemesis {
namespace {

using Fake = testing::FakeCluster;
FaultSpec Partition(PartitionShape s, bool one_way = false) {
  FaultSpec f = FaultSpec::Of(FaultKind::kPartition);
  f.shape = s;
  f.one_way = one_way;
  return f;
}
FaultSpec Proc(FaultKind k, ProcessTarget t) {
  FaultSpec f = FaultSpec::Of(k);
  f.target = t;
  return f;
}

TEST(NemesisTest, PartitionIsAppliedRecordedAndHealed) {
  Fake fake;
  Nemesis nem(fake.Hooks(), {}, &fake);
  ASSERT_TRUE(nem.StartFault(Partition(PartitionShape::kLeader)).ok());
  ASSERT_TRUE(fake.applied.has_value());
  EXPECT_EQ(*fake.applied, IsolateNode(3, 0));
  EXPECT_EQ(nem.ActiveFaults(), "partition leader");
  ASSERT_EQ(fake.events.size(), 1u);
  EXPECT_EQ(fake.events[0].f, "start-partition");
  EXPECT_EQ(fake.events[0].value["shape"], "leader");
  EXPECT_EQ(fake.events[0].value["grudge"],
            nlohmann::json::parse(R"({"n1":["n2","n3"],"n2":["n1"],"n3":["n1"]})"));
  EXPECT_EQ(fake.events[0].value["focus"], nlohmann::json::parse(R"(["n1"])"));
  ASSERT_TRUE(nem.StopFault().ok());
  EXPECT_FALSE(fake.applied.has_value());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"start-partition", "stop-partition"}));
  EXPECT_EQ(nem.ActiveFaults(), "");
}

TEST(NemesisTest, KillAndPauseHitTheirTargetsAndHealRestoresThem) {
  Fake fake;
  Nemesis nem(fake.Hooks(), {}, &fake);
  ASSERT_TRUE(nem.StartFault(Proc(FaultKind::kKill, ProcessTarget::kFollowers)).ok());
  EXPECT_EQ(fake.running, (std::vector<bool>{true, false, false}));
  EXPECT_EQ(fake.events.back().f, "kill");
  EXPECT_EQ(fake.events.back().value["nodes"], nlohmann::json::parse(R"(["n2","n3"])"));
  EXPECT_EQ(fake.events.back().value["pids"]["n2"], 1001);
  EXPECT_EQ(nem.ActiveFaults(), "kill n2 n3");
  // Starting another fault stops the active one first (one fault at a time).
  ASSERT_TRUE(nem.StartFault(Proc(FaultKind::kPause, ProcessTarget::kLeader)).ok());
  EXPECT_EQ(fake.running, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(fake.paused, (std::vector<bool>{true, false, false}));
  ASSERT_TRUE(nem.StopAndHealAll().ok());
  EXPECT_EQ(fake.paused, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"kill", "start", "pause", "resume"}));
  EXPECT_EQ(fake.events[3].value["nodes"], nlohmann::json::parse(R"(["n1"])"));
  EXPECT_TRUE(nem.StopAndHealAll().ok()) << "second heal is a no-op";
  EXPECT_EQ(fake.events.size(), 4u);
}

TEST(NemesisTest, NoLeaderMeansARecordedSkip) {
  Fake fake;
  fake.leader.reset();
  Nemesis nem(fake.Hooks(), {}, &fake);
  EXPECT_FALSE(nem.StartFault(Proc(FaultKind::kKill, ProcessTarget::kLeader)).ok());
  EXPECT_FALSE(nem.StartFault(Partition(PartitionShape::kLeader)).ok());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"skip", "skip"}));
  EXPECT_EQ(fake.events[0].value["fault"], "kill:leader");
  EXPECT_EQ(fake.running, (std::vector<bool>{true, true, true}));
  EXPECT_FALSE(fake.applied.has_value());
}

TEST(NemesisTest, FailedRestartIsRetriedAtTheFinalHeal) {
  Fake fake;
  Nemesis nem(fake.Hooks(), {}, &fake);
  ASSERT_TRUE(nem.StartFault(Proc(FaultKind::kKill, ProcessTarget::kAll)).ok());
  fake.fail_start = true;
  EXPECT_FALSE(nem.StopFault().ok());
  EXPECT_EQ(fake.events.back().f, "start");
  EXPECT_TRUE(fake.events.back().value.contains("errors"));
  fake.fail_start = false;
  ASSERT_TRUE(nem.StopAndHealAll().ok());
  EXPECT_EQ(fake.running, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(fake.events.back().f, "start");
  EXPECT_EQ(fake.events.back().value["nodes"], nlohmann::json::parse(R"(["n1","n2","n3"])"));
}

TEST(NemesisTest, RunsTheScheduleOnItsThreadAndHealsAtTheEnd) {
  Fake fake;
  NemesisOptions o;
  o.seed = 5;
  // A fast schedule: steps every ~20 ms; the last step is a start so the final heal matters.
  o.schedule = MakeSchedule(*ParseNemesis("partition:halves,kill:one,pause:minority"),
                            {.seed = 5, .interval_s = 0.02, .duration_s = 0.2});
  if (o.schedule.size() % 2 == 0) o.schedule.pop_back();
  ASSERT_FALSE(o.schedule.empty());
  Nemesis nem(fake.Hooks(), o, &fake);
  nem.Start();
  for (int i = 0; i < 500 && fake.Fs().size() < o.schedule.size(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(fake.Fs().size(), o.schedule.size()) << "seed 5: schedule did not run";
  ASSERT_TRUE(nem.StopAndHealAll().ok());
  auto fs = fake.Fs();
  ASSERT_EQ(fs.size(), o.schedule.size() + 1);
  // Starts and stops alternate and pair up.
  const std::map<std::string, std::string> stop_of = {
      {"start-partition", "stop-partition"}, {"kill", "start"}, {"pause", "resume"}};
  for (size_t i = 0; i + 1 < fs.size(); i += 2) EXPECT_EQ(stop_of.at(fs[i]), fs[i + 1]) << i;
  EXPECT_EQ(fake.running, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(fake.paused, (std::vector<bool>{false, false, false}));
  EXPECT_FALSE(fake.applied.has_value());
}

TEST(NemesisTest, StopInterruptsALongWait) {
  Fake fake;
  NemesisOptions o;
  o.schedule = {{3600, true, Partition(PartitionShape::kOne)}};
  Nemesis nem(fake.Hooks(), o, &fake);
  nem.Start();
  ASSERT_TRUE(nem.StopAndHealAll().ok());  // returns at once (no hour-long wait)
  EXPECT_TRUE(fake.Fs().empty());
}

// AwaitWriteAck returns once the client feed counts a new acknowledged write, waits out its
// timeout when none comes, and returns at once without a feed.
TEST(NemesisTest, AwaitWriteAckReturnsAtTheNextAcknowledgedWrite) {
  Fake fake;
  std::atomic<int64_t> acked{5};
  NemesisHooks h = fake.Hooks();
  h.acked_writes = [&] { return acked.load(); };
  Nemesis nem(std::move(h), NemesisOptions{}, &fake);
  using Clock = std::chrono::steady_clock;

  auto t0 = Clock::now();
  EXPECT_TRUE(nem.Actions().AwaitWriteAck(0.3));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(290)) << "no write came: the timeout";

  std::thread client([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    acked.fetch_add(1);
  });
  t0 = Clock::now();
  EXPECT_TRUE(nem.Actions().AwaitWriteAck(10));
  auto waited = Clock::now() - t0;
  client.join();
  EXPECT_GE(waited, std::chrono::milliseconds(45));
  EXPECT_LT(waited, std::chrono::seconds(5)) << "missed the acknowledgment";

  Nemesis without(fake.Hooks(), NemesisOptions{}, &fake);
  t0 = Clock::now();
  EXPECT_TRUE(without.Actions().AwaitWriteAck(10));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5)) << "waited without a client feed";
}

TEST(NemesisTest, PartitionWithoutBackendIsSkipped) {
  Fake fake;
  Nemesis nem(fake.Hooks(), {}, nullptr);
  EXPECT_FALSE(nem.StartFault(Partition(PartitionShape::kOne)).ok());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"skip"}));
}

TEST(CheckSupportedTest, NamesTheMissingCapability) {
  targets::Descriptor d;
  d.name = "etcd";
  d.path = "targets/etcd.json";
  d.capabilities.kill = true;
  d.capabilities.pause = true;
  EXPECT_TRUE(CheckSupported(*ParseNemesis("kill,pause:one"), d).ok());
  auto part = CheckSupported(*ParseNemesis("kill,partition"), d);
  ASSERT_FALSE(part.ok());
  EXPECT_NE(part.error().message.find("capabilities.partition"), std::string::npos);
  auto leader = CheckSupported(*ParseNemesis("kill:leader"), d);
  ASSERT_FALSE(leader.ok());
  EXPECT_NE(leader.error().message.find("leader_status"), std::string::npos);
  d.capabilities.leader_status = true;
  EXPECT_TRUE(CheckSupported(*ParseNemesis("kill:leader,pause:followers"), d).ok());
}

}  // namespace
}  // namespace tidemark::nemesis

namespace tidemark::nemesis {
namespace {

// lose-unfsynced: kill, then drop while the node is down, then record; the stop restarts it.
TEST(NemesisDiskTest, LoseUnfsyncedDropsBetweenKillAndStart) {
  testing::FakeCluster fake;
  NemesisHooks h = fake.Hooks();
  std::vector<int> dropped_while_down;
  h.lose_unfsynced = [&](int i, std::optional<uint64_t>) -> Result<nlohmann::json> {
    if (!fake.running[static_cast<size_t>(i)]) dropped_while_down.push_back(i);
    return nlohmann::json{{"bytes", 10 + i}};
  };
  Nemesis nem(std::move(h), {}, &fake);
  FaultSpec f = FaultSpec::Of(FaultKind::kKill);
  f.target = ProcessTarget::kAll;
  f.disk = DiskFault::kLoseUnfsynced;
  ASSERT_TRUE(nem.StartFault(f).ok());
  EXPECT_EQ(dropped_while_down, (std::vector<int>{0, 1, 2}));
  ASSERT_TRUE(nem.StopFault().ok());
  EXPECT_EQ(fake.Fs(), (std::vector<std::string>{"kill", "lose-unfsynced", "start"}));
  EXPECT_EQ(fake.events[1].value["dropped"]["n3"]["bytes"], 12);
  EXPECT_EQ(fake.running, (std::vector<bool>{true, true, true}));
}

// The mix's power cuts: a kill, and where the run can (power_cuts_lose_unfsynced) a drop of what
// the nodes had not fsynced while they are down; otherwise only the kill.
TEST(NemesisDiskTest, APowerCutDropsUnsyncedDataOnlyWhereTheRunCan) {
  for (bool can : {true, false}) {
    SCOPED_TRACE(can);
    testing::FakeCluster fake;
    NemesisHooks h = fake.Hooks();
    std::vector<int> dropped_while_down;
    h.lose_unfsynced = [&](int i, std::optional<uint64_t>) -> Result<nlohmann::json> {
      if (!fake.running[static_cast<size_t>(i)]) dropped_while_down.push_back(i);
      return nlohmann::json{{"bytes", 1}};
    };
    NemesisOptions opts;
    opts.power_cuts_lose_unfsynced = can;
    Nemesis nem(std::move(h), opts, &fake);
    ASSERT_TRUE(nem.Actions().PowerCut({0, 2}, "majority").ok());
    ASSERT_TRUE(nem.Actions().Restart({0, 2}).ok());
    const std::vector<std::string> fs =
        can ? std::vector<std::string>{"kill", "lose-unfsynced", "start"}
            : std::vector<std::string>{"kill", "start"};
    const std::vector<int> dropped = can ? std::vector<int>{0, 2} : std::vector<int>{};
    EXPECT_EQ(fake.Fs(), fs);
    EXPECT_EQ(dropped_while_down, dropped);
    // A plain Kill never drops anything.
    ASSERT_TRUE(nem.Actions().Kill({1}, "one").ok());
    EXPECT_EQ(fake.Fs().back(), "kill");
  }
}

TEST(NemesisDiskTest, CorruptRecordsFileOffsetAndLengthAndChangesTheFile) {
  char tmpl[] = "/tmp/nemesis-corrupt-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string original(1000, 'x');
  { std::ofstream(dir + "/wal") << original; }
  testing::FakeCluster fake;
  NemesisHooks h = fake.Hooks();
  h.data_dir = [&](int) { return dir; };
  NemesisOptions opts;
  opts.seed = 5;
  Nemesis nem(std::move(h), opts, &fake);
  FaultSpec f = FaultSpec::Of(FaultKind::kKill);
  f.target = ProcessTarget::kLeader;
  f.disk = DiskFault::kCorrupt;
  ASSERT_TRUE(nem.StartFault(f).ok());
  ASSERT_EQ(fake.Fs(), (std::vector<std::string>{"kill", "corrupt"}));
  const nlohmann::json v = fake.events[1].value;
  EXPECT_EQ(v["node"], "n1");
  EXPECT_EQ(v["file"], "wal");
  EXPECT_FALSE(v.contains("error")) << v.dump();
  std::ifstream in(dir + "/wal");
  std::string now((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(now, original) << v.dump();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidemark::nemesis
