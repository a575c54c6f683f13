#include "harness/cli/suite_command.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/filename.h"
#include "harness/cli/child_run.h"
#include "harness/suite/suite.h"
#include "harness/suite/trend.h"
#include "runstore/store.h"

namespace tidemark::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

// What the files of one night are made of.
struct Night {
  suite::Suite suite;
  std::string dir;  // STORE/suite/NAME/TIME
  json options;
  std::vector<zoo::RunRecord> records;
  bool sharded = false;
};

// Writes suite.json, junit.xml, index.html and matrix.txt; returns the summary.
Result<std::vector<suite::CellSummary>> WriteNightFiles(
    const Night& n, const std::string& store, const std::map<std::string, std::string>& changes) {
  auto cells = suite::Summarize(n.suite, n.records);
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {filename::kSuiteJson,
            suite::ToJson(n.suite, cells, n.records, n.options, store).dump(1)},
           {filename::kJUnit, suite::RenderJUnit(n.suite, cells, n.records, changes)},
           {filename::kIndex, suite::RenderIndexHtml(n.suite, cells, n.records, n.dir)},
           {filename::kMatrix, suite::RenderMatrix(cells)}}) {
    if (Status s = WriteFileAtomic(n.dir + "/" + name, text); !s.ok()) return s.error();
  }
  return cells;
}

// The last step of every suite run: the latest link, and for a whole night the trend and what
// changed (which the JUnit of this night then names). Returns the exit code.
int FinishNight(const Night& n, const std::string& store) {
  auto cells = WriteNightFiles(n, store, {});
  if (!cells.ok()) {
    std::cerr << "tidemark suite: " << cells.error().message << "\n";
    return 255;
  }
  std::error_code ec;
  fs::path latest = fs::path(n.dir).parent_path() / filename::kLatest;
  fs::path tmp = latest.string() + ".tmp";
  fs::remove(tmp, ec);
  fs::create_directory_symlink(fs::path(n.dir).filename(), tmp, ec);
  if (!ec) fs::rename(tmp, latest, ec);
  std::cout << "\n" << suite::RenderMatrix(*cells) << "\nmatrix: " << n.dir << "/index.html\n";
  if (!n.sharded && !Interrupted()) {
    auto trend = suite::WriteTrend(store, n.suite.name);
    if (!trend.ok()) {
      std::cerr << "tidemark suite: " << trend.error().message << "\n";
      return 255;
    }
    if (!trend->changes.empty()) {
      std::cout << "changed since the previous night:\n";
      for (const auto& [cell, what] : trend->changes)
        std::cout << "  " << cell << ": " << what << "\n";
      if (auto again = WriteNightFiles(n, store, trend->changes); !again.ok()) return 255;
    } else if (trend->nights.size() > 1) {
      std::cout << "nothing changed since the previous night\n";
    }
    std::cout << "trend: " << trend->path << "\n";
  }
  for (const suite::CellSummary& c : *cells)
    if (c.runs > 0 && !c.pass)
      std::cout << "REGRESSION: " << c.cell << ": expected " << c.expect << ", observed "
                << c.observed << "\n";
  if (Interrupted()) {
    std::cout << "interrupted: the matrix holds the runs finished so far\n";
    return 130;
  }
  return suite::AllPass(*cells) ? 0 : 1;
}

// The plan for this invocation: all runs, fitted into the budget, then this shard's slice.
Result<std::vector<suite::PlannedRun>> PlanRuns(const SuiteCommandOptions& o, const suite::Suite& s,
                                                const CLI::App& cmd) {
  std::optional<uint64_t> base;
  if (cmd.count("--seed-base")) base = o.seed_base;
  std::vector<suite::PlannedRun> plan = suite::Plan(s, base);
  std::pair<int, int> shard{1, 1};
  if (!o.shard.empty()) {
    auto parsed = suite::ParseShard(o.shard);
    if (!parsed.ok()) return Error{"--shard: " + parsed.error().message};
    shard = *parsed;
  }
  if (!o.budget.empty()) {
    auto budget = suite::ParseDuration(o.budget);
    if (!budget.ok()) return Error{"--budget: " + budget.error().message};
    suite::BudgetResult fit = suite::ApplyBudget(s, plan, *budget, shard.second);
    std::cout << "budget " << o.budget << (shard.second > 1 ? " per shard" : "") << ": "
              << fit.kept.size() << " of " << plan.size() << " runs, about "
              << Fixed(fit.planned_s / 60 / shard.second, 0) << " min"
              << (shard.second > 1 ? " per shard" : "") << " (time limit + "
              << Fixed(suite::kRunOverheadS, 0) << " s each)\n";
    for (const std::string& d : fit.dropped) std::cout << "  dropped: " << d << "\n";
    plan = fit.kept;
  }
  if (!o.shard.empty()) plan = suite::Shard(plan, shard.first, shard.second);
  return plan;
}

json OptionsJson(const SuiteCommandOptions& o, const CLI::App& cmd) {
  return {{"file", o.file},   {"store", o.store},
          {"net", o.net},     {"seed_base", cmd.count("--seed-base") ? json(o.seed_base) : json()},
          {"shard", o.shard}, {"budget", o.budget}};
}

// Runs the planned runs one after the other, rewriting the night's files after each.
int RunPlan(const SuiteCommandOptions& o, Night& n, const std::vector<suite::PlannedRun>& plan,
            const std::string& self) {
  InstallInterruptForwarding();
  bool harness_error = false;
  for (size_t i = 0; i < plan.size() && !Interrupted(); ++i) {
    const suite::Cell& cell = n.suite.cells[plan[i].cell];
    std::vector<std::string> argv = {self};
    for (std::string& a : suite::RunArgs(n.suite, plan[i], o.store, o.net))
      argv.push_back(std::move(a));
    std::string log =
        n.dir + "/logs/" + cell.name + "-" + std::to_string(plan[i].index + 1) + ".log";
    zoo::RunRecord r = RunChild(argv, log, cell.name, plan[i].seed);
    if (r.exit_code == 254 || r.exit_code == -1) harness_error = true;
    std::cout << "[" << i + 1 << "/" << plan.size() << "] " << r.row << " seed " << r.seed << ": "
              << (r.verdict.empty() ? "no verdict (" + r.error + ")" : r.verdict) << " (expect "
              << cell.expect << "), " << Fixed(r.wall_s, 0) << " s\n"
              << std::flush;
    n.records.push_back(std::move(r));
    if (auto w = WriteNightFiles(n, o.store, {}); !w.ok()) {
      std::cerr << "tidemark suite: " << w.error().message << "\n";
      return 255;
    }
  }
  // An interrupted night is kept (its partial matrix) but is not a night of the trend.
  if (Interrupted()) n.options["interrupted"] = true;
  int rc = FinishNight(n, o.store);
  return harness_error && rc != 130 ? 255 : rc;
}

// Where a run listed in a suite.json lives now: its recorded path, or (a store copied
// elsewhere, e.g. a CI artifact) the same place relative to the store that suite.json is in.
std::string ResolveRunDir(const json& run, const fs::path& suite_json) {
  std::string dir = run.value("run_dir", "");
  std::error_code ec;
  if (!dir.empty() && fs::exists(filename::Results(dir), ec)) return dir;
  std::string rel = run.value("run_in_store", "");
  // STORE/suite/NAME/TIME/suite.json: the store is four levels up.
  fs::path store = suite_json.parent_path().parent_path().parent_path().parent_path();
  if (!rel.empty() && fs::exists(filename::Results((store / rel).string()), ec))
    return (store / rel).lexically_normal().string();
  return "";
}

zoo::RunRecord RecordFromJson(const json& j, const fs::path& suite_json) {
  std::string dir = ResolveRunDir(j, suite_json);
  zoo::RunRecord r;
  if (!dir.empty()) {
    r = zoo::ReadRun(dir);
  } else {
    // The run directory did not travel with the matrix: keep what the shard read.
    r.run_dir = j.value("run_dir", "");
    r.verdict = j.value("verdict", "");
    r.error = j.value("error", "");
    if (j.contains("anomalies") && j["anomalies"].is_object())
      r.anomalies = j["anomalies"].get<std::map<std::string, int64_t>>();
  }
  r.row = j.value("cell", "");
  r.seed = j.value("seed", uint64_t{0});
  r.exit_code = j.value("exit_code", -1);
  r.wall_s = j.value("wall_s", 0.0);
  return r;
}

// --from: one night from the shards' matrices (each run re-read from its directory).
int Merge(const SuiteCommandOptions& o) {
  Night n;
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const std::string& path : o.from) {
    auto doc = store::ReadJsonFile(path);
    if (!doc.ok() || !doc->is_object() || !doc->contains("suite") || !doc->contains("runs") ||
        !(*doc)["runs"].is_array()) {
      std::cerr << "tidemark suite: --from " << path
                << ": not a suite.json (needs \"suite\" and a \"runs\" array)\n";
      return 254;
    }
    auto s = suite::ParseSuite((*doc)["suite"].dump(), path + " (\"suite\")");
    if (!s.ok()) {
      std::cerr << "tidemark suite: " << s.error().message << "\n";
      return 254;
    }
    if (n.suite.name.empty()) n.suite = *s;
    if (s->name != n.suite.name) {
      std::cerr << "tidemark suite: --from " << path << " is suite \"" << s->name
                << "\", the first --from is \"" << n.suite.name
                << "\"; merge one suite at a time\n";
      return 254;
    }
    for (const json& j : (*doc)["runs"]) {
      zoo::RunRecord r = RecordFromJson(j, path);
      if (seen.insert({r.row, r.seed}).second) n.records.push_back(std::move(r));
    }
  }
  auto dir = store::CreateRunDir((fs::path(o.store) / filename::kSuiteDir).string(), n.suite.name,
                                 std::chrono::system_clock::now());
  if (!dir.ok()) {
    std::cerr << "tidemark suite: " << dir.error().message << "\n";
    return 255;
  }
  n.dir = dir->path;
  n.options = {{"from", o.from}, {"store", o.store}, {"shard", ""}};
  std::cout << "suite " << n.suite.name << ": merged " << n.records.size() << " runs from "
            << o.from.size() << " matrices\n";
  return FinishNight(n, o.store);
}

}  // namespace

CLI::App* AddSuiteCommand(CLI::App& app, SuiteCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "suite",
      "Run a suite file: cells of workload x faults for any target, each with the verdict it "
      "must keep giving; a matrix per night and a trend across nights");
  cmd->add_option("file", o.file, "Suite file (docs/suite.md), e.g. targets/etcd-suite.json")
      ->check(CLI::ExistingFile);
  cmd->add_option("--store", o.store, "Store for the runs and the matrix")->capture_default_str();
  cmd->add_option("--net", o.net, "Network backend for partitions: auto, netns, proxy")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "netns", "proxy"}));
  cmd->add_option("--seed-base", o.seed_base,
                  "Run i of cell k uses seed S + 1000 k + i (as `tidemark zoo --seed S`); "
                  "default: a hash of (suite, cell, i), the same every night");
  cmd->add_option("--shard", o.shard,
                  "I/N: run only shard I of N (1-based) of the (cell, run) list; merge the "
                  "shards' suite.json files with --from");
  cmd->add_option("--budget", o.budget,
                  "Fit the plan into this much time (per shard), e.g. 2h, 90m, 1h30m: fewer "
                  "runs per cell, spread fairly; prints what it dropped");
  cmd->add_flag("--dry-run", o.dry_run, "Print the plan (the tidemark run commands) and exit");
  cmd->add_option("--from", o.from,
                  "Run nothing: merge these suite.json files (shards of one suite) into one "
                  "night, re-reading every run from its directory")
      ->check(CLI::ExistingFile);
  cmd->footer(
      "\nExamples:\n"
      "  tidemark suite targets/etcd-suite.json --budget 10m\n"
      "  tidemark suite targets/tidelog-zoo-suite.json --shard 2/3 --store shard2\n"
      "  tidemark suite --from shard1/suite/zoo/latest/suite.json --from ... --store nightly\n\n"
      "Results: STORE/suite/NAME/<UTC time>/ (suite.json, junit.xml, index.html, matrix.txt,\n"
      "logs/), STORE/suite/NAME/trend.html (every night, cell by cell).\n\n"
      "Exit codes: 0 every cell met its expectation, 1 a regression, 130 interrupted,\n"
      "254 bad usage or an invalid suite file, 255 harness error.\n");
  return cmd;
}

int RunSuiteCommand(const SuiteCommandOptions& o, const CLI::App& cmd) {
  if (!o.from.empty()) return Merge(o);
  if (o.file.empty()) {
    std::cerr << "tidemark suite: name a suite file (or merge shards with --from)\n";
    return 254;
  }
  auto loaded = suite::LoadSuite(o.file);
  if (!loaded.ok()) {
    std::cerr << "tidemark suite: " << loaded.error().message << "\n";
    return 254;
  }
  auto plan = PlanRuns(o, *loaded, cmd);
  if (!plan.ok()) {
    std::cerr << "tidemark suite: " << plan.error().message << "\n";
    return 254;
  }
  const std::string self = SelfPath();
  if (self.empty()) {
    std::cerr << "tidemark suite: cannot find this binary (/proc/self/exe)\n";
    return 255;
  }
  std::cout << "suite " << loaded->name << ": " << plan->size() << " runs"
            << (o.shard.empty() ? "" : " (shard " + o.shard + ")") << "\n";
  if (o.dry_run) {
    for (const suite::PlannedRun& p : *plan) {
      std::vector<std::string> argv = {self};
      for (std::string& a : suite::RunArgs(*loaded, p, o.store, o.net)) argv.push_back(a);
      std::cout << JoinArgs(argv) << "\n";
    }
    return 0;
  }
  Night n;
  n.suite = *loaded;
  n.sharded = !o.shard.empty();
  n.options = OptionsJson(o, cmd);
  auto dir = store::CreateRunDir((fs::path(o.store) / filename::kSuiteDir).string(), n.suite.name,
                                 std::chrono::system_clock::now());
  if (!dir.ok()) {
    std::cerr << "tidemark suite: " << dir.error().message << "\n";
    return 255;
  }
  n.dir = dir->path;
  std::error_code ec;
  fs::create_directories(n.dir + "/logs", ec);
  std::cout << "results: " << n.dir << "\n" << std::flush;
  return RunPlan(o, n, *plan, self);
}

}  // namespace tidemark::cli
