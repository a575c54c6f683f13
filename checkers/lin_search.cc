#include "checkers/lin_search.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>
#include <unordered_map>

namespace tidemark::checkers {

const char* ToString(SearchOutcome o) {
  switch (o) {
    case SearchOutcome::kLinearizable:
      return "linearizable";
    case SearchOutcome::kViolation:
      return "violation";
    case SearchOutcome::kTimeout:
      return "timeout";
    case SearchOutcome::kMemory:
      return "memory";
    case SearchOutcome::kCancelled:
      return "cancelled";
  }
  return "?";
}

namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max();
constexpr int32_t kUnknownTrans = -2;
constexpr int32_t kIllegal = -1;
constexpr size_t kDenseCapEntries = size_t{1} << 20;  // 4 MiB of int32 transitions
constexpr size_t kDenseMaxWidth = 256;                // states per op row

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Charges `bytes` to the shared budget; false (and nothing charged) when it would go below 0.
bool Charge(std::atomic<int64_t>* left, int64_t bytes) {
  if (left == nullptr || bytes <= 0) return true;
  if (left->fetch_sub(bytes) - bytes < 0) {
    left->fetch_add(bytes);
    return false;
  }
  return true;
}

// Visited configurations: a 128-bit fingerprint of (placed completed ops and unmasked crashed
// ops, state) plus a bitmask of the placed crashed ops (up to 64 of them), open addressing with
// linear probing; one key may hold several masks. A configuration is *subsumed* by a stored one
// with the same key and a subset of its placed crashed ops: the stored one had every option the
// new one has (same state, same completed ops placed, more crashed ops still available), so if it
// led to success the search has stopped, and if it is still on the stack any success from the new
// one is also reachable from it (docs/checker.md has the argument).
class VisitedTable {
 public:
  explicit VisitedTable(std::atomic<int64_t>* budget) : budget_(budget) {}
  ~VisitedTable() {
    if (budget_) budget_->fetch_add(static_cast<int64_t>(slots_.size() * sizeof(Slot)));
  }
  // 1: inserted, 0: subsumed by a stored configuration, -1: out of memory.
  int Insert(uint64_t a, uint64_t b, uint64_t mask) {
    if (a == 0) a = 1;
    if ((size_ + 1) * 2 > slots_.size() && !Grow()) return -1;
    size_t i = SplitMix(a) & mask_;
    while (true) {
      Slot& s = slots_[i];
      if (s.a == 0) {
        s = Slot{a, b, mask};
        ++size_;
        return 1;
      }
      if (s.a == a && s.b == b && (s.mask & ~mask) == 0) return 0;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t a = 0, b = 0, mask = 0;
  };
  bool Grow() {
    size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
    if (!Charge(budget_, static_cast<int64_t>((cap - slots_.size()) * sizeof(Slot)))) return false;
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (const Slot& s : old) {
      if (s.a == 0) continue;
      size_t i = SplitMix(s.a) & mask_;
      while (slots_[i].a != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
    return true;
  }
  std::atomic<int64_t>* budget_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// uint64 -> int32 with open addressing (the sparse transition cache; no per-entry allocation).
class FlatMap {
 public:
  FlatMap() { Rehash(1024); }
  const int32_t* Find(uint64_t k) const {
    for (size_t i = SplitMix(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return &vals_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t bytes() const { return keys_.size() * (sizeof(uint64_t) + sizeof(int32_t)); }
  void Put(uint64_t k, int32_t v) {
    if ((size_ + 1) * 2 > keys_.size()) Rehash(keys_.size() * 2);
    size_t i = SplitMix(k) & mask_;
    while (keys_[i] != kEmpty && keys_[i] != k) i = (i + 1) & mask_;
    if (keys_[i] == kEmpty) ++size_;
    keys_[i] = k;
    vals_[i] = v;
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void Rehash(size_t cap) {
    std::vector<uint64_t> ok;
    std::vector<int32_t> ov;
    ok.swap(keys_);
    ov.swap(vals_);
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < ok.size(); ++i) {
      if (ok[i] != kEmpty) Put(ok[i], ov[i]);
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> vals_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Interned states (the model's StateSpace) and cached transitions (state id, op) -> next id or
// kIllegal. The state space's own memory is charged to the budget as it grows; when it cannot be,
// out_of_memory() turns true and the search stops with kMemory.
class Transitions {
 public:
  Transitions(const Model& model, const std::vector<PartitionOp>& ops, std::atomic<int64_t>* b)
      : ops_(ops), budget_(b) {
    std::vector<const ModelOp*> mops;
    std::vector<int64_t> calls;
    mops.reserve(ops.size());
    for (const PartitionOp& p : ops) {
      mops.push_back(&p.op);
      calls.push_back(p.call_ns);
    }
    space_ = model.NewStateSpace(mops, calls);
    SetWidth(16);
  }
  ~Transitions() {
    if (budget_) budget_->fetch_add(charged_);
  }
  size_t states() const { return space_->size(); }
  bool Dead(int32_t s, int last, const uint8_t* placed, int64_t placed_before) {
    return space_->Dead(s, last, placed, placed_before);
  }
  bool out_of_memory() const { return oom_; }

  int32_t Next(int32_t s, int op) {
    if (dense_) {
      int32_t t = table_[static_cast<size_t>(op) * width_ + static_cast<size_t>(s)];
      if (t != kUnknownTrans) return t;
    } else {
      if (const int32_t* t = sparse_.Find(Key(s, op))) return *t;
    }
    return Miss(s, op);
  }

 private:
  int32_t Miss(int32_t s, int op) {
    int32_t t = space_->Step(s, op);
    if (t < 0) t = kIllegal;
    if (dense_) {
      table_[static_cast<size_t>(op) * width_ + static_cast<size_t>(s)] = t;
      while (dense_ && space_->size() > width_) SetWidth(width_ * 2);
    } else {
      sparse_.Put(Key(s, op), t);
      if ((++misses_ & 1023) == 0) ChargeSparse();
    }
    return t;
  }
  void ChargeSparse() {
    int64_t want = static_cast<int64_t>(space_->bytes() + sparse_.bytes());
    if (want > sparse_charged_) {
      if (!Charge(budget_, want - sparse_charged_)) {
        oom_ = true;
        return;
      }
      charged_ += want - sparse_charged_;
      sparse_charged_ = want;
    }
  }
  static uint64_t Key(int32_t s, int op) {
    return (static_cast<uint64_t>(s) << 32) | static_cast<uint32_t>(op);
  }
  // Re-lays the dense table out with room for `w` states per op, or switches to the sparse map
  // when that would exceed kDenseCapEntries.
  void SetWidth(size_t w) {
    size_t n = ops_.size();
    if (n * w > kDenseCapEntries || w > kDenseMaxWidth ||
        !Charge(budget_, static_cast<int64_t>(n * (w - width_) * 4))) {
      for (size_t op = 0; op < n; ++op) {
        for (size_t s = 0; s < width_; ++s) {
          int32_t t = table_[op * width_ + s];
          if (t != kUnknownTrans)
            sparse_.Put(Key(static_cast<int32_t>(s), static_cast<int>(op)), t);
        }
      }
      dense_ = false;
      std::vector<int32_t>().swap(table_);
      return;
    }
    charged_ += static_cast<int64_t>(n * (w - width_) * 4);
    std::vector<int32_t> t(n * w, kUnknownTrans);
    for (size_t op = 0; op < n; ++op) {
      for (size_t s = 0; s < width_; ++s) t[op * w + s] = table_[op * width_ + s];
    }
    table_.swap(t);
    width_ = w;
  }

  const std::vector<PartitionOp>& ops_;
  std::atomic<int64_t>* budget_;
  std::unique_ptr<StateSpace> space_;
  int64_t charged_ = 0;
  int64_t sparse_charged_ = 0;
  int64_t misses_ = 0;
  bool oom_ = false;
  bool dense_ = true;
  size_t width_ = 0;
  std::vector<int32_t> table_;
  FlatMap sparse_;
};

// The orders the search walks: completed ops by call and by return, crashed ops by call.
struct Orders {
  std::vector<int> okc, okr, infc;
  explicit Orders(const std::vector<PartitionOp>& ops) {
    for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
      (ops[i].op.ok ? okc : infc).push_back(i);
    }
    auto by_call = [&](int a, int b) {
      return ops[a].call_ns != ops[b].call_ns ? ops[a].call_ns < ops[b].call_ns : a < b;
    };
    std::sort(okc.begin(), okc.end(), by_call);
    std::sort(infc.begin(), infc.end(), by_call);
    okr = okc;
    std::sort(okr.begin(), okr.end(), [&](int a, int b) {
      return ops[a].return_ns != ops[b].return_ns ? ops[a].return_ns < ops[b].return_ns : a < b;
    });
  }
};

class Search {
 public:
  Search(const Model& model, const std::vector<PartitionOp>& ops, const SearchBudget& budget)
      : ops_(ops),
        budget_(budget),
        ord_(ops),
        trans_(model, ops, budget.memory_left),
        visited_(budget.memory_left),
        lin_(ops.size(), 0) {
    rnd_.resize(ops.size() * 2);
    for (size_t i = 0; i < rnd_.size(); ++i) rnd_[i] = SplitMix(0x7469646Dull * (i + 1));
    SetUpWitnesses(model);
    SetUpTwins();
    // The first 64 crashed ops that may ever be placed (in call order) are tracked as mask bits,
    // not hashed.
    bit_.assign(ops.size(), 0);
    for (size_t k = 0, bits = 0; k < ord_.infc.size() && bits < 64; ++k) {
      int op = ord_.infc[k];
      if (!Useful(op)) continue;
      bit_[op] = uint64_t{1} << bits++;
      rnd_[2 * op] = rnd_[2 * op + 1] = 0;
    }
  }

  SearchResult Run() {
    SearchResult res;
    res.total_ok = static_cast<int>(ord_.okc.size());
    res.outcome = Loop();
    res.steps = steps_;
    res.configurations = static_cast<int64_t>(visited_.size());
    res.states = static_cast<int64_t>(trans_.states());
    if (res.outcome == SearchOutcome::kViolation) {
      res.deepest = best_;
      res.deepest_ok = best_ok_;
    }
    return res;
  }

 private:
  struct Frame {
    int op;  // the op placed to reach this configuration (-1 at the root)
    int32_t state;
    int r_idx, lo_idx, info_lo, nok;
    size_t cand_begin, cand_pos, cand_end;
  };

  // need_[i] for a crashed op: how many of its witnesses (Model::OptionalWitnesses) are still
  // unplaced; once none is, placing it cannot help, and it is no longer a candidate. -1: always a
  // candidate. watchers_ of op o: the crashed ops that o witnesses (CSR layout).
  void SetUpWitnesses(const Model& model) {
    need_.assign(ops_.size(), -1);
    watch_begin_.assign(ops_.size() + 1, 0);
    std::vector<const ModelOp*> mops;
    for (const PartitionOp& p : ops_) mops.push_back(&p.op);
    std::vector<std::vector<int>> wit;
    if (!model.OptionalWitnesses(mops, &wit)) return;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].op.ok) continue;
      need_[i] = static_cast<int>(wit[i].size());
      for (int w : wit[i]) ++watch_begin_[static_cast<size_t>(w) + 1];
    }
    for (size_t i = 0; i < ops_.size(); ++i) watch_begin_[i + 1] += watch_begin_[i];
    watch_list_.resize(static_cast<size_t>(watch_begin_.back()));
    std::vector<int> fill(watch_begin_.begin(), watch_begin_.end() - 1);
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].op.ok) continue;
      for (int w : wit[i])
        watch_list_[static_cast<size_t>(fill[static_cast<size_t>(w)]++)] = static_cast<int>(i);
    }
  }
  // twin_before_[i] for a crashed op: the crashed op called last before it that has the very same
  // ModelOp (a write of the same value, ...), or -1. Once both are called, two such ops are
  // interchangeable (no return time binds either), so the search places twins in call order: a
  // crashed op is a candidate only after its earlier twin is placed. Any linearization can be
  // rewritten that way by swapping twins, so no verdict changes; but the configurations that
  // differ only in which twin was placed (exponentially many) collapse into one.
  void SetUpTwins() {
    twin_before_.assign(ops_.size(), -1);
    std::unordered_map<std::string, int> last;
    for (int i : ord_.infc) {
      const ModelOp& m = ops_[i].op;
      std::string id = std::to_string(m.code) + '\x1f' + m.a + '\x1f' + m.b + '\x1f' +
                       std::to_string(m.x) + '\x1f' + std::to_string(m.y) + '\x1f' + m.key;
      auto [it, fresh] = last.try_emplace(std::move(id), i);
      if (!fresh) {
        twin_before_[i] = it->second;
        it->second = i;
      }
    }
  }
  bool Useful(int op) const { return need_[op] != 0; }
  bool TwinsPlaced(int op) const { return twin_before_[op] < 0 || lin_[twin_before_[op]]; }
  void Place(int op) {
    lin_[op] = 1;
    for (int k = watch_begin_[op]; k < watch_begin_[op + 1]; ++k) --need_[watch_list_[k]];
  }
  void Unplace(int op) {
    lin_[op] = 0;
    for (int k = watch_begin_[op]; k < watch_begin_[op + 1]; ++k) ++need_[watch_list_[k]];
  }

  void Advance(Frame* f) {
    const auto& okr = ord_.okr;
    const auto& okc = ord_.okc;
    const auto& infc = ord_.infc;
    while (f->r_idx < static_cast<int>(okr.size()) && lin_[okr[f->r_idx]]) ++f->r_idx;
    while (f->lo_idx < static_cast<int>(okc.size()) && lin_[okc[f->lo_idx]]) ++f->lo_idx;
    while (f->info_lo < static_cast<int>(infc.size()) &&
           (lin_[infc[f->info_lo]] || !Useful(infc[f->info_lo]))) {
      ++f->info_lo;
    }
  }

  // Fills cand_ for `f`: the op that returns first, then the other completed ops called before
  // that return, then crashed ones; or just one legal completed read (forced).
  void Candidates(Frame* f) {
    f->cand_begin = f->cand_pos = cand_.size();
    if (f->r_idx >= static_cast<int>(ord_.okr.size())) {
      f->cand_end = cand_.size();
      return;
    }
    int must = ord_.okr[f->r_idx];
    int64_t rt = ops_[must].return_ns;
    const auto& okc = ord_.okc;
    for (int i = f->lo_idx; i < static_cast<int>(okc.size()) && ops_[okc[i]].call_ns <= rt; ++i) {
      int c = okc[i];
      if (lin_[c] || !ops_[c].op.observer) continue;
      if (trans_.Next(f->state, c) >= 0) {
        cand_.push_back(c);
        f->cand_end = cand_.size();
        return;
      }
    }
    cand_.push_back(must);
    for (int i = f->lo_idx; i < static_cast<int>(okc.size()) && ops_[okc[i]].call_ns <= rt; ++i) {
      int c = okc[i];
      if (!lin_[c] && c != must && !ops_[c].op.observer) cand_.push_back(c);
    }
    const auto& infc = ord_.infc;
    for (int i = f->info_lo; i < static_cast<int>(infc.size()) && ops_[infc[i]].call_ns <= rt;
         ++i) {
      int c = infc[i];
      if (!lin_[c] && Useful(c) && TwinsPlaced(c)) cand_.push_back(c);
    }
    f->cand_end = cand_.size();
  }

  void Flip(int op) {
    h1_ ^= rnd_[2 * op];
    h2_ ^= rnd_[2 * op + 1];
    crashed_ ^= bit_[op];
  }

  SearchOutcome Loop() {
    const int n_ok = static_cast<int>(ord_.okc.size());
    Frame root{-1, 0, 0, 0, 0, 0, 0, 0, 0};
    Advance(&root);
    Candidates(&root);
    frames_.push_back(root);
    while (true) {
      Frame& f = frames_.back();
      if (f.r_idx >= n_ok) return SearchOutcome::kLinearizable;
      if ((++steps_ & 4095) == 0) {
        if (budget_.cancel && budget_.cancel->load(std::memory_order_relaxed)) {
          return SearchOutcome::kCancelled;
        }
        if (std::chrono::steady_clock::now() >= budget_.deadline) return SearchOutcome::kTimeout;
        if (trans_.out_of_memory()) return SearchOutcome::kMemory;
      }
      if (f.cand_pos == f.cand_end) {
        if (frames_.size() == 1) return SearchOutcome::kViolation;
        Unplace(f.op);
        Flip(f.op);
        cand_.resize(f.cand_begin);
        frames_.pop_back();
        if (frames_.size() - 1 < best_valid_) best_valid_ = frames_.size() - 1;
        continue;
      }
      int c = cand_[f.cand_pos++];
      int32_t ns = trans_.Next(f.state, c);
      if (ns < 0) continue;
      Flip(c);
      uint64_t a = h1_ ^ SplitMix(static_cast<uint64_t>(ns) + 0x51ull);
      uint64_t b = h2_ + static_cast<uint64_t>(ns) * 0xC2B2AE3D27D4EB4Full;
      int ins = visited_.Insert(a, b, crashed_);
      if (ins <= 0) {
        Flip(c);
        if (ins < 0) return SearchOutcome::kMemory;
        continue;
      }
      Place(c);
      Frame nf{c, ns, f.r_idx, f.lo_idx, f.info_lo, f.nok + (ops_[c].op.ok ? 1 : 0), 0, 0, 0};
      Advance(&nf);
      // Dead end: the model knows an unplaced ok op can never take effect from here.
      if (budget_.prune_dead && nf.r_idx < n_ok &&
          trans_.Dead(ns, c, lin_.data(), ops_[ord_.okc[nf.lo_idx]].call_ns)) {
        Unplace(c);
        Flip(c);
        continue;
      }
      Candidates(&nf);
      frames_.push_back(nf);
      if (nf.nok > best_ok_) RecordBest();
    }
  }

  // Saves the current stack as the deepest one, copying only what changed since the last save.
  void RecordBest() {
    best_ok_ = frames_.back().nok;
    best_.resize(best_valid_);
    for (size_t i = best_valid_ + 1; i < frames_.size(); ++i) best_.push_back(frames_[i].op);
    best_valid_ = frames_.size() - 1;
  }

  const std::vector<PartitionOp>& ops_;
  SearchBudget budget_;
  Orders ord_;
  Transitions trans_;
  VisitedTable visited_;
  std::vector<uint8_t> lin_;
  std::vector<uint64_t> rnd_;
  std::vector<uint64_t> bit_;  // per op: its mask bit (crashed ops), or 0
  std::vector<int> need_;
  std::vector<int> watch_begin_, watch_list_;
  std::vector<int> twin_before_;
  uint64_t h1_ = 0, h2_ = 0, crashed_ = 0;
  std::vector<Frame> frames_;
  std::vector<int> cand_;
  int64_t steps_ = 0;
  std::vector<int> best_;
  size_t best_valid_ = 0;
  int best_ok_ = -1;
};

}  // namespace

SearchResult SearchPartition(const Model& model, const std::vector<PartitionOp>& ops,
                             const SearchBudget& budget) {
  Search s(model, ops, budget);
  return s.Run();
}

Frontier AnalyzeFrontier(const Model& model, const std::vector<PartitionOp>& ops,
                         const std::vector<int>& prefix) {
  Frontier fr;
  fr.state = model.Init();
  std::vector<char> placed(ops.size(), 0);
  for (int i : prefix) {
    std::string next;
    if (!model.Step(fr.state, ops[i].op, &next)) break;  // cannot happen for a search prefix
    fr.state = std::move(next);
    placed[i] = 1;
  }
  int64_t rt = kInf;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!placed[i] && ops[i].op.ok && ops[i].return_ns < rt) {
      rt = ops[i].return_ns;
      fr.must = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (placed[i] || ops[i].call_ns > rt) continue;
    std::string next;
    fr.candidates.push_back(static_cast<int>(i));
    fr.legal.push_back(model.Step(fr.state, ops[i].op, &next) ? 1 : 0);
  }
  return fr;
}

}  // namespace tidemark::checkers
