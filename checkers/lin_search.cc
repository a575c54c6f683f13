#include "checkers/lin_search.h"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <numeric>
#include <tuple>

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
        if (size_ < kTracked) touched_[size_] = static_cast<uint32_t>(i);
        ++size_;
        return 1;
      }
      if (s.a == a && s.b == b && (s.mask & ~mask) == 0) return 0;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return size_; }
  // Forgets every configuration. A table that an earlier, larger search grew is given back.
  void Clear() {
    if (size_ == 0) return;
    if (slots_.size() > 4096 && size_ * 16 < slots_.size()) {
      if (budget_) budget_->fetch_add(static_cast<int64_t>(slots_.size() * sizeof(Slot)));
      std::vector<Slot>().swap(slots_);
      mask_ = 0;
    } else if (size_ <= kTracked) {  // a small search in a table a larger one grew
      for (size_t k = 0; k < size_; ++k) slots_[touched_[k]] = Slot{};
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t a = 0, b = 0, mask = 0;
  };
  // Where the first kTracked configurations went, so that Clear after a small search (every
  // re-check of an explanation) empties those slots rather than the whole table. Grow, which
  // moves slots, runs only once size_ is past half the smallest table (128), so these stay
  // right while size_ <= kTracked.
  static constexpr size_t kTracked = 64;

  bool Grow() {
    size_t cap = slots_.empty() ? 256 : slots_.size() * 2;
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
  std::array<uint32_t, kTracked> touched_{};
};

// uint64 -> int32 with open addressing (the sparse transition cache; no per-entry allocation).
class FlatMap {
 public:
  // Allocates on the first Put: most searches never leave the dense table.
  const int32_t* Find(uint64_t k) const {
    if (keys_.empty()) return nullptr;
    for (size_t i = SplitMix(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return &vals_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t bytes() const { return keys_.size() * (sizeof(uint64_t) + sizeof(int32_t)); }
  void Put(uint64_t k, int32_t v) {
    if ((size_ + 1) * 2 > keys_.size()) Rehash(keys_.empty() ? 1024 : keys_.size() * 2);
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
  // Out of line, so that Next (a table lookup on nearly every call) inlines into the search.
  [[gnu::noinline]] int32_t Miss(int32_t s, int op) {
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

}  // namespace

// The search over one partition, prepared once. Per op it keeps what every run needs (call and
// return times, the orders by call and by return, the optional witnesses, twin classes); a run
// derives the modes' orders from those by filtering, so nothing is sorted or copied twice.
class PartitionSearch::Impl {
 public:
  Impl(const Model& model, const std::vector<PartitionOp>& ops, std::atomic<int64_t>* memory_left)
      : ops_(ops), trans_(model, ops, memory_left), visited_(memory_left) {
    call_.resize(ops.size());
    ok_given_.resize(ops.size());
    overwrites_.resize(ops.size());
    observer_.resize(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      call_[i] = ops[i].call_ns;
      ok_given_[i] = ops[i].op.ok ? 1 : 0;
      overwrites_[i] = model.Overwrites(ops[i].op) ? 1 : 0;
      observer_[i] = ops[i].op.observer ? 1 : 0;
    }
    by_call_.resize(ops.size());
    std::iota(by_call_.begin(), by_call_.end(), 0);
    std::sort(by_call_.begin(), by_call_.end(),
              [&](int a, int b) { return call_[a] != call_[b] ? call_[a] < call_[b] : a < b; });
    for (int i : by_call_) {
      if (ok_given_[i]) by_ret_.push_back(i);
    }
    std::sort(by_ret_.begin(), by_ret_.end(), [&](int a, int b) {
      return ops[a].return_ns != ops[b].return_ns ? ops[a].return_ns < ops[b].return_ns : a < b;
    });
    rnd0_.resize(ops.size() * 2);
    for (size_t i = 0; i < rnd0_.size(); ++i) rnd0_[i] = SplitMix(0x7469646Dull * (i + 1));
    SetUpWitnesses(model);
  }

  int64_t version() const { return version_; }

  SearchResult Run(const std::vector<OpMode>& modes, const SearchBudget& budget) {
    budget_ = budget;
    Reset(modes);
    SearchResult res;
    res.total_ok = static_cast<int>(okc_.size());
    res.outcome = Loop();
    res.steps = steps_;
    res.configurations = static_cast<int64_t>(visited_.size());
    res.states = static_cast<int64_t>(trans_.states());
    res.pruned = pruned_;
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
    // `op` was optional: the next op must not be one that overwrites the state (Model::
    // Overwrites). A linearization placing an optional op right before an overwriting one stays
    // one without that optional op, so only linearizations that place fewer optional ops are
    // skipped, and one of those is explored. Part of the visited key: such a configuration has
    // fewer options than the same one reached otherwise.
    bool after_optional;
  };

  // Witnesses (Model::OptionalWitnesses) of every op that may be optional in a run (CSR:
  // wit_begin_/wit_list_); a run lists, for the ops optional in it, who watches them.
  void SetUpWitnesses(const Model& model) {
    std::vector<const ModelOp*> mops;
    mops.reserve(ops_.size());
    for (const PartitionOp& p : ops_) mops.push_back(&p.op);
    has_witnesses_ = model.OptionalWitnesses(mops, &wit_begin_, &wit_list_);
    if (!has_witnesses_ || wit_begin_.size() != ops_.size() + 1) {
      has_witnesses_ = false;
      wit_begin_.assign(ops_.size() + 1, 0);
      wit_list_.clear();
      return;
    }
    // A completed read is never optional: what it would witness is dropped.
    bool observer_lists = false;
    for (size_t i = 0; i < ops_.size(); ++i) {
      observer_lists = observer_lists || (ops_[i].op.observer && wit_begin_[i + 1] > wit_begin_[i]);
    }
    if (!observer_lists) return;
    std::vector<int> begin(ops_.size() + 1, 0), list;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (!ops_[i].op.observer) {
        list.insert(list.end(), wit_list_.begin() + wit_begin_[i],
                    wit_list_.begin() + wit_begin_[i + 1]);
      }
      begin[i + 1] = static_cast<int>(list.size());
    }
    wit_begin_.swap(begin);
    wit_list_.swap(list);
  }

  // twin_class_[i]: ops with the very same ModelOp (a write of the same value, ...) share a class
  // (-1: an op that is never optional). Once both are called, two crashed ops of one class are
  // interchangeable (no return time binds either), so a run places twins in call order: a
  // crashed op is a candidate only after its earlier twin is placed. Any linearization can be
  // rewritten that way by swapping twins, so no verdict changes; but the configurations that
  // differ only in which twin was placed (exponentially many) collapse into one.
  void SetUpTwinClasses(bool weakenable) {
    ++version_;
    twins_for_all_ = weakenable;
    twin_class_.assign(ops_.size(), -1);
    std::vector<int>
        may;  // the ops that may be optional, sorted so that equal ModelOps are adjacent
    for (size_t i = 0; i < ops_.size(); ++i) {
      const ModelOp& m = ops_[i].op;
      if (!m.observer && (!m.ok || weakenable)) may.push_back(static_cast<int>(i));
    }
    auto tie = [&](int i) {
      const ModelOp& m = ops_[i].op;
      return std::tie(m.code, m.a, m.b, m.x, m.y, m.key);
    };
    std::sort(may.begin(), may.end(), [&](int x, int y) { return tie(x) < tie(y); });
    int classes = 0;
    for (size_t k = 0; k < may.size(); ++k) {
      if (k > 0 && tie(may[k]) != tie(may[k - 1])) ++classes;
      twin_class_[may[k]] = classes;
    }
    n_classes_ = may.empty() ? 0 : static_cast<size_t>(classes) + 1;
  }

  // Prepares the run's orders and per-op state for `modes`.
  void Reset(const std::vector<OpMode>& modes) {
    const size_t n = ops_.size();
    auto mode = [&](int i) { return modes.empty() ? OpMode::kAsGiven : modes[i]; };
    ok_.assign(n, 0);
    lin_.assign(n, 0);
    okc_.clear();
    infc_.clear();
    okr_.clear();
    bool weakened = false;
    for (int i : by_call_) {
      OpMode m = mode(i);
      weakened = weakened || (m == OpMode::kOptional && ok_given_[i]);
      if (m == OpMode::kDropped) {
        lin_[i] = 1;  // never a candidate; placed as far as Dead and the witnesses are concerned
        continue;
      }
      bool ok = ok_given_[i] && m == OpMode::kAsGiven;
      ok_[i] = ok ? 1 : 0;
      (ok ? okc_ : infc_).push_back(i);
    }
    for (int i : by_ret_) {
      if (ok_[i]) okr_.push_back(i);
    }
    // need_[i] for a crashed op: how many of its witnesses are still unplaced; once none is,
    // placing it cannot help, and it is no longer a candidate. -1: always a candidate.
    // watch_*: per op, the optional ops it witnesses (CSR).
    need_.assign(n, -1);
    watch_begin_.assign(n + 1, 0);
    watch_list_.clear();
    if (has_witnesses_) {
      for (int i : infc_) {
        int c = 0;
        for (int k = wit_begin_[i]; k < wit_begin_[i + 1]; ++k) {
          int w = wit_list_[k];
          ++watch_begin_[static_cast<size_t>(w) + 1];
          c += lin_[w] ? 0 : 1;
        }
        need_[i] = c;
      }
      for (size_t i = 0; i < n; ++i) watch_begin_[i + 1] += watch_begin_[i];
      watch_list_.resize(static_cast<size_t>(watch_begin_[n]));
      fill_.assign(watch_begin_.begin(), watch_begin_.end() - 1);
      for (int i : infc_) {
        for (int k = wit_begin_[i]; k < wit_begin_[i + 1]; ++k) {
          watch_list_[static_cast<size_t>(fill_[static_cast<size_t>(wit_list_[k])]++)] = i;
        }
      }
    }
    // Twin classes cover the crashed ops until a run weakens a completed one.
    if (twin_class_.empty() || (weakened && !twins_for_all_)) SetUpTwinClasses(weakened);
    twin_before_.assign(n, -1);
    last_of_class_.assign(n_classes_, -1);
    for (int i : infc_) {
      int c = twin_class_[i];
      if (c < 0) continue;
      twin_before_[i] = last_of_class_[c];
      last_of_class_[c] = i;
    }
    // The first 64 crashed ops that may ever be placed (in call order) are tracked as mask bits,
    // not hashed (Flip).
    bit_.assign(n, 0);
    for (size_t k = 0, bits = 0; k < infc_.size() && bits < 64; ++k) {
      int op = infc_[k];
      if (!Useful(op)) continue;
      bit_[op] = uint64_t{1} << bits++;
    }
    visited_.Clear();
    h1_ = h2_ = crashed_ = 0;
    frames_.clear();
    cand_.clear();
    steps_ = 0;
    pruned_ = 0;
    best_.clear();
    best_valid_ = 0;
    best_ok_ = -1;
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
    while (f->r_idx < static_cast<int>(okr_.size()) && lin_[okr_[f->r_idx]]) ++f->r_idx;
    while (f->lo_idx < static_cast<int>(okc_.size()) && lin_[okc_[f->lo_idx]]) ++f->lo_idx;
    while (f->info_lo < static_cast<int>(infc_.size()) &&
           (lin_[infc_[f->info_lo]] || !Useful(infc_[f->info_lo]))) {
      ++f->info_lo;
    }
  }

  // Fills cand_ for `f`: the op that returns first, then the other completed ops called before
  // that return, then crashed ones; or just one legal completed read (forced).
  void Candidates(Frame* f) {
    f->cand_begin = f->cand_pos = cand_.size();
    if (f->r_idx >= static_cast<int>(okr_.size())) {
      f->cand_end = cand_.size();
      return;
    }
    int must = okr_[f->r_idx];
    int64_t rt = ops_[must].return_ns;
    const bool no_overwrite = f->after_optional;
    if (!(no_overwrite && overwrites_[must])) cand_.push_back(must);
    // One pass over the completed ops called before that return: the first legal read (in this
    // order) is forced and goes alone; until one is found, the updates are candidates.
    for (int i = f->lo_idx; i < static_cast<int>(okc_.size()) && call_[okc_[i]] <= rt; ++i) {
      int c = okc_[i];
      if (lin_[c]) continue;
      if (observer_[c]) {
        if (trans_.Next(f->state, c) >= 0) {
          cand_.resize(f->cand_begin);
          cand_.push_back(c);
          f->cand_end = cand_.size();
          return;
        }
      } else if (c != must && !(no_overwrite && overwrites_[c])) {
        cand_.push_back(c);
      }
    }
    for (int i = f->info_lo; i < static_cast<int>(infc_.size()) && call_[infc_[i]] <= rt; ++i) {
      int c = infc_[i];
      if (!lin_[c] && Useful(c) && TwinsPlaced(c) && !(no_overwrite && overwrites_[c])) {
        cand_.push_back(c);
      }
    }
    f->cand_end = cand_.size();
  }

  // An op with a mask bit flips it; any other flips its random words in the hash.
  void Flip(int op) {
    const uint64_t bit = bit_[op];
    const uint64_t hashed = bit == 0 ? ~uint64_t{0} : 0;
    h1_ ^= rnd0_[2 * op] & hashed;
    h2_ ^= rnd0_[2 * op + 1] & hashed;
    crashed_ ^= bit;
  }

  SearchOutcome Loop() {
    const int n_ok = static_cast<int>(okc_.size());
    Frame root{-1, 0, 0, 0, 0, 0, 0, 0, 0, false};
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
      const bool after_optional = !ok_[c];
      uint64_t a = h1_ ^ SplitMix((static_cast<uint64_t>(ns) << 1 | after_optional) + 0x51ull);
      uint64_t b = h2_ + static_cast<uint64_t>(ns) * 0xC2B2AE3D27D4EB4Full;
      int ins = visited_.Insert(a, b, crashed_);
      if (ins <= 0) {
        Flip(c);
        if (ins < 0) return SearchOutcome::kMemory;
        continue;
      }
      Place(c);
      Frame nf{c, ns, f.r_idx, f.lo_idx, f.info_lo, f.nok + ok_[c], 0, 0, 0, after_optional};
      Advance(&nf);
      // Dead end: the model knows an unplaced ok op can never take effect from here.
      if (budget_.prune_dead && nf.r_idx < n_ok &&
          trans_.Dead(ns, c, lin_.data(), call_[okc_[nf.lo_idx]])) {
        Unplace(c);
        Flip(c);
        ++pruned_;
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

  // Fixed for the partition.
  const std::vector<PartitionOp>& ops_;
  std::vector<int64_t> call_;
  std::vector<uint8_t> ok_given_;
  std::vector<uint8_t> overwrites_;    // Model::Overwrites per op
  std::vector<uint8_t> observer_;      // ModelOp::observer per op (the candidates' scan reads it)
  std::vector<int> by_call_, by_ret_;  // every op by call; the completed ones by return
  std::vector<uint64_t> rnd0_;
  bool has_witnesses_ = false;
  std::vector<int> wit_begin_, wit_list_;
  std::vector<int> twin_class_;  // empty until the first run
  size_t n_classes_ = 0;
  bool twins_for_all_ = false;  // twin_class_ covers every update, not only the crashed ones
  int64_t version_ = 0;         // PartitionSearch::version()
  Transitions trans_;
  VisitedTable visited_;
  // Per run.
  SearchBudget budget_;
  std::vector<uint8_t> ok_, lin_;
  std::vector<int> okc_, okr_, infc_;  // completed ops by call and by return, crashed by call
  std::vector<int> need_, twin_before_, last_of_class_;
  std::vector<int> watch_begin_, watch_list_, fill_;
  std::vector<uint64_t> bit_;  // per op: its mask bit (crashed ops), or 0
  uint64_t h1_ = 0, h2_ = 0, crashed_ = 0;
  std::vector<Frame> frames_;
  std::vector<int> cand_;
  int64_t steps_ = 0;
  int64_t pruned_ = 0;
  std::vector<int> best_;
  size_t best_valid_ = 0;
  int best_ok_ = -1;
};

PartitionSearch::PartitionSearch(const Model& model, const std::vector<PartitionOp>& ops,
                                 std::atomic<int64_t>* memory_left)
    : impl_(std::make_unique<Impl>(model, ops, memory_left)) {}

PartitionSearch::~PartitionSearch() = default;

SearchResult PartitionSearch::Run(const std::vector<OpMode>& modes, const SearchBudget& budget) {
  return impl_->Run(modes, budget);
}

int64_t PartitionSearch::version() const { return impl_->version(); }

SearchResult SearchPartition(const Model& model, const std::vector<PartitionOp>& ops,
                             const SearchBudget& budget) {
  PartitionSearch s(model, ops, budget.memory_left);
  return s.Run({}, budget);
}

Frontier AnalyzeFrontier(const Model& model, const std::vector<PartitionOp>& ops,
                         const std::vector<int>& prefix, const std::vector<OpMode>& modes) {
  auto mode = [&](size_t i) { return modes.empty() ? OpMode::kAsGiven : modes[i]; };
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
    if (!placed[i] && ops[i].op.ok && mode(i) == OpMode::kAsGiven && ops[i].return_ns < rt) {
      rt = ops[i].return_ns;
      fr.must = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (placed[i] || mode(i) == OpMode::kDropped || ops[i].call_ns > rt) continue;
    std::string next;
    fr.candidates.push_back(static_cast<int>(i));
    fr.legal.push_back(model.Step(fr.state, ops[i].op, &next) ? 1 : 0);
  }
  return fr;
}

}  // namespace tidemark::checkers
