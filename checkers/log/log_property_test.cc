// Property tests: histories of a simulated correct log (random concurrency, timeouts, leader
// changes, follower lag; fixed seeds) are always valid; the same histories with one injected
// fault are always invalid with the matching anomaly. Every failure prints its seed.
#include <gtest/gtest.h>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_ops.h"
#include "checkers/log/log_sim.h"

namespace tidemark::checkers {
namespace {

std::vector<history::Op> Pair(const history::History& h, uint64_t seed) {
  auto ops = history::PairOps(h);
  EXPECT_TRUE(ops.ok()) << "seed " << seed << ": " << (ops.ok() ? "" : ops.error().message);
  return ops.ok() ? ops.value() : std::vector<history::Op>{};
}

TEST(LogPropertyTest, CorrectLogHistoriesAreValid) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    auto h = logsim::Simulate(logsim::VariedOptions(seed));
    auto r = CheckLogPrefix(Pair(h, seed));
    ASSERT_EQ(r.verdict, Verdict::kValid) << "seed " << seed << "\n" << r.explanation;
    ++checked;
  }
  EXPECT_EQ(checked, 300);
}

TEST(LogPropertyTest, SimulatedHistoriesExerciseTheHardCases) {
  // The property above is only meaningful if the histories contain what makes checking hard.
  int64_t info = 0, fail = 0, local = 0, final_reads = 0, retries_ok = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    auto h = logsim::Simulate(logsim::VariedOptions(seed));
    std::map<std::string, int> appended;
    for (const history::Op& op : Pair(h, seed)) {
      info += op.status == history::EventType::kInfo;
      fail += op.status == history::EventType::kFail;
      if (op.f == "read" && op.invoke_value["consistency"] == "local") ++local;
      if (op.f == "read" && op.invoke_value.value("final", false)) ++final_reads;
      if (op.f == "append" && op.status == history::EventType::kOk &&
          appended[op.invoke_value.get<std::string>()]++ > 0) {
        ++retries_ok;
      }
      if (op.f == "append") appended[op.invoke_value.get<std::string>()] += 0;
    }
  }
  EXPECT_GT(info, 50);
  EXPECT_GT(fail, 50);
  EXPECT_GT(local, 500);
  EXPECT_GT(final_reads, 50);
}

class LogFaultTest : public ::testing::TestWithParam<logsim::Fault> {};

TEST_P(LogFaultTest, InjectedFaultIsFoundWithTheMatchingAnomaly) {
  logsim::Fault fault = GetParam();
  int injected = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    auto h = logsim::Simulate(logsim::VariedOptions(seed));
    std::string what;
    if (!logsim::InjectFault(&h, fault, seed * 7919, &what)) continue;
    ++injected;
    auto r = CheckLogPrefix(Pair(h, seed));
    std::string expected = logsim::ExpectedAnomaly(fault);
    ASSERT_EQ(r.verdict, Verdict::kInvalid)
        << "seed " << seed << ", fault " << logsim::ToString(fault) << ": " << what << "\n"
        << r.explanation;
    ASSERT_TRUE(r.details["counts"].contains(expected))
        << "seed " << seed << ", fault " << logsim::ToString(fault) << ": " << what << "\nexpected "
        << expected << ", got: " << r.summary << "\n"
        << r.explanation;
  }
  // Most seeds must have had a place for the fault, or the test proves little.
  EXPECT_GT(injected, 120) << logsim::ToString(fault);
}

INSTANTIATE_TEST_SUITE_P(AllFaults, LogFaultTest, ::testing::ValuesIn(logsim::kAllFaults),
                         [](const auto& param_info) {
                           std::string s = logsim::ToString(param_info.param);
                           std::erase(s, '-');
                           return s;
                         });

TEST(LogPropertyTest, ReadsOfACorrectLogShareTheirEntries) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    logsim::SimOptions o;
    o.seed = seed;
    o.ops = 4000;
    auto ops = history::PairOps(logsim::Simulate(o));
    ASSERT_TRUE(ops.ok());
    auto l = logck::ParseLogOps(*ops, false);
    ASSERT_TRUE(l.ok()) << l.error().message;
    size_t listed = 0, shared = 0;
    for (const logck::ReadRec& r : l->reads) {
      int64_t prev = -1;
      for (const logck::EntryRec& e : l->Entries(r)) {
        ASSERT_GT(e.offset, prev) << "entries in offset order across canon and own";
        prev = e.offset;
        ++listed;
      }
      shared += r.canon_end - r.canon_begin;
    }
    // Every read lists its entries, but what is stored is the log (canon) plus what reads did
    // not share: the 3 final reads from offset 0 below canon's start, and early reads.
    EXPECT_LT((l->canon.size() + l->own.size()) * 3, listed) << "seed " << seed;
    EXPECT_GT(shared * 2, listed) << "seed " << seed;
  }
}

TEST(LogPropertyTest, SimulationIsDeterministic) {
  auto a = logsim::Simulate(logsim::VariedOptions(42));
  auto b = logsim::Simulate(logsim::VariedOptions(42));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].value, b[i].value) << i;
    ASSERT_EQ(a[i].time_ns, b[i].time_ns) << i;
  }
}

}  // namespace
}  // namespace tidemark::checkers
