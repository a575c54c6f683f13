#include "checkers/lin_explain.h"

#include <algorithm>
#include <sstream>

namespace tidemark::checkers {
namespace {

using history::EventType;
using history::Op;

nlohmann::json OpJson(const Op& op) {
  nlohmann::json j{{"op", op.id},
                   {"process", op.process},
                   {"f", op.f},
                   {"invoke_value", op.invoke_value},
                   {"value", op.value},
                   {"status", history::ToString(op.status)},
                   {"call_ns", op.call_ns},
                   {"return_ns", op.return_ns == history::kNever ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(op.return_ns)},
                   {"invoke_index", op.invoke_index},
                   {"complete_index", op.complete_index}};
  if (op.key) j["key"] = *op.key;
  return j;
}

std::string OpLine(const Op& op) {
  std::ostringstream s;
  s << "op " << op.id << " (process " << op.process << ", " << DescribeOp(op) << ", events "
    << op.invoke_index << ".."
    << (op.complete_index < 0 ? std::string("never") : std::to_string(op.complete_index)) << ")";
  return s.str();
}

// Weakening passes over one partition. Every op has a mode: completed (in the core), optional
// (may or may not take effect, any time after its call) or dropped (a weakened read). Initially
// ok ops are completed and crashed ops optional. A weakening (read -> dropped, update ->
// optional) is kept only when the whole partition, with every mode applied, is re-checked
// invalid; so at any time "the core as completed, the other updates optional" is a verified
// counterexample. Checks get a time slice: one that runs out of it counts as a rejection (the
// core may then not be minimal).
class Shrinker {
 public:
  enum Mode : char { kCompleted, kOptional, kDropped };

  Shrinker(const Model& model, const std::vector<PartitionOp>& all, const SearchBudget& budget,
           std::chrono::steady_clock::duration slice)
      : model_(model), all_(all), budget_(budget), slice_(slice), mode_(all.size()) {
    for (size_t i = 0; i < all.size(); ++i) mode_[i] = all[i].op.ok ? kCompleted : kOptional;
  }

  const std::vector<Mode>& modes() const { return mode_; }
  bool minimal() const { return !cut_ && !exhausted_; }

  // Weakens the ops in `which` together. 1: accepted, 0: rejected, -1: budget exhausted.
  int TryWeaken(const std::vector<int>& which, std::chrono::steady_clock::duration slice) {
    auto now = std::chrono::steady_clock::now();
    if (now >= budget_.deadline) {
      exhausted_ = true;
      return -1;
    }
    std::vector<Mode> trial = mode_;
    for (int i : which) trial[i] = all_[i].op.observer ? kDropped : kOptional;
    SearchBudget b = budget_;
    bool sliced = now + slice < budget_.deadline;
    if (sliced) b.deadline = now + slice;
    SearchOutcome o = SearchPartition(model_, Build(trial), b).outcome;
    if (o == SearchOutcome::kViolation) {
      mode_.swap(trial);
      return 1;
    }
    if (o == SearchOutcome::kLinearizable) return 0;
    if (o == SearchOutcome::kTimeout && sliced) {
      cut_ = true;
      return 0;
    }
    exhausted_ = true;
    return -1;
  }

  // Weakens everything called after `t` at once: cheap to check, since such ops can never be
  // candidates before every completed op called earlier is placed.
  void WeakenCalledAfter(int64_t t) {
    std::vector<int> which;
    for (size_t i = 0; i < all_.size(); ++i) {
      if (mode_[i] == kCompleted && all_[i].call_ns > t) which.push_back(static_cast<int>(i));
    }
    if (!which.empty()) TryWeaken(which, std::chrono::hours(1));
  }

  // Reads, then updates (each latest first), in halving chunks down to single ops; twice at most.
  // Reads go first: a dropped read no longer witnesses the value it read (Model::
  // OptionalWitnesses), so the optional updates only it needed stop being candidates, and the
  // re-checks of the many updates that follow get cheaper (on the 102 Porcupine etcd histories,
  // all minimal cores: 11.9 s with updates first, 1.4 s with reads first).
  void Run() {
    for (int round = 0; round < 2; ++round) {
      bool changed = false;
      for (bool reads : {true, false}) {
        std::vector<int> list;
        for (size_t i = all_.size(); i-- > 0;) {
          if (mode_[i] == kCompleted && all_[i].op.observer == reads) {
            list.push_back(static_cast<int>(i));
          }
        }
        int r = Chunked(&list);
        if (r < 0) return;
        changed = changed || r > 0;
      }
      if (!changed) break;
    }
  }

  // -1: budget exhausted, 1: something was weakened, 0: nothing.
  int Chunked(std::vector<int>* list) {
    const auto slice = slice_;
    bool changed = false;
    for (size_t chunk = std::max<size_t>(1, list->size() / 2);; chunk /= 2) {
      for (size_t lo = 0; lo < list->size();) {
        size_t hi = std::min(list->size(), lo + chunk);
        std::vector<int> which(list->begin() + static_cast<long>(lo),
                               list->begin() + static_cast<long>(hi));
        int r = TryWeaken(which, slice);
        if (r < 0) return -1;
        if (r > 0) {
          changed = true;
          list->erase(list->begin() + static_cast<long>(lo), list->begin() + static_cast<long>(hi));
        } else {
          lo = hi;
        }
      }
      if (chunk <= 1) return changed ? 1 : 0;
    }
  }

  std::vector<PartitionOp> Build(const std::vector<Mode>& modes) const {
    std::vector<PartitionOp> h;
    for (size_t i = 0; i < all_.size(); ++i) {
      if (modes[i] == kDropped) continue;
      PartitionOp p = all_[i];
      if (modes[i] == kOptional) {
        p.op.ok = false;
        p.return_ns = history::kNever;
      }
      h.push_back(std::move(p));
    }
    return h;
  }

 private:
  const Model& model_;
  const std::vector<PartitionOp>& all_;
  SearchBudget budget_;
  std::chrono::steady_clock::duration slice_;
  std::vector<Mode> mode_;
  bool cut_ = false;        // some check ran out of its slice
  bool exhausted_ = false;  // the explanation budget ran out
};

}  // namespace

std::string DescribeOp(const Op& op) {
  std::string s = op.f;
  if (!op.invoke_value.is_null()) s += " " + op.invoke_value.dump();
  if (op.status == EventType::kOk && op.value != op.invoke_value) s += " → " + op.value.dump();
  if (op.status == EventType::kInfo) s += " (crashed)";
  if (op.status == EventType::kFail) s += " (failed)";
  return s;
}

void ExplainViolation(const Model& model, const PartitionInput& part,
                      const SearchResult& pruned_result, const SearchBudget& budget,
                      const ExplainPlan& plan, CheckResult* out) {
  const auto& sops = part.search_ops;
  nlohmann::json& d = out->details;
  // With pruning, the deepest configuration often stops where a later get became impossible,
  // before the op that could not be placed (no candidate is blocked there): for the report,
  // search again without pruning (in a slice of the budget), keeping the pruned result when
  // that does not finish.
  SearchResult plain = pruned_result;
  if (budget.prune_dead && plan.research) {
    Frontier pf = AnalyzeFrontier(model, sops, pruned_result.deepest);
    bool blocked = false;
    for (size_t k = 0; k < pf.candidates.size(); ++k) {
      blocked = blocked || (!pf.legal[k] && sops[pf.candidates[k]].op.ok);
    }
    if (!blocked) {
      SearchBudget b = budget;
      b.prune_dead = false;
      b.deadline =
          std::min(budget.deadline, std::chrono::steady_clock::now() + plan.research_slice);
      SearchResult r = SearchPartition(model, sops, b);
      if (r.outcome == SearchOutcome::kViolation) plain = std::move(r);
    }
  }
  const SearchResult& result = plain;
  Frontier fr = AnalyzeFrontier(model, sops, result.deepest);
  d["key"] = part.key;
  nlohmann::json lin = nlohmann::json::array();
  for (int i : result.deepest) lin.push_back(part.ops[i]->id);
  d["linearized"] = lin;
  d["linearized_ok"] = result.deepest_ok;
  d["ok_ops"] = result.total_ok;
  d["state"] = model.DescribeState(fr.state);
  d["must"] = fr.must >= 0 ? nlohmann::json(part.ops[fr.must]->id) : nlohmann::json(nullptr);
  nlohmann::json blocked = nlohmann::json::array();
  std::ostringstream why;
  for (size_t k = 0; k < fr.candidates.size(); ++k) {
    int i = fr.candidates[k];
    if (fr.legal[k] || !sops[i].op.ok) continue;
    nlohmann::json b = OpJson(*part.ops[i]);
    b["could_return"] = model.CouldReturn(fr.state, sops[i].op);
    blocked.push_back(b);
    why << "  " << OpLine(*part.ops[i]) << ": " << b["could_return"].get<std::string>() << "\n";
  }
  d["blocked"] = blocked;

  std::ostringstream text;
  std::string key_text = part.key.empty() ? "" : " on key \"" + part.key + "\"";
  text << "Not linearizable (model " << model.Name() << ")" << key_text << ".\n";
  text << "The search placed at most " << result.deepest_ok << " of " << result.total_ok
       << " completed ops. Deepest linearization (op ids):";
  for (int i : result.deepest) text << " " << part.ops[i]->id;
  text << "\nModel state there: " << model.DescribeState(fr.state) << "\n";
  text << "None of these could take effect next:\n" << why.str();
  if (fr.must >= 0) {
    const Op& must = *part.ops[fr.must];
    out->summary = "invalid" + key_text + ": " + DescribeOp(must) + " (op " +
                   std::to_string(must.id) + ") cannot be placed";
    text << "(" << OpLine(must) << " returns first, so it had to be placed before any later op.)\n";
  } else {
    out->summary = "invalid" + key_text;
  }

  d["core_searched"] = plan.shrink;
  if (plan.shrink) {
    Shrinker shrinker(model, sops, budget, plan.shrink_slice);
    if (fr.must >= 0) shrinker.WeakenCalledAfter(sops[fr.must].return_ns);
    shrinker.Run();
    std::vector<int> keep, context;  // indices into sops
    for (size_t i = 0; i < sops.size(); ++i) {
      if (shrinker.modes()[i] == Shrinker::kCompleted) keep.push_back(static_cast<int>(i));
      if (shrinker.modes()[i] == Shrinker::kOptional) context.push_back(static_cast<int>(i));
    }
    nlohmann::json core = nlohmann::json::array(), ctx = nlohmann::json::array();
    for (int i : keep) core.push_back(OpJson(*part.ops[i]));
    for (int i : context) ctx.push_back(part.ops[i]->id);
    d["core"] = core;
    d["core_context"] = ctx;
    d["core_verified"] = true;  // every accepted weakening was re-checked invalid
    d["core_minimal"] = shrinker.minimal();
    text << "\nCounterexample core: these " << keep.size()
         << " completed ops cannot be linearized even if every other update of this key ("
         << context.size() << " ops) took effect at any time after its call, or never"
         << (shrinker.minimal() ? "" : " (the core may not be minimal: budget ran out)") << ":\n";
    for (int i : keep) {
      const Op& op = *part.ops[i];
      text << "  " << OpLine(op) << " t=[" << op.call_ns << ", " << op.return_ns << "] ns\n";
    }
    std::vector<PartitionOp> weak = shrinker.Build(shrinker.modes());
    std::vector<int> weak_to_sops;
    for (size_t i = 0; i < sops.size(); ++i) {
      if (shrinker.modes()[i] != Shrinker::kDropped) weak_to_sops.push_back(static_cast<int>(i));
    }
    // Without pruning the deepest configuration ends at the impossible step itself; but with many
    // optional context ops that search can be huge, so it is used only for small contexts.
    SearchBudget core_budget = budget;
    core_budget.prune_dead = context.size() > 16;
    SearchResult cr = SearchPartition(model, weak, core_budget);
    if (cr.outcome == SearchOutcome::kViolation) {
      Frontier cf = AnalyzeFrontier(model, weak, cr.deepest);
      text << "At best, after";
      if (cr.deepest.empty()) text << " nothing";
      for (int j : cr.deepest) text << " op " << part.ops[weak_to_sops[j]]->id;
      text << " the state is " << model.DescribeState(cf.state);
      if (cf.must >= 0) {
        std::string could = model.CouldReturn(cf.state, weak[cf.must].op);
        text << ", and op " << part.ops[weak_to_sops[cf.must]]->id << " must come next, but "
             << (could.empty() ? "it cannot take effect there" : could);
      }
      text << ".\n";
    }
  }
  out->explanation = text.str();
}

}  // namespace tidemark::checkers
