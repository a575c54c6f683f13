#include "harness/run/driver.h"

#include <algorithm>
#include <utility>

#include "harness/run/interrupt.h"

namespace tidemark::run {

using Clock = std::chrono::steady_clock;

Driver::Driver(Recorder& rec, Dispatcher& dispatcher, Cluster& cluster, Watcher& watcher,
               int concurrency, uint64_t seed)
    : rec_(rec),
      dispatcher_(dispatcher),
      cluster_(cluster),
      watcher_(watcher),
      concurrency_(concurrency),
      gen_rng_(Rng::Derive(seed, "generator")),
      route_rng_(Rng::Derive(seed, "router")) {
  for (int w = 0; w < concurrency; ++w) process_of_slot_.push_back(w);
  busy_.assign(static_cast<size_t>(concurrency), false);
  pending_.resize(static_cast<size_t>(concurrency));
}

bool Driver::Drive(workloads::Generator& gen, int64_t hard_deadline_ns) {
  bool done = false;
  while (true) {
    if (Interrupted()) return false;
    int64_t now = rec_.NowNs();
    if (now >= hard_deadline_ns) return true;
    int64_t wake = done ? history::kNever : InvokeReady(gen, now, &done);
    if (done && dispatcher_.outstanding() == 0) {
      rec_.Flush();
      return true;
    }
    // Sleep until the generator's wake time, a completion, or 100 ms at most.
    int64_t sleep_ns = std::min<int64_t>(100'000'000, std::max<int64_t>(0, wake - now));
    sleep_ns = std::min(sleep_ns, hard_deadline_ns - now);
    Drain(Clock::now() + std::chrono::nanoseconds(sleep_ns), &gen);
  }
}

int64_t Driver::InvokeReady(workloads::Generator& gen, int64_t now, bool* done) {
  while (true) {
    workloads::GenContext& ctx = ctx_;  // reused: its vector keeps its capacity
    ctx.time_ns = now;
    ctx.concurrency = concurrency_;
    ctx.nodes = cluster_.size();
    ctx.free_processes.clear();
    for (int w = 0; w < concurrency_; ++w)
      if (!busy_[static_cast<size_t>(w)])
        ctx.free_processes.push_back(process_of_slot_[static_cast<size_t>(w)]);
    std::sort(ctx.free_processes.begin(), ctx.free_processes.end());
    workloads::GenResult r = gen.Next(ctx, gen_rng_);
    if (r.kind == workloads::GenResult::kOp) {
      Invoke(std::move(r.op), &gen);
      continue;
    }
    if (r.kind == workloads::GenResult::kDone) *done = true;
    return r.kind == workloads::GenResult::kPending ? r.wake_ns : history::kNever;
  }
}

void Driver::DrainRemaining(Clock::time_point until) {
  while (dispatcher_.outstanding() > 0 && Clock::now() < until) Drain(until, nullptr);
  rec_.Flush();
}

int Driver::RouteOf(const workloads::OpRequest& op) {
  if (op.node) return *op.node;
  std::optional<int> leader;
  if (routing_ != Routing::kNode) leader = watcher_.Leader();
  return RouteOp(routing_, op.process, concurrency_, cluster_.size(), leader, route_rng_);
}

void Driver::Invoke(workloads::OpRequest op, workloads::Generator* gen) {
  int slot = static_cast<int>(op.process % concurrency_);
  int node = RouteOf(op);
  history::Event e;
  e.process = op.process;
  e.type = history::EventType::kInvoke;
  e.f = op.f;
  e.key = op.key;
  e.value = op.value;
  e.node = cluster_.Name(node);
  // Batched: Drain flushes before the dispatcher sends anything.
  e = rec_.Record(std::move(e), Recorder::Write::kBatched);
  pending_[static_cast<size_t>(slot)] = Pending{history::OpFromInvoke(e, e.index), gen};
  busy_[static_cast<size_t>(slot)] = true;
  dispatcher_.Dispatch(slot,
                       Job{std::move(op), node, cluster_.Name(node), cluster_.ClientUrl(node)});
}

void Driver::Drain(Clock::time_point until, workloads::Generator* gen) {
  rec_.Flush();  // every invoke is in the file before its request is sent
  for (Done& d : dispatcher_.WaitCompletions(until)) {
    Pending& p = pending_[static_cast<size_t>(d.slot)];
    history::Event e;
    e.process = d.job.op.process;
    e.type = d.completion.type;
    e.f = d.job.op.f;
    e.key = d.job.op.key;
    e.value = std::move(d.completion.value);  // a read's value can be large: moved, not copied
    e.value_text = std::move(d.completion.value_text);
    e.node = d.completion.node.empty() ? d.job.node_name : d.completion.node;
    e.error = d.completion.error;
    busy_[static_cast<size_t>(d.slot)] = false;
    if (e.type == history::EventType::kInfo)
      process_of_slot_[static_cast<size_t>(d.slot)] += concurrency_;  // retire the process
    workloads::Generator* owner = p.gen ? p.gen : gen;
    if (!owner) {
      rec_.Record(std::move(e), Recorder::Write::kBatched);
      continue;
    }
    // The generator hears of the completion as recorded: the event, once written, is moved
    // into the op (no copy of a read's value).
    rec_.RecordAndUse(
        std::move(e),
        [&](history::Event& r) {
          history::CompleteOp(p.op, std::move(r));
          owner->OnComplete(p.op);
        },
        Recorder::Write::kBatched);
  }
  // These completions are written with the next round's invokes: the next Drain flushes before
  // it sends or sleeps.
}

}  // namespace tidemark::run
