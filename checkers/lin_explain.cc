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

bool StillInvalid(const Model& model, const std::vector<PartitionOp>& ops,
                  const SearchBudget& budget) {
  return SearchPartition(model, ops, budget).outcome == SearchOutcome::kViolation;
}

// Greedy chunked weakening (complement-only delta debugging). `keep` indexes part.search_ops and
// holds the completed ops still in the core; returns false when the budget ran out (the core is
// then valid but maybe not minimal).
bool Shrink(const Model& model, const std::vector<PartitionOp>& all, const SearchBudget& budget,
            std::vector<int>* keep) {
  auto build = [&](size_t lo, size_t hi) {
    std::vector<PartitionOp> h;
    for (size_t i = 0; i < keep->size(); ++i) {
      PartitionOp p = all[(*keep)[i]];
      if (i >= lo && i < hi) {
        if (p.op.observer) continue;  // weakening a read: drop it
        p.op.ok = false;              // weakening an update: it may or may not happen
        p.return_ns = history::kNever;
      }
      h.push_back(std::move(p));
    }
    return h;
  };
  size_t chunk = std::max<size_t>(1, keep->size() / 2);
  while (true) {
    for (size_t lo = 0; lo < keep->size();) {
      if (std::chrono::steady_clock::now() >= budget.deadline) return false;
      size_t hi = std::min(keep->size(), lo + chunk);
      SearchResult r = SearchPartition(model, build(lo, hi), budget);
      if (r.outcome == SearchOutcome::kViolation) {
        keep->erase(keep->begin() + static_cast<long>(lo), keep->begin() + static_cast<long>(hi));
      } else if (r.outcome != SearchOutcome::kLinearizable) {
        return false;
      } else {
        lo = hi;
      }
    }
    if (chunk == 1) return true;
    chunk = std::max<size_t>(1, chunk / 2);
  }
}

}  // namespace

std::string DescribeOp(const Op& op) {
  std::string s = op.f;
  if (!op.invoke_value.is_null()) s += " " + op.invoke_value.dump();
  if (op.status == EventType::kOk && op.value != op.invoke_value) s += " → " + op.value.dump();
  if (op.status == EventType::kInfo) s += " (crashed)";
  if (op.status == EventType::kFail) s += " (failed)";
  return s;
}

void ExplainViolation(const Model& model, const PartitionInput& part, const SearchResult& result,
                      const SearchBudget& budget, bool shrink, CheckResult* out) {
  const auto& sops = part.search_ops;
  nlohmann::json& d = out->details;
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

  if (shrink) {
    std::vector<int> keep;
    for (int i = 0; i < static_cast<int>(sops.size()); ++i) {
      if (sops[i].op.ok) keep.push_back(i);  // crashed ops go first: optional ops only help
    }
    std::vector<PartitionOp> start;
    for (int i : keep) start.push_back(sops[i]);
    bool verified = StillInvalid(model, start, budget);
    bool minimal = verified && Shrink(model, sops, budget, &keep);
    std::vector<PartitionOp> core_ops;
    nlohmann::json core = nlohmann::json::array();
    for (int i : keep) {
      core_ops.push_back(sops[i]);
      core.push_back(OpJson(*part.ops[i]));
    }
    d["core"] = core;
    d["core_verified"] = verified;
    d["core_minimal"] = minimal;
    if (verified) {
      text << "\nCounterexample core (" << keep.size()
           << " completed ops, not linearizable on their own" << (minimal ? "" : "; not minimal")
           << "):\n";
      for (int i : keep) {
        const Op& op = *part.ops[i];
        text << "  " << OpLine(op) << " t=[" << op.call_ns << ", " << op.return_ns << "] ns\n";
      }
      SearchResult cr = SearchPartition(model, core_ops, budget);
      if (cr.outcome == SearchOutcome::kViolation) {
        Frontier cf = AnalyzeFrontier(model, core_ops, cr.deepest);
        text << "In the core, after";
        if (cr.deepest.empty()) text << " nothing";
        for (int j : cr.deepest) text << " op " << part.ops[keep[j]]->id;
        text << " the state is " << model.DescribeState(cf.state) << ", and ";
        if (cf.must >= 0) {
          text << "op " << part.ops[keep[cf.must]]->id << " must come next, but "
               << model.CouldReturn(cf.state, core_ops[cf.must].op) << ".\n";
        } else {
          text << "nothing can come next.\n";
        }
      }
    } else {
      text << "\n(No core: re-checking the completed ops alone ran out of budget.)\n";
    }
  }
  out->explanation = text.str();
}

}  // namespace tidemark::checkers
