// ScanLogReadPage (targets/adapters/log_read_scan.h) against nlohmann::json::parse on tidelog
// log read replies of 140 and 5000 entries (bytes/s counters give the throughput):
//
//   build/bench/log_read_scan_bench [--benchmark_filter=140]
//
// "Compact" bodies are what tidelog sends (the entries text is copied with one append);
// "Spaced" bodies have whitespace inside the entries, so the scanner re-emits them.
#include <benchmark/benchmark.h>

#include <string>

#include <nlohmann/json.hpp>

#include "targets/adapters/log_read_scan.h"

namespace tidemark::targets::tidelog_http {
namespace {

std::string Body(int64_t n, bool spaced) {
  const int64_t from = 1000;
  const std::string sep = spaced ? ", " : ",";
  std::string out = R"({"node":"n1","generation":3,"leader":"n1","hwm":)" +
                    std::to_string(from + n) + R"(,"consistency":"linearizable","from":)" +
                    std::to_string(from) + R"(,"to":)" + std::to_string(from + n) +
                    R"(,"entries":[)";
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) out += sep;
    out += "[" + std::to_string(from + i) + sep + "\"v" + std::to_string(i % 20) + "-" +
           std::to_string(i) + "\"]";
  }
  return out + "]}";
}

void BM_Scan(benchmark::State& state, bool spaced) {
  const std::string body = Body(state.range(0), spaced);
  for (auto _ : state) {
    auto page = ScanLogReadPage(body);
    if (!page || page->count != state.range(0)) state.SkipWithError("scan refused the body");
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

void BM_Nlohmann(benchmark::State& state, bool spaced) {
  const std::string body = Body(state.range(0), spaced);
  for (auto _ : state) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) state.SkipWithError("nlohmann refused the body");
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

BENCHMARK_CAPTURE(BM_Scan, Compact, false)->Arg(140)->Arg(5000);
BENCHMARK_CAPTURE(BM_Nlohmann, Compact, false)->Arg(140)->Arg(5000);
BENCHMARK_CAPTURE(BM_Scan, Spaced, true)->Arg(140)->Arg(5000);
BENCHMARK_CAPTURE(BM_Nlohmann, Spaced, true)->Arg(140)->Arg(5000);

}  // namespace
}  // namespace tidemark::targets::tidelog_http

BENCHMARK_MAIN();
