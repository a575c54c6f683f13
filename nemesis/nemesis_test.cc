#include "nemesis/nemesis.h"

#include <gtest/gtest.h>

#include <atomic>

namespace tidemark::nemesis {
namespace {

// A fake cluster and network: records what the nemesis did to it.
struct Fake : NetBackend {
  int n = 3;
  std::optional<int> leader = 0;
  std::vector<bool> running = std::vector<bool>(3, true), paused = std::vector<bool>(3, false);
  std::vector<history::Event> events;
  std::optional<Grudge> applied;
  int heals = 0;
  bool fail_start = false;
  std::mutex mu;

  std::string Name() const override { return "fake"; }
  Status Prepare(const NetCluster&) override { return OkStatus(); }
  Status Apply(const Grudge& g) override {
    std::lock_guard<std::mutex> lock(mu);
    applied = g;
    return OkStatus();
  }
  Status Heal() override {
    std::lock_guard<std::mutex> lock(mu);
    applied.reset();
    ++heals;
    return OkStatus();
  }
  void Teardown() override {}
  nlohmann::json Describe() const override { return {}; }

  NemesisHooks Hooks() {
    NemesisHooks h;
    h.size = [this] { return n; };
    h.name = [](int i) { return "n" + std::to_string(i + 1); };
    h.kill = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      if (!running[static_cast<size_t>(i)]) return false;
      running[static_cast<size_t>(i)] = false;
      return true;
    };
    h.start = [this](int i) -> Status {
      std::lock_guard<std::mutex> lock(mu);
      if (fail_start) return Error{"spawn failed"};
      running[static_cast<size_t>(i)] = true;
      return OkStatus();
    };
    h.pause = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      if (paused[static_cast<size_t>(i)]) return false;
      paused[static_cast<size_t>(i)] = true;
      return true;
    };
    h.resume = [this](int i) {
      std::lock_guard<std::mutex> lock(mu);
      bool was = paused[static_cast<size_t>(i)];
      paused[static_cast<size_t>(i)] = false;
      return was;
    };
    h.leader = [this] { return leader; };
    h.record = [this](history::Event e) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_EQ(e.process, history::kNemesisProcess);
      EXPECT_EQ(e.type, history::EventType::kInfo);
      events.push_back(std::move(e));
    };
    h.pid = [](int i) { return 1000 + i; };
    return h;
  }
  std::vector<std::string> Fs() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.f);
    return out;
  }
};

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
