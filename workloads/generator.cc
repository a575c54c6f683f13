#include "workloads/generator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace tidemark::workloads {

GenResult GenResult::Op(OpRequest op) {
  GenResult r;
  r.kind = kOp;
  r.op = std::move(op);
  return r;
}

GenResult GenResult::Pending(int64_t wake_ns) {
  GenResult r;
  r.kind = kPending;
  r.wake_ns = wake_ns;
  return r;
}

GenResult GenResult::Done() { return GenResult{}; }

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "tidemark: internal error: %s\n", what);
  std::abort();
}

class RepeatGen : public Generator {
 public:
  RepeatGen(OpFn fn, int64_t count) : fn_(std::move(fn)), remaining_(count) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (remaining_ == 0) return GenResult::Done();
    if (ctx.free_processes.empty()) return GenResult::Pending(kNever);
    const int64_t p = ctx.free_processes[rng.Uniform(ctx.free_processes.size())];
    OpRequest op = fn_(ctx, rng);
    op.process = p;
    if (remaining_ > 0) --remaining_;
    return GenResult::Op(std::move(op));
  }

 private:
  OpFn fn_;
  int64_t remaining_;  // < 0: endless
};

class LimitGen : public Generator {
 public:
  LimitGen(int64_t n, GenPtr gen) : remaining_(n), gen_(std::move(gen)) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (remaining_ <= 0) return GenResult::Done();
    GenResult r = gen_->Next(ctx, rng);
    if (r.kind == GenResult::kOp) --remaining_;
    return r;
  }
  void OnComplete(const history::Op& op) override { gen_->OnComplete(op); }

 private:
  int64_t remaining_;
  GenPtr gen_;
};

class TimeLimitGen : public Generator {
 public:
  TimeLimitGen(int64_t duration_ns, GenPtr gen) : duration_ns_(duration_ns), gen_(std::move(gen)) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (!deadline_ns_) deadline_ns_ = ctx.time_ns + duration_ns_;
    if (ctx.time_ns >= *deadline_ns_) return GenResult::Done();
    GenResult r = gen_->Next(ctx, rng);
    if (r.kind == GenResult::kPending) r.wake_ns = std::min(r.wake_ns, *deadline_ns_);
    return r;
  }
  void OnComplete(const history::Op& op) override { gen_->OnComplete(op); }

 private:
  int64_t duration_ns_;
  std::optional<int64_t> deadline_ns_;
  GenPtr gen_;
};

class StaggerGen : public Generator {
 public:
  StaggerGen(int64_t mean_ns, GenPtr gen)
      : mean_ns_(std::max<int64_t>(mean_ns, 0)), gen_(std::move(gen)) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (!next_ns_) next_ns_ = ctx.time_ns;
    if (ctx.time_ns < *next_ns_) return GenResult::Pending(*next_ns_);
    GenResult r = gen_->Next(ctx, rng);
    if (r.kind == GenResult::kOp) {
      // Anchor to the schedule (so the long-run rate holds) but never let it lag far behind the
      // clock: after a stall, ops resume at the normal rate instead of in a burst.
      const int64_t base = std::max(*next_ns_, ctx.time_ns - mean_ns_);
      next_ns_ = base + rng.UniformInt(0, 2 * mean_ns_);
    }
    return r;
  }
  void OnComplete(const history::Op& op) override { gen_->OnComplete(op); }

 private:
  int64_t mean_ns_;
  std::optional<int64_t> next_ns_;
  GenPtr gen_;
};

class PhasesGen : public Generator {
 public:
  explicit PhasesGen(std::vector<GenPtr> phases) : phases_(std::move(phases)) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    while (current_ < phases_.size()) {
      GenResult r = phases_[current_]->Next(ctx, rng);
      if (r.kind == GenResult::kOp) {
        outstanding_.insert(r.op.process);
        return r;
      }
      if (r.kind == GenResult::kPending) return r;
      if (!outstanding_.empty()) return GenResult::Pending(kNever);
      ++current_;
    }
    return GenResult::Done();
  }

  void OnComplete(const history::Op& op) override {
    if (outstanding_.erase(op.process) == 0 || current_ >= phases_.size()) return;
    phases_[current_]->OnComplete(op);
  }

 private:
  std::vector<GenPtr> phases_;
  size_t current_ = 0;
  std::set<int64_t> outstanding_;  // processes with an op of the current phase in flight
};

// Side-by-side children with completion routing; the base of Mix, All, EachProcess, OnNodes.
class MultiGen : public Generator {
 public:
  void OnComplete(const history::Op& op) override {
    auto it = owner_.find(op.process);
    if (it == owner_.end()) return;
    const size_t child = it->second;
    owner_.erase(it);
    children_[child]->OnComplete(op);
  }

 protected:
  // Asks the live children in `order` (indices) and returns the first op; kDone when every
  // child is done, else kPending with the earliest wake.
  GenResult Ask(const std::vector<size_t>& order, const GenContext& ctx, Rng& rng) {
    int64_t wake = kNever;
    for (size_t i : order) {
      if (!children_[i] || done_[i]) continue;
      GenResult r = children_[i]->Next(Filtered(i, ctx), rng);
      if (r.kind == GenResult::kOp) {
        Decorate(i, r.op);
        owner_[r.op.process] = i;
        return r;
      }
      if (r.kind == GenResult::kPending) {
        wake = std::min(wake, r.wake_ns);
      } else {
        done_[i] = true;  // kept: late completions of its ops are still routed to it
      }
    }
    for (size_t i = 0; i < children_.size(); ++i) {
      if (!done_[i]) return GenResult::Pending(wake);
    }
    return GenResult::Done();
  }

  // The context child i sees (default: the whole context).
  virtual GenContext Filtered(size_t i, const GenContext& ctx) {
    (void)i;
    return ctx;
  }
  // Adjusts an op child i emitted (default: unchanged).
  virtual void Decorate(size_t i, OpRequest& op) {
    (void)i;
    (void)op;
  }

  void SetChildren(std::vector<GenPtr> children) {
    children_ = std::move(children);
    done_.assign(children_.size(), false);
  }

  std::vector<GenPtr> children_;
  std::vector<bool> done_;

 private:
  std::map<int64_t, size_t> owner_;  // in-flight process -> child that emitted its op
};

class MixGen : public MultiGen {
 public:
  explicit MixGen(std::vector<std::pair<double, GenPtr>> weighted) {
    std::vector<GenPtr> children;
    for (auto& [w, g] : weighted) {
      if (!(w > 0)) Die("Mix: every weight must be > 0");
      weights_.push_back(w);
      children.push_back(std::move(g));
    }
    SetChildren(std::move(children));
  }

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    double total = 0;
    for (size_t i = 0; i < children_.size(); ++i) {
      if (!done_[i]) total += weights_[i];
    }
    if (total <= 0) return Ask({}, ctx, rng);
    double x = rng.Double() * total;
    size_t chosen = children_.size();
    for (size_t i = 0; i < children_.size(); ++i) {
      if (done_[i]) continue;
      chosen = i;
      if (x < weights_[i]) break;
      x -= weights_[i];
    }
    std::vector<size_t> order{chosen};
    for (size_t i = 0; i < children_.size(); ++i) {
      if (i != chosen) order.push_back(i);
    }
    return Ask(order, ctx, rng);
  }

 private:
  std::vector<double> weights_;
};

// Round-robin side by side; subclasses may build their children lazily from the context.
class AllGen : public MultiGen {
 public:
  AllGen() = default;
  explicit AllGen(std::vector<GenPtr> gens) { SetChildren(std::move(gens)); }

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (!built_) {
      built_ = true;
      Build(ctx);
    }
    std::vector<size_t> order;
    const size_t n = children_.size();
    for (size_t k = 0; k < n; ++k) order.push_back((start_ + k) % n);
    if (n > 0) start_ = (start_ + 1) % n;
    return Ask(order, ctx, rng);
  }

 protected:
  virtual void Build(const GenContext& ctx) { (void)ctx; }

 private:
  bool built_ = false;
  size_t start_ = 0;
};

class EachProcessGen : public AllGen {
 public:
  explicit EachProcessGen(std::function<GenPtr(int)> make) : make_(std::move(make)) {}

 protected:
  void Build(const GenContext& ctx) override {
    concurrency_ = std::max(ctx.concurrency, 1);
    std::vector<GenPtr> children;
    for (int w = 0; w < concurrency_; ++w) children.push_back(make_(w));
    SetChildren(std::move(children));
  }
  GenContext Filtered(size_t i, const GenContext& ctx) override {
    GenContext c = ctx;
    c.free_processes.clear();
    for (int64_t p : ctx.free_processes) {
      if (p % concurrency_ == static_cast<int64_t>(i)) c.free_processes.push_back(p);
    }
    return c;
  }

 private:
  std::function<GenPtr(int)> make_;
  int concurrency_ = 1;
};

class OnNodesGen : public AllGen {
 public:
  explicit OnNodesGen(std::function<GenPtr(int)> make) : make_(std::move(make)) {}

 protected:
  void Build(const GenContext& ctx) override {
    std::vector<GenPtr> children;
    for (int n = 0; n < ctx.nodes; ++n) children.push_back(make_(n));
    SetChildren(std::move(children));
  }
  void Decorate(size_t i, OpRequest& op) override { op.node = static_cast<int>(i); }

 private:
  std::function<GenPtr(int)> make_;
};

class UntilOkGen : public Generator {
 public:
  explicit UntilOkGen(GenPtr gen) : gen_(std::move(gen)) {}

  GenResult Next(const GenContext& ctx, Rng& rng) override {
    if (done_) return GenResult::Done();
    if (in_flight_) return GenResult::Pending(kNever);
    GenResult r = gen_->Next(ctx, rng);
    if (r.kind == GenResult::kOp) in_flight_ = r.op.process;
    if (r.kind == GenResult::kDone) done_ = true;
    return r;
  }

  void OnComplete(const history::Op& op) override {
    if (!in_flight_ || *in_flight_ != op.process) return;
    in_flight_.reset();
    gen_->OnComplete(op);
    if (op.status == history::EventType::kOk) done_ = true;
  }

 private:
  GenPtr gen_;
  std::optional<int64_t> in_flight_;
  bool done_ = false;
};

}  // namespace

GenPtr Repeat(OpFn fn) { return std::make_unique<RepeatGen>(std::move(fn), -1); }
GenPtr Once(OpFn fn) { return std::make_unique<RepeatGen>(std::move(fn), 1); }
GenPtr Mix(std::vector<std::pair<double, GenPtr>> weighted) {
  return std::make_unique<MixGen>(std::move(weighted));
}
GenPtr Limit(int64_t n, GenPtr gen) { return std::make_unique<LimitGen>(n, std::move(gen)); }
GenPtr TimeLimit(int64_t duration_ns, GenPtr gen) {
  return std::make_unique<TimeLimitGen>(duration_ns, std::move(gen));
}
GenPtr Stagger(int64_t mean_interval_ns, GenPtr gen) {
  return std::make_unique<StaggerGen>(mean_interval_ns, std::move(gen));
}
GenPtr Phases(std::vector<GenPtr> phases) { return std::make_unique<PhasesGen>(std::move(phases)); }
GenPtr All(std::vector<GenPtr> gens) { return std::make_unique<AllGen>(std::move(gens)); }
GenPtr EachProcess(std::function<GenPtr(int)> make) {
  return std::make_unique<EachProcessGen>(std::move(make));
}
GenPtr OnNodes(std::function<GenPtr(int)> make) {
  return std::make_unique<OnNodesGen>(std::move(make));
}
GenPtr UntilOk(GenPtr gen) { return std::make_unique<UntilOkGen>(std::move(gen)); }

}  // namespace tidemark::workloads
