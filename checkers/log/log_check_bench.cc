// log_check_bench: check time of the log-prefix checker on generated histories of a correct log
// (and of the same histories with one lost write). Usage: log_check_bench [OPS...]
// (default 100000 1000000). Prints one line per size: events, read entries, wall times in ms to
// simulate, pair, parse (the checker's first phase, alone) and check, the check's CPU time (the
// honest figure on a shared machine), the check time with one injected lost write, and verdicts.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "checkers/log/log_checker.h"
#include "checkers/log/log_ops.h"
#include "checkers/log/log_sim.h"

namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of this process in ms (the machine may be shared: wall time alone misleads).
double CpuMs() { return static_cast<double>(std::clock()) * 1000.0 / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  using namespace tidemark;
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty()) sizes = {100000, 1000000};
  std::printf("%9s %9s %12s %8s %8s %9s %9s %9s %9s  %s\n", "ops", "events", "read_entries",
              "sim_ms", "pair_ms", "parse_ms", "check_ms", "check_cpu", "fault_ms",
              "verdict / with one lost write");
  for (int64_t n : sizes) {
    checkers::logsim::SimOptions o;
    o.seed = 2026;
    o.ops = n;
    o.processes = 16;
    o.nodes = 3;
    o.page = 20;
    auto t0 = std::chrono::steady_clock::now();
    auto h = checkers::logsim::Simulate(o);
    double sim_ms = MsSince(t0);
    t0 = std::chrono::steady_clock::now();
    auto ops = history::PairOps(h);
    double pair_ms = MsSince(t0);
    if (!ops.ok()) {
      std::fprintf(stderr, "pairing failed: %s\n", ops.error().message.c_str());
      return 1;
    }
    int64_t entries = 0;
    for (const auto& op : *ops) {
      if (op.f == "read" && op.value.is_object() && op.value.contains("entries")) {
        entries += static_cast<int64_t>(op.value["entries"].size());
      }
    }
    t0 = std::chrono::steady_clock::now();
    { auto parsed = checkers::logck::ParseLogOps(*ops, false); }
    double parse_ms = MsSince(t0);
    t0 = std::chrono::steady_clock::now();
    double c0 = CpuMs();
    auto r = checkers::CheckLogPrefix(*ops);
    double check_ms = MsSince(t0);
    double check_cpu_ms = CpuMs() - c0;
    std::string what;
    checkers::logsim::InjectFault(&h, checkers::logsim::Fault::kDropAcked, 1, &what);
    auto faulty = history::PairOps(h);
    t0 = std::chrono::steady_clock::now();
    auto rf = checkers::CheckLogPrefix(*faulty);
    double fault_ms = MsSince(t0);
    std::printf("%9lld %9zu %12lld %8.0f %8.0f %9.0f %9.0f %9.0f %9.0f  %s / %s\n",
                static_cast<long long>(n), h.size(), static_cast<long long>(entries), sim_ms,
                pair_ms, parse_ms, check_ms, check_cpu_ms, fault_ms, checkers::ToString(r.verdict),
                rf.summary.c_str());
  }
  return 0;
}
