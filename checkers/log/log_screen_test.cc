// LogScreen against the whole-history checker: whenever CheckLogPrefix says anything but valid,
// the screen must doubt (it is sound); when the screen does not doubt, its result must be
// CheckLogPrefix's, byte for byte. And it must be useful: it passes most correct histories.
#include "checkers/log/log_screen.h"

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_sim.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using nlohmann::json;

struct Screened {
  std::optional<std::string> doubt;
  CheckResult clean;                      // when no doubt
  std::optional<logck::ReadFocus> focus;  // when doubted and the doubt is local
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
  if (s.doubt) s.focus = screen.Focus();
  return s;
}

CheckResult Whole(const history::History& h) {
  auto ops = history::PairOps(h);
  EXPECT_TRUE(ops.ok());
  LogCheckOptions opts;
  opts.kills_ns = KillTimes(h);
  return CheckLogPrefix(ops.ok() ? *ops : std::vector<history::Op>{}, opts);
}

// Replica logs for h: n1 holds every ack at its offset, n2 the same but for one in the middle
// (a lost write on a replica), so that CheckReplicas has something to say.
std::vector<ReplicaLog> ReplicasOf(const std::vector<history::Op>& ops) {
  std::map<int64_t, std::string> acked;
  for (const history::Op& op : ops) {
    if (op.f != "append" || op.status != EventType::kOk || !op.value.is_object()) continue;
    acked.emplace(op.value.value("offset", int64_t{0}), op.invoke_value.get<std::string>());
  }
  ReplicaLog n1{"n1", acked.empty() ? 0 : acked.rbegin()->first + 1, {}};
  ReplicaLog n2{"n2", n1.hwm, {}};
  size_t i = 0;
  for (const auto& [offset, value] : acked) {
    n1.entries.push_back(ReplicaEntry{offset, 1, value});
    if (i++ != acked.size() / 2) n2.entries.push_back(ReplicaEntry{offset, 1, value});
  }
  return {n1, n2};
}

struct Focused {
  bool checked = false;         // the doubt was local, and the focused check ran
  int64_t kept = 0, reads = 0;  // ok reads kept, of all ok reads
};

// The whole check of a doubted history keeping only the reads the focus names (and the
// skeletons of the appends and those reads) against the whole check keeping every read: the same
// results, log-prefix and log-replicas, byte for byte.
Focused CheckFocused(const history::History& h, const logck::ReadFocus& focus,
                     const std::string& what) {
  auto ops = history::PairOps(h);
  EXPECT_TRUE(ops.ok());
  if (!ops.ok()) return {};
  LogCheckOptions opts;
  opts.kills_ns = KillTimes(h);
  // Parsed as the streamed analysis reads a history the second time: one event at a time, so
  // that values are interned in the order the screen's builder interned them (the focus names
  // values by id).
  logck::LogOpsBuilder builder(/*ignore_other_ops=*/true, focus.AsKeep());
  history::OpStream pairer;
  for (history::Event e : h) {
    if (e.process == history::kNemesisProcess) continue;
    const bool invoke = e.type == EventType::kInvoke;
    auto op = pairer.Add(std::move(e));
    if (!op.ok()) return {};
    if (invoke) {
      builder.Invoked(**op);
    } else {
      builder.Completed(**op);
    }
  }
  for (const history::Op& op : pairer.Finish()) builder.Completed(op);
  auto parsed = std::move(builder).Finish();
  EXPECT_TRUE(parsed.ok()) << what;
  if (!parsed.ok()) return {};
  history::OpSkeletons skeletons = history::OpSkeletons::Sparse();
  for (const logck::AppendRec& a : parsed->appends)
    if (focus.KeepAppend(a.status, a.vid)) skeletons.Put((*ops)[static_cast<size_t>(a.op)]);
  for (const logck::ReadRec& r : parsed->reads) skeletons.Put((*ops)[static_cast<size_t>(r.op)]);
  skeletons.SetSize(ops->size());
  const CheckResult focused = CheckLogPrefix(skeletons, parsed, opts);
  const CheckResult whole = CheckLogPrefix(*ops, opts);
  EXPECT_EQ(ToJson(focused).dump(), ToJson(whole).dump()) << what;
  const std::vector<ReplicaLog> replicas = ReplicasOf(*ops);
  EXPECT_EQ(ToJson(CheckReplicas(replicas, skeletons, parsed, opts)).dump(),
            ToJson(CheckReplicas(replicas, *ops, opts)).dump())
      << what;
  Focused f;
  f.checked = true;
  f.kept = static_cast<int64_t>(parsed->reads.size());
  f.reads = f.kept + parsed->dropped_reads;
  return f;
}

// What the differential saw over a corpus.
struct FocusTally {
  int doubted = 0, focused = 0, faulty = 0;
  int64_t kept = 0, reads = 0;  // over the faulty focused ones
};
FocusTally tally;

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
  if (s.doubt) {
    ++tally.doubted;
    if (s.focus) {
      const Focused f = CheckFocused(h, *s.focus, what + " (doubted: " + *s.doubt + ")");
      tally.focused += f.checked;
      if (f.checked && whole.verdict != Verdict::kValid) {
        ++tally.faulty;
        tally.kept += f.kept;
        tally.reads += f.reads;
      }
    }
  }
  return !s.doubt;
}

TEST(LogScreenTest, PassesCorrectHistoriesWithTheWholeChecksResult) {
  int passed = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    passed += Agrees(logsim::Simulate(logsim::VariedOptions(seed)), "seed " + std::to_string(seed));
  }
  // Correct histories are what a nightly run mostly gives: the screen must pass nearly all.
  std::cout << "the screen passed " << passed << " of 300 correct histories\n";
  EXPECT_GE(passed, 285) << "the screen doubted " << 300 - passed << " correct histories";
}

TEST(LogScreenTest, DoubtsEveryInjectedFault) {
  for (logsim::Fault f : logsim::kAllFaults) {
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      auto h = logsim::Simulate(logsim::VariedOptions(seed));
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
    logsim::SimOptions so = logsim::VariedOptions(seed);
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

// The differential of the focused whole check (ReadFocus) over the corpus above: every correct
// history, every injected fault over 60 seeds, 600 corrupted histories. Agrees checks each
// doubted history whose doubt is local both ways; here, that there were many, and that the
// focused check keeps fewer reads than the whole one on the faulty ones.
TEST(LogScreenTest, FocusedWholeCheckGivesTheWholeChecksResult) {
  tally = FocusTally{};
  int histories = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed, ++histories) {
    Agrees(logsim::Simulate(logsim::VariedOptions(seed)), "seed " + std::to_string(seed));
  }
  for (logsim::Fault f : logsim::kAllFaults) {
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      auto h = logsim::Simulate(logsim::VariedOptions(seed));
      std::string what;
      if (!logsim::InjectFault(&h, f, seed, &what)) continue;
      ++histories;
      Agrees(h, std::string(logsim::ToString(f)) + " seed " + std::to_string(seed));
    }
  }
  for (uint64_t seed = 1; seed <= 600; ++seed, ++histories) {
    logsim::SimOptions so = logsim::VariedOptions(seed);
    so.leader_change_rate = 0.03;
    auto h = logsim::Simulate(so);
    logsim::Corrupt(&h, seed, /*max_mutations=*/1 + static_cast<int>(seed % 3));
    Agrees(h, "corrupted seed " + std::to_string(seed));
  }
  // Without final reads, what the dropped reads observed decides lost-write against unseen.
  for (uint64_t seed = 1; seed <= 200; ++seed, ++histories) {
    logsim::SimOptions so = logsim::VariedOptions(seed);
    so.final_reads = false;
    auto h = logsim::Simulate(so);
    logsim::Corrupt(&h, seed, /*max_mutations=*/1 + static_cast<int>(seed % 3));
    Agrees(h, "corrupted seed " + std::to_string(seed) + " without final reads");
  }
  std::cout << histories << " histories: " << tally.doubted << " doubted, " << tally.focused
            << " of them checked focused (local doubt), " << tally.faulty
            << " of those not valid; on these the focused check kept " << tally.kept << " of "
            << tally.reads << " ok reads ("
            << (tally.reads
                    ? 100.0 * static_cast<double>(tally.kept) / static_cast<double>(tally.reads)
                    : 0)
            << "%)\n";
  EXPECT_EQ(tally.focused, tally.doubted);  // the corpus has no global doubt
  EXPECT_GT(tally.focused, 700);
  EXPECT_GT(tally.faulty, 700);
  EXPECT_LT(tally.kept, tally.reads / 2);
}

TEST(LogScreenTest, DoubtsAHistoryWhoseTimesGoBackwards) {
  auto h = logsim::Simulate(logsim::VariedOptions(7));
  ASSERT_TRUE(Agrees(h, "seed 7"));
  // Swap two events' times: the screen's one-pass reasoning no longer holds.
  std::swap(h[10].time_ns, h[20].time_ns);
  const Screened s = Screen(h);
  EXPECT_FALSE(s.doubt == std::nullopt);
  EXPECT_FALSE(s.focus.has_value());  // a global doubt: the whole check keeps every read
}

}  // namespace
}  // namespace tidemark::checkers
