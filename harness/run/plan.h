// The run's plan phase: everything `tidemark run` decides before it creates anything — the
// target's descriptor, the workload and the model its history is checked against, the test's
// name, test.json's first form and the nemesis' configuration. A plan that cannot be made is
// an error before any run directory exists.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "harness/run/nemesis_wiring.h"
#include "harness/run/runner.h"
#include "targets/target.h"
#include "workloads/workload.h"

namespace tidemark::run {

// The run's plan: everything decided before anything is created.
struct Plan {
  targets::Descriptor desc;
  std::unique_ptr<workloads::Workload> workload;
  std::string model;  // what the history is checked against (workloads::ModelOf)
  std::string test_name;
};

// Errors: no such target, a workload or --bug it does not support, bad workload options.
Result<Plan> MakePlan(const RunOptions& opts);

// test.json as the run starts (the nodes and the nemesis are filled in as they are known).
nlohmann::json TestDoc(const RunOptions& opts, const Plan& plan,
                       std::chrono::system_clock::time_point started);

NemesisConfig NemesisConfigOf(const RunOptions& opts, const std::string& run_dir);

std::string Join(const std::vector<std::string>& v, const std::string& sep);

}  // namespace tidemark::run
