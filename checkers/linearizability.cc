#include "checkers/linearizability.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "checkers/lin_explain.h"
#include "checkers/lin_search.h"
#include "checkers/model.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using history::Op;

CheckResult Unknown(const std::string& reason, const std::string& why) {
  CheckResult r;
  r.checker = "linearizability";
  r.verdict = Verdict::kUnknown;
  r.summary = "unknown: " + why;
  r.explanation = r.summary + "\n";
  r.details["reason"] = reason;
  return r;
}

// Explains the violation found in `part`, spending what opts.explain allows beyond the
// verdict's own time `verdict_time` (linearizability.h, ExplainMode).
void Explain(const Model& model, const PartitionInput& part, PartitionSearch& search,
             const SearchResult& result, const SearchBudget& budget,
             const LinearizabilityOptions& opts, std::chrono::steady_clock::duration verdict_time,
             CheckResult* res) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(std::max(0.0, s)));
  };
  ExplainPlan plan;
  Clock::duration allowed = seconds(opts.explain_timeout_s);
  if (opts.explain == ExplainMode::kFast) {
    // No floor in time: the report from the verdict's own search is there already, and a core
    // that the budget did not make minimal says so (details.core_minimal), so a microsecond
    // verdict gets a microsecond explanation rather than one that costs many verdicts. The floor
    // is in work (plan.min_checks), which a loaded machine does not change.
    double verdict_s = std::chrono::duration<double>(verdict_time).count();
    allowed = seconds(std::min(opts.explain_cap_s, opts.explain_factor * verdict_s));
    // Half for the re-search, then each weakening gets a share of what is left.
    plan.research_slice = allowed / 2;
    plan.shrink_slice = std::max<Clock::duration>(allowed / 8, std::chrono::microseconds(200));
    plan.min_checks = 8;
  }
  plan.hard_deadline = budget.deadline;
  plan.research = opts.explain != ExplainMode::kNone;
  plan.shrink = opts.explain != ExplainMode::kNone;
  SearchBudget explain_budget = budget;
  explain_budget.cancel = nullptr;
  const Clock::time_point begin = Clock::now();
  explain_budget.deadline = std::min(budget.deadline, begin + allowed);
  ExplainViolation(model, part, search, result, explain_budget, plan, res);
  res->details["explain"] = ToString(opts.explain);
}

}  // namespace

const char* ToString(ExplainMode m) {
  switch (m) {
    case ExplainMode::kNone:
      return "none";
    case ExplainMode::kFast:
      return "fast";
    case ExplainMode::kMinimal:
      return "minimal";
  }
  return "?";
}

bool ParseExplainMode(const std::string& s, ExplainMode* out) {
  for (ExplainMode m : {ExplainMode::kNone, ExplainMode::kFast, ExplainMode::kMinimal}) {
    if (s == ToString(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.0, s)));
}

// The answer for a partition the model cannot read (an op it does not know).
CheckResult BadInput(const std::string& key, const Error& error) {
  CheckResult r = Unknown("bad-input", error.message);
  if (!key.empty()) r.details["key"] = key;
  return r;
}

// One partition's ops (fail ops already removed, in id order) made ready for the search: the
// model's translation, without the ops it drops.
Status PreparePartition(const Model& model, std::string key, const std::vector<const Op*>& group,
                        PartitionInput* p) {
  std::vector<ModelOp> mops;
  std::vector<char> keep;
  if (Status st = model.Prepare(group, &mops, &keep); !st.ok()) return st;
  p->key = std::move(key);
  p->ops.reserve(group.size());
  p->search_ops.reserve(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    if (!keep[i]) continue;
    const Op* op = group[i];
    bool ok = mops[i].ok;
    p->ops.push_back(op);
    p->search_ops.push_back(
        PartitionOp{op->call_ns, ok ? op->return_ns : history::kNever, std::move(mops[i])});
  }
  return OkStatus();
}

// The order in which keys are checked and reported: smallest first, ties in key order (the
// stable sort of partitions built in key order).
bool CheckedBefore(size_t a_ops, const std::string& a_key, size_t b_ops, const std::string& b_key) {
  return a_ops != b_ops ? a_ops < b_ops : a_key < b_key;
}

// What one key's search left: its result, what it threw, and on a violation the search itself
// (its tables stay warm and charged for the explanation).
struct KeySearch {
  SearchResult result;
  std::exception_ptr error;  // the key is then unknown, and the keys after it are not run
  std::unique_ptr<PartitionSearch> search;
};

KeySearch SearchKey(const Model& model, const PartitionInput& part, const SearchBudget& budget) {
  KeySearch k;
  try {
    auto search = std::make_unique<PartitionSearch>(model, part.search_ops, budget.memory_left);
    k.result = search->Run({}, budget);
    if (k.result.outcome == SearchOutcome::kViolation) k.search = std::move(search);
  } catch (...) {
    k.error = std::current_exception();
    k.result = SearchResult{};  // kCancelled, counted as unknown
  }
  return k;
}

// A key as the merge reads it, in check order.
struct KeyRecord {
  std::string key;
  SearchOutcome outcome = SearchOutcome::kCancelled;
  int64_t steps = 0, configurations = 0;
  std::exception_ptr error;
};

// The one result of a check from its keys' records (in check order): the first violated key is
// explained by `explain` (called with its position), else the first error, else the keys that ran
// out of budget, else valid.
CheckResult Merge(const Model& model, const LinearizabilityOptions& opts,
                  const std::vector<KeyRecord>& keys, size_t checked_ops,
                  const std::function<void(size_t violated, CheckResult* res)>& explain,
                  Clock::time_point start) {
  CheckResult res;
  res.checker = "linearizability";
  nlohmann::json& d = res.details;
  d["model"] = std::string(model.Name());
  d["keys"] = keys.size();
  d["ops"] = checked_ops;
  int64_t steps = 0, configurations = 0;
  int violated = -1;
  std::exception_ptr error;
  std::vector<std::string> unknown_keys;
  std::string unknown_reason;
  for (size_t i = 0; i < keys.size(); ++i) {
    steps += keys[i].steps;
    configurations += keys[i].configurations;
    SearchOutcome o = keys[i].outcome;
    if (o == SearchOutcome::kViolation && violated < 0) violated = static_cast<int>(i);
    if (keys[i].error && !error) error = keys[i].error;
    if (o == SearchOutcome::kTimeout || o == SearchOutcome::kMemory ||
        o == SearchOutcome::kCancelled) {
      unknown_keys.push_back(keys[i].key);
      if (o != SearchOutcome::kCancelled || unknown_reason.empty()) unknown_reason = ToString(o);
    }
  }
  d["steps"] = steps;
  d["configurations"] = configurations;

  if (violated >= 0) {
    res.verdict = Verdict::kInvalid;
    try {
      explain(static_cast<size_t>(violated), &res);
    } catch (...) {  // the verdict stands; only its explanation is missing
      CheckResult failed = UnknownFromException("explanation", std::current_exception());
      res.summary = "invalid on key \"" + keys[static_cast<size_t>(violated)].key + "\"";
      res.explanation = res.summary + " (" + failed.summary.substr(9) + ")\n";
      d["explain_error"] = failed.details["error"];
    }
  } else if (error) {
    CheckResult failed = UnknownFromException(res.checker, error);
    failed.details.update(d);
    failed.details["unknown_keys"] = unknown_keys;
    res = std::move(failed);
  } else if (!unknown_keys.empty()) {
    res.verdict = Verdict::kUnknown;
    d["reason"] = unknown_reason;
    d["unknown_keys"] = unknown_keys;
    res.summary = "unknown: " + unknown_reason + " budget exhausted on " +
                  std::to_string(unknown_keys.size()) + " of " + std::to_string(keys.size()) +
                  " key(s)";
    res.explanation = res.summary + " (timeout " + std::to_string(opts.timeout_s) + " s, memory " +
                      std::to_string(opts.memory_limit_bytes) + " bytes)\n";
  } else {
    res.verdict = Verdict::kValid;
    res.summary = "valid: " + std::to_string(checked_ops) + " ops in " +
                  std::to_string(keys.size()) + " key(s) are linearizable";
    res.explanation = res.summary + "\n";
  }
  res.details["elapsed_s"] = std::chrono::duration<double>(Clock::now() - start).count();
  return res;
}

// CheckLinearizability without the outer exception guard.
CheckResult CheckUnguarded(const std::vector<Op>& ops, const LinearizabilityOptions& opts) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + Seconds(opts.timeout_s);

  std::unique_ptr<Model> model = MakeModel(opts.model);
  if (!model) return Unknown("bad-input", "unknown model '" + opts.model + "'");

  // Partitions: fail ops removed; one per key, or one in all.
  std::map<std::string, std::vector<const Op*>> groups;
  std::map<std::string, int> keys_seen;
  for (const Op& op : ops) {
    if (op.status == EventType::kFail) continue;
    std::string key = op.key.value_or("");
    keys_seen[key]++;
    groups[opts.partition_by_key ? key : std::string()].push_back(&op);
  }
  if (!opts.partition_by_key && keys_seen.size() > 1) {
    model = MakeMultiKeyModel(std::move(model));
  }

  std::vector<PartitionInput> parts;
  size_t checked_ops = 0;
  for (auto& [key, group] : groups) {
    PartitionInput p;
    if (Status st = PreparePartition(*model, key, group, &p); !st.ok())
      return BadInput(key, st.error());
    checked_ops += p.ops.size();
    parts.push_back(std::move(p));
  }
  std::stable_sort(
      parts.begin(), parts.end(),
      [](const PartitionInput& a, const PartitionInput& b) { return a.ops.size() < b.ops.size(); });

  std::atomic<bool> cancel{false};
  std::atomic<int64_t> memory_left{static_cast<int64_t>(opts.memory_limit_bytes)};
  SearchBudget budget{deadline, &cancel, &memory_left};
  std::vector<KeySearch> searches(parts.size());
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < parts.size(); i = next++) {
      if (cancel.load()) continue;  // kCancelled
      searches[i] = SearchKey(*model, parts[i], budget);
      // A violation ends the check; so does an error (bad_alloc beyond the charged tables, ...),
      // since memory is likely short for the other keys too.
      if (searches[i].error || searches[i].result.outcome == SearchOutcome::kViolation)
        cancel.store(true);
    }
  };
  // hardware_concurrency reads sysfs each time: only when there is more than one key to share.
  int threads = opts.threads > 0 || parts.size() <= 1
                    ? std::max(1, opts.threads)
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), parts.size()));
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }

  std::vector<KeyRecord> records(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const SearchResult& r = searches[i].result;
    records[i] = KeyRecord{parts[i].key, r.outcome, r.steps, r.configurations, searches[i].error};
  }
  auto explain = [&](size_t v, CheckResult* res) {
    cancel.store(false);
    Explain(*model, parts[v], *searches[v].search, searches[v].result, budget, opts,
            Clock::now() - start, res);
  };
  return Merge(*model, opts, records, checked_ops, explain, start);
}

}  // namespace

// The keyed check's state (linearizability.h KeyedCheck).
class KeyedCheck::Impl {
 public:
  explicit Impl(const LinearizabilityOptions& opts)
      : opts_(opts),
        start_(Clock::now()),
        model_(MakeModel(opts.model)),
        memory_left_(static_cast<int64_t>(opts.memory_limit_bytes)) {
    workers_ = opts.threads > 0
                   ? opts.threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (workers_ > 1 && model_) {
      for (int t = 0; t < workers_; ++t) pool_.emplace_back([this] { Work(); });
    }
  }

  ~Impl() { Stop(); }

  void Add(std::string key, std::vector<Op> ops) {
    std::erase_if(ops, [](const Op& op) { return op.status == EventType::kFail; });
    if (ops.empty()) return;  // not a partition: its ops all failed
    std::sort(ops.begin(), ops.end(), [](const Op& a, const Op& b) { return a.id < b.id; });
    if (!model_) return;  // Finish says why
    held_ += ops.size();
    auto task = std::make_unique<Task>(Task{std::move(key), std::move(ops), PartitionInput{}});
    if (pool_.empty()) {
      Check(std::move(task));
      return;
    }
    std::unique_lock lock(mu_);
    // Reading waits while enough is waiting to be checked: memory stays with the keys in flight.
    room_.wait(lock, [&] { return queue_.empty() || queued_ops_ < kMaxQueuedOps; });
    queued_ops_ += task->ops.size();
    queue_.push_back(std::move(task));
    work_.notify_one();
  }

  size_t held() const { return held_.load(); }

  CheckResult Finish() {
    Stop();
    if (!model_) return Unknown("bad-input", "unknown model '" + opts_.model + "'");
    if (!opts_.partition_by_key)
      return Unknown("bad-input", "a keyed check needs partition_by_key");
    if (bad_input_) return BadInput(bad_input_->first, bad_input_->second);
    // The whole check's order, and what a check of one thread would have run in it: every key up
    // to the first violated or failed one, none after.
    std::sort(done_.begin(), done_.end(), [](const Done& a, const Done& b) {
      return CheckedBefore(a.ops, a.record.key, b.ops, b.record.key);
    });
    std::vector<KeyRecord> records;
    records.reserve(done_.size());
    size_t checked_ops = 0;
    bool stopped = false;
    Clock::duration verdict_time{};
    for (Done& k : done_) {
      checked_ops += k.ops;
      if (stopped) k.record = KeyRecord{k.record.key, SearchOutcome::kCancelled, 0, 0, nullptr};
      if (!stopped) verdict_time += k.time;
      stopped = stopped || k.record.error || k.record.outcome == SearchOutcome::kViolation;
      records.push_back(std::move(k.record));
    }
    const Clock::time_point now = Clock::now();
    SearchBudget budget{now + Remaining(), nullptr, &memory_left_};
    auto explain = [&](size_t v, CheckResult* res) {
      if (!best_ || best_->task->part.key != records[v].key)
        std::abort();  // the kept violation is the first in check order, by construction
      Explain(*model_, best_->task->part, *best_->search.search, best_->search.result, budget,
              opts_, verdict_time, res);
    };
    return Merge(*model_, opts_, records, checked_ops, explain, start_);
  }

 private:
  static constexpr size_t kMaxQueuedOps = size_t{1} << 16;

  // A key handed over: its ops (which its partition points into).
  struct Task {
    std::string key;
    std::vector<Op> ops;
    PartitionInput part;
  };
  // A key checked.
  struct Done {
    size_t ops = 0;  // in its partition (after the model's Prepare)
    KeyRecord record;
    Clock::duration time{};  // preparing and searching it
  };
  // The violated key that comes first in check order so far, kept for the explanation.
  struct Violation {
    std::unique_ptr<Task> task;
    KeySearch search;
  };

  // What is left of the time budget: timeout_s less the time spent checking keys, shared out
  // among the workers (reading the history between keys does not count).
  Clock::duration Remaining() const {
    const double spent_s = static_cast<double>(spent_ns_.load()) / 1e9 / std::max(1, workers_);
    return Seconds(opts_.timeout_s - spent_s);
  }

  // Whether the key of `ops` ops named `key` needs no search: it comes after a key that stops the
  // check (violated, or whose search failed), which a check of one thread would not run, or a
  // key the model refused, whose answer is the check's.
  bool Skip(size_t ops, const std::string& key) {
    std::lock_guard lock(mu_);
    return bad_input_ || (stop_ && CheckedBefore(stop_->first, stop_->second, ops, key));
  }

  void Check(std::unique_ptr<Task> task) {
    const Clock::time_point begin = Clock::now();
    std::vector<const Op*> group;
    group.reserve(task->ops.size());
    for (const Op& op : task->ops) group.push_back(&op);
    Done done;
    done.record.key = task->key;
    Status st = PreparePartition(*model_, task->key, group, &task->part);
    if (!st.ok()) {
      std::lock_guard lock(mu_);
      if (!bad_input_ || task->key < bad_input_->first) bad_input_.emplace(task->key, st.error());
      Release(*task);
      return;
    }
    done.ops = task->part.ops.size();
    KeySearch search;  // kCancelled unless it runs
    if (!Skip(done.ops, task->key)) {
      SearchBudget budget{Clock::now() + Remaining(), nullptr, &memory_left_};
      search = SearchKey(*model_, task->part, budget);
    }
    done.time = Clock::now() - begin;
    spent_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(done.time).count();
    done.record.outcome = search.result.outcome;
    done.record.steps = search.result.steps;
    done.record.configurations = search.result.configurations;
    done.record.error = search.error;
    std::unique_ptr<Violation> dropped;  // freed outside the lock
    std::unique_ptr<Task> finished = std::move(task);
    std::lock_guard lock(mu_);
    const bool stops = search.error || search.result.outcome == SearchOutcome::kViolation;
    if (stops && (!stop_ || CheckedBefore(done.ops, done.record.key, stop_->first, stop_->second)))
      stop_.emplace(done.ops, done.record.key);
    if (search.result.outcome == SearchOutcome::kViolation &&
        (!best_ || CheckedBefore(done.ops, done.record.key, best_->task->part.ops.size(),
                                 best_->task->part.key))) {
      dropped = std::move(best_);
      best_ = std::make_unique<Violation>(Violation{std::move(finished), std::move(search)});
    }
    done_.push_back(std::move(done));
    if (dropped) Release(*dropped->task);
    if (finished) Release(*finished);
  }

  // The ops of `task` are no longer held (the caller frees them).
  void Release(const Task& task) { held_ -= task.ops.size(); }

  void Work() {
    for (;;) {
      std::unique_ptr<Task> task;
      {
        std::unique_lock lock(mu_);
        work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
        queued_ops_ -= task->ops.size();
        room_.notify_all();
      }
      Check(std::move(task));
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      work_.notify_all();
    }
    for (auto& t : pool_) t.join();
    pool_.clear();
  }

  const LinearizabilityOptions opts_;
  const Clock::time_point start_;
  std::unique_ptr<Model> model_;
  std::atomic<int64_t> memory_left_;
  std::atomic<int64_t> spent_ns_{0};
  std::atomic<size_t> held_{0};
  int workers_ = 1;
  std::vector<std::thread> pool_;

  std::mutex mu_;  // guards what follows
  std::condition_variable work_, room_;
  std::deque<std::unique_ptr<Task>> queue_;
  size_t queued_ops_ = 0;
  bool stopping_ = false;
  std::vector<Done> done_;
  std::optional<std::pair<size_t, std::string>> stop_;  // the first key in check order that stops
  std::unique_ptr<Violation> best_;
  std::optional<std::pair<std::string, Error>>
      bad_input_;  // the first key (by name) the model refused
};

KeyedCheck::KeyedCheck(const LinearizabilityOptions& opts) : impl_(std::make_unique<Impl>(opts)) {}
KeyedCheck::~KeyedCheck() = default;

void KeyedCheck::Add(std::string key, std::vector<history::Op> ops) {
  impl_->Add(std::move(key), std::move(ops));
}

size_t KeyedCheck::ops_held() const { return impl_->held(); }

CheckResult KeyedCheck::Finish() {
  try {
    return impl_->Finish();
  } catch (...) {
    return UnknownFromException("linearizability", std::current_exception());
  }
}

CheckResult CheckLinearizability(const std::vector<Op>& ops, const LinearizabilityOptions& opts) {
  try {
    return CheckUnguarded(ops, opts);
  } catch (...) {
    return UnknownFromException("linearizability", std::current_exception());
  }
}

}  // namespace tidemark::checkers
