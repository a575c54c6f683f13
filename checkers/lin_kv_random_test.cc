// Differential test for the kv model's state space (interned append trees) and its Dead pruning:
// the checker against a brute-force permutation oracle on thousands of small random kv histories
// (gets, puts, appends; crashed ops; lying gets; unique values and, half of the time, values from
// a tiny alphabet so that different append orders can build the same string).
#include <gtest/gtest.h>

#include <random>

#include "checkers/lin_test_util.h"
#include "checkers/linearizability.h"

namespace tidemark::checkers {
namespace {

using history::EventType;

enum F { kGet, kPut, kAppend };

struct KOp {
  int key = 0;
  F f = kGet;
  std::string v;  // value put/appended, or the get's result
  EventType status = EventType::kOk;
  int64_t call = 0, ret = 0;
  int process = 0;
};

std::vector<KOp> Generate(std::mt19937_64& rng) {
  auto rnd = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const int procs = 2 + rnd(4), target = 3 + rnd(6), keys = 1 + rnd(2);
  const bool tiny = rnd(2) == 0;
  std::vector<KOp> ops;
  std::vector<std::string> kv(2);
  struct Pending {
    int op = -1;
    bool applied = false;
  };
  std::vector<Pending> pend(static_cast<size_t>(procs));
  std::vector<int> pid(static_cast<size_t>(procs));
  for (int p = 0; p < procs; ++p) pid[p] = p;
  int invoked = 0, next_pid = procs, uniq = 0;
  auto value = [&]() {
    if (!tiny) return "<" + std::to_string(uniq++) + ">";
    std::string s(static_cast<size_t>(rnd(3)), 'a');  // "", "a", "aa", "ab", ...
    for (char& c : s) c = static_cast<char>('a' + rnd(2));
    return s;
  };
  for (int64_t t = 1;; ++t) {
    bool busy = false;
    for (auto& p : pend) busy = busy || p.op >= 0;
    if (!busy && invoked >= target) break;
    int p = rnd(procs);
    Pending& pe = pend[p];
    if (pe.op < 0) {
      if (invoked >= target) continue;
      KOp o;
      o.key = rnd(keys);
      int f = rnd(10);
      o.f = f < 4 ? kGet : f < 5 ? kPut : kAppend;
      if (o.f != kGet) o.v = value();
      o.call = t;
      o.process = pid[p];
      ops.push_back(o);
      pe = Pending{static_cast<int>(ops.size()) - 1, false};
      ++invoked;
      continue;
    }
    KOp& o = ops[pe.op];
    if (!pe.applied && rnd(10) < 6) {
      if (rnd(10) == 0) {  // crash before taking effect
        o.status = EventType::kInfo;
        pe.op = -1;
        pid[p] = next_pid++;
        continue;
      }
      std::string& r = kv[o.key];
      if (o.f == kGet) o.v = r;
      if (o.f == kPut) r = o.v;
      if (o.f == kAppend) r += o.v;
      pe.applied = true;
      continue;
    }
    if (!pe.applied) continue;
    o.ret = t;
    if (rnd(8) == 0) o.status = EventType::kInfo;  // crash after taking effect
    if (o.f == kGet && rnd(6) == 0) {              // a lie: drop or swap a piece
      if (o.v.size() >= 2 && rnd(2) == 0) {
        std::swap(o.v[0], o.v[o.v.size() - 1]);
      } else if (!o.v.empty()) {
        o.v.erase(static_cast<size_t>(rnd(static_cast<int>(o.v.size()))), 1);
      } else {
        o.v = "a";
      }
    }
    if (o.status == EventType::kInfo) pid[p] = next_pid++;
    pe.op = -1;
  }
  return ops;
}

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
