// Times one linearizability check, min of N runs (for before/after comparisons and profiling
// under callgrind on a noisy machine):
//
//   build-perf/bench/lin_time <history> <jepsen-log|edn-lines|jsonl> <model> [reps=5]
//       [partition=1] [explain=none|fast|minimal (0 = none, 1 = minimal)] [threads=0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/history/import.h"
#include "checkers/linearizability.h"

int main(int argc, char** argv) {
  using namespace tidemark;
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: lin_time <history> <jepsen-log|edn-lines|jsonl> <model> [reps] "
                 "[partition] [explain] [threads]\n");
    return 2;
  }
  std::string fmt = argv[2];
  history::Format format = fmt == "jepsen-log"  ? history::Format::kJepsenLog
                           : fmt == "edn-lines" ? history::Format::kEdnLines
                                                : history::Format::kJsonl;
  auto h = history::ImportFile(argv[1], format);
  if (!h.ok()) {
    std::fprintf(stderr, "import: %s\n", h.error().message.c_str());
    return 1;
  }
  auto ops = history::PairOps(*h);
  if (!ops.ok()) {
    std::fprintf(stderr, "pair: %s\n", ops.error().message.c_str());
    return 1;
  }
  checkers::LinearizabilityOptions o;
  o.model = argv[3];
  int reps = argc > 4 ? std::atoi(argv[4]) : 5;
  o.partition_by_key = argc > 5 ? std::atoi(argv[5]) != 0 : true;
  std::string explain = argc > 6 ? argv[6] : "none";
  if (explain == "0") explain = "none";
  if (explain == "1") explain = "minimal";
  if (!checkers::ParseExplainMode(explain, &o.explain)) {
    std::fprintf(stderr, "explain: none, fast or minimal\n");
    return 2;
  }
  o.threads = argc > 7 ? std::atoi(argv[7]) : 0;
  double best = 1e99;
  checkers::CheckResult r;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    r = checkers::CheckLinearizability(*ops, o);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("%s: min of %d: %.3f ms; %s; steps %s configs %s core %zu\n", argv[1], reps,
              best * 1e3, r.summary.c_str(), r.details["steps"].dump().c_str(),
              r.details["configurations"].dump().c_str(),
              r.details.contains("core") ? r.details["core"].size() : size_t{0});
  if (o.explain != checkers::ExplainMode::kNone) std::printf("%s", r.explanation.c_str());
  return 0;
}
