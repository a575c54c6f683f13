#include "harness/cli/run_preflight.h"

#include <algorithm>
#include <ostream>

#include "harness/cli/suggest.h"
#include "harness/zoo/zoo.h"
#include "nemesis/nemesis.h"
#include "nemesis/scenario.h"
#include "targets/target.h"

namespace tidemark::cli {
namespace {

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& s : nemesis::Scenarios()) names.push_back(s.name);
  return names;
}

// " (did you mean 'partition'?)" for the first item of a --nemesis list that names no fault.
std::string SuggestFault(const std::string& value) {
  static const std::vector<std::string> kFaults = {"none", "partition", "kill", "pause", "all"};
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = std::min(value.find(',', start), value.size());
    std::string item = value.substr(start, end - start);
    std::string kind = item.substr(0, item.find(':'));
    if (std::find(kFaults.begin(), kFaults.end(), kind) == kFaults.end())
      return DidYouMean(kind, kFaults);
    start = end + 1;
  }
  return "";
}

Status CheckFaults(const run::RunOptions& opts, const targets::Descriptor& desc) {
  auto faults = nemesis::ParseNemesis(opts.nemesis);
  if (!faults.ok()) return Error{faults.error().message + SuggestFault(opts.nemesis)};
  if (Status s = nemesis::CheckSupported(*faults, desc); !s.ok()) return s;
  if (opts.scenario.empty()) return OkStatus();
  if (!faults->empty())
    return Error{"--scenario " + opts.scenario + " and --nemesis " + opts.nemesis +
                 " both choose the faults: give one of them (a scenario is its own schedule)"};
  if (!nemesis::FindScenario(opts.scenario).ok())
    return Error{"unknown --scenario '" + opts.scenario + "'" +
                 DidYouMean(opts.scenario, ScenarioNames()) +
                 "; the scenarios are: " + JoinChoices(ScenarioNames())};
  return OkStatus();
}

const zoo::ZooEntry* FindBug(const std::string& bug) {
  for (const zoo::ZooEntry& e : zoo::Catalogue())
    if (!e.bug.empty() && e.bug == bug) return &e;
  return nullptr;
}

Status CheckBugs(const run::RunOptions& opts, const targets::Descriptor& desc, std::ostream& warn) {
  if (opts.bugs.empty()) return OkStatus();
  if (desc.bug_argv.empty())
    return Error{"--bug is only for targets with a bug zoo; '" + desc.name +
                 "' has no start.bug_argv in " + desc.path};
  if (desc.name != "tidelog") return OkStatus();  // another zoo: its own binary judges names
  const std::vector<std::string> names = TidelogBugNames();
  for (const std::string& bug : opts.bugs) {
    if (!FindBug(bug))
      return Error{"unknown --bug '" + bug + "'" + DidYouMean(bug, names) +
                   "; tidelog's bugs are: " + JoinChoices(names) + " (docs/bug-zoo.md)"};
  }
  if (opts.nemesis != "none" || !opts.scenario.empty()) return OkStatus();
  for (const std::string& bug : opts.bugs) {
    warn << "warning: --bug " << bug
         << " with no faults (--nemesis none): the bug may never show and the run pass. The zoo "
            "exposes it with: tidemark run --bug "
         << bug;
    for (const std::string& a : FindBug(bug)->run_args) warn << " " << a;
    warn << "\n";
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string> TidelogBugNames() {
  std::vector<std::string> names;
  for (const zoo::ZooEntry& e : zoo::Catalogue())
    if (!e.bug.empty()) names.push_back(e.bug);
  return names;
}

Status PreflightRun(const run::RunOptions& opts, std::ostream& warn) {
  auto desc = targets::LoadDescriptor(opts.target, opts.target_search_dirs);
  if (!desc.ok()) return desc.error();
  const auto& w = desc->workloads;
  if (std::find(w.begin(), w.end(), opts.workload) == w.end())
    return Error{"target '" + desc->name + "' does not support workload '" + opts.workload +
                 "' (it supports: " + JoinChoices(w) + ")"};
  if (Status s = CheckFaults(opts, *desc); !s.ok()) return s;
  return CheckBugs(opts, *desc, warn);
}

}  // namespace tidemark::cli
