#include "harness/run/plan.h"

#include <algorithm>

#include "base/history/compact_reads.h"
#include "harness/run/routing.h"
#include "harness/run/test_name.h"
#include "runstore/store.h"

namespace tidemark::run {

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

Result<Plan> MakePlan(const RunOptions& opts) {
  Plan plan;
  auto desc = targets::LoadDescriptor(opts.target, opts.target_search_dirs);
  if (!desc.ok()) return desc.error();
  plan.desc = std::move(*desc);
  const targets::Descriptor& d = plan.desc;
  if (std::find(d.workloads.begin(), d.workloads.end(), opts.workload) == d.workloads.end())
    return Error{"target '" + d.name + "' does not support workload '" + opts.workload +
                 "' (it supports: " + Join(d.workloads, ", ") + ")"};
  if (!opts.bugs.empty() && d.bug_argv.empty())
    return Error{"--bug is only for targets with a bug zoo; '" + d.name +
                 "' has no start.bug_argv in " + d.path};
  workloads::WorkloadOptions wo;
  wo.name = opts.workload;
  wo.rate = opts.rate;
  wo.concurrency = opts.concurrency;
  wo.time_limit_s = opts.time_limit_s;
  wo.nodes = opts.nodes;
  wo.final_timeout_s = opts.final_timeout_s;
  if (ParseRouting(opts.client_routing) == Routing::kMixed) {
    const int nodes = opts.nodes, concurrency = opts.concurrency;
    wo.reader = [=](int64_t p) { return IsNodeReader(p, concurrency, nodes); };
  }
  auto workload = workloads::MakeWorkload(wo);
  if (!workload.ok()) return workload.error();
  plan.workload = std::move(*workload);
  auto model = workloads::ModelOf(opts.workload);
  if (!model.ok()) return model.error();
  plan.model = *model;
  plan.test_name = DefaultTestName(d.name, opts);
  return plan;
}

// test.json as the run starts (the nodes and the nemesis are filled in as they are known).
nlohmann::json TestDoc(const RunOptions& opts, const Plan& plan,
                       std::chrono::system_clock::time_point started) {
  return {
      {"name", plan.test_name},
      {"seed", opts.seed},
      {"started", store::UtcTimestamp(started)},
      {"command_line", opts.command_line},
      {"repeat", opts.repeat_command},
      {"target",
       {{"name", plan.desc.name}, {"descriptor", plan.desc.path}, {"adapter", plan.desc.adapter}}},
      {"cluster", {{"nodes", opts.nodes}, {"bugs", opts.bugs}, {"node_args", opts.node_args}}},
      {"workload",
       {{"name", opts.workload},
        {"concurrency", opts.concurrency},
        {"rate", opts.rate},
        {"time_limit_s", opts.time_limit_s},
        {"op_timeout_s", opts.op_timeout_s},
        {"read_timeout_s", opts.read_timeout_s},
        {"client_routing", opts.client_routing},
        {"retry_writes", opts.retry_writes}}},
      {"nemesis",
       {{"faults", opts.nemesis},
        {"scenario", opts.scenario},
        {"interval_s", opts.nemesis_interval_s},
        {"net", opts.net}}},
      {"checker", {{"timeout_s", opts.check_timeout_s}}},
      {"versions", {{"tidemark", "0.1.0"}, {"history_format", history::kHistoryFormat}}}};
}

NemesisConfig NemesisConfigOf(const RunOptions& opts, const std::string& run_dir) {
  NemesisConfig nc;
  nc.nemesis = opts.nemesis;
  nc.scenario = opts.scenario;
  nc.interval_s = opts.nemesis_interval_s;
  nc.net = opts.net;
  nc.duration_s = opts.time_limit_s;
  nc.seed = opts.seed;
  nc.nodes = opts.nodes;
  nc.run_dir = run_dir;
  nc.lazyfs_binary = opts.bin_dir + "/tidemark-lazyfs";
  nc.power_cuts = opts.power_cuts;
  return nc;
}

}  // namespace tidemark::run
