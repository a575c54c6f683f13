// tidemark: the command-line entry point. Each subcommand lives in harness/cli/.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "base/filename.h"
#include "harness/cli/check_command.h"
#include "harness/cli/clean_command.h"
#include "harness/cli/client_test_command.h"
#include "harness/cli/export_command.h"
#include "harness/cli/run_command.h"
#include "harness/cli/suite_command.h"
#include "harness/cli/validators.h"
#include "harness/cli/zoo_command.h"
#include "nemesis/clean.h"
#include "reports/index.h"
#include "reports/junit.h"
#include "reports/report.h"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0    valid: every checker found the history correct\n"
    "  1    invalid: at least one checker found an anomaly\n"
    "  2    unknown: a checker could not decide (time or memory budget, odd input)\n"
    "  254  bad usage (unknown flag, bad value)\n"
    "  255  harness error (unreadable input, cannot write output)\n";

CLI::App* AddCheck(CLI::App& app, tidemark::cli::CheckCommandOptions& check) {
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Check a recorded or imported history offline and print the verdict");
  check_cmd
      ->add_option("files", check.files,
                   "History files (history.jsonl, Jepsen EDN or log); several are checked in one "
                   "process, one line each, exit code the worst")
      ->required()
      ->check(CLI::ExistingFile);
  check_cmd
      ->add_option("--format", check.format,
                   "Input format: auto (sniff), jsonl, jepsen-log, jepsen-edn, edn-lines")
      ->capture_default_str();
  check_cmd
      ->add_option("--model", check.model,
                   "Model: auto, register, cas-register, kv (get/put/append), log")
      ->capture_default_str();
  check_cmd
      ->add_option("--checker", check.checker,
                   "Checker: auto (log-prefix for logs, else linearizability), linearizability, "
                   "log-prefix, all")
      ->capture_default_str();
  check_cmd
      ->add_option("--check-timeout", check.timeout_s,
                   "Seconds before the linearizability search gives up (verdict unknown)")
      ->capture_default_str()
      ->check(tidemark::cli::PositiveNumber());
  check_cmd
      ->add_option(
          "--memory-limit", check.memory_limit_mb,
          "MiB a check may use before it gives up (verdict unknown): the whole process is capped")
      ->capture_default_str()
      ->check(tidemark::cli::PositiveNumber());
  check_cmd->add_option("--threads", check.threads, "Worker threads (0 = one per core)")
      ->capture_default_str()
      ->check(tidemark::cli::NonNegativeNumber());
  check_cmd
      ->add_option("--explain", check.explain,
                   "On invalid: none (the op that cannot be placed), fast (plus a counterexample "
                   "core shrunk within about the verdict's time), minimal (shrink until minimal)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "fast", "minimal"}));
  check_cmd->add_flag("!--no-partition", check.partition_by_key,
                      "Check all keys as one object (slow; for comparison only)");
  check_cmd->add_option("--results", check.results_path, "Write the results as JSON to this file");
  check_cmd->add_flag("--json", check.json, "Print the results as JSON instead of text");
  check_cmd->add_flag("-q,--quiet", check.quiet, "Print only the one-line verdict");
  check_cmd
      ->add_option("--progress", check.progress,
                   "A progress line on stderr while reading and checking: auto (when stderr is a "
                   "terminal), always (plain lines when it is not), never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  check_cmd->footer(
      "\nExamples:\n"
      "  tidemark check store/latest/history.jsonl\n"
      "  tidemark check etcd_001.log --format jepsen-log --model cas-register\n"
      "  tidemark check c50-bad.txt --format edn-lines --model kv --results results.json\n"
      "  tidemark check history.edn --check-timeout 30 --memory-limit 1024\n"
      "  tidemark check -q --format jepsen-log --model cas-register corpus/etcd_*.log\n\n" +
      std::string(kExitCodes));
  return check_cmd;
}

CLI::App* AddExport(CLI::App& app, tidemark::cli::ExportCommandOptions& exp) {
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Convert a history to Jepsen EDN so Knossos or Elle can cross-check it");
  export_cmd->add_option("file", exp.file, "History file")->required()->check(CLI::ExistingFile);
  export_cmd->add_option("--format", exp.format, "Input format (as for check)")
      ->capture_default_str();
  export_cmd
      ->add_option("--to", exp.to,
                   "Output format: jepsen-edn; jsonl (every log read in full, for tools "
                   "that do not know compact reads); jsonl-compact (log reads compact, "
                   "as tidemark run writes them; docs/history-format.md)")
      ->capture_default_str();
  export_cmd->add_option("-o,--output", exp.output, "Output file (default: standard output)");
  export_cmd->footer(
      "\nExamples:\n  tidemark export store/latest/history.jsonl --to jepsen-edn -o history.edn\n"
      "  tidemark export store/latest/history.jsonl --to jsonl -o full-reads.jsonl\n");
  return export_cmd;
}

CLI::App* AddReport(CLI::App& app, std::string& report_dir, std::string& window) {
  CLI::App* report_cmd = app.add_subcommand(
      "report", "Re-render a run's report.html and junit.xml (and its store's index.html)");
  report_cmd->add_option("run_dir", report_dir, "A run directory, e.g. store/latest")
      ->required()
      ->check(CLI::ExistingDirectory);
  report_cmd->add_option("--window", window,
                         "FROM-TO (seconds since the run started): write report-FROM-TO.html "
                         "holding every op of that window (a large run's report.html holds a "
                         "sample; docs/report.md \"Large runs\")");
  report_cmd->footer(
      "\nThe report shows the verdict the run's results.json holds; rendering does not check.\n\n"
      "A history recorded elsewhere (another tool, another machine) gets a report like this:\n"
      "  mkdir run\n"
      "  tidemark export history.edn --to jsonl -o run/history.jsonl   # if not JSONL already\n"
      "  tidemark check run/history.jsonl --results run/results.json\n"
      "  tidemark report run\n"
      "  tidemark report store/latest --window 120-130   # every op of 120-130 s\n\n"
      "Exit codes (of rendering, not the run's verdict):\n"
      "  0    report.html and junit.xml were written\n"
      "  254  bad usage (no such directory, unknown flag)\n"
      "  255  report.html or junit.xml could not be written\n");
  return report_cmd;
}

// Writes report-FROM-TO.html for `window` ("FROM-TO" in seconds).
int RunWindowReport(const std::string& report_dir, const std::string& window) {
  const size_t dash = window.find('-', 1);
  double from = -1, to = -1;
  try {
    size_t used = 0;
    if (dash != std::string::npos) {
      from = std::stod(window.substr(0, dash), &used);
      if (used != dash) from = -1;
      to = std::stod(window.substr(dash + 1), &used);
      if (used != window.size() - dash - 1) to = -1;
    }
  } catch (const std::exception&) {
    from = to = -1;
  }
  if (!(from >= 0) || !(to > from)) {
    std::cerr << "tidemark report: --window '" << window
              << "': want FROM-TO in seconds since the run started, 0 <= FROM < TO, e.g. "
                 "--window 120-130\n";
    return 254;
  }
  auto path = tidemark::reports::WriteWindowReport(report_dir, from, to);
  if (!path.ok()) {
    std::cerr << "tidemark report: " << path.error().message << "\n";
    return 255;
  }
  std::cout << "wrote " << *path << "\n";
  return 0;
}

// Re-renders report.html and junit.xml of `report_dir`, and its store's index.html.
int RunReport(const std::string& report_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path run = fs::canonical(report_dir, ec);
  if (ec) run = report_dir;
  int rc = 0;
  for (const auto& [what, status] :
       {std::pair<const char*, tidemark::Status>{tidemark::filename::kReport,
                                                 tidemark::reports::WriteReport(run)},
        {tidemark::filename::kJUnit, tidemark::reports::WriteJUnit(run)}}) {
    if (status.ok()) {
      std::cout << "wrote " << (run / what).string() << "\n";
    } else {
      std::cerr << "tidemark report: " << status.error().message << "\n";
      rc = 255;
    }
  }
  // store/<test>/<timestamp>: the store root is two levels up.
  fs::path store = run.parent_path().parent_path();
  if (fs::exists(store / tidemark::filename::kLatest) &&
      tidemark::reports::WriteStoreIndex(store).ok())
    std::cout << "wrote " << (store / tidemark::filename::kIndex).string() << "\n";
  return rc;
}

CLI::App* AddClean(CLI::App& app, std::string& clean_store) {
  CLI::App* clean_cmd = app.add_subcommand(
      "clean", "Remove what crashed runs left behind: node processes, network namespaces, bridges");
  clean_cmd->add_option("--store", clean_store,
                        "Sweep only this store's runs (default: every run on this machine)");
  clean_cmd->footer(
      "\nEvery run records what it creates in RUN_DIR/cleanup.json as it goes, and lists itself\n"
      "in /run/tidemark/runs (or $TIDEMARK_RUNS_DIR) until it ends cleanly. With no arguments,\n"
      "clean sweeps every run listed there whose controller is gone (e.g. SIGKILLed), whatever\n"
      "store it used, and the runs under ./store. Its processes are killed only if\n"
      "/proc/<pid>/cmdline still matches what was recorded; then its FUSE mounts are detached\n"
      "and its namespaces and bridge deleted. Runs still in progress are left alone.\n"
      "Exit 0 when nothing failed, 255 otherwise.\n\n"
      "Examples:\n"
      "  tidemark clean                      # every crashed run on this machine\n"
      "  tidemark clean --store /var/lib/tm  # only the runs in that store\n");
  return clean_cmd;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tidemark — a Jepsen-style consistency test harness.\n"
      "It checks histories of replicated systems for linearizability and for lost, reordered,\n"
      "duplicated or dirty log entries."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tidemark ") + TIDEMARK_VERSION);
  app.footer(std::string("\nRun `tidemark SUBCOMMAND --help` for the options of each.\n\n") +
             kExitCodes);

  tidemark::cli::RunCommandOptions run_opts;
  CLI::App* run_cmd = tidemark::cli::AddRunCommand(app, run_opts);
  tidemark::cli::ZooCommandOptions zoo_opts;
  CLI::App* zoo_cmd = tidemark::cli::AddZooCommand(app, zoo_opts);
  tidemark::cli::SuiteCommandOptions suite_opts;
  CLI::App* suite_cmd = tidemark::cli::AddSuiteCommand(app, suite_opts);
  tidemark::cli::ClientTestOptions client_test_opts;
  CLI::App* client_test_cmd = tidemark::cli::AddClientTestCommand(app, client_test_opts);
  tidemark::cli::CheckCommandOptions check;
  CLI::App* check_cmd = AddCheck(app, check);
  tidemark::cli::ExportCommandOptions exp;
  CLI::App* export_cmd = AddExport(app, exp);
  std::string report_dir, report_window;
  CLI::App* report_cmd = AddReport(app, report_dir, report_window);
  std::string clean_store = "store";
  CLI::App* clean_cmd = AddClean(app, clean_store);

  if (int rc = tidemark::cli::ParseCommandLine(app, argc, argv); rc >= 0) return rc;

  if (report_cmd->parsed()) {
    return report_window.empty() ? RunReport(report_dir)
                                 : RunWindowReport(report_dir, report_window);
  }
  if (clean_cmd->parsed())
    return tidemark::cli::RunCleanCommand(clean_store, clean_cmd->count("--store") == 0);
  if (run_cmd->parsed()) return tidemark::cli::RunRunCommand(run_opts, argc, argv);
  if (zoo_cmd->parsed()) return tidemark::cli::RunZooCommand(zoo_opts, *zoo_cmd);
  if (suite_cmd->parsed()) return tidemark::cli::RunSuiteCommand(suite_opts, *suite_cmd);
  if (client_test_cmd->parsed())
    return tidemark::cli::RunClientTestCommand(client_test_opts, std::cout, std::cerr);
  if (check_cmd->parsed()) {
    check.stderr_is_terminal = isatty(STDERR_FILENO) == 1;
    return tidemark::cli::RunCheckCommand(check, std::cout, std::cerr);
  }
  if (export_cmd->parsed()) return tidemark::cli::RunExportCommand(exp, std::cout, std::cerr);
  return 254;
}
