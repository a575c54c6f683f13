// Differential test for the kv model's state space (interned append trees) and its Dead pruning:
// the checker against a brute-force permutation oracle on thousands of small random kv histories
// (gets, puts, appends; crashed ops; lying gets; unique values and, half of the time, values from
// a tiny alphabet so that different append orders can build the same string).
#include <gtest/gtest.h>

#include <random>

#include "checkers/lin_random_gen.h"
#include "checkers/lin_test_util.h"
#include "checkers/linearizability.h"

namespace tidemark::checkers {
namespace {

using history::EventType;

using testing::kv::F;
using testing::kv::Generate;
using testing::kv::kAppend;
using testing::kv::kGet;
using testing::kv::KOp;
using testing::kv::kPut;

bool Oracle(const std::vector<KOp>& ops, std::vector<char>& placed, std::vector<std::string>& kv) {
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
    const KOp& o = ops[x];
    std::string& r = kv[o.key];
    std::string saved = r;
    if (o.f == kGet && r != o.v) continue;
    if (o.f == kPut) r = o.v;
    if (o.f == kAppend) r += o.v;
    placed[x] = 1;
    bool ok = Oracle(ops, placed, kv);
    placed[x] = 0;
    r = saved;
    if (ok) return true;
  }
  return false;
}

bool OracleValid(const std::vector<KOp>& ops) {
  std::vector<KOp> kept;
  for (const KOp& o : ops) {
    if (o.status == EventType::kInfo && o.f == kGet) continue;
    kept.push_back(o);
  }
  std::vector<char> placed(kept.size(), 0);
  std::vector<std::string> kv(2);
  return Oracle(kept, placed, kv);
}

std::vector<history::Op> ToOps(const std::vector<KOp>& g) {
  testing::OpsBuilder b;
  for (const KOp& o : g) {
    const char* f = o.f == kGet ? "get" : o.f == kPut ? "put" : "append";
    nlohmann::json in = o.f == kGet ? nlohmann::json(nullptr) : nlohmann::json(o.v);
    nlohmann::json out = o.f == kGet ? nlohmann::json(o.v) : in;
    b.Add(o.process, f, in, out, o.status, o.call, o.ret, "k" + std::to_string(o.key));
  }
  return b.ops();
}

std::string Dump(const std::vector<KOp>& g) {
  std::string s;
  for (const KOp& o : g) {
    s += "  p" + std::to_string(o.process) + " k" + std::to_string(o.key) + " " +
         (o.f == kGet   ? "get"
          : o.f == kPut ? "put"
                        : "append") +
         " \"" + o.v + "\" " + history::ToString(o.status) + " [" + std::to_string(o.call) + "," +
         std::to_string(o.ret) + "]\n";
  }
  return s;
}

TEST(LinearizabilityKvRandomTest, AgreesWithBruteForceOracle) {
  const uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  int valid = 0, invalid = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<KOp> g = Generate(rng);
    bool expect = OracleValid(g);
    (expect ? valid : invalid)++;
    std::vector<history::Op> ops = ToOps(g);
    for (bool partition : {true, false}) {
      LinearizabilityOptions o;
      o.model = "kv";
      o.threads = 1;
      o.partition_by_key = partition;
      CheckResult r = CheckLinearizability(ops, o);
      ASSERT_EQ(r.verdict, expect ? Verdict::kValid : Verdict::kInvalid)
          << "seed " << seed << " iteration " << iter << " partition " << partition << "\n"
          << Dump(g) << r.explanation;
      if (!expect) {
        std::vector<KOp> core;
        for (const auto& c : r.details["core"]) core.push_back(g[c["op"].get<size_t>()]);
        for (const auto& c : r.details["core_context"]) {
          KOp w = g[c.get<size_t>()];
          w.status = EventType::kInfo;
          core.push_back(w);
        }
        ASSERT_FALSE(OracleValid(core)) << "seed " << seed << " iteration " << iter << "\n"
                                        << Dump(g) << r.explanation;
      }
    }
  }
  EXPECT_GT(valid, 300) << "seed " << seed;
  EXPECT_GT(invalid, 300) << "seed " << seed;
}

}  // namespace
}  // namespace tidemark::checkers
