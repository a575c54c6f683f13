#include "harness/cli/zoo_command.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "harness/cli/child_run.h"
#include "harness/cli/validators.h"
#include "harness/zoo/zoo.h"
#include "runstore/store.h"

namespace tidemark::cli {
namespace {

namespace fs = std::filesystem;

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Status WriteFile(const std::string& path, const std::string& text) {
  return WriteFileAtomic(path, text);
}

// Summarises `records` and writes zoo.json, junit.xml, index.html and matrix.txt into `dir`.
Result<std::vector<zoo::RowSummary>> WriteMatrix(const std::string& dir,
                                                 const std::vector<zoo::ZooEntry>& rows,
                                                 const std::vector<zoo::RunRecord>& records,
                                                 double min_detection,
                                                 const nlohmann::json& options) {
  auto summary = zoo::Summarize(rows, records, min_detection);
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {filename::kZooJson, zoo::ToJson(summary, records, options).dump(1)},
           {filename::kJUnit, zoo::RenderJUnit(summary, records)},
           {filename::kIndex, zoo::RenderIndexHtml(summary, records, dir)},
           {filename::kMatrix, zoo::RenderMatrix(summary)}}) {
    if (Status s = WriteFile(dir + "/" + name, text); !s.ok()) return s.error();
  }
  return summary;
}

}  // namespace

CLI::App* AddZooCommand(CLI::App& app, ZooCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "zoo",
      "Run every tidelog bug under the schedule that exposes it, and correct tidelog: "
      "the detection matrix");
  std::string bugs;
  for (const auto& e : zoo::Catalogue())
    if (!e.bug.empty()) bugs += (bugs.empty() ? "" : ", ") + e.bug;
  cmd->add_option("--bugs", o.bugs,
                  "Comma list of bugs, all, or none (correct tidelog only). Bugs: " + bugs)
      ->capture_default_str();
  cmd->add_option("--runs", o.runs,
                  "Runs per bug under its tailored schedule (each with its own seed; 0 = none, "
                  "e.g. with --blind)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--correct-runs", o.correct_runs,
                  "Runs of correct tidelog under --nemesis all (default: --runs; 0 = none)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--time-limit", o.time_limit_s, "Seconds of each run's main phase")
      ->capture_default_str()
      ->check(PositiveNumber());
  cmd->add_option("--min-detection", o.min_detection,
                  "Fraction of a bug's runs that must detect it for its row to pass")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--correct-scenarios", o.correct_scenarios,
                "Also run correct tidelog under every bug's named scenario (--correct-runs each)");
  cmd->add_flag("--blind", o.blind,
                "Add the blind column: every selected bug also under the default fault mix "
                "(--nemesis all) with no scenario and no bug-specific flags, as a user who does "
                "not know the bug would run it");
  cmd->add_option("--blind-runs", o.blind_runs,
                  "Runs per bug in the blind column (default: --runs)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--blind-nemesis", o.blind_nemesis,
                  "The --nemesis of the blind runs (default all; e.g. partition,kill,pause for "
                  "the one-fault-at-a-time schedule, to compare)")
      ->capture_default_str();
  cmd->add_flag("--nightly", o.nightly,
                "The nightly budget: --runs 10 --correct-runs 20 --time-limit 60 "
                "--correct-scenarios --blind (flags given explicitly still win)");
  cmd->add_option("--seed", o.seed, "Base seed (run i of row k uses seed + 1000 k + i)");
  cmd->add_option("--store", o.store, "Store for the runs and the matrix")->capture_default_str();
  cmd->add_option("--net", o.net, "Network backend for partitions: auto, netns, proxy")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "netns", "proxy"}));
  cmd->add_option("--nodes", o.nodes, "Nodes per cluster in every run")
      ->capture_default_str()
      ->check(CLI::Range(3, 15));
  cmd->add_flag("--dry-run", o.dry_run, "Print the tidemark run commands and exit");
  cmd->add_option("--from", o.from,
                  "Run nothing: re-read the runs listed in these zoo.json files (zoos run in "
                  "parallel, or after upgrading tidemark) and write one matrix of them all")
      ->check(CLI::ExistingFile);
  cmd->footer(
      "\nExamples:\n"
      "  tidemark zoo --runs 1 --time-limit 20                  # every bug once, ~5 min\n"
      "  tidemark zoo --bugs lazy-fsync,ack-before-quorum --runs 5\n"
      "  tidemark zoo --nightly --store /var/lib/tidemark       # from cron; see docs/zoo.md\n\n"
      "Results: STORE/zoo/<UTC time>/ (zoo.json, junit.xml, index.html, matrix.txt, logs/);\n"
      "STORE/zoo/latest points at the newest. Each run is an ordinary run directory with its\n"
      "report.\n\n"
      "Exit codes: 0 every row passed, 1 a bug was detected in fewer than --min-detection of\n"
      "its runs or correct tidelog showed an anomaly, 130 interrupted, 254 bad usage,\n"
      "255 harness error.\n");
  return cmd;
}

namespace {

// --from: one matrix from the runs of earlier zoos, each run re-read from its directory.
int Resummarize(const ZooCommandOptions& o) {
  std::vector<zoo::RunRecord> records;
  std::set<std::string> seen_rows;
  for (const std::string& path : o.from) {
    std::ifstream in(path);
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("runs") || !doc["runs"].is_array()) {
      std::cerr << "tidemark zoo: --from " << path << ": not a zoo.json (no \"runs\" array)\n";
      return 254;
    }
    for (const auto& j : doc["runs"]) {
      std::string dir = j.value("run_dir", "");
      zoo::RunRecord r = dir.empty() ? zoo::RunRecord{} : zoo::ReadRun(dir);
      r.row = j.value("row", "");
      r.seed = j.value("seed", uint64_t{0});
      r.exit_code = j.value("exit_code", -1);
      r.wall_s = j.value("wall_s", 0.0);
      if (dir.empty()) r.error = j.value("error", "");
      seen_rows.insert(r.row);
      records.push_back(std::move(r));
    }
  }
  std::vector<zoo::ZooEntry> rows;
  std::vector<zoo::ZooEntry> all = zoo::Catalogue();
  for (const auto& e : zoo::CorrectUnderScenarios()) all.push_back(e);
  bool blind = false;
  for (const auto& e : zoo::BlindRows()) blind = blind || seen_rows.count(e.row);
  if (blind)
    for (auto& e : zoo::BlindRows()) all.push_back(e);
  for (const auto& e : all)
    if (seen_rows.count(e.row) || (blind && e.blind) ||
        (blind && !e.bug.empty() && !e.blind))  // a bug row for the blind column to sit in
      rows.push_back(e);
  auto dir = store::CreateRunDir(o.store, "zoo", std::chrono::system_clock::now());
  if (!dir.ok()) {
    std::cerr << "tidemark zoo: " << dir.error().message << "\n";
    return 255;
  }
  nlohmann::json options = {{"from", o.from}, {"min_detection", o.min_detection}};
  auto summary = WriteMatrix(dir->path, rows, records, o.min_detection, options);
  if (!summary.ok()) {
    std::cerr << "tidemark zoo: " << summary.error().message << "\n";
    return 255;
  }
  std::cout << zoo::RenderMatrix(*summary) << "\nmatrix: " << dir->path << "/index.html\n";
  return zoo::AllPass(*summary) ? 0 : 1;
}

}  // namespace

int RunZooCommand(ZooCommandOptions& o, const CLI::App& cmd) {
  if (!o.from.empty()) return Resummarize(o);
  if (o.nightly) {
    if (!cmd.count("--runs")) o.runs = 10;
    if (!cmd.count("--correct-runs")) o.correct_runs = 20;
    if (!cmd.count("--time-limit")) o.time_limit_s = 60;
    o.correct_scenarios = true;
    o.blind = true;
  }
  if (o.correct_runs < 0) o.correct_runs = o.runs;
  if (o.blind_runs < 0) o.blind_runs = o.blind ? o.runs : 0;
  if (o.blind_runs > 0) o.blind = true;
  if (o.seed == 0) {
    std::random_device rd;
    o.seed = (static_cast<uint64_t>(rd()) << 20 ^ rd()) & ((uint64_t{1} << 50) - 1);
  }

  // The rows, in catalogue order.
  std::vector<zoo::ZooEntry> rows;
  std::set<std::string> wanted;
  bool all = o.bugs == "all";
  if (!all && o.bugs != "none") {
    for (const auto& b : Split(o.bugs)) wanted.insert(b);
    for (const auto& b : wanted) {
      bool known = false;
      for (const auto& e : zoo::Catalogue()) known = known || (!e.bug.empty() && e.bug == b);
      if (!known) {
        std::cerr << "tidemark zoo: --bugs: unknown bug '" << b
                  << "' (see tidemark zoo --help for the list)\n";
        return 254;
      }
    }
  }
  for (const auto& e : zoo::Catalogue()) {
    if (e.bug.empty()) {
      if (o.correct_runs > 0) rows.push_back(e);
    } else if (all || wanted.count(e.bug)) {
      rows.push_back(e);
    }
  }
  if (o.correct_scenarios && o.correct_runs > 0)
    for (const auto& e : zoo::CorrectUnderScenarios())
      if (all || wanted.count(e.row.substr(e.row.find(':') + 1))) rows.push_back(e);
  if (o.blind)
    for (const auto& e : zoo::BlindRows(o.blind_nemesis))
      if (all || wanted.count(e.bug)) rows.push_back(e);
  if (rows.empty()) {
    std::cerr << "tidemark zoo: nothing to run (--bugs none with --correct-runs 0)\n";
    return 254;
  }

  const std::string self = SelfPath();
  if (self.empty()) {
    std::cerr << "tidemark zoo: cannot find this binary (/proc/self/exe)\n";
    return 255;
  }
  auto zoo_dir = store::CreateRunDir(o.store, "zoo", std::chrono::system_clock::now());
  if (!zoo_dir.ok()) {
    std::cerr << "tidemark zoo: " << zoo_dir.error().message << "\n";
    return 255;
  }
  const std::string dir = zoo_dir->path;
  std::error_code ec;
  fs::create_directories(dir + "/logs", ec);

  struct Planned {
    const zoo::ZooEntry* entry;
    uint64_t seed;
    std::vector<std::string> argv;
    std::string log;
  };
  std::vector<Planned> plan;
  for (size_t k = 0; k < rows.size(); ++k) {
    const zoo::ZooEntry& e = rows[k];
    int n = e.bug.empty() ? o.correct_runs : (e.blind ? o.blind_runs : o.runs);
    if (!e.blind_unexposable.empty() && e.blind) n = 0;  // shown as n/a with the reason
    std::string name = "zoo-" + e.row;
    for (char& c : name)
      if (c == ':') c = '-';
    for (int i = 0; i < n; ++i) {
      Planned p;
      p.entry = &rows[k];
      p.seed = o.seed + 1000 * k + static_cast<uint64_t>(i);
      p.argv = {self,           "run",
                "--store",      o.store,
                "--name",       name,
                "--time-limit", Fixed(o.time_limit_s, 3),
                "--seed",       std::to_string(p.seed),
                "--net",        o.net,
                "--nodes",      std::to_string(o.nodes)};
      if (!e.bug.empty()) p.argv.insert(p.argv.end(), {"--bug", e.bug});
      p.argv.insert(p.argv.end(), e.run_args.begin(), e.run_args.end());
      p.log = dir + "/logs/" + name + "-" + std::to_string(i + 1) + ".log";
      plan.push_back(std::move(p));
    }
  }

  std::cout << "zoo: " << plan.size() << " runs of " << Fixed(o.time_limit_s, 0)
            << " s (+ start, heal, final reads, check each), base seed " << o.seed << "\n"
            << "results: " << dir << "\n"
            << std::flush;
  if (o.dry_run) {
    for (const auto& p : plan) std::cout << JoinArgs(p.argv) << "\n";
    return 0;
  }

  InstallInterruptForwarding();

  nlohmann::json options = {{"bugs", o.bugs},
                            {"runs", o.runs},
                            {"correct_runs", o.correct_runs},
                            {"time_limit_s", o.time_limit_s},
                            {"min_detection", o.min_detection},
                            {"correct_scenarios", o.correct_scenarios},
                            {"nightly", o.nightly},
                            {"blind", o.blind},
                            {"blind_runs", o.blind_runs},
                            {"blind_nemesis", o.blind_nemesis},
                            {"seed", o.seed},
                            {"store", o.store},
                            {"net", o.net},
                            {"nodes", o.nodes}};
  std::vector<zoo::RunRecord> records;
  bool harness_error = false;
  for (size_t i = 0; i < plan.size() && !Interrupted(); ++i) {
    const Planned& p = plan[i];
    zoo::RunRecord r = RunChild(p.argv, p.log, p.entry->row, p.seed);
    if (r.exit_code == 254) harness_error = true;  // a catalogue entry the run rejects: our bug
    std::string anomalies;
    for (const auto& [name, n] : r.anomalies)
      anomalies += (anomalies.empty() ? "" : ", ") + name + " x" + std::to_string(n);
    std::cout << "[" << i + 1 << "/" << plan.size() << "] " << r.row << " seed " << r.seed << ": "
              << (r.verdict.empty() ? "no verdict (" + r.error + ")" : r.verdict)
              << (anomalies.empty() ? "" : " (" + anomalies + ")")
              << (r.first_detection_s ? ", first at " + Fixed(*r.first_detection_s, 1) + " s" : "")
              << ", " << Fixed(r.wall_s, 0) << " s\n"
              << std::flush;
    records.push_back(std::move(r));
    if (auto written = WriteMatrix(dir, rows, records, o.min_detection, options); !written.ok()) {
      std::cerr << "tidemark zoo: " << written.error().message << "\n";
      return 255;
    }
  }

  auto summary = zoo::Summarize(rows, records, o.min_detection);
  std::cout << "\n" << zoo::RenderMatrix(summary) << "\nmatrix: " << dir << "/index.html\n";
  fs::path latest = fs::path(o.store) / filename::kZooDir / filename::kLatest;
  fs::path tmp = latest.string() + ".tmp";
  fs::remove(tmp, ec);
  fs::create_directory_symlink(fs::path(dir).filename(), tmp, ec);
  if (!ec) fs::rename(tmp, latest, ec);
  if (Interrupted()) {
    std::cout << "interrupted: the matrix holds the runs finished so far\n";
    return 130;
  }
  if (harness_error) return 255;
  return zoo::AllPass(summary) ? 0 : 1;
}

}  // namespace tidemark::cli
