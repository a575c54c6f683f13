// Replica cross-check: compares the committed prefixes of every node's dumped log with each other
// and with the acknowledged appends. Definitions: docs/anomalies.md "Replica cross-check".
#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "checkers/log/anomaly_report.h"
#include "checkers/log/log_checker.h"
#include "checkers/log/log_ops.h"

namespace tidemark::checkers {
namespace {

using nlohmann::json;

const json* FindAny(const json& j, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto it = j.find(n);
    if (it != j.end()) return &*it;
  }
  return nullptr;
}

bool GetInt(const json* v, int64_t* out) {
  if (!v) return false;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX / 2)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    *out = v->get<int64_t>();
    return true;
  }
  return false;
}

}  // namespace

ReplicaEntries::ReplicaEntries(std::initializer_list<ReplicaEntry> entries) : ReplicaEntries() {
  for (const ReplicaEntry& e : entries) push_back(e);
}

ReplicaEntries::ReplicaEntries(const std::vector<ReplicaEntry>& entries) : ReplicaEntries() {
  reserve(entries.size());
  for (const ReplicaEntry& e : entries) push_back(e);
}

void ReplicaEntries::push_back(const ReplicaEntry& e) {
  const size_t i = size();
  if (runs_.empty() || e.generation != runs_.back().generation || e.offset != offset(i - 1) + 1)
    runs_.push_back(Run{i, e.offset, e.generation});
  vids_.push_back(e.value ? values_->Intern(*e.value) : -1);
}

void ReplicaEntries::reserve(size_t n) { vids_.reserve(n); }

ReplicaEntry ReplicaEntries::operator[](size_t i) const {
  ReplicaEntry e;
  e.offset = offset(i);
  e.generation = generation(i);
  if (auto v = value(i)) e.value = std::string(*v);
  return e;
}

size_t ReplicaEntries::LowerBound(int64_t o) const {
  // The first run starting above o; o is in the run before it, or between the two.
  auto next = std::upper_bound(runs_.begin(), runs_.end(), o,
                               [](int64_t x, const Run& r) { return x < r.offset; });
  if (next == runs_.begin()) return 0;
  const Run& r = *(next - 1);
  const size_t end = next == runs_.end() ? size() : next->first;
  return std::min(end, r.first + static_cast<size_t>(o - r.offset));
}

Result<ReplicaEntry> ReplicaEntryFromJson(const nlohmann::json& e, const std::string& where) {
  ReplicaEntry re;
  const json* value = nullptr;
  if (e.is_array() && e.size() == 3) {
    if (!GetInt(&e[0], &re.offset) || !GetInt(&e[1], &re.generation)) {
      return Error{where + "entry " + e.dump() + " must be [offset, generation, value]"};
    }
    value = &e[2];
  } else if (e.is_object()) {
    if (!GetInt(FindAny(e, {"offset", "index"}), &re.offset) ||
        !GetInt(FindAny(e, {"generation", "term", "gen"}), &re.generation)) {
      return Error{where + "entry " + e.dump() + " needs integer \"offset\" and \"generation\""};
    }
    value = FindAny(e, {"value"});
    // `tidelog dump` entries: {"offset","generation","kind","client_id","seq","payload"}; an
    // append's payload is the client value. Entries of another kind (noop, kv-write, kv-cas)
    // hold no client log value.
    if (const json* kind = FindAny(e, {"kind", "type"}); kind && kind->is_string()) {
      if (*kind != "append" && *kind != "log") {
        value = nullptr;
      } else if (!value) {
        value = FindAny(e, {"payload"});
      }
    }
  } else {
    return Error{where + "entry " + e.dump() + " must be an object or [offset, generation, value]"};
  }
  if (value && value->is_string()) {
    re.value = value->get<std::string>();
  } else if (value && !value->is_null()) {
    return Error{where + "entry value must be a string or null, got " + value->dump()};
  }
  return re;
}

namespace {

Result<ReplicaLog> ParseOne(const json& j, const std::string& default_node) {
  if (!j.is_object()) return Error{"a replica log must be a JSON object, got " + j.dump()};
  ReplicaLog r;
  if (const json* n = FindAny(j, {"node", "id", "name"}); n && n->is_string()) {
    r.node = n->get<std::string>();
  } else if (!default_node.empty()) {
    r.node = default_node;
  } else {
    return Error{"a replica log needs a string \"node\""};
  }
  std::string where = "replica " + r.node + ": ";
  if (!GetInt(FindAny(j, {"hwm", "commit_index", "commit", "hwm_hint"}), &r.hwm)) {
    return Error{where + "needs an integer \"hwm\" >= 0 (its commit index)"};
  }
  const json* entries = FindAny(j, {"entries", "log"});
  if (!entries || !entries->is_array()) return Error{where + "needs an \"entries\" array"};
  for (const json& e : *entries) {
    auto re = ReplicaEntryFromJson(e, where);
    if (!re.ok()) return re.error();
    if (!r.entries.empty() && re->offset <= r.entries.offset(r.entries.size() - 1)) {
      return Error{where + "entries must be in strictly increasing offset order (" +
                   std::to_string(re->offset) + " after " +
                   std::to_string(r.entries.offset(r.entries.size() - 1)) + ")"};
    }
    r.entries.push_back(std::move(*re));
  }
  return r;
}

}  // namespace

Result<ReplicaLog> ReplicaLogFromJson(const nlohmann::json& j, const std::string& node) {
  return ParseOne(j, node);
}

Result<std::vector<ReplicaLog>> ReplicaLogsFromJson(const nlohmann::json& j) {
  std::vector<ReplicaLog> out;
  const json* list = nullptr;
  if (j.is_array()) {
    list = &j;
  } else if (j.is_object()) {
    list = FindAny(j, {"replicas", "nodes"});
    if (list && !list->is_array()) list = nullptr;
  }
  if (list) {
    for (const json& e : *list) {
      auto r = ParseOne(e, "");
      if (!r.ok()) return r.error();
      out.push_back(std::move(r.value()));
    }
    return out;
  }
  if (!j.is_object()) return Error{"replica dumps must be a JSON array or object"};
  for (const auto& [node, e] : j.items()) {
    auto r = ParseOne(e, node);
    if (!r.ok()) return r.error();
    out.push_back(std::move(r.value()));
  }
  return out;
}

namespace {

// What a replica's committed prefix says about one offset.
struct Slot {
  bool covered = false;
  bool has_entry = false;
  int64_t generation = 0;
  std::optional<std::string_view> value;  // into the replica's value table
  bool operator==(const Slot& o) const {
    if (covered != o.covered || value != o.value) return false;
    // Generations are compared only when both replicas dumped an entry there.
    return !(has_entry && o.has_entry) || generation == o.generation;
  }
};

class ReplicaAnalysis {
 public:
  ReplicaAnalysis(const std::vector<ReplicaLog>& reps, history::OpsView ops, const logck::LogOps& l,
                  const LogCheckOptions& opts)
      : reps_(reps), ops_(ops), l_(l), report_(ops, opts) {}

  Slot At(size_t r, int64_t o) const {
    const ReplicaLog& rep = reps_[r];
    Slot s;
    if (rep.entries.empty() || o < rep.entries.offset(0) || o >= rep.hwm) return s;
    s.covered = true;
    const size_t i = rep.entries.LowerBound(o);
    if (i < rep.entries.size() && rep.entries.offset(i) == o) {
      s.has_entry = true;
      s.generation = rep.entries.generation(i);
      s.value = rep.entries.value(i);
    }
    return s;
  }

  static std::string SlotText(const Slot& s) {
    if (!s.has_entry || !s.value) {
      return s.has_entry
                 ? "an entry with no client value (generation " + std::to_string(s.generation) + ")"
                 : "no entry";
    }
    return logck::Quote(std::string(*s.value)) + " (generation " + std::to_string(s.generation) +
           ")";
  }

  std::string NodeText(size_t r) const {
    return reps_[r].node + " (hwm " + std::to_string(reps_[r].hwm) + ")";
  }

  void Run() {
    Divergence();
    Duplicates();
    Lost();
  }

  void Divergence() {
    std::vector<int64_t> offsets;
    for (const ReplicaLog& rep : reps_) {
      for (size_t i = 0; i < rep.entries.size() && rep.entries.offset(i) < rep.hwm; ++i)
        offsets.push_back(rep.entries.offset(i));
    }
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    std::vector<logck::Instance> out;
    for (int64_t o : offsets) {
      std::vector<Slot> slots;
      for (size_t r = 0; r < reps_.size(); ++r) slots.push_back(At(r, o));
      // The majority view among covering replicas; the others diverged.
      size_t best = SIZE_MAX, best_n = 0, covering = 0;
      for (size_t r = 0; r < slots.size(); ++r) {
        if (!slots[r].covered) continue;
        ++covering;
        size_t n = 0;
        for (const Slot& s : slots) n += s.covered && s == slots[r];
        if (n > best_n) best = r, best_n = n;
      }
      if (covering < 2 || best_n == covering) continue;
      logck::Instance in;
      in.offset = o;
      in.time = history::kNever;  // a replica's log has offsets, not times
      in.a = static_cast<int64_t>(best);
      for (size_t r = 0; r < slots.size(); ++r) {
        if (slots[r].covered && !(slots[r] == slots[best])) {
          in.b = static_cast<int64_t>(r);
          in.node = reps_[r].node;
          break;
        }
      }
      out.push_back(in);
    }
    report_.Add("inconsistent-offsets", std::move(out), [&](const logck::Instance& in) {
      logck::Example ex;
      Slot ref = At(static_cast<size_t>(in.a), in.offset);
      std::string agree, differ;
      json holds = json::object();
      for (size_t r = 0; r < reps_.size(); ++r) {
        Slot s = At(r, in.offset);
        if (!s.covered) continue;
        holds[reps_[r].node] = s.value ? json(std::string(*s.value)) : json(nullptr);
        std::string& list = s == ref ? agree : differ;
        list +=
            (list.empty() ? "" : ", ") + NodeText(r) + (s == ref ? "" : " holds " + SlotText(s));
      }
      ex.explanation = "the committed logs of the replicas disagree at offset " +
                       std::to_string(in.offset) + ": " + agree + " hold" +
                       (agree.find(',') == std::string::npos ? "s " : " ") + SlotText(ref) +
                       ", while " + differ +
                       ". A replica diverged silently (whether or not a "
                       "client read it).";
      for (const logck::AppendRec& a : l_.appends) {
        if (a.status == history::EventType::kOk && a.offset == in.offset) ex.ops.push_back(a.op);
      }
      ex.fields = {{"offset", in.offset}, {"replicas", holds}};
      return ex;
    });
  }

  void Duplicates() {
    std::vector<logck::Instance> out;
    std::vector<std::pair<std::string, int64_t>> firsts;  // (value, offset) per instance
    for (size_t r = 0; r < reps_.size(); ++r) {
      const ReplicaEntries& entries = reps_[r].entries;
      // Per value id of the replica's table: the first committed offset holding it (-1: none).
      std::vector<int64_t> first(entries.values().size(), -1);
      std::vector<bool> reported(first.size(), false);
      for (size_t i = 0; i < entries.size() && entries.offset(i) < reps_[r].hwm; ++i) {
        const int32_t vid = entries.vid(i);
        if (vid < 0) continue;
        int64_t& f = first[static_cast<size_t>(vid)];
        if (f < 0) {
          f = entries.offset(i);
          continue;
        }
        if (reported[static_cast<size_t>(vid)]) continue;
        reported[static_cast<size_t>(vid)] = true;
        logck::Instance in;
        in.offset = f;
        in.time = history::kNever;
        in.a = static_cast<int64_t>(r);
        in.b = entries.offset(i);
        in.c = static_cast<int64_t>(firsts.size());
        in.node = reps_[r].node;
        firsts.emplace_back(std::string(*entries.value(i)), f);
        out.push_back(in);
      }
    }
    report_.Add("duplicate", std::move(out), [&](const logck::Instance& in) {
      logck::Example ex;
      const std::string& v = firsts[static_cast<size_t>(in.c)].first;
      ex.explanation = "replica " + NodeText(static_cast<size_t>(in.a)) + " holds value " +
                       logck::Quote(v) + " at committed offsets " + std::to_string(in.offset) +
                       " and " + std::to_string(in.b) +
                       ": an appended value must occupy one offset.";
      ex.fields = {{"value", v},
                   {"offsets", {in.offset, in.b}},
                   {"node", reps_[static_cast<size_t>(in.a)].node}};
      return ex;
    });
  }

  void Lost() {
    int64_t max_hwm = 0;
    size_t max_rep = 0;
    for (size_t r = 0; r < reps_.size(); ++r) {
      if (reps_[r].hwm > max_hwm) max_hwm = reps_[r].hwm, max_rep = r;
    }
    std::vector<logck::Instance> out;
    for (size_t i = 0; i < l_.appends.size(); ++i) {
      const logck::AppendRec& a = l_.appends[i];
      if (a.status != history::EventType::kOk) continue;
      const std::string_view v = l_.values[static_cast<size_t>(a.vid)];
      logck::Instance in;
      in.time = a.ret;
      in.op = a.op;
      in.offset = a.offset;
      in.a = static_cast<int64_t>(i);
      if (a.offset >= max_hwm) {
        in.b = -1;  // committed on no replica
        in.c = static_cast<int64_t>(max_rep);
        out.push_back(in);
        continue;
      }
      for (size_t r = 0; r < reps_.size(); ++r) {
        Slot s = At(r, a.offset);
        if (s.covered && s.value != v) {
          in.b = static_cast<int64_t>(r);
          in.node = reps_[r].node;
          out.push_back(in);
          break;
        }
      }
    }
    report_.Add("lost-write", std::move(out), [&](const logck::Instance& in) {
      const logck::AppendRec& a = l_.appends[static_cast<size_t>(in.a)];
      const history::OpBrief op = ops_[static_cast<size_t>(a.op)];
      logck::Example ex;
      ex.ops = {a.op};
      std::string ack = "append " +
                        logck::Quote(std::string(l_.values[static_cast<size_t>(a.vid)])) +
                        " was acknowledged at offset " + std::to_string(a.offset) + " by " +
                        logck::NodeOf(op) + " at " + logck::Secs(a.ret) + " (process " +
                        std::to_string(op.process) + ", hwm " + std::to_string(a.hwm) + ")";
      if (in.b < 0) {
        ex.explanation = ack + ", but no replica has committed that offset: the highest HWM is " +
                         NodeText(static_cast<size_t>(in.c)) + ".";
      } else {
        std::string lacking;
        json nodes = json::array();
        for (size_t r = 0; r < reps_.size(); ++r) {
          Slot s = At(r, a.offset);
          if (!s.covered || s.value == l_.values[static_cast<size_t>(a.vid)]) continue;
          lacking += (lacking.empty() ? "" : "; ") + NodeText(r) + " holds " + SlotText(s);
          nodes.push_back(reps_[r].node);
        }
        ex.explanation = ack + ", but at that committed offset replica " + lacking + ".";
        ex.fields["nodes"] = nodes;
      }
      ex.fields["value"] = std::string(l_.values[static_cast<size_t>(a.vid)]);
      ex.fields["offset"] = a.offset;
      return ex;
    });
  }

  CheckResult Result() const {
    CheckResult res;
    res.checker = "log-replicas";
    res.details["anomalies"] = report_.Anomalies();
    res.details["counts"] = report_.Counts();
    json hwms = json::object();
    for (const ReplicaLog& r : reps_) hwms[r.node] = r.hwm;
    res.details["stats"] = {{"replicas", reps_.size()}, {"hwm", hwms}};
    std::string checked = std::to_string(reps_.size()) + " replicas";
    if (report_.Empty()) {
      res.verdict = Verdict::kValid;
      res.summary = "valid: the committed prefixes of " + checked +
                    " agree and hold every acknowledged append";
    } else {
      res.verdict = Verdict::kInvalid;
      res.summary = "invalid: " + report_.CountsLine() + " across " + checked;
    }
    res.explanation = res.summary + "\n" + report_.Text();
    return res;
  }

 private:
  const std::vector<ReplicaLog>& reps_;
  history::OpsView ops_;
  const logck::LogOps& l_;
  logck::Report report_;
};

}  // namespace

CheckResult CheckReplicas(const std::vector<ReplicaLog>& replicas,
                          const std::vector<history::Op>& ops, const LogCheckOptions& opts) {
  try {
    return CheckReplicas(replicas, ops, logck::ParseLogOps(ops, /*ignore_other_ops=*/true), opts);
  } catch (...) {
    return UnknownFromException("log-replicas", std::current_exception());
  }
}

CheckResult CheckReplicas(const std::vector<ReplicaLog>& replicas, history::OpsView ops,
                          const Result<logck::LogOps>& parsed, const LogCheckOptions& opts) {
  CheckResult res;
  res.checker = "log-replicas";
  auto unknown = [&](const std::string& why) {
    res.verdict = Verdict::kUnknown;
    res.summary = "unknown: " + why;
    res.explanation = res.summary;
    res.details["errors"] = json::array({why});
    return res;
  };
  try {
    if (replicas.empty()) return unknown("no replica logs to cross-check");
    std::set<std::string> nodes;
    for (const ReplicaLog& r : replicas) {
      if (r.node.empty()) return unknown("a replica log has no node name");
      if (!nodes.insert(r.node).second) return unknown("replica " + r.node + " appears twice");
      if (r.hwm < 0) return unknown("replica " + r.node + " has a negative hwm");
      for (size_t i = 0; i < r.entries.size(); ++i) {
        if (r.entries.offset(i) < 0 || (i > 0 && r.entries.offset(i) <= r.entries.offset(i - 1))) {
          return unknown("replica " + r.node +
                         ": entries must have offsets >= 0 in strictly increasing order");
        }
      }
    }
    if (!parsed.ok()) return unknown("malformed log history: " + parsed.error().message);
    ReplicaAnalysis analysis(replicas, ops, parsed.value(), opts);
    analysis.Run();
    return analysis.Result();
  } catch (...) {
    return UnknownFromException(res.checker, std::current_exception());
  }
}

}  // namespace tidemark::checkers
