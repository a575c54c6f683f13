#include "workloads/log.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tidemark::workloads {

LogGenerator::LogGenerator(LogOptions opts) : opts_(opts) {
  opts_.read_window = std::max<int64_t>(opts_.read_window, 0);
}

GenResult LogGenerator::Next(const GenContext& ctx, Rng& rng) {
  if (ctx.free_processes.empty()) return GenResult::Pending(kNever);
  OpRequest op;
  op.process = ctx.free_processes[rng.Uniform(ctx.free_processes.size())];
  const bool reader = opts_.reader && opts_.reader(op.process);
  if (reader || rng.Bernoulli(opts_.read_fraction)) {
    op.f = "read";
    const int64_t from = std::max<int64_t>(0, max_hwm_ - rng.UniformInt(0, opts_.read_window));
    const bool local = rng.Bernoulli(reader ? 0.5 : opts_.local_read_fraction);
    op.value = {{"from", from}, {"consistency", local ? "local" : "linearizable"}};
    if (local && !reader) {
      op.node = PickLocalNode(ctx, rng);
      local_read_node_[op.process] = *op.node;
    }
  } else {
    op.f = "append";
    op.value = "v" + std::to_string(op.process) + "-" + std::to_string(++appends_);
  }
  return GenResult::Op(std::move(op));
}

int LogGenerator::PickLocalNode(const GenContext& ctx, Rng& rng) const {
  const int n = std::max(ctx.nodes, 1);
  std::vector<int> open;
  for (int i = 0; i < n; ++i) {
    auto it = avoid_until_ns_.find(i);
    if (it == avoid_until_ns_.end() || it->second <= ctx.time_ns) open.push_back(i);
  }
  // Every node timed out lately: nothing to prefer, so any node.
  if (open.empty()) return static_cast<int>(rng.Uniform(static_cast<uint64_t>(n)));
  return open[rng.Uniform(open.size())];
}

void LogGenerator::OnComplete(const history::Op& completed) {
  auto local = local_read_node_.find(completed.process);
  if (local != local_read_node_.end()) {
    const bool slow = completed.return_ns == history::kNever ||
                      completed.return_ns - completed.call_ns >= opts_.slow_read_ns;
    if (completed.status != history::EventType::kOk && slow && opts_.avoid_after_timeout_ns > 0) {
      int64_t& until = avoid_until_ns_[local->second];
      until = std::max(until, completed.call_ns + opts_.avoid_after_timeout_ns);
    }
    local_read_node_.erase(local);
  }
  if (completed.status != history::EventType::kOk || !completed.value.is_object()) return;
  auto it = completed.value.find("hwm");
  if (it != completed.value.end() && it->is_number_integer()) {
    max_hwm_ = std::max(max_hwm_, it->get<int64_t>());
  }
}

GenPtr LogFinalReads(int64_t attempts, int64_t retry_interval_ns) {
  return OnNodes([attempts, retry_interval_ns](int) {
    return UntilOk(Limit(
        attempts, Stagger(retry_interval_ns, Repeat([](const GenContext&, Rng&) {
                            OpRequest op;
                            op.f = "read";
                            op.value = {{"from", 0}, {"consistency", "local"}, {"final", true}};
                            return op;
                          }))));
  });
}

}  // namespace tidemark::workloads
