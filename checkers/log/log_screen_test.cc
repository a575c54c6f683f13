// LogScreen against the whole-history checker: whenever CheckLogPrefix says anything but valid,
// the screen must doubt (it is sound); when the screen does not doubt, its result must be
// CheckLogPrefix's, byte for byte. And it must be useful: it passes most correct histories.
#include "checkers/log/log_screen.h"

#include <iostream>

#include <gtest/gtest.h>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_sim.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using nlohmann::json;

struct Screened {
  std::optional<std::string> doubt;
  CheckResult clean;  // when no doubt
};

// Feeds h to a screen as a streamed analysis does: one event at a time, paired by OpStream.
Screened Screen(const history::History& h) {
  logck::LogScreen screen(LogCheckOptions{});
  logck::LogOpsBuilder builder(/*ignore_other_ops=*/true, &screen);
  history::OpStream pairer;
  for (history::Event e : h) {
    if (e.process == history::kNemesisProcess) {
      if (e.f == "kill" && e.value.is_object() && e.value.contains("nodes")) {
        for (const json& n : e.value["nodes"]) screen.Killed(n.get<std::string>(), e.time_ns);
      }
      continue;
    }
    const bool invoke = e.type == EventType::kInvoke;
    auto op = pairer.Add(std::move(e));
    EXPECT_TRUE(op.ok());
    if (!op.ok()) return {};
    if (invoke) {
      builder.Invoked(**op);
      screen.Invoked(**op);
    } else {
      builder.Completed(**op);
      screen.Completed(**op);
    }
  }
  for (const history::Op& op : pairer.Finish()) {
    builder.Completed(op);
    screen.Completed(op);
  }
  auto parsed = std::move(builder).Finish();
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok()) return {};
  Screened s;
  s.doubt = screen.Doubt(*parsed);
  if (!s.doubt) s.clean = screen.Clean(*parsed);
  return s;
}

CheckResult Whole(const history::History& h) {
  auto ops = history::PairOps(h);
  EXPECT_TRUE(ops.ok());
  LogCheckOptions opts;
  opts.kills_ns = KillTimes(h);
  return CheckLogPrefix(ops.ok() ? *ops : std::vector<history::Op>{}, opts);
}

// The property on one history; returns whether the screen passed it.
bool Agrees(const history::History& h, const std::string& what) {
  const Screened s = Screen(h);
  const CheckResult whole = Whole(h);
  if (whole.verdict != Verdict::kValid) {
    EXPECT_TRUE(s.doubt.has_value())
        << what << ": the whole check says " << whole.summary << " but the screen passed it";
  }
  if (!s.doubt) {
    EXPECT_EQ(ToJson(s.clean).dump(), ToJson(whole).dump()) << what;
  }
  return !s.doubt;
}

logsim::SimOptions OptionsFor(uint64_t seed) {
  logsim::SimOptions o;
  o.seed = seed;
  o.ops = 100 + static_cast<int64_t>(seed % 7) * 60;
  o.processes = 1 + static_cast<int>(seed % 9);
  o.nodes = 1 + static_cast<int>(seed % 5);
  o.page = 3 + static_cast<int64_t>(seed % 4) * 10;
  o.final_page = seed % 3 == 0 ? 7 : 100000;
  o.info_rate = 0.02 + 0.03 * static_cast<double>(seed % 3);
  o.leader_change_rate = seed % 4 == 0 ? 0.05 : 0.005;
  o.read_fraction = 0.3 + 0.1 * static_cast<double>(seed % 4);
  return o;
}

TEST(LogScreenTest, PassesCorrectHistoriesWithTheWholeChecksResult) {
  int passed = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    passed += Agrees(logsim::Simulate(OptionsFor(seed)), "seed " + std::to_string(seed));
  }
  // Correct histories are what a nightly run mostly gives: the screen must pass nearly all.
  std::cout << "the screen passed " << passed << " of 300 correct histories\n";
  EXPECT_GE(passed, 285) << "the screen doubted " << 300 - passed << " correct histories";
}

TEST(LogScreenTest, DoubtsEveryInjectedFault) {
  for (logsim::Fault f : logsim::kAllFaults) {
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      auto h = logsim::Simulate(OptionsFor(seed));
      std::string what;
      if (!logsim::InjectFault(&h, f, seed, &what)) continue;
      EXPECT_FALSE(Agrees(h, std::string(logsim::ToString(f)) + " seed " + std::to_string(seed)))
          << what;
    }
  }
}

TEST(LogScreenTest, NeverPassesWhatTheWholeCheckFaultsOnCorruptedHistories) {
  int invalid = 0, passed_valid = 0;
  for (uint64_t seed = 1; seed <= 600; ++seed) {
    logsim::SimOptions so = OptionsFor(seed);
    so.leader_change_rate = 0.03;
    auto h = logsim::Simulate(so);
    logsim::Corrupt(&h, seed, /*max_mutations=*/1 + static_cast<int>(seed % 3));
    invalid += Whole(h).verdict != Verdict::kValid;
    passed_valid += Agrees(h, "corrupted seed " + std::to_string(seed));
    if (::testing::Test::HasFailure()) break;
  }
  std::cout << invalid << " of 600 corrupted histories are not valid; the screen passed "
            << passed_valid << " of the others\n";
  EXPECT_GT(invalid, 300);  // the corruptions did make anomalies to miss
  EXPECT_GT(passed_valid, 0);
}

TEST(LogScreenTest, DoubtsAHistoryWhoseTimesGoBackwards) {
  auto h = logsim::Simulate(OptionsFor(7));
  ASSERT_TRUE(Agrees(h, "seed 7"));
  // Swap two events' times: the screen's one-pass reasoning no longer holds.
  std::swap(h[10].time_ns, h[20].time_ns);
  EXPECT_FALSE(Screen(h).doubt == std::nullopt);
}

}  // namespace
}  // namespace tidemark::checkers
