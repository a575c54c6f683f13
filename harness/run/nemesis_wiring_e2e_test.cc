// End-to-end: real tidelog nodes under harness/run's Cluster, wired through NemesisWiring with
// each network backend. Isolating the leader must make the others elect a new one; healing must
// reunite the cluster; teardown must leave nothing behind. Labels e2e + netns (the netns case
// skips with the reason when unprivileged).
#include "harness/run/nemesis_wiring.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness/process/supervisor.h"
#include "nemesis/netns.h"
#include "nemesis/sys.h"
#include "targets/adapters/client.h"

namespace tidemark::run {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct View {
  std::optional<int> leader;
  int64_t generation = -1;
};

View Poll(Cluster& c, const std::vector<int>& nodes) {
  View v;
  for (int i : nodes) {
    auto st = targets::QueryStatus("tidelog-http", c.ClientUrl(i), 300);
    if (st.ok() && st->role == "leader" && st->generation > v.generation) {
      v.leader = i;
      v.generation = st->generation;
    }
  }
  return v;
}

template <typename F>
bool WaitFor(F cond, int seconds) {
  auto until = steady_clock::now() + std::chrono::seconds(seconds);
  while (steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

class WiringE2eTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WiringE2eTest, LeaderIsolationElectsANewLeaderAndHealReunites) {
  const std::string net = GetParam();
  if (net == "netns") {
    std::string why;
    if (!nemesis::NetnsAvailable(&why)) GTEST_SKIP() << why;
  }
  auto desc = targets::LoadDescriptor("tidelog", {TIDEMARK_SOURCE_DIR "/targets"});
  ASSERT_TRUE(desc.ok()) << desc.error().message;
  std::string run_dir =
      (fs::temp_directory_path() / ("tm-wiring-" + net + "-" + std::to_string(getpid()))).string();
  fs::remove_all(run_dir);
  fs::create_directories(run_dir);

  NemesisConfig cfg;
  cfg.nemesis = "partition:leader,kill:followers";
  cfg.interval_s = 3600;  // the schedule never fires during the test: faults are driven below
  cfg.net = net;
  cfg.duration_s = 10;
  cfg.seed = 1;
  cfg.nodes = 3;
  cfg.run_dir = run_dir;
  auto wiring = NemesisWiring::Create(cfg, *desc);
  ASSERT_TRUE(wiring.ok()) << wiring.error().message;
  NemesisWiring& w = **wiring;
  EXPECT_EQ(w.NetName(), net);

  std::vector<history::Event> events;
  std::mutex events_mu;
  {
    process::Supervisor sup;
    ClusterOptions co;
    co.descriptor = *desc;
    co.nodes = 3;
    co.run_dir = run_dir;
    co.bin_dir = TIDEMARK_BIN_DIR;
    w.ConfigureCluster(co);
    Cluster cluster(sup, co);
    ASSERT_TRUE(cluster.Prepare().ok());
    Status attached = w.AttachCluster(cluster);
    ASSERT_TRUE(attached.ok()) << attached.error().message;
    if (net == "netns") {
      EXPECT_EQ(cluster.State(0).address.host.rfind("10.", 0), 0u);
    }
    Status started = cluster.StartAll([&](int i) {
      return targets::QueryStatus("tidelog-http", cluster.ClientUrl(i), 300).ok();
    });
    ASSERT_TRUE(started.ok()) << started.error().message;
    w.NodesStarted(cluster);

    View before;
    ASSERT_TRUE(WaitFor(
        [&] {
          return (before = Poll(cluster, {0, 1, 2})).leader.has_value();
        },
        20))
        << "no leader elected";
    const int old_leader = *before.leader;

    w.Start(
        cluster,
        [&] {
          return Poll(cluster, {0, 1, 2}).leader;
        },
        [&](history::Event e) {
          std::lock_guard<std::mutex> lock(events_mu);
          events.push_back(std::move(e));
        });
    nemesis::FaultSpec iso = nemesis::FaultSpec::Of(nemesis::FaultKind::kPartition);
    iso.shape = nemesis::PartitionShape::kLeader;
    ASSERT_TRUE(w.StartFault(iso).ok());
    EXPECT_EQ(w.ActiveFaults(), "partition leader");

    std::vector<int> others;
    for (int i = 0; i < 3; ++i)
      if (i != old_leader) others.push_back(i);
    View after;
    EXPECT_TRUE(WaitFor(
        [&] {
          after = Poll(cluster, others);
          return after.leader && after.generation > before.generation;
        },
        30))
        << net << ": the majority did not elect a new leader while n" << old_leader + 1
        << " was isolated";

    ASSERT_TRUE(w.StopFault().ok());
    // After the heal the old leader learns the newer generation (steps down or is re-elected
    // in a later one).
    EXPECT_TRUE(WaitFor(
        [&] {
          auto st = targets::QueryStatus("tidelog-http", cluster.ClientUrl(old_leader), 300);
          return st.ok() && st->generation >= after.generation;
        },
        30))
        << net << ": the healed node never caught up with the new generation";

    // A process fault through the same hooks: kill the followers, heal restarts them.
    nemesis::FaultSpec kill = nemesis::FaultSpec::Of(nemesis::FaultKind::kKill);
    kill.target = nemesis::ProcessTarget::kFollowers;
    ASSERT_TRUE(w.StartFault(kill).ok());
    ASSERT_TRUE(w.HealAll().ok());
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(cluster.Running(i)) << "n" << i + 1;
    cluster.StopAll();
  }
  std::vector<std::string> fs_names;
  for (const auto& e : events) fs_names.push_back(e.f);
  EXPECT_EQ(fs_names,
            (std::vector<std::string>{"start-partition", "stop-partition", "kill", "start"}));
  w.Teardown();
  w.Teardown();
  auto ns = nemesis::RunCommand({"ip", "netns", "list"});
  auto links = nemesis::RunCommand({"ip", "-br", "link"});
  std::string id = "tm" + nemesis::NetnsShortId(run_dir);
  if (ns.ok()) {
    EXPECT_EQ(ns->out.find(id), std::string::npos) << ns->out;
  }
  if (links.ok()) {
    EXPECT_EQ(links->out.find(id), std::string::npos) << links->out;
  }
  std::ifstream reg(run_dir + "/cleanup.json");
  auto doc = nlohmann::json::parse(reg, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_TRUE(doc["processes"].empty()) << doc.dump();
  EXPECT_TRUE(doc["namespaces"].empty()) << doc.dump();
  EXPECT_TRUE(doc["links"].empty()) << doc.dump();
  fs::remove_all(run_dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, WiringE2eTest, ::testing::Values("proxy", "netns"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace tidemark::run
