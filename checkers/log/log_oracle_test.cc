// Differential test: the O(n log n) detectors against a brute-force oracle written straight from
// the definitions in docs/anomalies.md (quadratic loops, no indexes), on simulated histories
// corrupted by several random mutations each. Every failure prints its seed.
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_sim.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using nlohmann::json;

struct OAppend {
  int64_t id, offset, hwm, ret;
  std::string value;
};
struct ORead {
  int64_t id, from, to, hwm, cov_end, call, ret;
  bool final, lin;
  std::map<int64_t, std::string> entries;
  const std::string* At(int64_t o) const {
    auto it = entries.find(o);
    return it == entries.end() ? nullptr : &it->second;
  }
  bool Covers(int64_t o) const { return from <= o && o < cov_end; }
};

struct OracleResult {
  std::set<int64_t> lost, unseen, stale;  // op ids
  int64_t duplicate = 0, inconsistent = 0, dirty = 0;
};

OracleResult Oracle(const std::vector<history::Op>& ops) {
  std::vector<OAppend> acks;
  std::vector<ORead> reads;
  for (const history::Op& op : ops) {
    if (op.f == "append" && op.status == EventType::kOk) {
      acks.push_back({op.id, op.value["offset"].get<int64_t>(), op.value["hwm"].get<int64_t>(),
                      op.return_ns, op.invoke_value.get<std::string>()});
    }
    if (op.f == "read" && op.status == EventType::kOk) {
      ORead r;
      r.id = op.id;
      r.from = op.value["from"];
      r.to = op.value["to"];
      r.hwm = op.value["hwm"];
      r.cov_end = std::max(r.from, std::min(r.to, r.hwm));
      r.call = op.call_ns;
      r.ret = op.return_ns;
      r.final = op.invoke_value.value("final", false);
      r.lin = op.invoke_value["consistency"] == "linearizable";
      for (const json& e : op.value["entries"]) r.entries[e[0].get<int64_t>()] = e[1];
      reads.push_back(std::move(r));
    }
  }
  auto committed_seen = [&](const std::string& v) {
    for (const ORead& r : reads)
      for (const auto& [o, x] : r.entries)
        if (x == v && o < r.cov_end) return true;
    return false;
  };
  OracleResult out;
  for (const OAppend& a : acks) {
    bool lost = false;
    for (const ORead& r : reads) {
      if ((r.final || r.call > a.ret) && r.Covers(a.offset)) {
        const std::string* v = r.At(a.offset);
        if (!v || *v != a.value) lost = true;
      }
    }
    int64_t final_hwm = -1;
    for (const ORead& r : reads)
      if (r.final && r.call > a.ret) final_hwm = std::max(final_hwm, r.hwm);
    bool seen = committed_seen(a.value);
    if (!lost && seen && final_hwm >= 0 && a.offset >= final_hwm) lost = true;
    if (lost) {
      out.lost.insert(a.id);
    } else if (!seen) {
      out.unseen.insert(a.id);
    }
  }
  for (const ORead& r : reads) {
    if (!r.lin) continue;
    for (const OAppend& a : acks)
      if (a.ret < r.call && a.offset >= r.hwm) out.stale.insert(r.id);
  }
  // Committed observations per offset; std::nullopt-like "" marker for "no client value".
  std::map<int64_t, std::set<std::string>> at;
  std::map<std::string, std::set<int64_t>> where;
  for (const OAppend& a : acks) {
    at[a.offset].insert("=" + a.value);
    where[a.value].insert(a.offset);
  }
  for (const ORead& r : reads)
    for (const auto& [o, v] : r.entries)
      if (o < r.cov_end) {
        at[o].insert("=" + v);
        where[v].insert(o);
      }
  for (auto& [o, vals] : at) {
    bool absent = false;
    for (const ORead& r : reads)
      if (r.Covers(o) && !r.At(o)) absent = true;
    if (vals.size() + (absent ? 1 : 0) >= 2) ++out.inconsistent;
  }
  for (const auto& [v, offs] : where) out.duplicate += offs.size() >= 2;
  std::set<std::pair<int64_t, std::string>> dirty;
  for (const ORead& r : reads) {
    if (r.final) continue;
    int64_t final_hwm = -1;
    for (const ORead& f : reads)
      if (f.final && f.call > r.ret) final_hwm = std::max(final_hwm, f.hwm);
    for (const auto& [o, v] : r.entries) {
      bool d = o >= r.hwm || (final_hwm >= 0 && o >= final_hwm);
      for (const ORead& f : reads)
        if (f.final && f.Covers(o) && (!f.At(o) || *f.At(o) != v)) d = true;
      if (d) dirty.insert({o, v});
    }
  }
  out.dirty = static_cast<int64_t>(dirty.size());
  return out;
}

std::set<int64_t> AttributedOps(const CheckResult& r, const std::string& name) {
  std::set<int64_t> out;
  if (!r.details["anomalies"].contains(name)) return out;
  for (const json& id : r.details["anomalies"][name]["summary"]["ops"])
    out.insert(id.get<int64_t>());
  return out;
}

int64_t Count(const CheckResult& r, const std::string& name) {
  return r.details["counts"].contains(name) ? r.details["counts"][name].get<int64_t>() : 0;
}

TEST(LogOracleTest, DetectorsAgreeWithBruteForceOnCorruptedHistories) {
  LogCheckOptions opts;
  opts.max_examples = 0;  // everything goes to the summary, which lists every attributed op
  opts.max_summary_ops = 1u << 30;
  int64_t anomalies = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    logsim::SimOptions so;
    so.seed = seed;
    so.ops = 60 + static_cast<int64_t>(seed % 5) * 30;
    so.processes = 1 + static_cast<int>(seed % 6);
    so.nodes = 1 + static_cast<int>(seed % 3);
    so.page = 4 + static_cast<int64_t>(seed % 3) * 6;
    so.final_page = seed % 2 ? 5 : 1000;
    so.leader_change_rate = 0.03;
    auto h = logsim::Simulate(so);
    logsim::Corrupt(&h, seed);
    auto ops = history::PairOps(h);
    ASSERT_TRUE(ops.ok()) << "seed " << seed;
    auto r = CheckLogPrefix(*ops, opts);
    ASSERT_NE(r.verdict, Verdict::kUnknown) << "seed " << seed << ": " << r.summary;
    OracleResult o = Oracle(*ops);
    EXPECT_EQ(AttributedOps(r, "lost-write"), o.lost) << "seed " << seed << "\n" << r.explanation;
    EXPECT_EQ(AttributedOps(r, "unseen"), o.unseen) << "seed " << seed;
    EXPECT_EQ(AttributedOps(r, "stale-read"), o.stale) << "seed " << seed;
    EXPECT_EQ(Count(r, "duplicate"), o.duplicate) << "seed " << seed;
    EXPECT_EQ(Count(r, "inconsistent-offsets"), o.inconsistent) << "seed " << seed;
    EXPECT_EQ(Count(r, "dirty-read"), o.dirty) << "seed " << seed;
    if (::testing::Test::HasFailure()) break;
    anomalies += Count(r, "lost-write") + Count(r, "inconsistent-offsets") + Count(r, "dirty-read");
  }
  EXPECT_GT(anomalies, 100);  // the mutations did produce anomalies to compare
}

}  // namespace
}  // namespace tidemark::checkers
