// The runner: one test run from start to verdict, in named phases (run_phases.h):
//
//   plan (plan.h) → run dir, test.json → start: nodes until ready, clients → drive: main phase
//   under faults, heal, recover, final reads (driver.h) → collect: stop, final HWMs, replicas'
//   dumps (collect.h) → analyse (checkers/analyse.h) → write: results.json, report, junit.xml,
//   store index, latest links (run_files.h).
//
// Everything the run records goes under RUN_DIR (store/<test>/<timestamp>/). A SIGINT or SIGTERM
// (see SetInterruptFlag) ends the main phase early, tears down, and still writes the history and
// results recorded so far (verdict at best unknown). A run whose cluster does not start still
// writes its whole run directory (verdict unknown, the cause first in the report) and returns
// an outcome whose harness_error names what to fix; failures before the run directory exists (no
// such target, an unwritable store) are returned as errors.
//
// Threading: RunTest blocks; it starts and joins its own threads (a status watcher and the status
// line); every client op runs on the calling thread's event loop (event_loop.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "checkers/checker.h"
#include "harness/run/interrupt.h"

namespace tidemark::run {

struct RunOptions {
  // cluster
  std::string target = "tidelog";  // descriptor name (targets/<name>.json) or path
  int nodes = 3;
  std::vector<std::string> bugs;       // tidelog --bug switches
  std::vector<std::string> node_args;  // appended to every node's start argv (--node-args)
  // workload
  std::string workload = "log";  // log | register
  int concurrency = 10;
  double rate = 200;          // ops/s over all workers; <= 0 = as fast as possible
  double time_limit_s = 30;   // main phase
  double op_timeout_s = 3;    // client-side timeout per op
  double read_timeout_s = 1;  // client-side timeout per read (capped at op_timeout_s); 0 = same
  // "leader": writes and linearizable reads go to the leader the status watcher sees; "node":
  // client process p always talks to node p % nodes (Jepsen-style), so a deposed leader that
  // still believes it leads keeps getting requests; "mixed" (the default): even processes follow
  // the leader, odd process p is bound to node (p / 2) % nodes — clients keep observing every
  // node, a deposed leader included, and never all wait on one stalled node.
  std::string client_routing = "mixed";
  int retry_writes = 0;    // re-sends of a write with an unknown outcome (ClientOptions)
  double recovery_s = 10;  // max wait for a leader after healing
  double final_timeout_s = 30;
  // nemesis
  std::string nemesis = "none";
  std::string scenario;  // a named fault scenario (nemesis/scenario.h) instead of `nemesis`
  double nemesis_interval_s = 0;  // 0: 2 s for --nemesis all (the mix), 10 s for a list
  std::string net = "auto";
  std::string power_cuts = "auto";  // auto|lose-unfsynced|kill (NemesisConfig::power_cuts)
  // checker
  double check_timeout_s = 120;
  // output
  std::string store = "store";
  std::string test_name;  // default: DefaultTestName (test_name.h)
  uint64_t seed = 0;
  std::vector<std::string> command_line;  // argv of this tidemark, for test.json
  std::string repeat_command;             // the exact command that repeats this run
  std::string bin_dir;                    // directory of the tidemark binary
  std::vector<std::string> target_search_dirs;
  bool status_tty = false;  // redraw one status line (true) or print a plain line every 5 s
};

struct RunOutcome {
  checkers::Verdict verdict = checkers::Verdict::kUnknown;
  std::string run_dir;
  std::string report_path;
  bool interrupted = false;
  nlohmann::json results;
  // Set when the run stopped before it could be checked (its cluster did not start): the
  // error, with the node's log tail. The run directory is complete all the same.
  std::string harness_error;
};

Result<RunOutcome> RunTest(const RunOptions& opts, std::ostream& out);

}  // namespace tidemark::run
