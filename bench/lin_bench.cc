// Linearizability checker benchmarks (docs/checker.md has Porcupine's figures for comparison).
//
//   build-lin/bench/lin_bench --benchmark_min_time=1 [--benchmark_filter=Etcd]
//
// Corpus histories come from ../shared/histories (TIDEMARK_SHARED_DIR); benchmarks whose files
// are missing report an error instead of a time. Generated histories are cas-register histories
// with 1,000 keys and 20 processes, linearizable by construction; BM_Parse1M times importing the
// JSONL text of the 1M-op history and pairing it, the baseline for the "check < 3x parse" ratio.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <random>

#include "base/history/import.h"
#include "base/history/jsonl.h"
#include "checkers/linearizability.h"

namespace tidemark::checkers {
namespace {

namespace fs = std::filesystem;
using history::Op;

std::string Dir() { return std::string(TIDEMARK_SHARED_DIR) + "/histories/"; }

const std::vector<Op>* LoadCached(const std::string& rel, history::Format format) {
  static std::map<std::string, std::vector<Op>> cache;
  auto it = cache.find(rel);
  if (it != cache.end()) return &it->second;
  auto h = history::ImportFile(Dir() + rel, format);
  if (!h.ok()) return nullptr;
  auto ops = history::PairOps(*h);
  if (!ops.ok()) return nullptr;
  return &cache.emplace(rel, std::move(*ops)).first->second;
}

void RunOne(benchmark::State& state, const std::vector<Op>& ops, const LinearizabilityOptions& o,
            Verdict expect) {
  CheckResult r;
  for (auto _ : state) {
    r = CheckLinearizability(ops, o);
    if (r.verdict != expect) {
      state.SkipWithError(("unexpected verdict: " + r.summary).c_str());
      return;
    }
  }
  state.counters["ops"] = static_cast<double>(ops.size());
  state.counters["steps"] = r.details.value("steps", 0.0);
  state.counters["configs"] = r.details.value("configurations", 0.0);
  if (r.details.contains("core"))
    state.counters["core"] = static_cast<double>(r.details["core"].size());
}

LinearizabilityOptions Opts(const std::string& model, bool explain = false) {
  LinearizabilityOptions o;
  o.model = model;
  o.explain = explain ? ExplainMode::kMinimal : ExplainMode::kNone;
  return o;
}

void BM_EtcdCorpus(benchmark::State& state) {
  std::vector<std::pair<const std::vector<Op>*, Verdict>> all;
  for (int i = 0; i < 103; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "porcupine-etcd/etcd_%03d.log", i);
    if (i == 95) continue;  // no asserted verdict: that cluster never started
    const auto* ops = LoadCached(name, history::Format::kJepsenLog);
    if (!ops) {
      state.SkipWithError(("cannot load " + std::string(name)).c_str());
      return;
    }
    all.emplace_back(ops, Verdict::kValid);
  }
  LinearizabilityOptions o = Opts("cas-register");
  int64_t invalid = 0;
  for (auto _ : state) {
    invalid = 0;
    for (const auto& [ops, v] : all)
      invalid += CheckLinearizability(*ops, o).verdict == Verdict::kInvalid;
  }
  state.counters["files"] = static_cast<double>(all.size());
  state.counters["invalid"] = static_cast<double>(invalid);
}
BENCHMARK(BM_EtcdCorpus)->Unit(benchmark::kMillisecond);

void BM_EtcdFile(benchmark::State& state) {
  char name[64];
  std::snprintf(name, sizeof name, "porcupine-etcd/etcd_%03d.log",
                static_cast<int>(state.range(0)));
  const auto* ops = LoadCached(name, history::Format::kJepsenLog);
  if (!ops) {
    state.SkipWithError("cannot load history");
    return;
  }
  RunOne(state, *ops, Opts("cas-register"), state.range(1) ? Verdict::kValid : Verdict::kInvalid);
}
BENCHMARK(BM_EtcdFile)
    ->Args({2, 1})
    ->Args({7, 1})
    ->Args({57, 0})
    ->Args({99, 0})
    ->Unit(benchmark::kMillisecond);

void BM_Kv(benchmark::State& state, const char* file, bool partition, bool explain,
           Verdict expect) {
  const auto* ops = LoadCached(std::string("porcupine-kv/") + file, history::Format::kEdnLines);
  if (!ops) {
    state.SkipWithError("cannot load history");
    return;
  }
  LinearizabilityOptions o = Opts("kv", explain);
  o.partition_by_key = partition;
  RunOne(state, *ops, o, expect);
}
BENCHMARK_CAPTURE(BM_Kv, c50_ok, "c50-ok.txt", true, false, Verdict::kValid)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Kv, c10_ok_unpartitioned, "c10-ok.txt", false, false, Verdict::kValid)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Kv, c50_bad_verdict_only, "c50-bad.txt", true, false, Verdict::kInvalid)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Kv, c50_bad_explained, "c50-bad.txt", true, true, Verdict::kInvalid)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// A linearizable cas-register history: each op takes effect at a random instant between its
// invoke and its completion; 1% of ops crash (info), CAS with a wrong `from` fails.
history::History Generate(int64_t n_ops, int keys, int procs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto rnd = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  struct Pending {
    bool busy = false, applied = false;
    int key = 0, f = 0, a = 0, b = 0;
    nlohmann::json result;
    bool cas_ok = true;
  };
  std::vector<Pending> pend(static_cast<size_t>(procs));
  std::vector<int64_t> pid(static_cast<size_t>(procs));
  for (int p = 0; p < procs; ++p) pid[p] = p;
  std::vector<nlohmann::json> reg(static_cast<size_t>(keys));
  history::History h;
  int64_t invoked = 0;
  const char* names[] = {"read", "write", "cas"};
  while (invoked < n_ops || std::any_of(pend.begin(), pend.end(), [](auto& p) { return p.busy; })) {
    int p = rnd(procs);
    Pending& pe = pend[p];
    history::Event e;
    e.index = static_cast<int64_t>(h.size());
    e.time_ns = e.index * 1000;
    e.process = pid[p];
    if (!pe.busy) {
      if (invoked >= n_ops) continue;
      pe = Pending{true, false, rnd(keys), rnd(3), rnd(5), rnd(5), nullptr, true};
      e.type = history::EventType::kInvoke;
      e.value = pe.f == 0   ? nlohmann::json(nullptr)
                : pe.f == 1 ? nlohmann::json(pe.a)
                            : nlohmann::json::array({pe.a, pe.b});
      ++invoked;
    } else if (!pe.applied) {
      nlohmann::json& r = reg[pe.key];
      if (pe.f == 0) pe.result = r;
      if (pe.f == 1) r = pe.a;
      if (pe.f == 2) {
        pe.cas_ok = r == nlohmann::json(pe.a);
        if (pe.cas_ok) r = pe.b;
      }
      pe.applied = true;
      continue;
    } else {
      bool crash = rnd(100) == 0;
      e.type = crash       ? history::EventType::kInfo
               : pe.cas_ok ? history::EventType::kOk
                           : history::EventType::kFail;
      e.value = pe.f == 0   ? pe.result
                : pe.f == 1 ? nlohmann::json(pe.a)
                            : nlohmann::json::array({pe.a, pe.b});
      if (crash) pid[p] += procs;
      pe.busy = false;
    }
    e.f = names[pe.f];
    e.key = "k" + std::to_string(pe.key);
    h.push_back(std::move(e));
  }
  return h;
}

const std::vector<Op>& Generated(int64_t n) {
  static std::map<int64_t, std::vector<Op>> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    auto ops = history::PairOps(Generate(n, 1000, 20, 42));
    it = cache.emplace(n, std::move(*ops)).first;
  }
  return it->second;
}

void BM_Generated(benchmark::State& state) {
  const auto& ops = Generated(state.range(0));
  RunOne(state, ops, Opts("cas-register"), Verdict::kValid);
}
BENCHMARK(BM_Generated)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_Parse1M(benchmark::State& state) {
  std::string text;
  for (const auto& e : Generate(1'000'000, 1000, 20, 42)) text += history::ToJsonLine(e) + "\n";
  for (auto _ : state) {
    auto h = history::ImportText(text, history::Format::kJsonl, "generated");
    auto ops = history::PairOps(*h);
    benchmark::DoNotOptimize(ops);
  }
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_Parse1M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tidemark::checkers

BENCHMARK_MAIN();
