#include "checkers/linearizability.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <memory>
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

// CheckLinearizability without the outer exception guard.
CheckResult CheckUnguarded(const std::vector<Op>& ops, const LinearizabilityOptions& opts) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(std::max(0.0, opts.timeout_s)));

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
    std::vector<ModelOp> mops;
    std::vector<char> keep;
    Status st = model->Prepare(group, &mops, &keep);
    if (!st.ok()) {
      CheckResult r = Unknown("bad-input", st.error().message);
      if (!key.empty()) r.details["key"] = key;
      return r;
    }
    PartitionInput p;
    p.key = key;
    p.ops.reserve(group.size());
    p.search_ops.reserve(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      if (!keep[i]) continue;
      const Op* op = group[i];
      bool ok = mops[i].ok;
      p.ops.push_back(op);
      p.search_ops.push_back(
          PartitionOp{op->call_ns, ok ? op->return_ns : history::kNever, std::move(mops[i])});
    }
    checked_ops += p.ops.size();
    parts.push_back(std::move(p));
  }
  std::stable_sort(
      parts.begin(), parts.end(),
      [](const PartitionInput& a, const PartitionInput& b) { return a.ops.size() < b.ops.size(); });

  std::atomic<bool> cancel{false};
  std::atomic<int64_t> memory_left{static_cast<int64_t>(opts.memory_limit_bytes)};
  SearchBudget budget{deadline, &cancel, &memory_left};
  std::vector<SearchResult> results(parts.size());
  // A violated partition's search is kept for its explanation (its tables stay warm and charged);
  // the others are freed as soon as they are decided.
  std::vector<std::unique_ptr<PartitionSearch>> searches(parts.size());
  // What a key's search threw (bad_alloc beyond the charged tables, ...): that key is unknown,
  // and the others stop, since memory is likely short for them too.
  std::vector<std::exception_ptr> errors(parts.size());
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < parts.size(); i = next++) {
      if (cancel.load()) {
        results[i].outcome = SearchOutcome::kCancelled;
        continue;
      }
      try {
        auto search =
            std::make_unique<PartitionSearch>(*model, parts[i].search_ops, budget.memory_left);
        results[i] = search->Run({}, budget);
        if (results[i].outcome == SearchOutcome::kViolation) searches[i] = std::move(search);
      } catch (...) {
        errors[i] = std::current_exception();
        results[i] = SearchResult{};  // kCancelled, counted as unknown below
        cancel.store(true);
        continue;
      }
      if (results[i].outcome == SearchOutcome::kViolation) cancel.store(true);
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

  CheckResult res;
  res.checker = "linearizability";
  nlohmann::json& d = res.details;
  d["model"] = std::string(model->Name());
  d["keys"] = parts.size();
  d["ops"] = checked_ops;
  int64_t steps = 0, configurations = 0;
  int violated = -1;
  std::exception_ptr error;
  std::vector<std::string> unknown_keys;
  std::string unknown_reason;
  for (size_t i = 0; i < parts.size(); ++i) {
    steps += results[i].steps;
    configurations += results[i].configurations;
    SearchOutcome o = results[i].outcome;
    if (o == SearchOutcome::kViolation && violated < 0) violated = static_cast<int>(i);
    if (errors[i] && !error) error = errors[i];
    if (o == SearchOutcome::kTimeout || o == SearchOutcome::kMemory ||
        o == SearchOutcome::kCancelled) {
      unknown_keys.push_back(parts[i].key);
      if (o != SearchOutcome::kCancelled || unknown_reason.empty()) unknown_reason = ToString(o);
    }
  }
  d["steps"] = steps;
  d["configurations"] = configurations;

  if (violated >= 0) {
    res.verdict = Verdict::kInvalid;
    cancel.store(false);
    try {
      const size_t v = static_cast<size_t>(violated);
      Explain(*model, parts[v], *searches[v], results[v], budget, opts, Clock::now() - start, &res);
    } catch (...) {  // the verdict stands; only its explanation is missing
      CheckResult failed = UnknownFromException("explanation", std::current_exception());
      res.summary = "invalid on key \"" + parts[static_cast<size_t>(violated)].key + "\"";
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
                  std::to_string(unknown_keys.size()) + " of " + std::to_string(parts.size()) +
                  " key(s)";
    res.explanation = res.summary + " (timeout " + std::to_string(opts.timeout_s) + " s, memory " +
                      std::to_string(opts.memory_limit_bytes) + " bytes)\n";
  } else {
    res.verdict = Verdict::kValid;
    res.summary = "valid: " + std::to_string(checked_ops) + " ops in " +
                  std::to_string(parts.size()) + " key(s) are linearizable";
    res.explanation = res.summary + "\n";
  }
  res.details["elapsed_s"] = std::chrono::duration<double>(Clock::now() - start).count();
  return res;
}

}  // namespace

CheckResult CheckLinearizability(const std::vector<Op>& ops, const LinearizabilityOptions& opts) {
  try {
    return CheckUnguarded(ops, opts);
  } catch (...) {
    return UnknownFromException("linearizability", std::current_exception());
  }
}

}  // namespace tidemark::checkers
