#include "harness/cli/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "checkers/checker.h"
#include "harness/cli/run_preflight.h"
#include "harness/cli/validators.h"
#include "nemesis/scenario.h"

namespace tidemark::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  run::SetInterruptFlag(&g_interrupted);
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32 | rd()) & ((uint64_t{1} << 53) - 1);  // JSON-safe
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./=:,+@") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

CLI::App* AddRunCommand(CLI::App& app, RunCommandOptions& o) {
  run::RunOptions& r = o.run;
  CLI::App* cmd = app.add_subcommand(
      "run", "Start a cluster, drive clients with faults, record the history, check it");
  // A later flag overrides an earlier one, so wrappers (scripts/run.sh) can set defaults.
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  const char* kCluster = "Cluster";
  const char* kWorkload = "Workload";
  const char* kNemesis = "Nemesis";
  const char* kChecker = "Checker";
  const char* kOutput = "Output";
  cmd->add_option("--target", r.target,
                  "Target descriptor: a name in targets/ (tidelog) or a path to a .json file")
      ->capture_default_str()
      ->group(kCluster);
  cmd->add_option("--nodes", r.nodes, "Number of nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 15))
      ->group(kCluster);
  cmd->add_option("--bug", r.bugs,
                  "tidelog only: switch on a deliberate bug (repeatable; see docs/bug-zoo.md)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(kCluster);
  cmd->add_option_function<std::string>(
         "--node-args",
         [&r](const std::string& v) {
           std::istringstream in(v);
           for (std::string a; in >> a;) r.node_args.push_back(a);
         },
         "Extra arguments appended to every node's start argv, split on spaces, e.g. "
         "--node-args '--heartbeat-ms 250' (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->group(kCluster);
  cmd->add_option("--workload", r.workload, "log (appends and reads) or register (read/write/cas)")
      ->capture_default_str()
      ->check(CLI::IsMember({"log", "register"}))
      ->group(kWorkload);
  cmd->add_option("--concurrency", r.concurrency, "Client workers (logical processes)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000))
      ->group(kWorkload);
  cmd->add_option("--rate", r.rate, "Target ops per second over all workers (0 = unlimited)")
      ->capture_default_str()
      ->check(NonNegativeNumber())
      ->group(kWorkload);
  cmd->add_option("--time-limit", r.time_limit_s, "Seconds of the main phase")
      ->capture_default_str()
      ->check(PositiveNumber())
      ->group(kWorkload);
  cmd->add_option("--client-routing", r.client_routing,
                  "leader: writes and linearizable reads go to the node the harness sees as "
                  "leader; node: client process p always talks to node p % nodes, so a deposed "
                  "leader still gets requests; mixed: odd processes bound to nodes, the others "
                  "follow the leader")
      ->capture_default_str()
      ->check(CLI::IsMember({"leader", "node", "mixed"}))
      ->group(kWorkload);
  cmd->add_option("--retry-writes", r.retry_writes,
                  "Re-send a write whose outcome is unknown (timeout) up to N times with the same "
                  "client id and sequence number, as an idempotent client would; the history keeps "
                  "one op (exposes targets that apply a retry twice)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100))
      ->group(kWorkload);
  cmd->add_option("--read-timeout", r.read_timeout_s,
                  "Client timeout per read, seconds (capped at --op-timeout; 0 = --op-timeout): "
                  "short, so readers keep observing while a node stalls")
      ->capture_default_str()
      ->check(NonNegativeNumber())
      ->group(kWorkload);
  cmd->add_option("--op-timeout", r.op_timeout_s,
                  "Client timeout per op, seconds (a timed-out write is recorded as info)")
      ->capture_default_str()
      ->check(PositiveNumber())
      ->group(kWorkload);
  cmd->add_option("--nemesis", r.nemesis,
                  "Faults: none; all (the default mix: dense, leader-aware moves such as leader "
                  "isolation, leader kill, majority crash); or a comma list of partition, kill, "
                  "pause, lose-unfsynced, corrupt faults applied one at a time (docs/nemesis.md)")
      ->capture_default_str()
      ->group(kNemesis);
  std::string scenarios;
  for (const auto& s : nemesis::Scenarios()) scenarios += (scenarios.empty() ? "" : ", ") + s.name;
  cmd->add_option("--scenario", r.scenario,
                  "A named, leader-aware fault sequence repeated in rounds instead of --nemesis: " +
                      scenarios + " (docs/nemesis.md)")
      ->group(kNemesis);
  cmd->add_option("--nemesis-interval", r.nemesis_interval_s,
                  "Mean seconds between faults (default: 10 for a --nemesis list; for --nemesis "
                  "all, the default mix, the mean quiet gap after each move: 2)")
      ->check(PositiveNumber())
      ->group(kNemesis);
  cmd->add_option("--net", r.net, "Network backend for partitions: auto, netns, proxy")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "netns", "proxy"}))
      ->group(kNemesis);
  cmd->add_option("--power-cuts", r.power_cuts,
                  "What the default mix's power cuts (crash-majority, restart-all) do: "
                  "lose-unfsynced also drops what the nodes had not fsynced (their data dirs on "
                  "tidemark-lazyfs, FUSE; root), kill only kills, auto the first where it can")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "lose-unfsynced", "kill"}))
      ->group(kNemesis);
  cmd->add_option("--check-timeout", r.check_timeout_s,
                  "Seconds the checkers may take before answering unknown")
      ->capture_default_str()
      ->check(PositiveNumber())
      ->group(kChecker);
  cmd->add_option("--seed", r.seed, "Seed for every random choice (printed first; reuse to repeat)")
      ->group(kOutput);
  cmd->add_option("--test-count", o.test_count,
                  "Run the test this many times (seeds seed, seed+1, ...)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000))
      ->group(kOutput);
  cmd->add_option("--store", r.store, "Directory that keeps every run")
      ->capture_default_str()
      ->group(kOutput);
  cmd->add_option(
         "--name", r.test_name,
         "Test name (default: TARGET-WORKLOAD-FAULTS, then -bug-NAME per --bug and -args-... for "
         "--node-args)")
      ->group(kOutput);
  cmd->footer(
      "\nExamples:\n"
      "  tidemark run                                       # 3 tidelog nodes, log workload, 30 s\n"
      "  tidemark run --workload register --time-limit 60 --concurrency 20\n"
      "  tidemark run --nemesis partition,kill --time-limit 60\n"
      "  tidemark run --bug ack-before-quorum --nemesis partition --seed 42  # catch a bug\n"
      "  tidemark run --bug vote-without-log-check --scenario stale-follower-wins\n"
      "  tidemark run --target my-target.json --nodes 5     # your own system "
      "(docs/writing-a-target.md)\n\n"
      "Every run is stored under --store as <test>/<UTC time>/ with test.json (config, seed, the\n"
      "command to repeat it), history.jsonl, results.json and nodes/<n>/ (logs, data);\n"
      "store/latest points at the newest run.\n\n"
      "Exit codes: 0 valid, 1 invalid, 2 unknown, 130 interrupted (Ctrl-C: tears down, keeps\n"
      "what was recorded), 254 bad usage, 255 harness error (e.g. a node would not start).\n");
  return cmd;
}

int RunRunCommand(RunCommandOptions& o, int argc, char** argv) {
  run::RunOptions& r = o.run;
  o.seed_given = o.seed_given || r.seed != 0;
  if (!o.seed_given) r.seed = RandomSeed();

  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  r.bin_dir = ec ? "." : self.parent_path().string();
  r.target_search_dirs = {"targets", std::string(TIDEMARK_SOURCE_DIR) + "/targets",
                          r.bin_dir + "/../targets"};
  for (int i = 0; i < argc; ++i) r.command_line.push_back(argv[i]);
  r.status_tty = isatty(STDOUT_FILENO) != 0;
  if (Status s = PreflightRun(r, std::cerr); !s.ok()) {
    std::cerr << "tidemark run: " << s.error().message << "\n(exit 254: bad usage)\n";
    return 254;
  }
  InstallSignalHandlers();

  checkers::Verdict worst = checkers::Verdict::kValid;
  uint64_t base_seed = r.seed;
  for (int t = 0; t < o.test_count; ++t) {
    r.seed = base_seed + static_cast<uint64_t>(t);
    std::string repeat;
    bool skip_next = false;
    for (int i = 0; i < argc; ++i) {
      std::string a = argv[i];
      if (skip_next) {
        skip_next = false;
        continue;
      }
      if (a == "--seed" || a == "--test-count") {
        skip_next = true;
        continue;
      }
      if (a.rfind("--seed=", 0) == 0 || a.rfind("--test-count=", 0) == 0) continue;
      repeat += (repeat.empty() ? "" : " ") + ShellQuote(a);
    }
    r.repeat_command = repeat + " --seed " + std::to_string(r.seed);
    std::cout << "seed: " << r.seed << "\n" << std::flush;
    auto outcome = run::RunTest(r, std::cout);
    if (!outcome.ok()) {
      const std::string& msg = outcome.error().message;
      bool usage = msg.rfind("bad usage: ", 0) == 0;
      std::cerr << "tidemark run: " << (usage ? msg.substr(11) : msg) << "\n";
      return usage ? 254 : 255;
    }
    if (!outcome->harness_error.empty()) {
      // The run stopped before it could be checked; its run directory says why all the same.
      std::cerr << "tidemark run: " << outcome->harness_error << "\n";
      std::cout << "report: " << outcome->report_path << "\n" << std::flush;
      return 255;
    }
    std::cout << "\nverdict: " << checkers::ToString(outcome->verdict) << "\n"
              << "report:  " << outcome->report_path << "\n"
              << "history: " << outcome->run_dir << "/history.jsonl\n"
              << "repeat:  " << r.repeat_command << "\n"
              << std::flush;
    worst = checkers::Worst(worst, outcome->verdict);
    if (outcome->interrupted) {
      std::cout << "interrupted: tore down the cluster and kept what was recorded\n";
      return 130;
    }
  }
  return checkers::ExitCode(worst);
}

}  // namespace tidemark::cli
