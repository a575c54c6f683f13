// A measurement, not a test: writes a generated history of N events (default 1,000,000) with
// one line per event, then times ReadJsonlFile + PairOps, and ImportFile(kAuto) + PairOps.
// Usage: history_import_timing [EVENTS] [PATH]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/history/import.h"
#include "base/history/jsonl.h"

namespace {

using Clock = std::chrono::steady_clock;
using tidemark::history::Event;
using tidemark::history::EventType;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Process CPU seconds: the machine is shared, so wall time alone says little.
double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

int Fail(const std::string& message) {
  std::fprintf(stderr, "history_import_timing: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace h = tidemark::history;
  const long events = argc > 1 ? std::atol(argv[1]) : 1000000;
  const std::string path =
      argc > 2 ? argv[2]
               : (std::filesystem::temp_directory_path() / "tidemark_import_timing.jsonl").string();
  constexpr int kProcesses = 10;

  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  {
    std::ofstream w(path, std::ios::binary | std::ios::trunc);
    if (!w) return Fail("cannot create " + path);
    for (long i = 0; i < events; ++i) {
      // Process p invokes at 2k, completes at 2k+1 with a log-workload shaped value.
      Event e;
      e.process = (i / 2) % kProcesses;
      e.type = i % 2 == 0 ? EventType::kInvoke : EventType::kOk;
      e.f = "append";
      e.key = "k" + std::to_string(i % 7);
      e.node = "n" + std::to_string(i % 3 + 1);
      e.time_ns = i * 1500;
      std::string v = "v" + std::to_string(e.process) + "-" + std::to_string(i / 2);
      if (e.type == EventType::kInvoke)
        e.value = v;
      else
        e.value = {{"value", v}, {"offset", i / 2}, {"hwm", i / 2 + 1}};
      e.index = i;
      w << h::ToJsonLine(e) << '\n';
    }
    w.close();
    if (!w) return Fail("cannot write " + path);
  }
  double write_s = Seconds(t0), write_cpu = CpuSeconds() - c0;
  auto size = std::filesystem::file_size(path);

  auto t1 = Clock::now();
  double c1 = CpuSeconds();
  auto hist = h::ReadJsonlFile(path);
  if (!hist) return Fail(hist.error().message);
  double read_s = Seconds(t1), read_cpu = CpuSeconds() - c1;
  auto t2 = Clock::now();
  double c2 = CpuSeconds();
  auto ops = h::PairOps(*hist);
  if (!ops) return Fail(ops.error().message);
  double pair_s = Seconds(t2), pair_cpu = CpuSeconds() - c2;

  auto t3 = Clock::now();
  double c3 = CpuSeconds();
  auto imported = h::ImportFile(path, h::Format::kAuto);
  if (!imported) return Fail(imported.error().message);
  auto ops2 = h::PairOps(*imported);
  if (!ops2) return Fail(ops2.error().message);
  double import_pair_s = Seconds(t3), import_pair_cpu = CpuSeconds() - c3;

  std::printf("events %ld, file %.1f MB\n", events, static_cast<double>(size) / 1e6);
  std::printf("write (one line per event, buffered): %.2f s wall, %.2f s cpu\n", write_s,
              write_cpu);
  std::printf("ReadJsonlFile: %.2f s wall, %.2f s cpu\n", read_s, read_cpu);
  std::printf("PairOps: %.2f s wall, %.2f s cpu (%zu ops)\n", pair_s, pair_cpu, ops->size());
  std::printf("ImportFile(auto) + PairOps: %.2f s wall, %.2f s cpu\n", import_pair_s,
              import_pair_cpu);
  if (argc <= 2) std::filesystem::remove(path);
  return 0;
}
