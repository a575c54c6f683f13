// The run in phases (Jepsen's run!), as one object: RunTest (runner.cc) makes the plan
// (plan.h) and the run directory, then Run::Execute goes through
//
//   start (start_phase.cc)  history, network for faults, nodes until ready, clients
//   drive                   main phase under faults, heal, recover, final reads (driver.h)
//   collect                 stop clients and nodes, final HWMs, replicas' dumps (collect.h)
//   analyse                 checkers::Analyse over the history read back from disk
//   write                   results.json, report, junit.xml, index, links (run_files.h)
//
// A start that fails goes straight to write with the cause (Stopped). Members are declared in
// the order they are built, so they are destroyed in reverse: nodes stop before the network
// they live in goes away. Internal to harness/run/.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/filename.h"
#include "base/history/history.h"
#include "base/result.h"
#include "checkers/analyse.h"
#include "checkers/log/log_checker.h"
#include "harness/process/supervisor.h"
#include "harness/run/cluster.h"
#include "harness/run/dispatcher.h"
#include "harness/run/driver.h"
#include "harness/run/nemesis_wiring.h"
#include "harness/run/plan.h"
#include "harness/run/recorder.h"
#include "harness/run/run_files.h"
#include "harness/run/runner.h"
#include "harness/run/watcher.h"
#include "runstore/store.h"
#include "targets/adapters/client.h"
#include "targets/adapters/registry.h"

namespace tidemark::run {

// The controller's and the nodes' CPU, for results.json "harness".
struct CpuUse {
  double main_s = 0;  // the main phase alone (no start-up, recovery or final reads)
  int64_t main_ops = 0;
  double harness_s = 0;  // start-up to the end of the final reads
  double nodes_s = 0;
};

// One run past its plan; Execute goes through the phases above, once.
class Run {
 public:
  Run(const RunOptions& opts, Plan plan, store::RunDir dir, nlohmann::json test, std::ostream& out)
      : opts_(opts),
        plan_(std::move(plan)),
        dir_(std::move(dir)),
        test_(std::move(test)),
        out_(out) {}

  Result<RunOutcome> Execute();

 private:
  Status WriteTest() { return store::WriteJsonFile(filename::TestJson(dir_.path), test_); }
  Status Start(StopCause* cause);
  Status StartNodes(StopCause* cause);
  Status StartDispatcher();
  bool Drive();
  bool DriveMain();
  bool DriveFinal();
  void Collect();
  Result<RunOutcome> AnalyseAndWrite(bool completed);
  Result<RunOutcome> Stopped(StopCause cause, const Error& error);
  history::History ReadBack(std::string* read_error);
  nlohmann::json RunFields(nlohmann::json results, bool interrupted) const;
  std::optional<std::pair<checkers::Analysis, checkers::StreamedHistory>> AnalyseStreamed(
      const checkers::AnalysisSpec& spec);
  Result<RunOutcome> Write(nlohmann::json results, RunRecord record);

  const RunOptions& opts_;
  Plan plan_;
  store::RunDir dir_;
  nlohmann::json test_;
  std::ostream& out_;
  std::unique_ptr<Recorder> rec_;
  std::unique_ptr<NemesisWiring> nemesis_;
  std::unique_ptr<process::Supervisor> sup_;
  std::unique_ptr<Cluster> cluster_;
  // The adapter's session for this run (registry.h): every client and status client comes from
  // it; the exec adapter runs the user's client program in it.
  std::unique_ptr<targets::Session> session_;
  std::unique_ptr<targets::StatusClient> status_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<Driver> driver_;
  std::optional<Result<std::vector<checkers::ReplicaLog>>> replicas_;
  CpuUse cpu_;
};

}  // namespace tidemark::run
