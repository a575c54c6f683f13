// Register, cas-register, kv and multi-key models (the log model is in log_model.cc).
#include "checkers/model.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace tidemark::checkers {

std::unique_ptr<Model> MakeLogModel();  // log_model.cc

namespace {

using history::EventType;
using history::Op;

// j.dump(), without nlohmann's serializer for the common integer and null values (what dump()
// writes for them is exactly this).
std::string Canonical(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  if (j.is_null()) return "null";
  return j.dump();
}

Error OpError(const Op& op, const std::string& what) {
  return Error{"op " + std::to_string(op.id) + " (event " + std::to_string(op.invoke_index) +
               ", f '" + op.f + "'): " + what};
}

// register / cas-register: the state is the JSON text of the value ("null" when unset).
class RegisterModel : public Model {
 public:
  enum Code { kRead, kWrite, kCas };
  explicit RegisterModel(bool cas) : cas_(cas) {}

  std::string_view Name() const override { return cas_ ? "cas-register" : "register"; }
  std::string Init() const override { return "null"; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      ModelOp& m = (*out)[i];
      m.ok = op.status == EventType::kOk;
      if (op.f == "read") {
        m.code = kRead;
        if (!m.ok) {
          (*keep)[i] = 0;  // a crashed read constrains nothing
          continue;
        }
        m.observer = true;
        m.a = Canonical(op.value);
      } else if (op.f == "write") {
        m.code = kWrite;
        m.a = Canonical(op.invoke_value);
      } else if (op.f == "cas" && cas_) {
        const nlohmann::json& v = op.invoke_value;
        if (!v.is_array() || v.size() != 2) return OpError(op, "cas value is not [from, to]");
        m.code = kCas;
        m.a = Canonical(v[0]);
        m.b = Canonical(v[1]);
      } else {
        return OpError(op, "not an op of the " + std::string(Name()) + " model");
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    switch (op.code) {
      case kRead:
        if (op.a != state) return false;
        *next = state;
        return true;
      case kWrite:
        *next = op.a;
        return true;
      case kCas:
        if (op.a != state) return false;
        *next = op.b;
        return true;
    }
    return false;
  }

  std::string DescribeState(const std::string& state) const override {
    return state == "null" ? "nil (unset)" : state;
  }

  bool Overwrites(const ModelOp& op) const override { return op.code == kWrite; }

  // Witnesses of a write v or cas [_, v] (crashed, or weakened by the explanation): the reads of v
  // and the cas [v, _] (other than itself). Only they need the register to hold v; any other op
  // after it would be a write.
  bool OptionalWitnesses(const std::vector<const ModelOp*>& ops, std::vector<int>* begin,
                         std::vector<int>* list) const override {
    // The ops that need a value (reads, and cas expecting it), grouped by that value (a dense id
    // per distinct value, then a counting sort: a history holds few distinct values, so a sort
    // would compare equal strings over and over).
    std::unordered_map<std::string_view, int> id;
    std::vector<int> need_id(ops.size(), -1);
    std::vector<int> group_begin(1, 0);  // group g: needs[group_begin[g] .. group_begin[g + 1])
    for (size_t i = 0; i < ops.size(); ++i) {
      const ModelOp& m = *ops[i];
      if (m.code != kRead && m.code != kCas) continue;
      auto [it, added] = id.try_emplace(m.a, static_cast<int>(group_begin.size()) - 1);
      if (added) group_begin.push_back(0);
      need_id[i] = it->second;
      ++group_begin[static_cast<size_t>(it->second) + 1];
    }
    for (size_t g = 1; g < group_begin.size(); ++g) group_begin[g] += group_begin[g - 1];
    std::vector<int> needs(static_cast<size_t>(group_begin.back()));
    std::vector<int> fill(group_begin.begin(), group_begin.end() - 1);
    for (size_t i = 0; i < ops.size(); ++i) {  // in op order within each group
      if (need_id[i] >= 0) needs[static_cast<size_t>(fill[need_id[i]]++)] = static_cast<int>(i);
    }
    begin->assign(ops.size() + 1, 0);
    list->clear();
    for (size_t i = 0; i < ops.size(); ++i) {
      const ModelOp& m = *ops[i];
      if (m.code != kRead) {
        auto it = id.find(m.code == kWrite ? m.a : m.b);
        if (it != id.end()) {
          for (int k = group_begin[it->second]; k < group_begin[it->second + 1]; ++k) {
            if (needs[k] != static_cast<int>(i)) list->push_back(needs[k]);
          }
        }
      }
      (*begin)[i + 1] = static_cast<int>(list->size());
    }
    return true;
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    if (op.code == kRead) return "a read here would return " + DescribeState(state);
    if (op.code == kCas) return "a cas here needs from = " + DescribeState(state);
    return "";
  }

 private:
  bool cas_;
};

uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Polynomial hashing modulo the Mersenne prime 2^61 - 1.
constexpr uint64_t kMod = (uint64_t{1} << 61) - 1;
constexpr uint64_t kBase = 0x1F3D5B79A1C3E5B7ull % kMod;

__extension__ typedef unsigned __int128 U128;

uint64_t MulMod(uint64_t a, uint64_t b) {
  U128 p = static_cast<U128>(a) * b;
  uint64_t lo = static_cast<uint64_t>(p & kMod), hi = static_cast<uint64_t>(p >> 61);
  uint64_t r = lo + hi;
  return r >= kMod ? r - kMod : r;
}
uint64_t AddMod(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  return r >= kMod ? r - kMod : r;
}

// kv states as a tree of appends: a state is its parent state plus one appended op (or a put's
// value, or ""), with its length and polynomial hash; the string is rebuilt only to confirm a hash
// match. Interning is exact: a hash match is confirmed byte by byte, so equal ids ⇔ equal strings.
class KvStateSpace : public StateSpace {
 public:
  enum Code { kGet, kPut, kAppend };  // KvModel's codes

  KvStateSpace(const std::vector<const ModelOp*>& ops, const std::vector<int64_t>& call_ns)
      : ops_(ops), hash_(ops.size()), pow_(ops.size()), put_state_(ops.size(), -1) {
    for (size_t i = 0; i < ops.size(); ++i) {
      uint64_t h = 0, p = 1;
      for (unsigned char c : ops[i]->a) {
        h = AddMod(MulMod(h, kBase), c + 1u);
        p = MulMod(p, kBase);
      }
      hash_[i] = h;
      pow_[i] = p;
    }
    nodes_.push_back(Node{-1, -1, 0, 0});
    index_.emplace(Mix64(0), 0);
    // Witnesses for Dead: completed gets in call order, each with the puts (even crashed
    // ones) whose value starts it: only those could restart the string towards it.
    std::vector<int> puts;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i]->code == kPut) puts.push_back(static_cast<int>(i));
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      const ModelOp& g = *ops[i];
      if (g.code != kGet || !g.ok) continue;
      Witness w{call_ns[i],
                static_cast<int32_t>(i),
                static_cast<uint32_t>(prefix_.size()),
                g.a.size(),
                static_cast<uint32_t>(restart_.size()),
                0};
      for (int p : puts) {
        if (std::string_view(g.a).substr(0, ops[p]->a.size()) == ops[p]->a) restart_.push_back(p);
      }
      w.restart_end = static_cast<uint32_t>(restart_.size());
      uint64_t h = 0;
      prefix_.push_back(0);
      for (unsigned char c : g.a) {
        h = AddMod(MulMod(h, kBase), c + 1u);
        prefix_.push_back(h);
      }
      witnesses_.push_back(w);
    }
    std::sort(witnesses_.begin(), witnesses_.end(),
              [](const Witness& x, const Witness& y) { return x.call_ns < y.call_ns; });
  }

  // Dead when one of the first few unplaced witnesses (in call order, from the earliest
  // unplaced) does not extend the state (its prefix hash of the state's length differs, or it is
  // shorter: appends only extend a string) and every put that could restart towards it is
  // placed. Hash equality is not confirmed, which can only miss a prune.
  bool Dead(int32_t s, int /*last*/, const uint8_t* placed, int64_t placed_before,
            const int* to_global) override {
    const Node& n = nodes_[s];
    auto is_placed = [&](int i) { return placed[to_global ? to_global[i] : i] != 0; };
    auto it = std::lower_bound(witnesses_.begin(), witnesses_.end(), placed_before,
                               [](const Witness& w, int64_t t) { return w.call_ns < t; });
    int looked = 0;
    for (; it != witnesses_.end() && looked < kWitnesses; ++it) {
      const Witness& w = *it;
      if (is_placed(w.op)) continue;
      ++looked;
      if (w.len >= n.len && prefix_[w.prefix + n.len] == n.hash) continue;
      bool restartable = false;
      for (uint32_t r = w.restart_begin; r < w.restart_end && !restartable; ++r) {
        restartable = !is_placed(restart_[r]);
      }
      if (!restartable) return true;
    }
    return false;
  }

  int32_t Step(int32_t s, int op) override {
    const ModelOp& m = *ops_[op];
    switch (m.code) {
      case kGet:
        return Equals(s, m.a, hash_[op]) ? s : -1;
      case kPut:
        if (put_state_[op] < 0) {
          put_state_[op] = Intern(-1, op, m.a.size(), hash_[op]);
        }
        return put_state_[op];
      case kAppend: {
        if (m.a.empty()) return s;
        const Node& n = nodes_[s];
        return Intern(s, op, n.len + m.a.size(), AddMod(MulMod(n.hash, pow_[op]), hash_[op]));
      }
    }
    return -1;
  }

  std::string Encode(int32_t s) const override {
    std::string out(nodes_[s].len, '\0');
    size_t end = out.size();
    for (int32_t i = s; i >= 0 && nodes_[i].op >= 0; i = nodes_[i].parent) {
      const std::string& a = ops_[nodes_[i].op]->a;
      end -= a.size();
      std::copy(a.begin(), a.end(), out.begin() + static_cast<long>(end));
    }
    return out;
  }
  size_t size() const override { return nodes_.size(); }
  size_t bytes() const override {
    return nodes_.size() * (sizeof(Node) + 32) + collided_bytes_ + prefix_.size() * 8;
  }

 private:
  static constexpr int kWitnesses = 4;  // unplaced witnesses Dead looks at
  struct Node {
    int32_t parent;  // -1: a root (the initial "" when op is -1, else a put's value)
    int32_t op;
    size_t len;
    uint64_t hash;
  };
  struct Witness {
    int64_t call_ns;
    int32_t op;
    uint32_t prefix;  // its prefix hashes: prefix_[prefix + k] for its first k bytes
    size_t len;
    uint32_t restart_begin, restart_end;  // restart_[...]: puts whose value starts it
  };

  // Whether state `s` is exactly `v` (whose hash is `h`).
  bool Equals(int32_t s, std::string_view v, uint64_t h) const {
    if (nodes_[s].len != v.size() || nodes_[s].hash != h) return false;
    for (int32_t i = s; i >= 0 && nodes_[i].op >= 0; i = nodes_[i].parent) {
      const std::string& a = ops_[nodes_[i].op]->a;
      if (v.size() < a.size() || v.substr(v.size() - a.size()) != a) return false;
      v.remove_suffix(a.size());
    }
    return v.empty();
  }

  int32_t Intern(int32_t parent, int op, size_t len, uint64_t h) {
    uint64_t key = Mix64(h ^ (static_cast<uint64_t>(len) * 0x9E3779B97F4A7C15ull));
    auto [it, fresh] = index_.emplace(key, static_cast<int32_t>(nodes_.size()));
    if (fresh) {
      nodes_.push_back(Node{parent, op, len, h});
      return it->second;
    }
    // Same hash: confirm byte by byte (rare unless the strings really are equal).
    std::string v = parent >= 0 ? Encode(parent) + ops_[op]->a : ops_[op]->a;
    if (Equals(it->second, v, h)) return it->second;
    auto [c, cfresh] = collided_.emplace(v, static_cast<int32_t>(nodes_.size()));
    if (cfresh) {
      collided_bytes_ += v.size() + 64;
      nodes_.push_back(Node{parent, op, len, h});
    }
    return c->second;
  }

  const std::vector<const ModelOp*> ops_;
  std::vector<uint64_t> hash_, pow_;
  std::vector<int32_t> put_state_;
  std::vector<Node> nodes_;
  std::vector<Witness> witnesses_;
  std::vector<uint64_t> prefix_;
  std::vector<int> restart_;
  std::unordered_map<uint64_t, int32_t> index_;        // hash of (string, length) -> first id
  std::unordered_map<std::string, int32_t> collided_;  // strings whose hash slot was taken
  size_t collided_bytes_ = 0;
};

// kv (Porcupine's kv corpus), one key: the state is the key's string, "" when unset.
class KvModel : public Model {
 public:
  enum Code { kGet, kPut, kAppend };
  std::string_view Name() const override { return "kv"; }
  std::string Init() const override { return ""; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    auto str = [](const nlohmann::json& j) {
      return j.is_string() ? j.get<std::string>() : j.is_null() ? std::string() : j.dump();
    };
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      ModelOp& m = (*out)[i];
      m.ok = op.status == EventType::kOk;
      if (op.f == "get" || op.f == "read") {
        m.code = kGet;
        if (!m.ok) {
          (*keep)[i] = 0;
          continue;
        }
        m.observer = true;
        m.a = str(op.value);
      } else if (op.f == "put" || op.f == "write") {
        m.code = kPut;
        m.a = str(op.invoke_value);
      } else if (op.f == "append") {
        m.code = kAppend;
        m.a = str(op.invoke_value);
      } else {
        return OpError(op, "not an op of the kv model (get/put/append)");
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    switch (op.code) {
      case kGet:
        if (op.a != state) return false;
        *next = state;
        return true;
      case kPut:
        *next = op.a;
        return true;
      case kAppend:
        *next = state + op.a;
        return true;
    }
    return false;
  }

  std::string DescribeState(const std::string& state) const override {
    return nlohmann::json(state).dump();
  }

  bool Overwrites(const ModelOp& op) const override { return op.code == kPut; }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    if (op.code == kGet) return "a get here would return " + DescribeState(state);
    return "";
  }

  std::unique_ptr<StateSpace> NewStateSpace(const std::vector<const ModelOp*>& ops,
                                            const std::vector<int64_t>& call_ns) const override {
    static_assert(static_cast<int>(kGet) == KvStateSpace::kGet &&
                  static_cast<int>(kPut) == KvStateSpace::kPut &&
                  static_cast<int>(kAppend) == KvStateSpace::kAppend);
    return std::make_unique<KvStateSpace>(ops, call_ns);
  }
};

// Several keys: a state is the tuple of per-key sub-state ids (each key's ops in the inner
// model's own state space), interned with an incrementally updated hash and confirmed exactly.
class MultiKeyStateSpace : public StateSpace {
 public:
  MultiKeyStateSpace(const Model& inner, const std::vector<const ModelOp*>& ops,
                     const std::vector<int64_t>& call_ns)
      : key_of_(ops.size()), local_(ops.size()) {
    std::map<std::string, std::vector<int>> by_key;
    for (size_t i = 0; i < ops.size(); ++i) by_key[ops[i]->key].push_back(static_cast<int>(i));
    for (const auto& [key, idx] : by_key) {
      std::vector<const ModelOp*> sub;
      std::vector<int64_t> sub_call;
      for (size_t j = 0; j < idx.size(); ++j) {
        key_of_[idx[j]] = static_cast<int>(keys_.size());
        local_[idx[j]] = static_cast<int>(j);
        sub.push_back(ops[idx[j]]);
        sub_call.push_back(call_ns[idx[j]]);
      }
      keys_.push_back(key);
      globals_.push_back(idx);
      subs_.push_back(inner.NewStateSpace(sub, sub_call));
    }
    width_ = keys_.size();
    tuples_.assign(width_, 0);
    uint64_t h = 0;
    for (size_t k = 0; k < width_; ++k) h ^= Part(k, 0);
    hashes_.push_back(h);
    index_.emplace(h, 0);
    tmp_.resize(width_);
  }

  int32_t Step(int32_t s, int op) override {
    size_t k = static_cast<size_t>(key_of_[op]);
    int32_t sub = tuples_[static_cast<size_t>(s) * width_ + k];
    int32_t ns = subs_[k]->Step(sub, local_[op]);
    if (ns < 0) return -1;
    if (ns == sub) return s;
    std::copy(tuples_.begin() + static_cast<long>(static_cast<size_t>(s) * width_),
              tuples_.begin() + static_cast<long>(static_cast<size_t>(s + 1) * width_),
              tmp_.begin());
    tmp_[k] = ns;
    uint64_t h = hashes_[s] ^ Part(k, sub) ^ Part(k, ns);
    auto range = index_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      if (std::equal(tmp_.begin(), tmp_.end(),
                     tuples_.begin() + static_cast<long>(static_cast<size_t>(it->second) * width_)))
        return it->second;
    }
    int32_t id = static_cast<int32_t>(hashes_.size());
    tuples_.insert(tuples_.end(), tmp_.begin(), tmp_.end());
    hashes_.push_back(h);
    index_.emplace(h, id);
    return id;
  }

  std::string Encode(int32_t s) const override {
    std::string out;
    for (size_t k = 0; k < width_; ++k) {
      int32_t sub = tuples_[static_cast<size_t>(s) * width_ + k];
      if (sub == 0) continue;
      std::string v = subs_[k]->Encode(sub);
      out += std::to_string(keys_[k].size()) + ":" + keys_[k];
      out += std::to_string(v.size()) + ":" + v;
    }
    return out;
  }
  size_t size() const override { return hashes_.size(); }
  bool Dead(int32_t s, int last, const uint8_t* placed, int64_t placed_before,
            const int* to_global) override {
    size_t k = static_cast<size_t>(key_of_[last]);
    const int* g = globals_[k].data();
    std::vector<int> composed;
    if (to_global) {
      for (int i : globals_[k]) composed.push_back(to_global[i]);
      g = composed.data();
    }
    return subs_[k]->Dead(tuples_[static_cast<size_t>(s) * width_ + k], local_[last], placed,
                          placed_before, g);
  }
  size_t bytes() const override {
    size_t b = tuples_.size() * 4 + hashes_.size() * 48;
    for (const auto& sub : subs_) b += sub->bytes();
    return b;
  }

 private:
  static uint64_t Part(size_t k, int32_t sub) {
    return Mix64((static_cast<uint64_t>(k) << 32) ^ static_cast<uint32_t>(sub));
  }
  std::vector<int> key_of_, local_;
  std::vector<std::vector<int>> globals_;  // per key: its ops' indices in this space
  std::vector<std::string> keys_;
  std::vector<std::unique_ptr<StateSpace>> subs_;
  size_t width_ = 0;
  std::vector<int32_t> tuples_;  // width_ sub-state ids per state
  std::vector<uint64_t> hashes_;
  std::unordered_multimap<uint64_t, int32_t> index_;
  std::vector<int32_t> tmp_;
};

// Several keys in one state: for each key (in first-seen order of Prepare) a length-prefixed
// substate. Keys missing from the state are at the inner model's initial state.
class MultiKeyModel : public Model {
 public:
  explicit MultiKeyModel(std::unique_ptr<Model> inner) : inner_(std::move(inner)) {}
  std::string_view Name() const override { return inner_->Name(); }
  std::string Init() const override { return ""; }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    std::map<std::string, std::vector<size_t>> by_key;
    for (size_t i = 0; i < ops.size(); ++i) by_key[ops[i]->key.value_or("")].push_back(i);
    for (const auto& [key, idx] : by_key) {
      std::vector<const Op*> sub;
      for (size_t i : idx) sub.push_back(ops[i]);
      std::vector<ModelOp> sub_out;
      std::vector<char> sub_keep;
      Status st = inner_->Prepare(sub, &sub_out, &sub_keep);
      if (!st.ok()) return st;
      for (size_t j = 0; j < idx.size(); ++j) {
        (*out)[idx[j]] = std::move(sub_out[j]);
        (*out)[idx[j]].key = key;
        (*keep)[idx[j]] = sub_keep[j];
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    std::map<std::string, std::string> m = Decode(state);
    auto it = m.find(op.key);
    std::string sub = it == m.end() ? inner_->Init() : it->second;
    std::string sub_next;
    if (!inner_->Step(sub, op, &sub_next)) return false;
    m[op.key] = std::move(sub_next);
    *next = Encode(m);
    return true;
  }

  std::string DescribeState(const std::string& state) const override {
    std::string s = "{";
    for (const auto& [k, v] : Decode(state)) {
      if (s.size() > 1) s += ", ";
      s += k + ": " + inner_->DescribeState(v);
    }
    return s + "}";
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    std::map<std::string, std::string> m = Decode(state);
    auto it = m.find(op.key);
    return inner_->CouldReturn(it == m.end() ? inner_->Init() : it->second, op);
  }

  std::unique_ptr<StateSpace> NewStateSpace(const std::vector<const ModelOp*>& ops,
                                            const std::vector<int64_t>& call_ns) const override {
    return std::make_unique<MultiKeyStateSpace>(*inner_, ops, call_ns);
  }

 private:
  static void Put(std::string* s, const std::string& v) {
    s->append(std::to_string(v.size()));
    s->push_back(':');
    s->append(v);
  }
  static std::string Encode(const std::map<std::string, std::string>& m) {
    std::string s;
    for (const auto& [k, v] : m) {
      Put(&s, k);
      Put(&s, v);
    }
    return s;
  }
  static std::map<std::string, std::string> Decode(const std::string& s) {
    std::map<std::string, std::string> m;
    size_t i = 0;
    auto take = [&]() {
      size_t colon = s.find(':', i);
      size_t n = std::stoull(s.substr(i, colon - i));
      std::string v = s.substr(colon + 1, n);
      i = colon + 1 + n;
      return v;
    };
    while (i < s.size()) {
      std::string k = take();
      m[k] = take();
    }
    return m;
  }
  std::unique_ptr<Model> inner_;
};

// The default: encoded states interned by their bytes.
class StringStateSpace : public StateSpace {
 public:
  StringStateSpace(const Model& model, const std::vector<const ModelOp*>& ops)
      : model_(model), ops_(ops) {
    Intern(model.Init());
  }
  int32_t Step(int32_t s, int op) override {
    std::string next;
    return model_.Step(*states_[s], *ops_[op], &next) ? Intern(std::move(next)) : -1;
  }
  std::string Encode(int32_t s) const override { return *states_[s]; }
  size_t size() const override { return states_.size(); }
  size_t bytes() const override { return bytes_; }

 private:
  int32_t Intern(std::string s) {
    size_t n = s.size();
    auto [it, fresh] = ids_.emplace(std::move(s), static_cast<int32_t>(states_.size()));
    if (fresh) {
      states_.push_back(&it->first);
      bytes_ += n + 64;
    }
    return it->second;
  }
  const Model& model_;
  const std::vector<const ModelOp*> ops_;
  std::vector<const std::string*> states_;  // keys of ids_ (stable node addresses)
  std::unordered_map<std::string, int32_t> ids_;
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<StateSpace> Model::NewStateSpace(const std::vector<const ModelOp*>& ops,
                                                 const std::vector<int64_t>& /*call_ns*/) const {
  return std::make_unique<StringStateSpace>(*this, ops);
}

std::unique_ptr<StateSpace> NewStringStateSpace(const Model& model,
                                                const std::vector<const ModelOp*>& ops) {
  return std::make_unique<StringStateSpace>(model, ops);
}

std::unique_ptr<Model> MakeModel(std::string_view name) {
  if (name == "register") return std::make_unique<RegisterModel>(false);
  if (name == "cas-register") return std::make_unique<RegisterModel>(true);
  if (name == "kv" || name == "kv-append") return std::make_unique<KvModel>();
  if (name == "log") return MakeLogModel();
  return nullptr;
}

std::unique_ptr<Model> MakeMultiKeyModel(std::unique_ptr<Model> inner) {
  return std::make_unique<MultiKeyModel>(std::move(inner));
}

std::vector<std::string> ModelNames() { return {"register", "cas-register", "kv", "log"}; }

}  // namespace tidemark::checkers
