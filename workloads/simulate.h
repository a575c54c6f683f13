// Simulate: drives a Generator the way the runner does, on a virtual clock, with a scripted
// system under test. Pure and deterministic: the reference for the runner's driving loop
// (generator.h), the tool the generator tests use, and usable for a dry run of a workload.
//
// Threading: none; everything happens on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "base/rng.h"
#include "workloads/generator.h"

namespace tidemark::workloads {

// What the simulated system answers to one op.
struct SimResponse {
  history::EventType type = history::EventType::kOk;  // kOk, kFail or kInfo
  nlohmann::json value;                               // completion value (null: none)
  int64_t latency_ns = 1'000'000;                     // > 0; completion at invoke + latency
  std::string error;                                  // empty: none
};

struct SimOptions {
  int concurrency = 5;
  int nodes = 3;
  // Stop (without waiting for outstanding ops) when the virtual clock passes this.
  int64_t max_time_ns = 3'600'000'000'000;
  // The system under test. Default: every op completes ok after 1 ms with its invoke value.
  std::function<SimResponse(const OpRequest&, int64_t invoke_ns, Rng&)> respond;
};

// Runs `gen` until it is done and its outstanding ops completed (or max_time_ns), recording
// events as the runner would: invoke at the time Next returned the op, completion at
// invoke + latency, processes retired after info (old + concurrency). Node indices become
// "n<index+1>" (absent OpRequest::node: the process's own node, process % nodes).
// Errors: the generator broke its contract (an op for a busy process, a kPending wake not in
// the future, kPending(kNever) with nothing in flight).
Result<history::History> Simulate(Generator& gen, const SimOptions& opts, Rng& gen_rng,
                                  Rng& sim_rng);

}  // namespace tidemark::workloads
