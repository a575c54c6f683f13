#include "checkers/lin_explain.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace tidemark::checkers {
namespace {

using history::EventType;
using history::Op;

// Built straight into the object's map, keys in their sorted order so that each goes in at the
// end without a lookup: an explanation writes this for every op of its core, and an initializer
// list or operator[] would cost a copy or a search per member.
nlohmann::json OpJson(const Op& op) {
  nlohmann::json j(nlohmann::json::value_t::object);
  auto& o = j.get_ref<nlohmann::json::object_t&>();
  o.emplace_hint(o.end(), "call_ns", op.call_ns);
  o.emplace_hint(o.end(), "complete_index", op.complete_index);
  o.emplace_hint(o.end(), "f", op.f);
  o.emplace_hint(o.end(), "invoke_index", op.invoke_index);
  o.emplace_hint(o.end(), "invoke_value", op.invoke_value);
  if (op.key) o.emplace_hint(o.end(), "key", *op.key);
  o.emplace_hint(o.end(), "op", op.id);
  o.emplace_hint(o.end(), "process", op.process);
  o.emplace_hint(
      o.end(), "return_ns",
      op.return_ns == history::kNever ? nlohmann::json(nullptr) : nlohmann::json(op.return_ns));
  o.emplace_hint(o.end(), "status", history::ToString(op.status));
  o.emplace_hint(o.end(), "value", op.value);
  return j;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// Appends j.dump(): integers, null and arrays of integers (what register and cas values are)
// written directly, anything else by the serializer. An explanation writes a value for every
// line, and the serializer's setup costs more than the few digits.
void AppendValue(const nlohmann::json& j, std::string* out) {
  auto integer = [](const nlohmann::json& v) {
    return v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= INT64_MAX);
  };
  if (integer(j)) {
    AppendInt(j.get<int64_t>(), out);
  } else if (j.is_null()) {
    *out += "null";
  } else if (j.is_array() && std::all_of(j.begin(), j.end(), integer)) {
    *out += '[';
    for (size_t i = 0; i < j.size(); ++i) {
      if (i > 0) *out += ',';
      AppendInt(j[i].get<int64_t>(), out);
    }
    *out += ']';
  } else {
    *out += j.dump();
  }
}

std::string OpLine(const Op& op) {
  std::string s = "op ";
  AppendInt(op.id, &s);
  s += " (process ";
  AppendInt(op.process, &s);
  s += ", ";
  s += DescribeOp(op);
  s += ", events ";
  AppendInt(op.invoke_index, &s);
  s += "..";
  if (op.complete_index < 0) {
    s += "never";
  } else {
    AppendInt(op.complete_index, &s);
  }
  s += ")";
  return s;
}

// Text built by appending: what std::ostringstream writes for strings and integers, without its
// locale and buffer set-up (every invalid history gets an explanation).
struct TextOut {
  std::string s;
  TextOut& operator<<(std::string_view v) {
    s += v;
    return *this;
  }
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, bool>) TextOut&
  operator<<(T v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
    return *this;
  }
};

// Weakening passes over one partition. Every op has a mode (OpMode): as given (a completed op in
// the core, or a crashed op), optional (a weakened update: may or may not take effect, any time
// after its call) or dropped (a weakened read). A weakening (read -> dropped, update ->
// optional) is kept only when the whole partition, with every mode applied, is re-checked
// invalid; so at any time "the core as completed, the other updates optional" is a verified
// counterexample. Re-checks run on one PartitionSearch (the partition is prepared once, the
// transition cache stays warm; nothing is copied per re-check). Checks get a time slice: one
// that runs out of it counts as a rejection (the core may then not be minimal).
class Shrinker {
 public:
  Shrinker(PartitionSearch& search, const std::vector<PartitionOp>& all, const SearchBudget& budget,
           const ExplainPlan& plan)
      : all_(all),
        search_(search),
        budget_(budget),
        slice_(plan.shrink_slice),
        min_checks_(plan.min_checks),
        hard_deadline_(plan.hard_deadline),
        mode_(all.size(), OpMode::kAsGiven) {}

  const std::vector<OpMode>& modes() const { return mode_; }
  bool InCore(size_t i) const { return mode_[i] == OpMode::kAsGiven && all_[i].op.ok; }
  bool minimal() const { return !cut_ && !exhausted_; }
  int64_t checks() const { return checks_; }
  // The search of modes() by the re-check that accepted them, when it pruned as `prune_dead`
  // and the search's version has not changed since: running it again would give this very
  // result (PartitionSearch::version). Null otherwise.
  const SearchResult* LastSearchOfModes(bool prune_dead) const {
    return last_ && last_prune_dead_ == prune_dead && last_version_ == search_.version() ? &*last_
                                                                                         : nullptr;
  }

  // Weakens the ops in `which` together. 1: accepted, 0: rejected, -1: budget exhausted. The
  // first `min_checks` re-checks may run until `hard_deadline` whatever the budget says: a
  // floor in work, not time, so that a small history gets the same core on every run.
  int TryWeaken(const std::vector<int>& which, std::chrono::steady_clock::duration slice) {
    auto now = std::chrono::steady_clock::now();
    const auto end =
        checks_ < min_checks_ ? std::max(hard_deadline_, budget_.deadline) : budget_.deadline;
    if (now >= end) {
      exhausted_ = true;
      return -1;
    }
    trial_ = mode_;
    for (int i : which) trial_[i] = all_[i].op.observer ? OpMode::kDropped : OpMode::kOptional;
    SearchBudget b = budget_;
    b.deadline = end;
    bool sliced = now + slice < end;
    if (sliced) b.deadline = now + slice;
    ++checks_;
    SearchResult r = search_.Run(trial_, b);
    SearchOutcome o = r.outcome;
    if (o == SearchOutcome::kViolation) {
      mode_.swap(trial_);
      last_ = std::move(r);
      last_prune_dead_ = b.prune_dead;
      last_version_ = search_.version();
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
  // candidates before every completed op called earlier is placed (the re-check walks what the
  // verdict's search walked up to the blocked op).
  void WeakenCalledAfter(int64_t t) {
    std::vector<int> which;
    for (size_t i = 0; i < all_.size(); ++i) {
      if (InCore(i) && all_[i].call_ns > t) which.push_back(static_cast<int>(i));
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
          if (InCore(i) && all_[i].op.observer == reads) list.push_back(static_cast<int>(i));
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
    std::vector<int> which;
    for (size_t chunk = std::max<size_t>(1, list->size() / 2);; chunk /= 2) {
      for (size_t lo = 0; lo < list->size();) {
        size_t hi = std::min(list->size(), lo + chunk);
        which.assign(list->begin() + static_cast<long>(lo), list->begin() + static_cast<long>(hi));
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

 private:
  const std::vector<PartitionOp>& all_;
  PartitionSearch& search_;
  SearchBudget budget_;
  std::chrono::steady_clock::duration slice_;
  int64_t min_checks_;
  std::chrono::steady_clock::time_point hard_deadline_;
  std::vector<OpMode> mode_, trial_;
  int64_t checks_ = 0;
  std::optional<SearchResult> last_;  // the search of the last accepted re-check
  bool last_prune_dead_ = false;
  int64_t last_version_ = 0;
  bool cut_ = false;        // some check ran out of its slice
  bool exhausted_ = false;  // the explanation budget ran out
};

}  // namespace

std::string DescribeOp(const Op& op) {
  std::string s = op.f;
  if (!op.invoke_value.is_null()) {
    s += ' ';
    AppendValue(op.invoke_value, &s);
  }
  if (op.status == EventType::kOk && op.value != op.invoke_value) {
    s += " → ";
    AppendValue(op.value, &s);
  }
  if (op.status == EventType::kInfo) s += " (crashed)";
  if (op.status == EventType::kFail) s += " (failed)";
  return s;
}

void ExplainViolation(const Model& model, const PartitionInput& part, PartitionSearch& search,
                      const SearchResult& pruned_result, const SearchBudget& budget,
                      const ExplainPlan& plan, CheckResult* out) {
  const auto& sops = part.search_ops;
  nlohmann::json& d = out->details;
  // With pruning, the deepest configuration often stops where a later get became impossible,
  // before the op that could not be placed (no candidate is blocked there): for the report,
  // search again without pruning (in a slice of the budget), keeping the pruned result when
  // that does not finish. A search that pruned nothing would be repeated step for step.
  SearchResult plain = pruned_result;
  if (budget.prune_dead && plan.research && pruned_result.pruned > 0) {
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
      SearchResult r = search.Run({}, b);
      if (r.outcome == SearchOutcome::kViolation) plain = std::move(r);
    }
  }
  const SearchResult& result = plain;
  Frontier fr = AnalyzeFrontier(model, sops, result.deepest);
  d["key"] = part.key;
  nlohmann::json lin = nlohmann::json::array();
  for (int i : result.deepest) lin.push_back(part.ops[i]->id);
  d["linearized"] = std::move(lin);
  d["linearized_ok"] = result.deepest_ok;
  d["ok_ops"] = result.total_ok;
  d["state"] = model.DescribeState(fr.state);
  d["must"] = fr.must >= 0 ? nlohmann::json(part.ops[fr.must]->id) : nlohmann::json(nullptr);
  nlohmann::json blocked = nlohmann::json::array();
  TextOut why;
  for (size_t k = 0; k < fr.candidates.size(); ++k) {
    int i = fr.candidates[k];
    if (fr.legal[k] || !sops[i].op.ok) continue;
    nlohmann::json b = OpJson(*part.ops[i]);
    b["could_return"] = model.CouldReturn(fr.state, sops[i].op);
    why << "  " << OpLine(*part.ops[i]) << ": " << b["could_return"].get_ref<const std::string&>()
        << "\n";
    blocked.push_back(std::move(b));
  }
  d["blocked"] = std::move(blocked);

  TextOut text;
  std::string key_text = part.key.empty() ? "" : " on key \"" + part.key + "\"";
  text << "Not linearizable (model " << model.Name() << ")" << key_text << ".\n";
  text << "The search placed at most " << result.deepest_ok << " of " << result.total_ok
       << " completed ops. Deepest linearization (op ids):";
  for (int i : result.deepest) text << " " << part.ops[i]->id;
  text << "\nModel state there: " << model.DescribeState(fr.state) << "\n";
  text << "None of these could take effect next:\n" << why.s;
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
    Shrinker shrinker(search, sops, budget, plan);
    if (fr.must >= 0) shrinker.WeakenCalledAfter(sops[fr.must].return_ns);
    shrinker.Run();
    std::vector<int> keep, context;  // indices into sops
    for (size_t i = 0; i < sops.size(); ++i) {
      if (shrinker.InCore(i)) {
        keep.push_back(static_cast<int>(i));
      } else if (shrinker.modes()[i] != OpMode::kDropped) {
        context.push_back(static_cast<int>(i));
      }
    }
    nlohmann::json core = nlohmann::json::array(), ctx = nlohmann::json::array();
    for (int i : keep) core.push_back(OpJson(*part.ops[i]));
    for (int i : context) ctx.push_back(part.ops[i]->id);
    d["core"] = std::move(core);
    d["core_context"] = std::move(ctx);
    d["core_verified"] = true;  // every accepted weakening was re-checked invalid
    d["core_minimal"] = shrinker.minimal();
    d["core_checks"] = shrinker.checks();
    text << "\nCounterexample core: these " << keep.size()
         << " completed ops cannot be linearized even if every other update of this key ("
         << context.size() << " ops) took effect at any time after its call, or never"
         << (shrinker.minimal() ? " (minimal: weakening any one of them makes it linearizable)"
                                : " (the core may not be minimal: the explanation's budget ran "
                                  "out; --explain minimal shrinks it further)")
         << ":\n";
    for (int i : keep) {
      const Op& op = *part.ops[i];
      text << "  " << OpLine(op) << " t=[" << op.call_ns << ", " << op.return_ns << "] ns\n";
    }
    // Without pruning the deepest configuration ends at the impossible step itself; but with many
    // optional context ops that search can be huge, so it is used only for small contexts. It
    // may run until the hard deadline (it costs about one re-check), so that the text does not
    // depend on how much of the budget was left.
    SearchBudget core_budget = budget;
    core_budget.prune_dead = context.size() > 16;
    core_budget.deadline = std::max(budget.deadline, plan.hard_deadline);
    const SearchResult* reuse = shrinker.LastSearchOfModes(core_budget.prune_dead);
    SearchResult cr = reuse ? *reuse : search.Run(shrinker.modes(), core_budget);
    if (cr.outcome == SearchOutcome::kViolation) {
      Frontier cf = AnalyzeFrontier(model, sops, cr.deepest, shrinker.modes());
      text << "At best, after";
      if (cr.deepest.empty()) text << " nothing";
      for (int j : cr.deepest) text << " op " << part.ops[j]->id;
      text << " the state is " << model.DescribeState(cf.state);
      if (cf.must >= 0) {
        std::string could = model.CouldReturn(cf.state, sops[cf.must].op);
        text << ", and op " << part.ops[cf.must]->id << " must come next, but "
             << (could.empty() ? "it cannot take effect there" : could);
      }
      text << ".\n";
    }
  }
  out->explanation = std::move(text.s);
}

}  // namespace tidemark::checkers
