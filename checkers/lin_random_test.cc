// Differential test: the checker against a brute-force permutation oracle on thousands of small
// random cas-register histories (2–5 processes, 1–2 keys, crashed ops, failed CAS, corrupted
// results). The oracle shares no code with the checker: it tries every order directly.
#include <gtest/gtest.h>

#include <random>

#include "checkers/lin_random_gen.h"
#include "checkers/lin_search.h"
#include "checkers/lin_test_util.h"
#include "checkers/linearizability.h"
#include "checkers/model.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using json = nlohmann::json;

using testing::reg::F;
using testing::reg::Generate;
using testing::reg::GOp;
using testing::reg::kCas;
using testing::reg::kRead;
using testing::reg::kWrite;

// Tries every order: completed ops must all be placed, crashed ones may be, real time obeyed.
bool Oracle(const std::vector<GOp>& ops, std::vector<char>& placed, std::vector<int>& reg) {
  bool all = true;
  for (size_t i = 0; i < ops.size(); ++i)
    all = all && (placed[i] || ops[i].status != EventType::kOk);
  if (all) return true;
  for (size_t x = 0; x < ops.size(); ++x) {
    if (placed[x]) continue;
    bool ready = true;
    for (size_t y = 0; y < ops.size(); ++y) {
      if (y != x && !placed[y] && ops[y].status == EventType::kOk && ops[y].ret < ops[x].call) {
        ready = false;
      }
    }
    if (!ready) continue;
    const GOp& o = ops[x];
    int& r = reg[o.key];
    int saved = r;
    if (o.f == kRead && r != o.result) continue;
    if (o.f == kCas && r != o.a) continue;
    if (o.f == kWrite) r = o.a;
    if (o.f == kCas) r = o.b;
    placed[x] = 1;
    bool ok = Oracle(ops, placed, reg);
    placed[x] = 0;
    r = saved;
    if (ok) return true;
  }
  return false;
}

bool OracleValid(std::vector<GOp> ops) {
  std::vector<GOp> kept;
  for (const GOp& o : ops) {
    if (o.status == EventType::kFail) continue;
    if (o.status == EventType::kInfo && o.f == kRead) continue;
    kept.push_back(o);
  }
  std::vector<char> placed(kept.size(), 0);
  std::vector<int> reg(2, -1);
  return Oracle(kept, placed, reg);
}

std::vector<history::Op> ToOps(const std::vector<GOp>& g) {
  testing::OpsBuilder b;
  for (const GOp& o : g) {
    std::string key = "k" + std::to_string(o.key);
    json in = o.f == kRead ? json(nullptr) : o.f == kWrite ? json(o.a) : json::array({o.a, o.b});
    json out = o.f == kRead ? (o.result < 0 ? json(nullptr) : json(o.result)) : in;
    const char* f = o.f == kRead ? "read" : o.f == kWrite ? "write" : "cas";
    b.Add(o.process, f, in, out, o.status, o.call, o.ret, key);
  }
  return b.ops();
}

std::string Dump(const std::vector<GOp>& g) {
  std::string s;
  for (const GOp& o : g) {
    s += "  p" + std::to_string(o.process) + " k" + std::to_string(o.key) + " " +
         (o.f == kRead    ? "read"
          : o.f == kWrite ? "write"
                          : "cas") +
         " a=" + std::to_string(o.a) + " b=" + std::to_string(o.b) +
         " res=" + std::to_string(o.result) + " " + history::ToString(o.status) + " [" +
         std::to_string(o.call) + "," + std::to_string(o.ret) + "]\n";
  }
  return s;
}

TEST(LinearizabilityRandomTest, AgreesWithBruteForceOracle) {
  const uint64_t seed = 20240601;
  std::mt19937_64 rng(seed);
  int valid = 0, invalid = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    std::vector<GOp> g = Generate(rng, /*crash_heavy=*/iter >= 4000);
    bool expect = OracleValid(g);
    (expect ? valid : invalid)++;
    std::vector<history::Op> ops = ToOps(g);
    for (bool partition : {true, false}) {
      LinearizabilityOptions o;
      o.threads = 1;
      o.partition_by_key = partition;
      CheckResult r = CheckLinearizability(ops, o);
      ASSERT_EQ(r.verdict, expect ? Verdict::kValid : Verdict::kInvalid)
          << "seed " << seed << " iteration " << iter << " partition " << partition << "\n"
          << Dump(g) << r.explanation;
      if (!expect) {
        ASSERT_TRUE(r.details["core_verified"].get<bool>()) << "seed " << seed << " it " << iter;
        // The core as completed, its context as crashed, everything else gone: the oracle must
        // agree that this is not linearizable.
        std::vector<GOp> core;
        for (const auto& c : r.details["core"]) core.push_back(g[c["op"].get<size_t>()]);
        for (const auto& c : r.details["core_context"]) {
          GOp w = g[c.get<size_t>()];
          w.status = EventType::kInfo;
          core.push_back(w);
        }
        ASSERT_FALSE(OracleValid(core)) << "seed " << seed << " iteration " << iter << "\n"
                                        << Dump(g) << r.explanation;
      }
    }
  }
  EXPECT_GT(valid, 400) << "seed " << seed;
  EXPECT_GT(invalid, 400) << "seed " << seed;
}

// A minimal core is what it says: the oracle finds the core (completed) with its context
// (crashed) not linearizable, and linearizable as soon as any one core op is weakened (a read
// left out, an update crashed).
TEST(LinearizabilityRandomTest, MinimalCoresAreMinimalForTheOracle) {
  const uint64_t seed = 20261206;
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<GOp> g = Generate(rng, /*crash_heavy=*/iter % 2 == 1);
    if (OracleValid(g)) continue;
    LinearizabilityOptions o;
    o.threads = 1;
    o.explain = ExplainMode::kMinimal;
    CheckResult r = CheckLinearizability(ToOps(g), o);
    ASSERT_EQ(r.verdict, Verdict::kInvalid) << "seed " << seed << " iteration " << iter;
    ASSERT_TRUE(r.details["core_minimal"].get<bool>()) << "seed " << seed << " it " << iter;
    std::vector<GOp> core, context;
    for (const auto& c : r.details["core"]) core.push_back(g[c["op"].get<size_t>()]);
    for (const auto& c : r.details["core_context"]) {
      context.push_back(g[c.get<size_t>()]);
      context.back().status = EventType::kInfo;
    }
    auto joined = [&](const std::vector<GOp>& a) {
      std::vector<GOp> h = a;
      h.insert(h.end(), context.begin(), context.end());
      return h;
    };
    ASSERT_FALSE(OracleValid(joined(core))) << "seed " << seed << " iteration " << iter << "\n"
                                            << Dump(g) << r.explanation;
    for (size_t k = 0; k < core.size(); ++k) {
      std::vector<GOp> weak = core;
      if (weak[k].f == kRead) {
        weak.erase(weak.begin() + static_cast<long>(k));
      } else {
        weak[k].status = EventType::kInfo;
      }
      EXPECT_TRUE(OracleValid(joined(weak)))
          << "seed " << seed << " iteration " << iter << ": core op " << k << " is not needed\n"
          << Dump(g) << r.explanation;
    }
    ++checked;
  }
  EXPECT_GT(checked, 300) << "seed " << seed;
}

// `g` as one partition the search runs on (every op on one key, failed ops left out), as
// CheckLinearizability prepares it; false when the model refuses an op.
bool OnePartition(const Model& model, std::vector<GOp> g, std::vector<PartitionOp>* part) {
  for (GOp& o : g) o.key = 0;
  std::vector<history::Op> ops = ToOps(g);
  std::vector<const history::Op*> kept;
  for (const history::Op& op : ops) {
    if (op.status != EventType::kFail) kept.push_back(&op);
  }
  std::vector<ModelOp> mops;
  std::vector<char> keep;
  if (!model.Prepare(kept, &mops, &keep).ok()) return false;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!keep[i]) continue;
    const bool ok = mops[i].ok;
    part->push_back({kept[i]->call_ns, ok ? kept[i]->return_ns : history::kNever, mops[i]});
  }
  return true;
}

// The explanation's re-checks run on one prepared partition with per-op modes; each must decide
// what a search of the weakened copy decides (same PartitionSearch reused, random modes).
// What the explanation relies on when it reuses a re-check's search and reads the frontier of a
// weakened partition without copying it: AnalyzeFrontier with modes says what it says of a
// weakened copy (indices mapped), and a run repeated while version() stays gives the same
// deepest configuration.
TEST(LinearizabilityRandomTest, FrontierWithModesMatchesAWeakenedCopyAndRerunsRepeat) {
  const uint64_t seed = 11;
  std::mt19937_64 rng(seed);
  std::unique_ptr<Model> model = MakeModel("cas-register");
  int compared = 0, repeated = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::vector<GOp> g = Generate(rng, /*crash_heavy=*/iter % 2 == 0);
    std::vector<PartitionOp> part;
    ASSERT_TRUE(OnePartition(*model, g, &part));
    PartitionSearch search(*model, part, nullptr);
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<OpMode> modes(part.size(), OpMode::kAsGiven);
      std::vector<PartitionOp> copy;
      std::vector<int> to_copy(part.size(), -1), to_part;
      for (size_t i = 0; i < part.size(); ++i) {
        if (trial > 0 && part[i].op.ok && rng() % 3 == 0) {
          modes[i] = part[i].op.observer ? OpMode::kDropped : OpMode::kOptional;
        }
        if (modes[i] == OpMode::kDropped) continue;
        to_copy[i] = static_cast<int>(copy.size());
        to_part.push_back(static_cast<int>(i));
        copy.push_back(part[i]);
        if (modes[i] == OpMode::kOptional) {
          copy.back().op.ok = false;
          copy.back().return_ns = history::kNever;
        }
      }
      SearchResult r = search.Run(modes, SearchBudget{});
      if (r.outcome != SearchOutcome::kViolation) continue;
      const int64_t version = search.version();
      SearchResult again = search.Run(modes, SearchBudget{});
      if (search.version() == version) {
        ASSERT_EQ(again.deepest, r.deepest) << "seed " << seed << " iteration " << iter;
        ++repeated;
      }
      std::vector<int> prefix;
      for (int i : r.deepest) prefix.push_back(to_copy[i]);
      Frontier a = AnalyzeFrontier(*model, part, r.deepest, modes);
      Frontier b = AnalyzeFrontier(*model, copy, prefix);
      std::vector<int> b_candidates;
      for (int c : b.candidates) b_candidates.push_back(to_part[c]);
      ASSERT_EQ(a.state, b.state) << "seed " << seed << " iteration " << iter << "\n" << Dump(g);
      ASSERT_EQ(a.must, b.must < 0 ? -1 : to_part[b.must])
          << "seed " << seed << " iteration " << iter << "\n"
          << Dump(g);
      ASSERT_EQ(a.candidates, b_candidates) << "seed " << seed << " iteration " << iter;
      ASSERT_EQ(a.legal, b.legal) << "seed " << seed << " iteration " << iter;
      ++compared;
    }
  }
  EXPECT_GT(compared, 300) << "seed " << seed;
  EXPECT_GT(repeated, 300) << "seed " << seed;
}

TEST(LinearizabilityRandomTest, PartitionSearchModesMatchAWeakenedCopy) {
  const uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  std::unique_ptr<Model> model = MakeModel("cas-register");
  int runs = 0, violations = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::vector<GOp> g = Generate(rng, /*crash_heavy=*/iter % 2 == 0);
    std::vector<PartitionOp> part;
    ASSERT_TRUE(OnePartition(*model, g, &part));
    PartitionSearch search(*model, part, nullptr);
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<OpMode> modes(part.size(), OpMode::kAsGiven);
      std::vector<PartitionOp> copy;
      for (size_t i = 0; i < part.size(); ++i) {
        if (trial > 0 && part[i].op.ok && rng() % 3 == 0) {
          modes[i] = part[i].op.observer ? OpMode::kDropped : OpMode::kOptional;
        }
        if (modes[i] == OpMode::kDropped) continue;
        copy.push_back(part[i]);
        if (modes[i] == OpMode::kOptional) {
          copy.back().op.ok = false;
          copy.back().return_ns = history::kNever;
        }
      }
      SearchOutcome a = search.Run(modes, SearchBudget{}).outcome;
      SearchOutcome b = SearchPartition(*model, copy, SearchBudget{}).outcome;
      ASSERT_EQ(ToString(a), ToString(b))
          << "seed " << seed << " iteration " << iter << " trial " << trial << "\n"
          << Dump(g);
      ++runs;
      violations += a == SearchOutcome::kViolation ? 1 : 0;
    }
  }
  EXPECT_GT(violations, 500) << "seed " << seed;
  EXPECT_GT(runs - violations, 500) << "seed " << seed;
}

}  // namespace
}  // namespace tidemark::checkers
