#include "workloads/simulate.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace tidemark::workloads {
namespace {

struct InFlight {
  history::Op op;  // invoke side filled in
  SimResponse response;
};

}  // namespace

Result<history::History> Simulate(Generator& gen, const SimOptions& opts, Rng& gen_rng,
                                  Rng& sim_rng) {
  history::History h;
  std::set<int64_t> free;
  for (int p = 0; p < opts.concurrency; ++p) free.insert(p);
  // (completion time, process) -> op; ordered so completions are delivered in time order.
  std::map<std::pair<int64_t, int64_t>, InFlight> in_flight;
  int64_t now = 0;
  bool done = false;

  auto record = [&h](history::Event e) {
    e.index = static_cast<int64_t>(h.size());
    h.push_back(std::move(e));
  };

  while (now <= opts.max_time_ns) {
    int64_t wake = kNever;
    if (!done) {
      GenContext ctx{now, std::vector<int64_t>(free.begin(), free.end()), opts.concurrency,
                     opts.nodes};
      GenResult r = gen.Next(ctx, gen_rng);
      if (r.kind == GenResult::kOp) {
        OpRequest& op = r.op;
        if (free.erase(op.process) == 0) {
          return Error{"generator emitted an op for busy process " + std::to_string(op.process) +
                       " at " + std::to_string(now) + " ns"};
        }
        const int node = op.node ? *op.node : static_cast<int>(op.process % opts.nodes);
        const std::string node_name = "n" + std::to_string(node + 1);
        history::Event inv;
        inv.time_ns = now;
        inv.process = op.process;
        inv.type = history::EventType::kInvoke;
        inv.f = op.f;
        inv.key = op.key;
        inv.value = op.value;
        inv.node = node_name;
        record(inv);
        InFlight f;
        f.op.process = op.process;
        f.op.f = op.f;
        f.op.key = op.key;
        f.op.invoke_value = op.value;
        f.op.call_ns = now;
        f.op.invoke_index = inv.index;
        f.op.node = node_name;
        if (opts.respond) {
          f.response = opts.respond(op, now, sim_rng);
        } else {
          f.response.value = op.value;
        }
        const int64_t at = now + std::max<int64_t>(f.response.latency_ns, 1);
        in_flight.emplace(std::make_pair(at, op.process), std::move(f));
        continue;
      }
      if (r.kind == GenResult::kDone) {
        done = true;
      } else {
        if (r.wake_ns <= now) {
          return Error{"generator returned kPending with wake " + std::to_string(r.wake_ns) +
                       " ns not after now " + std::to_string(now) + " ns"};
        }
        wake = r.wake_ns;
      }
    }
    if (in_flight.empty()) {
      if (done) break;
      if (wake == kNever) return Error{"generator waits for a completion with nothing in flight"};
    }
    const int64_t next_completion = in_flight.empty() ? kNever : in_flight.begin()->first.first;
    now = std::min(wake, next_completion);
    if (now == kNever) break;
    // Deliver every completion due by now, in time order.
    while (!in_flight.empty() && in_flight.begin()->first.first <= now) {
      auto node = in_flight.extract(in_flight.begin());
      InFlight& f = node.mapped();
      history::Event c;
      c.time_ns = node.key().first;
      c.process = f.op.process;
      c.type = f.response.type;
      c.f = f.op.f;
      c.key = f.op.key;
      c.value = f.response.value.is_null() && f.response.type != history::EventType::kOk
                    ? f.op.invoke_value
                    : f.response.value;
      c.node = f.op.node;
      if (!f.response.error.empty()) c.error = f.response.error;
      record(c);
      f.op.status = c.type;
      f.op.value = c.value;
      f.op.return_ns = c.type == history::EventType::kInfo ? kNever : c.time_ns;
      f.op.complete_index = c.index;
      f.op.error = c.error;
      free.insert(c.type == history::EventType::kInfo ? f.op.process + opts.concurrency
                                                      : f.op.process);
      gen.OnComplete(f.op);
    }
  }
  return h;
}

}  // namespace tidemark::workloads
