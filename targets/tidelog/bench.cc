// tidelog_bench: committed appends/s and latency percentiles of a 3-node tidelog cluster on
// this machine (real processes on loopback, fsync on), at client concurrencies 1, 4, 16, 64.
// Each client is a thread with one keep-alive HTTP connection to the leader that appends
// unique values back to back. Only 200 answers (committed, offset < hwm) count.
//
// usage: tidelog_bench [--seconds N] [--dir DIR] [--concurrency C]... [-- extra tidelog args]
// DIR (default ./tidelog_bench_data) must be on a real disk for fsync to mean anything.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "test_cluster.h"

namespace tl = tidemark::tidelog::testkit;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int seconds = 5;
  std::string dir = "tidelog_bench_data";
  std::vector<int> levels;
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--concurrency" && i + 1 < argc) {
      levels.push_back(std::atoi(argv[++i]));
    } else if (a == "--") {
      extra.assign(argv + i + 1, argv + argc);
      break;
    } else {
      std::cerr << "usage: tidelog_bench [--seconds N] [--dir DIR] [--concurrency C]... "
                   "[-- tidelog args]\n";
      return 254;
    }
  }
  if (levels.empty()) levels = {1, 4, 16, 64};
  tl::LocalCluster cluster(TIDELOG_BINARY, 3, dir, extra);
  if (!cluster.StartAll()) {
    std::cerr << "cannot start tidelog\n";
    return 255;
  }
  auto leader = cluster.WaitForLeader(10000);
  if (!leader) {
    std::cerr << "no leader within 10 s (logs in " << dir << ")\n";
    return 255;
  }
  uint16_t port = cluster.port(*leader);
  std::printf("tidelog_bench: 3 nodes, leader %s, fsync on, %d s per level, data in %s\n",
              cluster.id(*leader).c_str(), seconds, dir.c_str());
  std::printf("%11s %12s %10s %10s %10s %8s\n", "concurrency", "appends/s", "p50_ms", "p99_ms",
              "max_ms", "errors");
  int run = 0;
  for (int conc : levels) {
    ++run;
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> lat(static_cast<size_t>(conc));
    std::vector<size_t> errors(static_cast<size_t>(conc), 0);
    std::vector<std::thread> threads;
    auto start = Clock::now();
    for (int t = 0; t < conc; ++t) {
      threads.emplace_back([&, t] {
        tl::HttpClient c(port, 5000);
        std::string client = "b" + std::to_string(run) + "-" + std::to_string(t);
        for (uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
          auto t0 = Clock::now();
          auto r = c.Post(
              "/v1/log/append",
              {{"value", client + "-" + std::to_string(seq)}, {"client_id", client}, {"seq", seq}});
          double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (r.status == 200)
            lat[static_cast<size_t>(t)].push_back(ms);
          else
            errors[static_cast<size_t>(t)]++;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (auto& th : threads) th.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    size_t errs = 0;
    for (size_t t = 0; t < lat.size(); ++t) {
      all.insert(all.end(), lat[t].begin(), lat[t].end());
      errs += errors[t];
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      return all.empty() ? 0.0
                         : all[std::min(all.size() - 1,
                                        static_cast<size_t>(p * static_cast<double>(all.size())))];
    };
    std::printf("%11d %12.0f %10.2f %10.2f %10.2f %8zu\n", conc,
                static_cast<double>(all.size()) / elapsed, pct(0.50), pct(0.99),
                all.empty() ? 0.0 : all.back(), errs);
    std::fflush(stdout);
  }
  return 0;  // ~LocalCluster kills every node it started
}
