#include "checkers/log/log_sim.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tidemark::checkers::logsim {
namespace {

using history::Event;
using history::EventType;
using history::History;
using nlohmann::json;

struct Worker {
  enum Kind { kIdle, kAppend, kRead };
  int64_t process = 0;
  Kind kind = kIdle;
  // append
  std::string value;
  int64_t offset = -1;
  bool applied = false;
  bool dropped = false;
  // read
  bool linearizable = false;
  int node = 0;
  int64_t from = 0;
  bool snapped = false;
  json result;
  std::string retry;  // a value to append again after a timeout
};

class Sim {
 public:
  explicit Sim(const SimOptions& o) : o_(o), rng_(o.seed) {
    known_.assign(static_cast<size_t>(std::max(1, o.nodes)), 0);
    workers_.resize(static_cast<size_t>(std::max(1, o.processes)));
    for (size_t w = 0; w < workers_.size(); ++w) workers_[w].process = static_cast<int64_t>(w);
  }

  History Run() {
    int64_t invoked = 0;
    while (invoked < o_.ops) {
      if (Step(/*may_invoke=*/true)) ++invoked;
    }
    // Drain: every outstanding op completes; no new op, no leader change.
    for (int guard = 0; guard < 1000000 && Busy(); ++guard) Step(false);
    commit_ = static_cast<int64_t>(log_.size());
    for (int64_t& k : known_) k = commit_;
    if (o_.final_reads) FinalReads();
    return std::move(h_);
  }

 private:
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int64_t Pick(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  std::string Node(int n) const { return "n" + std::to_string(n + 1); }
  int64_t NodeHwm(int n) const { return n == leader_ ? commit_ : known_[static_cast<size_t>(n)]; }

  void Emit(int64_t process, EventType type, const std::string& f, json value, int node) {
    t_ += Pick(1, 1000) * 1000;
    Event e;
    e.index = static_cast<int64_t>(h_.size());
    e.time_ns = t_;
    e.process = process;
    e.type = type;
    e.f = f;
    e.value = std::move(value);
    if (node >= 0) e.node = Node(node);
    if (type == EventType::kInfo && process >= 0) e.error = "timeout";
    if (type == EventType::kFail) e.error = f == "append" ? "not_leader" : "unavailable";
    h_.push_back(std::move(e));
  }

  bool Busy() const {
    for (const Worker& w : workers_)
      if (w.kind != Worker::kIdle) return true;
    return false;
  }

  // Returns true when it invoked a new client op.
  bool Step(bool may_invoke) {
    double r = U();
    if (r < 0.15) {
      commit_ = std::min(static_cast<int64_t>(log_.size()), commit_ + Pick(1, 3));
      return false;
    }
    if (r < 0.25) {
      int n = static_cast<int>(Pick(0, static_cast<int64_t>(known_.size()) - 1));
      int64_t& k = known_[static_cast<size_t>(n)];
      k = Pick(k, commit_);
      return false;
    }
    if (r < 0.27 && !orphans_.empty()) {
      size_t i = static_cast<size_t>(Pick(0, static_cast<int64_t>(orphans_.size()) - 1));
      std::string v = orphans_[i];
      orphans_.erase(orphans_.begin() + static_cast<ptrdiff_t>(i));
      if (!where_.count(v)) ApplyValue(v);
      return false;
    }
    if (may_invoke && U() < o_.leader_change_rate) {
      ChangeLeader();
      return false;
    }
    Worker& w = workers_[static_cast<size_t>(Pick(0, static_cast<int64_t>(workers_.size()) - 1))];
    if (w.kind == Worker::kIdle) {
      if (!may_invoke) return false;
      Invoke(w);
      return true;
    }
    if (w.kind == Worker::kAppend) {
      AdvanceAppend(w);
    } else {
      AdvanceRead(w);
    }
    return false;
  }

  int64_t ApplyValue(const std::string& v) {
    int64_t o = static_cast<int64_t>(log_.size());
    log_.push_back(v);
    where_[v] = o;
    return o;
  }

  void ChangeLeader() {
    if (U() < 0.5) {
      // The old leader's uncommitted suffix is lost with it.
      for (size_t o = static_cast<size_t>(commit_); o < log_.size(); ++o) where_.erase(log_[o]);
      for (Worker& w : workers_) {
        if (w.kind == Worker::kAppend && w.applied && w.offset >= commit_) {
          w.applied = false;
          w.dropped = true;
        }
      }
      log_.resize(static_cast<size_t>(commit_));
    }
    known_[static_cast<size_t>(leader_)] = commit_;
    if (known_.size() > 1) {
      int next = leader_;
      while (next == leader_)
        next = static_cast<int>(Pick(0, static_cast<int64_t>(known_.size()) - 1));
      leader_ = next;
    }
    known_[static_cast<size_t>(leader_)] = commit_;
    log_.push_back("");  // the new leader's no-op
    Emit(history::kNemesisProcess, EventType::kInfo, "leader-change",
         json{{"leader", Node(leader_)}}, -1);
  }

  void Retire(Worker& w) {
    w.process += static_cast<int64_t>(workers_.size());
    if (w.kind == Worker::kAppend && U() < o_.retry_rate) w.retry = w.value;
    w.kind = Worker::kIdle;
  }

  void Invoke(Worker& w) {
    bool read = w.retry.empty() && U() < o_.read_fraction;
    if (!read) {
      w.kind = Worker::kAppend;
      if (!w.retry.empty()) {
        w.value = w.retry;
        w.retry.clear();
      } else {
        w.value = "v" + std::to_string(w.process) + "-" + std::to_string(next_value_++);
      }
      w.offset = -1;
      w.applied = w.dropped = false;
      w.node = leader_;
      Emit(w.process, EventType::kInvoke, "append", w.value, w.node);
      return;
    }
    w.kind = Worker::kRead;
    w.linearizable = U() >= o_.local_fraction;
    w.node = w.linearizable ? leader_
                            : static_cast<int>(Pick(0, static_cast<int64_t>(known_.size()) - 1));
    int64_t hwm = NodeHwm(w.node);
    w.from = Pick(std::max<int64_t>(0, hwm - 2 * o_.page), hwm);
    w.snapped = false;
    Emit(w.process, EventType::kInvoke, "read",
         json{{"from", w.from}, {"consistency", w.linearizable ? "linearizable" : "local"}},
         w.node);
  }

  json ReadResult(int node, bool linearizable, int64_t from, int64_t page) const {
    int64_t hwm = NodeHwm(node);
    int64_t to = std::max(from, std::min(hwm, from + page));
    json entries = json::array();
    for (int64_t o = from; o < to; ++o) {
      const std::string& v = log_[static_cast<size_t>(o)];
      if (!v.empty()) entries.push_back(json::array({o, v}));
    }
    return json{{"from", from},
                {"to", to},
                {"hwm", hwm},
                {"consistency", linearizable ? "linearizable" : "local"},
                {"entries", std::move(entries)}};
  }

  void AdvanceAppend(Worker& w) {
    if (w.dropped) {
      Emit(w.process, EventType::kInfo, "append", nullptr, w.node);
      Retire(w);
      return;
    }
    if (!w.applied) {
      double r = U();
      if (r < o_.fail_rate && !where_.count(w.value)) {
        Emit(w.process, EventType::kFail, "append", nullptr, w.node);
        w.kind = Worker::kIdle;
        return;
      }
      if (r < o_.fail_rate + o_.info_rate) {
        if (U() < 0.5) orphans_.push_back(w.value);  // lands later, unknown to the client
        Emit(w.process, EventType::kInfo, "append", nullptr, w.node);
        Retire(w);
        return;
      }
      if (w.node != leader_) {  // the leader changed before the request arrived
        Emit(w.process, EventType::kFail, "append", nullptr, w.node);
        w.kind = Worker::kIdle;
        return;
      }
      auto it = where_.find(w.value);
      w.offset = it != where_.end() ? it->second : ApplyValue(w.value);  // retries deduplicated
      w.applied = true;
      return;
    }
    if (commit_ > w.offset) {
      Emit(w.process, EventType::kOk, "append",
           json{{"value", w.value}, {"offset", w.offset}, {"hwm", commit_}}, w.node);
      w.kind = Worker::kIdle;
      return;
    }
    if (U() < o_.info_rate) {
      Emit(w.process, EventType::kInfo, "append", nullptr, w.node);
      Retire(w);
    }
  }

  void AdvanceRead(Worker& w) {
    if (!w.snapped) {
      if (U() < o_.read_fail_rate || (w.linearizable && w.node != leader_)) {
        Emit(w.process, EventType::kFail, "read", nullptr, w.node);
        w.kind = Worker::kIdle;
        return;
      }
      w.result = ReadResult(w.node, w.linearizable, w.from, o_.page);
      w.snapped = true;
      return;
    }
    Emit(w.process, EventType::kOk, "read", std::move(w.result), w.node);
    w.kind = Worker::kIdle;
  }

  void FinalReads() {
    for (int n = 0; n < static_cast<int>(known_.size()); ++n) {
      Worker& w = workers_[static_cast<size_t>(n) % workers_.size()];
      bool lin = n == leader_;
      int64_t from = 0;
      do {
        Emit(w.process, EventType::kInvoke, "read",
             json{{"from", from}, {"consistency", lin ? "linearizable" : "local"}, {"final", true}},
             n);
        json res = ReadResult(n, lin, from, o_.final_page);
        from = res["to"].get<int64_t>();
        Emit(w.process, EventType::kOk, "read", std::move(res), n);
      } while (from < commit_);
    }
  }

  SimOptions o_;
  std::mt19937_64 rng_;
  History h_;
  int64_t t_ = 0;
  std::vector<std::string> log_;  // "" = not a client value (no-op)
  std::unordered_map<std::string, int64_t> where_;
  int64_t commit_ = 0;
  std::vector<int64_t> known_;
  int leader_ = 0;
  std::vector<Worker> workers_;
  std::vector<std::string> orphans_;
  int64_t next_value_ = 0;
};

struct OpView {
  int64_t call = 0, ret = 0;
  size_t complete = 0;  // event position of the completion
};

}  // namespace

History Simulate(const SimOptions& opts) { return Sim(opts).Run(); }

const char* ToString(Fault f) {
  switch (f) {
    case Fault::kDropAcked:
      return "drop-acked";
    case Fault::kSwapOffsets:
      return "swap-offsets";
    case Fault::kDuplicateValue:
      return "duplicate-value";
    case Fault::kAboveHwm:
      return "above-hwm";
  }
  return "?";
}

const char* ExpectedAnomaly(Fault f) {
  switch (f) {
    case Fault::kDropAcked:
      return "lost-write";
    case Fault::kSwapOffsets:
      return "inconsistent-offsets";
    case Fault::kDuplicateValue:
      return "duplicate";
    case Fault::kAboveHwm:
      return "dirty-read";
  }
  return "?";
}

bool InjectFault(History* h, Fault f, uint64_t seed, std::string* what) {
  auto paired = history::PairOps(*h);
  if (!paired.ok()) return false;
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<OpView> reads, finals, appends;
  for (const history::Op& op : *paired) {
    if (op.status != EventType::kOk) continue;
    OpView v{op.call_ns, op.return_ns, static_cast<size_t>(op.complete_index)};
    if (op.f == "append") appends.push_back(v);
    if (op.f == "read") {
      (op.invoke_value.value("final", false) ? finals : reads).push_back(v);
    }
  }
  auto value_of = [&](const OpView& v) -> json& { return (*h)[v.complete].value; };
  switch (f) {
    case Fault::kDropAcked: {
      std::vector<size_t> order(appends.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      for (size_t ai : order) {
        const json& ack = value_of(appends[ai]);
        json entry = json::array({ack["offset"], ack["value"]});
        int removed = 0;
        for (auto* list : {&reads, &finals}) {
          for (const OpView& r : *list) {
            if (r.call <= appends[ai].ret) continue;
            json& entries = value_of(r)["entries"];
            for (size_t k = 0; k < entries.size(); ++k) {
              if (entries[k] == entry) {
                entries.erase(k);
                ++removed;
                break;
              }
            }
          }
        }
        if (removed == 0) continue;
        *what = "removed acknowledged entry " + entry.dump() + " from " + std::to_string(removed) +
                " later reads";
        return true;
      }
      return false;
    }
    case Fault::kSwapOffsets: {
      std::set<std::pair<int64_t, std::string>> acked;
      for (const OpView& a : appends) {
        const json& v = value_of(a);
        acked.emplace(v["offset"].get<int64_t>(), v["value"].get<std::string>());
      }
      std::vector<OpView> all = reads;
      all.insert(all.end(), finals.begin(), finals.end());
      std::shuffle(all.begin(), all.end(), rng);
      for (const OpView& r : all) {
        json& entries = value_of(r)["entries"];
        std::vector<size_t> ok;
        for (size_t k = 0; k < entries.size(); ++k) {
          if (acked.count({entries[k][0].get<int64_t>(), entries[k][1].get<std::string>()})) {
            ok.push_back(k);
          }
        }
        if (ok.size() < 2) continue;
        size_t i = pick(ok.size()), j = pick(ok.size() - 1);
        if (j >= i) ++j;
        std::swap(entries[ok[i]][1], entries[ok[j]][1]);
        *what = "swapped the values at offsets " + entries[ok[i]][0].dump() + " and " +
                entries[ok[j]][0].dump() + " in the read completed at event " +
                std::to_string(r.complete);
        return true;
      }
      return false;
    }
    case Fault::kDuplicateValue: {
      std::vector<OpView> cands;
      for (const OpView& r : finals) {
        const json& v = value_of(r);
        if (v["to"] == v["hwm"] && !v["entries"].empty()) cands.push_back(r);
      }
      if (cands.empty()) return false;
      json& v = value_of(cands[pick(cands.size())]);
      json& entries = v["entries"];
      json dup = entries[pick(entries.size())][1];
      int64_t to = v["to"].get<int64_t>();
      entries.push_back(json::array({to, dup}));
      v["to"] = to + 1;
      v["hwm"] = to + 1;
      *what = "final read shows " + dup.dump() + " again at offset " + std::to_string(to);
      return true;
    }
    case Fault::kAboveHwm: {
      std::map<int64_t, std::string> final_log;
      for (const OpView& r : finals) {
        for (const json& e : value_of(r)["entries"]) {
          final_log[e[0].get<int64_t>()] = e[1].get<std::string>();
        }
      }
      std::vector<OpView> cands;
      for (const OpView& r : reads) {
        const json& v = value_of(r);
        if (v["to"] == v["hwm"] && final_log.count(v["hwm"].get<int64_t>())) cands.push_back(r);
      }
      if (cands.empty()) return false;
      json& v = value_of(cands[pick(cands.size())]);
      int64_t hwm = v["hwm"].get<int64_t>();
      v["entries"].push_back(json::array({hwm, final_log[hwm]}));
      v["to"] = hwm + 1;
      *what = "a read with hwm " + std::to_string(hwm) + " also serves [" + std::to_string(hwm) +
              ", \"" + final_log[hwm] + "\"]";
      return true;
    }
  }
  return false;
}

// A few random corruptions of ok reads and acks, keeping the op shapes valid.
void Corrupt(history::History* h, uint64_t seed, int max_mutations) {
  std::mt19937_64 gen(seed);
  std::mt19937_64* rng = &gen;
  std::vector<size_t> read_done, append_done;
  std::map<int64_t, json> appending;  // process -> the value of its append in flight
  std::vector<json> failed;           // values of appends that failed (a retry may succeed)
  for (size_t i = 0; i < h->size(); ++i) {
    const history::Event& e = (*h)[i];
    if (e.f == "append" && e.type == EventType::kInvoke) appending[e.process] = e.value;
    if (e.f == "append" && e.type == EventType::kFail) failed.push_back(appending[e.process]);
    if (e.type != EventType::kOk) continue;
    (e.f == "read" ? read_done : append_done).push_back(i);
  }
  if (read_done.empty() || append_done.empty()) return;
  int n = 1 + static_cast<int>((*rng)() % static_cast<uint64_t>(max_mutations));
  for (int k = 0; k < n; ++k) {
    json& rv = (*h)[read_done[(*rng)() % read_done.size()]].value;
    json& entries = rv["entries"];
    switch ((*rng)() % 6) {
      case 0:  // drop an entry
        if (!entries.empty()) entries.erase(static_cast<size_t>((*rng)() % entries.size()));
        break;
      case 1: {  // replace a value with another appended value
        if (entries.empty()) break;
        const json& other = (*h)[append_done[(*rng)() % append_done.size()]].value["value"];
        entries[static_cast<size_t>((*rng)() % entries.size())][1] = other;
        break;
      }
      case 2:  // lower the HWM (may leave entries above it)
        rv["hwm"] =
            std::max<int64_t>(0, rv["hwm"].get<int64_t>() - 1 - static_cast<int64_t>((*rng)() % 4));
        break;
      case 3: {  // serve one more entry past `to`
        int64_t to = rv["to"];
        const json& other = (*h)[append_done[(*rng)() % append_done.size()]].value["value"];
        entries.push_back(json::array({to, other}));
        rv["to"] = to + 1;
        break;
      }
      case 4: {  // move an ack
        json& av = (*h)[append_done[(*rng)() % append_done.size()]].value;
        av["offset"] = av["offset"].get<int64_t>() + 1;
        break;
      }
      case 5:  // replace a value with one whose append failed (an aborted read, unless retried)
        if (entries.empty() || failed.empty()) break;
        entries[static_cast<size_t>((*rng)() % entries.size())][1] =
            failed[(*rng)() % failed.size()];
        break;
    }
  }
}

SimOptions VariedOptions(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.ops = 100 + static_cast<int64_t>(seed % 7) * 60;
  o.processes = 1 + static_cast<int>(seed % 9);
  o.nodes = 1 + static_cast<int>(seed % 5);
  o.page = 3 + static_cast<int64_t>(seed % 4) * 10;
  o.final_page = seed % 3 == 0 ? 7 : 100000;
  o.info_rate = 0.02 + 0.03 * static_cast<double>(seed % 3);
  o.leader_change_rate = seed % 4 == 0 ? 0.05 : 0.005;
  o.read_fraction = 0.3 + 0.1 * static_cast<double>(seed % 4);
  return o;
}

}  // namespace tidemark::checkers::logsim
