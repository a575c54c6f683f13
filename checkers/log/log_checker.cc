// The log-prefix anomaly detectors. Definitions: docs/anomalies.md. Every detector is a sort
// plus linear or logarithmic work per op or read entry; only the reported examples pay for a
// linear witness search.
#include "checkers/log/log_checker.h"

#include <algorithm>
#include <exception>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "checkers/log/anomaly_report.h"
#include "checkers/log/log_ops.h"

namespace tidemark::checkers {
namespace logck {
namespace {

using history::EventType;
using history::Op;
using nlohmann::json;

// A committed observation of a value at an offset: an ack, or a read entry below the read's HWM
// that is not in canon (LogOps: where the read disagreed with earlier reads). Reads' entries in
// canon are counted per canon entry instead (Analysis::canon_all_ and the slices), so for a
// correct log there is one Obs per acknowledged append, whatever the number of reads. 24 bytes;
// `tag` packs the index into appends or reads with the kind.
struct Obs {
  int64_t offset;
  int64_t key;  // ack: return time; read: ReadRec::key
  int32_t vid;
  uint32_t tag;  // src << 1 | kind

  static Obs Make(int64_t offset, int64_t key, int32_t vid, int32_t kind, int32_t src) {
    return Obs{offset, key, vid, (static_cast<uint32_t>(src) << 1) | static_cast<uint32_t>(kind)};
  }
  int32_t kind() const { return static_cast<int32_t>(tag & 1); }  // 0 ack, 1 read
  int32_t src() const { return static_cast<int32_t>(tag >> 1); }  // into appends or reads
  bool operator<(const Obs& o) const {
    return std::make_tuple(offset, vid, kind(), key, src()) <
           std::make_tuple(o.offset, o.vid, o.kind(), o.key, o.src());
  }
};
static_assert(sizeof(Obs) == 24);

// Counts of inserted intervals [from, end) containing a point, by two Fenwick trees.
class StabCounter {
 public:
  StabCounter(std::vector<int64_t> froms, std::vector<int64_t> ends)
      : froms_(Unique(std::move(froms))), ends_(Unique(std::move(ends))) {
    f_.assign(froms_.size() + 1, 0);
    e_.assign(ends_.size() + 1, 0);
  }
  void Insert(int64_t from, int64_t end) {
    Add(&f_, Rank(froms_, from));
    Add(&e_, Rank(ends_, end));
  }
  // Inserted intervals with from <= x < end.
  int64_t Count(int64_t x) const {
    return Prefix(f_, UpperRank(froms_, x)) - Prefix(e_, UpperRank(ends_, x));
  }

 private:
  static std::vector<int64_t> Unique(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  static size_t Rank(const std::vector<int64_t>& c, int64_t v) {
    return static_cast<size_t>(std::lower_bound(c.begin(), c.end(), v) - c.begin()) + 1;
  }
  static size_t UpperRank(const std::vector<int64_t>& c, int64_t v) {
    return static_cast<size_t>(std::upper_bound(c.begin(), c.end(), v) - c.begin());
  }
  static void Add(std::vector<int64_t>* t, size_t i) {
    for (; i < t->size(); i += i & (~i + 1)) ++(*t)[i];
  }
  static int64_t Prefix(const std::vector<int64_t>& t, size_t i) {
    int64_t s = 0;
    for (; i > 0; i -= i & (~i + 1)) s += t[i];
    return s;
  }
  std::vector<int64_t> froms_, ends_;
  std::vector<int64_t> f_, e_;
};

// Static version: all intervals known up front, counted with two sorted arrays.
class StaticStab {
 public:
  void Add(int64_t from, int64_t end) {
    if (end <= from) return;
    froms_.push_back(from);
    ends_.push_back(end);
  }
  void Seal() {
    std::sort(froms_.begin(), froms_.end());
    std::sort(ends_.begin(), ends_.end());
  }
  int64_t Count(int64_t x) const {
    return (std::upper_bound(froms_.begin(), froms_.end(), x) - froms_.begin()) -
           (std::upper_bound(ends_.begin(), ends_.end(), x) - ends_.begin());
  }

 private:
  std::vector<int64_t> froms_, ends_;
};

struct PairHash {
  size_t operator()(const std::pair<int64_t, int32_t>& p) const {
    uint64_t h = static_cast<uint64_t>(p.first) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(
        h ^ (static_cast<uint64_t>(p.second) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2)));
  }
};

class Analysis {
 public:
  Analysis(history::OpsView ops, const LogOps& l, const LogCheckOptions& opts)
      : ops_(ops), l_(l), opts_(opts), report_(ops, opts) {
    BuildIndexes();
  }

  void Run() {
    AckAboveHwm();
    PhantomAndAborted();
    Duplicates();
    InconsistentOffsets();
    LostAndUnseen();
    DirtyReads();
    StaleReads();
    NonmonotonicReads();
  }

  CheckResult Result() const;

 private:
  // ---- indexes ----
  void BuildIndexes() {
    observed_.assign(l_.values.size(), false);
    for (size_t v = 0; v < l_.dropped_observed.size() && v < observed_.size(); ++v) {
      if (l_.dropped_observed[v]) observed_[v] = true;
    }
    // Exactly the observations below: obs_ is the largest index, so no doubling slack.
    size_t n = 0;
    for (const AppendRec& a : l_.appends) n += a.status == EventType::kOk;
    for (const ReadRec& r : l_.reads)
      for (uint32_t k = r.own_begin; k < r.own_end && l_.own[k].offset < r.cov_end; ++k) ++n;
    obs_.reserve(n);
    for (size_t i = 0; i < l_.appends.size(); ++i) {
      const AppendRec& a = l_.appends[i];
      if (a.status != EventType::kOk) continue;
      obs_.push_back(Obs::Make(a.offset, a.ret, a.vid, 0, static_cast<int32_t>(i)));
      ok_appends_.push_back(static_cast<int32_t>(i));
    }
    ccom_end_.resize(l_.reads.size());
    for (size_t i = 0; i < l_.reads.size(); ++i) {
      const ReadRec& r = l_.reads[i];
      all_stab_.Add(r.from, r.cov_end);
      if (r.final) {
        final_stab_.Add(r.from, r.cov_end);
        finals_.push_back(static_cast<int32_t>(i));
        final_end_ = std::max(final_end_, r.hwm);
      }
      // Committed entries: offsets below cov_end, in canon then in own (offsets increase).
      auto first = l_.canon.begin() + r.canon_begin, last = l_.canon.begin() + r.canon_end;
      ccom_end_[i] = static_cast<uint32_t>(
          std::lower_bound(first, last, r.cov_end,
                           [](const EntryRec& e, int64_t x) { return e.offset < x; }) -
          l_.canon.begin());
      for (uint32_t k = r.own_begin; k < r.own_end && l_.own[k].offset < r.cov_end; ++k) {
        const EntryRec& e = l_.own[k];
        obs_.push_back(Obs::Make(e.offset, r.key, e.vid, 1, static_cast<int32_t>(i)));
        observed_[static_cast<size_t>(e.vid)] = true;
      }
    }
    SortObs();
    IndexCanon();
    all_stab_.Seal();
    final_stab_.Seal();
    // Final reads by call time, with the suffix maximum of their HWM (the final log's length; a
    // final read may be one page of the log, so its `to` says less).
    std::sort(finals_.begin(), finals_.end(), [&](int32_t x, int32_t y) {
      return l_.reads[static_cast<size_t>(x)].call < l_.reads[static_cast<size_t>(y)].call;
    });
    final_suffix_.assign(finals_.size(), -1);
    for (size_t i = finals_.size(); i-- > 0;) {
      int32_t best = finals_[i];
      if (i + 1 < finals_.size()) {
        int32_t other = final_suffix_[i + 1];
        if (Read(other).hwm > Read(best).hwm) best = other;
      }
      final_suffix_[i] = best;
    }
  }

  // Per canon entry: how many reads (and final reads) hold it committed, and which holders come
  // first, so that the detectors treat a canon entry as the observations it stands for.
  void IndexCanon() {
    const size_t n = l_.canon.size();
    std::vector<int32_t> diff(n + 1, 0), diff_final(n + 1, 0);
    for (size_t i = 0; i < l_.reads.size(); ++i) {
      const ReadRec& r = l_.reads[i];
      if (ccom_end_[i] <= r.canon_begin) continue;
      ++diff[r.canon_begin];
      --diff[ccom_end_[i]];
      if (r.final) {
        ++diff_final[r.canon_begin];
        --diff_final[ccom_end_[i]];
      }
    }
    canon_all_.assign(n, 0);
    canon_final_.assign(n, 0);
    for (size_t c = 0, all = 0, fin = 0; c < n; ++c) {
      all += static_cast<size_t>(diff[c]);
      fin += static_cast<size_t>(diff_final[c]);
      canon_all_[c] = static_cast<int32_t>(all);
      canon_final_[c] = static_cast<int32_t>(fin);
      if (all > 0) observed_[static_cast<size_t>(l_.canon[c].vid)] = true;
    }
    // The first holder of each entry: reads in the given order paint the entries of their slice
    // that no earlier read painted (next_ skips painted runs, so this is near-linear).
    std::vector<int32_t> order(l_.reads.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
      return std::tie(Read(x).key, x) < std::tie(Read(y).key, y);
    });
    canon_first_ = PaintFirst(order);
    std::vector<int32_t> nonfinal;
    for (size_t i = 0; i < l_.reads.size(); ++i)
      if (!l_.reads[i].final) nonfinal.push_back(static_cast<int32_t>(i));
    canon_first_nonfinal_ = PaintFirst(nonfinal);
  }
  std::vector<int32_t> PaintFirst(const std::vector<int32_t>& order) const {
    const size_t n = l_.canon.size();
    std::vector<int32_t> first(n, -1);
    std::vector<uint32_t> next(n + 1);  // next[c]: some c' >= c, the first unpainted one on from c
    for (size_t c = 0; c <= n; ++c) next[c] = static_cast<uint32_t>(c);
    auto find = [&](uint32_t c) {
      uint32_t root = c;
      while (next[root] != root) root = next[root];
      while (next[c] != root) c = std::exchange(next[c], root);
      return root;
    };
    for (int32_t ri : order) {
      const ReadRec& r = Read(ri);
      for (uint32_t c = find(r.canon_begin); c < ccom_end_[static_cast<size_t>(ri)]; c = find(c)) {
        first[c] = ri;
        next[c] = c + 1;
      }
    }
    return first;
  }

  // The canon index holding vid at offset, or -1.
  int64_t CanonAt(int64_t offset, int32_t vid) const {
    auto it = std::lower_bound(l_.canon.begin(), l_.canon.end(), offset,
                               [](const EntryRec& e, int64_t x) { return e.offset < x; });
    if (it == l_.canon.end() || it->offset != offset || it->vid != vid) return -1;
    return it - l_.canon.begin();
  }

  const ReadRec& Read(int64_t i) const { return l_.reads[static_cast<size_t>(i)]; }
  const AppendRec& Append(int64_t i) const { return l_.appends[static_cast<size_t>(i)]; }
  history::OpBrief OpOf(int64_t op) const { return ops_[static_cast<size_t>(op)]; }
  std::string Value(int64_t vid) const { return std::string(l_.values[static_cast<size_t>(vid)]); }

  // The final read with the highest HWM among those invoked after time t, or -1.
  int32_t LongestFinalAfter(int64_t t) const {
    auto it = std::upper_bound(finals_.begin(), finals_.end(), t, [&](int64_t x, int32_t f) {
      return x < l_.reads[static_cast<size_t>(f)].call;
    });
    if (it == finals_.end()) return -1;
    return final_suffix_[static_cast<size_t>(it - finals_.begin())];
  }

  // Sorts obs_ by (offset, vid, kind, key, src). Offsets of a real log are dense, so a counting
  // sort by offset followed by sorting each (small) bucket is linear in practice and leaves an
  // offset -> bucket index for O(1) lookups; sparse offsets fall back to a comparison sort.
  void SortObs() {
    int64_t max_off = -1;
    for (const Obs& o : obs_) max_off = std::max(max_off, o.offset);
    if (max_off < 0 || max_off > 4 * static_cast<int64_t>(obs_.size()) + 1024) {
      std::sort(obs_.begin(), obs_.end());
      return;
    }
    bucket_.assign(static_cast<size_t>(max_off) + 2, 0);
    for (const Obs& o : obs_) ++bucket_[static_cast<size_t>(o.offset) + 1];
    for (size_t i = 1; i < bucket_.size(); ++i) bucket_[i] += bucket_[i - 1];
    // In place (no second array): each swap puts one observation in its offset's bucket for good.
    std::vector<size_t> next(bucket_.begin(), bucket_.end() - 1);
    for (size_t b = 0; b + 1 < bucket_.size(); ++b) {
      while (next[b] < bucket_[b + 1]) {
        const auto t = static_cast<size_t>(obs_[next[b]].offset);
        if (t == b) {
          ++next[b];
        } else {
          std::swap(obs_[next[b]], obs_[next[t]++]);
        }
      }
    }
    for (size_t i = 0; i + 1 < bucket_.size(); ++i) {
      std::sort(obs_.begin() + static_cast<ptrdiff_t>(bucket_[i]),
                obs_.begin() + static_cast<ptrdiff_t>(bucket_[i + 1]));
    }
  }

  // Range of obs_ holding (offset, vid, kind).
  std::pair<size_t, size_t> ObsRange(int64_t offset, int32_t vid, int32_t kind) const {
    auto first = obs_.begin(), last = obs_.end();
    if (!bucket_.empty()) {
      if (offset < 0 || static_cast<size_t>(offset) + 1 >= bucket_.size()) return {0, 0};
      first = obs_.begin() + static_cast<ptrdiff_t>(bucket_[static_cast<size_t>(offset)]);
      last = obs_.begin() + static_cast<ptrdiff_t>(bucket_[static_cast<size_t>(offset) + 1]);
    }
    auto lo = std::lower_bound(first, last, Obs::Make(offset, INT64_MIN, vid, kind, 0));
    auto hi = std::upper_bound(lo, last, Obs::Make(offset, INT64_MAX, vid, kind, INT32_MAX));
    return {static_cast<size_t>(lo - obs_.begin()), static_cast<size_t>(hi - obs_.begin())};
  }
  // Reads listing vid at offset (committed) as one of their own entries, whose key is > t.
  int64_t OwnHoldingAfter(int64_t offset, int32_t vid, int64_t t) const {
    auto [lo, hi] = ObsRange(offset, vid, 1);
    auto it = std::upper_bound(obs_.begin() + static_cast<ptrdiff_t>(lo),
                               obs_.begin() + static_cast<ptrdiff_t>(hi), t,
                               [](int64_t x, const Obs& o) { return x < o.key; });
    return (obs_.begin() + static_cast<ptrdiff_t>(hi)) - it;
  }
  // Some final read covers offset and does not hold vid there.
  bool FinalContradicts(int64_t offset, int32_t vid) const {
    int64_t covering = final_stab_.Count(offset);
    if (covering == 0) return false;
    int64_t c = CanonAt(offset, vid);
    int64_t holding = c >= 0 ? canon_final_[static_cast<size_t>(c)] : 0;
    return covering > holding + OwnHoldingAfter(offset, vid, kFinalKey - 1);
  }

  // ---- text ----
  std::string AckText(const AppendRec& a) const {
    const history::OpBrief op = OpOf(a.op);
    return "append " + Quote(Value(a.vid)) + " was acknowledged at offset " +
           std::to_string(a.offset) + " by " + NodeOf(op) + " at " + Secs(a.ret) + " (process " +
           std::to_string(op.process) + ", hwm " + std::to_string(a.hwm) + ")";
  }
  std::string ReadText(const ReadRec& r) const {
    const history::OpBrief op = OpOf(r.op);
    std::string s = std::string("the ") + (r.final ? "final " : "") +
                    (r.linearizable ? "linearizable" : "local") + " read by process " +
                    std::to_string(op.process) + " at " + Secs(r.call) + " from " + NodeOf(op);
    if (r.cov_end > r.from) {
      s += " covers offsets " + std::to_string(r.from) + "–" + std::to_string(r.cov_end - 1);
    } else {
      s += " covers no committed offset (from " + std::to_string(r.from) + ")";
    }
    return s + " (hwm " + std::to_string(r.hwm) + ")";
  }
  std::string HoldsText(const ReadRec& r, int64_t o) const {
    int32_t v = l_.ValueAt(r, o);
    if (v < 0) return "holds no client value at " + std::to_string(o);
    return "holds " + Quote(Value(v)) + " at " + std::to_string(o);
  }

  // ---- detectors (definitions in docs/anomalies.md) ----
  void AckAboveHwm();
  void PhantomAndAborted();
  void Duplicates();
  void InconsistentOffsets();
  void LostAndUnseen();
  void DirtyReads();
  void StaleReads();
  void NonmonotonicReads();
  // Whether op's node was killed in (after, before): LogCheckOptions::kills_ns.
  bool KilledBetween(const history::OpBrief& op, int64_t after, int64_t before) const;

  history::OpsView ops_;
  const LogOps& l_;
  LogCheckOptions opts_;
  Report report_;
  std::vector<Obs> obs_;
  std::vector<size_t> bucket_;  // offset -> first index in obs_ (dense offsets only)
  std::vector<bool> observed_;  // vid -> some committed observation by a read
  // Read i holds canon[canon_begin, ccom_end_[i]) committed (the part of its slice below cov_end).
  std::vector<uint32_t> ccom_end_;
  std::vector<int32_t> canon_all_, canon_final_;  // canon index -> reads (final reads) holding it
  std::vector<int32_t> canon_first_;           // canon index -> holder first by (key, index), or -1
  std::vector<int32_t> canon_first_nonfinal_;  // canon index -> lowest-index non-final holder, -1
  std::vector<int32_t> ok_appends_;
  StaticStab all_stab_, final_stab_;
  std::vector<int32_t> finals_;        // final reads by call time
  std::vector<int32_t> final_suffix_;  // highest-HWM final read among finals_[i..]
  int64_t final_end_ = -1;             // highest HWM of a final read
  bool unseen_confirmed_ = false;      // an unseen append has a final read after its ack
};

void Analysis::AckAboveHwm() {
  std::vector<Instance> out;
  for (int32_t i : ok_appends_) {
    const AppendRec& a = Append(i);
    if (a.offset < a.hwm) continue;
    Instance in;
    in.time = a.call;
    in.op = a.op;
    in.offset = a.offset;
    in.a = i;
    out.push_back(in);
  }
  report_.Add("ack-above-hwm", std::move(out), [&](const Instance& in) {
    const AppendRec& a = Append(in.a);
    Example ex;
    ex.explanation = AckText(a) + ", but the same response reported hwm " + std::to_string(a.hwm) +
                     ": an acknowledged offset must be below the HWM (offset < hwm), so the node "
                     "acknowledged an entry it had not committed.";
    ex.ops = {a.op};
    ex.fields = {{"value", Value(a.vid)}, {"offset", a.offset}, {"hwm", a.hwm}};
    return ex;
  });
}

void Analysis::PhantomAndAborted() {
  std::vector<Instance> phantom, aborted;
  // vid -> instance index (+1) in phantom or aborted; 0 = none yet.
  std::vector<int64_t> seen_phantom(l_.values.size(), 0), seen_aborted(l_.values.size(), 0);
  for (size_t ri = 0; ri < l_.reads.size(); ++ri) {
    const ReadRec& r = l_.reads[ri];
    for (const EntryRec& e : l_.Entries(r)) {
      const ValueInfo& vi = l_.info[static_cast<size_t>(e.vid)];
      int kind = -1;  // 0 never appended, 1 read before appended, 2 aborted
      if (vi.first_append < 0) {
        kind = 0;
      } else if (r.ret < vi.first_call) {
        kind = 1;
      } else if (vi.n_ok == 0 && vi.n_info == 0) {
        kind = 2;
      }
      if (kind < 0) continue;
      auto& list = kind == 2 ? aborted : phantom;
      int64_t& idx = (kind == 2 ? seen_aborted : seen_phantom)[static_cast<size_t>(e.vid)];
      if (idx > 0) {
        ++list[static_cast<size_t>(idx - 1)].count;
        continue;
      }
      Instance in;
      in.time = r.call;
      in.op = r.op;
      in.offset = e.offset;
      in.a = static_cast<int64_t>(ri);
      in.b = e.vid;
      in.c = kind;
      list.push_back(in);
      idx = static_cast<int64_t>(list.size());
    }
  }
  report_.Add("phantom-read", std::move(phantom), [&](const Instance& in) {
    const ReadRec& r = Read(in.a);
    const ValueInfo& vi = l_.info[static_cast<size_t>(in.b)];
    Example ex;
    ex.ops = {r.op};
    if (in.c == 0) {
      ex.explanation = ReadText(r) + " and holds " + Quote(Value(in.b)) + " at " +
                       std::to_string(in.offset) + ", a value no client ever appended.";
    } else {
      const AppendRec& a = Append(vi.first_append);
      ex.ops.push_back(a.op);
      ex.explanation = ReadText(r) + " and holds " + Quote(Value(in.b)) + " at " +
                       std::to_string(in.offset) + "; it returned at " + Secs(r.ret) +
                       ", before any client appended that value (first invoked by process " +
                       std::to_string(OpOf(a.op).process) + " at " + Secs(a.call) + ").";
    }
    if (in.count > 1) ex.explanation += " " + std::to_string(in.count) + " reads returned it.";
    ex.fields = {{"value", Value(in.b)},
                 {"offset", in.offset},
                 {"reason", in.c == 0 ? "never-appended" : "read-before-append"}};
    return ex;
  });
  report_.Add("aborted-read", std::move(aborted), [&](const Instance& in) {
    const ReadRec& r = Read(in.a);
    const ValueInfo& vi = l_.info[static_cast<size_t>(in.b)];
    const AppendRec& a = Append(vi.first_append);
    const history::OpBrief aop = OpOf(a.op);
    Example ex;
    ex.ops = {a.op, r.op};
    ex.explanation = "append " + Quote(Value(in.b)) + " by process " + std::to_string(aop.process) +
                     " at " + Secs(a.call) + " failed definitely" +
                     (aop.error ? " (" + *aop.error + ")" : std::string()) +
                     (vi.n_fail > 1 ? " (as did every retry)" : std::string()) + ", yet " +
                     ReadText(r) + " and holds it at " + std::to_string(in.offset) + ".";
    if (in.count > 1) ex.explanation += " " + std::to_string(in.count) + " reads returned it.";
    ex.fields = {{"value", Value(in.b)}, {"offset", in.offset}};
    return ex;
  });
}

void Analysis::Duplicates() {
  struct First {
    int64_t offset = -1;
    int32_t op = -1;
    bool reported = false;
  };
  std::vector<First> first(l_.values.size());
  std::vector<Instance> out;
  auto observe = [&](int32_t vid, int64_t offset, int32_t op, int64_t time) {
    First& f = first[static_cast<size_t>(vid)];
    if (f.offset < 0) {
      f.offset = offset;
      f.op = op;
      return;
    }
    if (f.offset == offset || f.reported) return;
    f.reported = true;
    Instance in;
    in.time = time;
    in.op = op;
    in.offset = f.offset;
    in.a = f.op;
    in.b = offset;
    in.c = vid;
    out.push_back(in);
  };
  // Ops in invocation order: merge appends and reads by op id.
  size_t ai = 0, ri = 0;
  while (ai < l_.appends.size() || ri < l_.reads.size()) {
    bool take_append =
        ri >= l_.reads.size() || (ai < l_.appends.size() && l_.appends[ai].op < l_.reads[ri].op);
    if (take_append) {
      const AppendRec& a = l_.appends[ai++];
      if (a.status == EventType::kOk) observe(a.vid, a.offset, a.op, a.call);
    } else {
      const ReadRec& r = l_.reads[ri++];
      for (const EntryRec& e : l_.Entries(r)) {
        if (e.offset >= r.cov_end) break;
        observe(e.vid, e.offset, r.op, r.call);
      }
    }
  }
  report_.Add("duplicate", std::move(out), [&](const Instance& in) {
    Example ex;
    std::string v = Quote(Value(in.c));
    auto where = [&](int64_t op_id, int64_t offset) {
      const history::OpBrief op = OpOf(op_id);
      return std::string(op.f == "append" ? "the ack of the append by process "
                                          : "the read by process ") +
             std::to_string(op.process) + " from " + NodeOf(op) + " at " + Secs(op.call_ns) +
             " puts it at offset " + std::to_string(offset);
    };
    ex.explanation = "value " + v + " appears at two offsets: " + where(in.a, in.offset) +
                     ", and " + where(in.op, in.b) + ". An appended value must occupy one offset.";
    ex.ops = {in.a, in.op};
    ex.fields = {{"value", Value(in.c)}, {"offsets", {in.offset, in.b}}};
    return ex;
  });
}

// An observation as the inconsistent-offsets examples name it: tag = src << 1 | kind.
struct ObsRef {
  int32_t vid;
  int32_t kind;
  int64_t key;
  int32_t src;
  int64_t Tag() const { return (static_cast<int64_t>(src) << 1) | kind; }
  bool operator<(const ObsRef& o) const {
    return std::tie(vid, kind, key, src) < std::tie(o.vid, o.kind, o.key, o.src);
  }
};

void Analysis::InconsistentOffsets() {
  std::vector<Instance> out;
  const std::vector<EntryRec>& canon = l_.canon;
  size_t i = 0, c = 0;  // next in obs_, next canon entry some read holds
  auto skip_unheld = [&] {
    while (c < canon.size() && canon_all_[c] == 0) ++c;
  };
  skip_unheld();
  std::vector<ObsRef> firsts;  // per distinct value at the offset, its first observation
  while (i < obs_.size() || c < canon.size()) {
    int64_t o = std::min(i < obs_.size() ? obs_[i].offset : INT64_MAX,
                         c < canon.size() ? canon[c].offset : INT64_MAX);
    firsts.clear();
    int64_t listing = 0;
    size_t j = i;
    for (; j < obs_.size() && obs_[j].offset == o; ++j) {
      const Obs& ob = obs_[j];
      if (firsts.empty() || firsts.back().vid != ob.vid)
        firsts.push_back(ObsRef{ob.vid, ob.kind(), ob.key, ob.src()});
      if (ob.kind() == 1) ++listing;
    }
    if (c < canon.size() && canon[c].offset == o) {
      int32_t first = canon_first_[c];
      ObsRef ref{canon[c].vid, 1, Read(first).key, first};
      auto it = std::lower_bound(firsts.begin(), firsts.end(), ref,
                                 [](const ObsRef& x, const ObsRef& y) { return x.vid < y.vid; });
      if (it == firsts.end() || it->vid != ref.vid) {
        firsts.insert(it, ref);
      } else if (ref < *it) {
        *it = ref;
      }
      listing += canon_all_[c];
      ++c;
      skip_unheld();
    }
    i = j;
    Instance in;
    in.offset = o;
    in.a = firsts[0].Tag();
    if (firsts.size() >= 2) {
      in.b = firsts[1].Tag();
      in.c = static_cast<int64_t>(firsts.size());
    } else if (all_stab_.Count(o) > listing) {
      in.b = -1;  // a read covering o that holds nothing there; found when described
    } else {
      continue;
    }
    in.op = firsts[0].kind == 0 ? Append(firsts[0].src).op : Read(firsts[0].src).op;
    in.time = OpOf(in.op).call_ns;
    out.push_back(in);
  }
  report_.Add("inconsistent-offsets", std::move(out), [&](const Instance& in) {
    auto text = [&](int64_t tag) {
      if ((tag & 1) == 0) return AckText(Append(tag >> 1));
      const ReadRec& r = Read(tag >> 1);
      return ReadText(r) + " and " + HoldsText(r, in.offset);
    };
    auto op_of = [&](int64_t tag) {
      return static_cast<int64_t>((tag & 1) == 0 ? Append(tag >> 1).op : Read(tag >> 1).op);
    };
    auto vid_of = [&](int64_t tag) {
      return (tag & 1) == 0 ? Append(tag >> 1).vid : l_.ValueAt(Read(tag >> 1), in.offset);
    };
    Example ex;
    ex.ops = {op_of(in.a)};
    json values = json::array({Value(vid_of(in.a))});
    std::string other;
    if (in.b >= 0) {
      ex.ops.push_back(op_of(in.b));
      other = text(in.b);
      values.push_back(Value(vid_of(in.b)));
    } else {
      for (const ReadRec& r : l_.reads) {
        if (r.Covers(in.offset) && l_.ValueAt(r, in.offset) < 0) {
          ex.ops.push_back(r.op);
          other = ReadText(r) + " and " + HoldsText(r, in.offset);
          values.push_back(nullptr);
          break;
        }
      }
    }
    ex.explanation =
        "offset " + std::to_string(in.offset) + " holds different entries: " + text(in.a) + "; " +
        other + ". Committed prefixes diverged" +
        (in.c > 2 ? " (" + std::to_string(in.c) + " distinct values seen there)." : ".");
    ex.fields = {{"offset", in.offset}, {"values", values}};
    return ex;
  });
}

void Analysis::LostAndUnseen() {
  // Sweep acks by decreasing return time, inserting reads that began after each ack.
  // `later` counts the reads covering an offset, `later_canon` those holding a canon entry.
  std::vector<int32_t> reads_by_key;
  std::vector<int64_t> froms, ends, canon_froms, canon_ends;
  for (size_t i = 0; i < l_.reads.size(); ++i) {
    const ReadRec& r = l_.reads[i];
    if (r.cov_end <= r.from) continue;
    reads_by_key.push_back(static_cast<int32_t>(i));
    froms.push_back(r.from);
    ends.push_back(r.cov_end);
    canon_froms.push_back(r.canon_begin);
    canon_ends.push_back(ccom_end_[i]);
  }
  std::sort(reads_by_key.begin(), reads_by_key.end(),
            [&](int32_t x, int32_t y) { return Read(x).key > Read(y).key; });
  std::vector<int32_t> acks = ok_appends_;
  std::sort(acks.begin(), acks.end(), [&](int32_t x, int32_t y) {
    return std::tie(Append(x).ret, x) > std::tie(Append(y).ret, y);
  });
  StabCounter later(std::move(froms), std::move(ends));
  StabCounter later_canon(std::move(canon_froms), std::move(canon_ends));
  std::vector<Instance> lost, unseen;
  size_t next = 0;
  for (int32_t ai : acks) {
    const AppendRec& a = Append(ai);
    while (next < reads_by_key.size() && Read(reads_by_key[next]).key > a.ret) {
      const int32_t ri = reads_by_key[next++];
      const ReadRec& r = Read(ri);
      later.Insert(r.from, r.cov_end);
      later_canon.Insert(r.canon_begin, ccom_end_[static_cast<size_t>(ri)]);
    }
    int64_t covering = later.Count(a.offset);
    int64_t c = CanonAt(a.offset, a.vid);
    int64_t holding = OwnHoldingAfter(a.offset, a.vid, a.ret) + (c >= 0 ? later_canon.Count(c) : 0);
    Instance in;
    in.time = a.ret;
    in.op = a.op;
    in.offset = a.offset;
    in.a = ai;
    int32_t fin = LongestFinalAfter(a.ret);
    bool final_short = fin >= 0 && a.offset >= Read(fin).hwm;
    if (covering > holding) {
      in.b = 0;  // a later read covers the offset without the value
      in.rank = FinalContradicts(a.offset, a.vid) ? 0 : 1;
      lost.push_back(in);
    } else if (observed_[static_cast<size_t>(a.vid)]) {
      if (final_short) {
        in.b = 1;  // the final log ends before the offset
        in.c = fin;
        lost.push_back(in);
      }
    } else {
      in.c = final_short ? fin : -1;
      if (final_short) unseen_confirmed_ = true;
      in.rank = final_short ? 0 : 1;
      unseen.push_back(in);
    }
  }
  report_.Add("lost-write", std::move(lost), [&](const Instance& in) {
    const AppendRec& a = Append(in.a);
    Example ex;
    ex.ops = {a.op};
    ex.fields = {{"value", Value(a.vid)}, {"offset", a.offset}};
    if (in.b == 1) {
      const ReadRec& f = Read(in.c);
      ex.ops.push_back(f.op);
      ex.explanation = AckText(a) + "; the final log ends before it: " + ReadText(f) +
                       ", the final read with the highest HWM, so offset " +
                       std::to_string(a.offset) + " is no longer committed on any node.";
      return ex;
    }
    // Witness: a later read holding another value there (the strongest evidence), else the
    // earliest later read holding nothing there; final reads count as later than every ack.
    int64_t best = -1;
    bool best_other = false;
    for (size_t i = 0; i < l_.reads.size(); ++i) {
      const ReadRec& r = l_.reads[i];
      if (r.key <= a.ret || !r.Covers(a.offset)) continue;
      int32_t v = l_.ValueAt(r, a.offset);
      if (v == a.vid) continue;
      bool other = v >= 0;
      if (best < 0 || (other && !best_other)) {
        best = static_cast<int64_t>(i);
        best_other = other;
        if (other) break;
      }
    }
    if (best >= 0) {
      const ReadRec& r = Read(best);
      ex.ops.push_back(r.op);
      ex.explanation = AckText(a) + "; " + ReadText(r) + " and " + HoldsText(r, a.offset) +
                       ", so the acknowledged write is gone from the committed log.";
    } else {
      ex.explanation = AckText(a) + "; a later read covers that offset without it.";
    }
    return ex;
  });
  report_.Add("unseen", std::move(unseen), [&](const Instance& in) {
    const AppendRec& a = Append(in.a);
    Example ex;
    ex.ops = {a.op};
    ex.fields = {{"value", Value(a.vid)}, {"offset", a.offset}, {"final_reads", in.c >= 0}};
    ex.explanation = AckText(a) + ", but no read ever observed it";
    if (in.c >= 0) {
      const ReadRec& f = Read(in.c);
      ex.ops.push_back(f.op);
      ex.explanation += ", and the final log ends before its offset: " + ReadText(f) +
                        ", the final read with the highest HWM. The write is lost.";
    } else {
      ex.explanation +=
          " and no read that began after the ack covered offset " + std::to_string(a.offset) +
          "; with no final read after it, it cannot be told apart from a write nobody looked for.";
    }
    return ex;
  });
}

void Analysis::DirtyReads() {
  std::vector<Instance> out;
  std::unordered_map<std::pair<int64_t, int32_t>, size_t, PairHash> index;
  // n: how many reads returned it (a canon entry stands for all its holders at once).
  auto record = [&](int64_t ri, int64_t offset, int32_t vid, int64_t reasons, int64_t n = 1) {
    const ReadRec& r = Read(ri);
    auto [it, inserted] = index.try_emplace({offset, vid}, out.size());
    if (!inserted) {
      Instance& in = out[it->second];
      in.count += n;
      in.c |= reasons;
      if (ri < in.a) {  // attribute to the earliest read that returned it
        in.a = ri;
        in.op = r.op;
        in.time = r.call;
      }
      return;
    }
    Instance in;
    in.time = r.call;
    in.op = r.op;
    in.offset = offset;
    in.a = ri;
    in.b = vid;
    in.c = reasons;
    in.count = n;
    out.push_back(in);
  };
  // Entries above the read's own HWM, or beyond the final log's end: per read entry.
  for (size_t ri = 0; ri < l_.reads.size(); ++ri) {
    const ReadRec& r = l_.reads[ri];
    if (r.final) continue;
    int32_t fin = LongestFinalAfter(r.ret);
    int64_t final_end = fin >= 0 ? Read(fin).hwm : INT64_MAX;
    if (r.to <= r.hwm && r.to <= final_end) continue;  // fast path: no entry can qualify
    for (const EntryRec& e : l_.Entries(r)) {
      int64_t reasons = 0;
      if (e.offset >= r.hwm) {
        reasons |= 4;
        if (FinalContradicts(e.offset, e.vid)) reasons |= 1;  // not among the obs below
      }
      if (e.offset >= final_end) reasons |= 2;
      if (reasons) record(static_cast<int64_t>(ri), e.offset, e.vid, reasons);
    }
  }
  // Committed entries that a final read contradicts: per (offset, value), the holders in obs_
  // and those of the canon entry there.
  const std::vector<EntryRec>& canon = l_.canon;
  auto canon_holders = [&](size_t c, int64_t o) {
    int64_t n = canon_all_[c] - canon_final_[c];
    if (n > 0) record(canon_first_nonfinal_[c], o, canon[c].vid, 1, n);
  };
  size_t i = 0, c = 0;
  while (i < obs_.size() || c < canon.size()) {
    int64_t o = std::min(i < obs_.size() ? obs_[i].offset : INT64_MAX,
                         c < canon.size() ? canon[c].offset : INT64_MAX);
    int64_t cover = final_stab_.Count(o);
    bool canon_here = c < canon.size() && canon[c].offset == o;
    int32_t canon_vid = canon_here ? canon[c].vid : -1;
    size_t j = i;
    while (j < obs_.size() && obs_[j].offset == o) {
      const int32_t vid = obs_[j].vid;
      if (canon_vid >= 0 && canon_vid < vid) {  // the canon value has no own observation here
        if (cover > canon_final_[c]) canon_holders(c, o);
        canon_vid = -1;
      }
      size_t k = j;
      int64_t hold = canon_vid == vid ? canon_final_[c] : 0;
      for (; k < obs_.size() && obs_[k].offset == o && obs_[k].vid == vid; ++k) {
        hold += obs_[k].kind() == 1 && obs_[k].key == kFinalKey;
      }
      if (cover > hold) {
        for (size_t m = j; m < k; ++m) {
          if (obs_[m].kind() == 1 && obs_[m].key != kFinalKey)
            record(obs_[m].src(), o, obs_[m].vid, 1);
        }
        if (canon_vid == vid) canon_holders(c, o);
      }
      if (canon_vid == vid) canon_vid = -1;
      j = k;
    }
    if (canon_vid >= 0 && cover > canon_final_[c]) canon_holders(c, o);
    if (canon_here) ++c;
    i = j;
  }
  for (Instance& in : out) in.rank = (in.c & 1) ? 0 : (in.c & 2) ? 1 : 2;
  report_.Add("dirty-read", std::move(out), [&](const Instance& in) {
    const ReadRec& r = Read(in.a);
    Example ex;
    ex.ops = {r.op};
    std::string v = Quote(Value(in.b));
    ex.explanation = ReadText(r) + " and holds " + v + " at " + std::to_string(in.offset);
    json reasons = json::array();
    if (in.c & 1) {
      reasons.push_back("not-in-final-log");
      for (int32_t f : finals_) {
        const ReadRec& fr = Read(f);
        if (fr.Covers(in.offset) && l_.ValueAt(fr, in.offset) != in.b) {
          ex.ops.push_back(fr.op);
          ex.explanation += "; " + ReadText(fr) + " and " + HoldsText(fr, in.offset);
          break;
        }
      }
    } else if (in.c & 2) {
      reasons.push_back("final-log-too-short");
      int32_t fin = LongestFinalAfter(r.ret);
      if (fin >= 0) {
        ex.ops.push_back(Read(fin).op);
        ex.explanation += "; the final log ends before it: " + ReadText(Read(fin));
      }
    }
    if (in.c & 4) {
      reasons.push_back("above-hwm");
      ex.explanation += "; offset " + std::to_string(in.offset) +
                        " is not below the HWM the read itself reported (" + std::to_string(r.hwm) +
                        "), so it was served uncommitted";
    }
    ex.explanation += ".";
    if (in.count > 1) ex.explanation += " " + std::to_string(in.count) + " reads returned it.";
    ex.fields = {{"value", Value(in.b)}, {"offset", in.offset}, {"reasons", reasons}};
    return ex;
  });
}

void Analysis::StaleReads() {
  std::vector<int32_t> acks = ok_appends_;
  std::sort(acks.begin(), acks.end(), [&](int32_t x, int32_t y) {
    return std::tie(Append(x).ret, x) < std::tie(Append(y).ret, y);
  });
  std::vector<int64_t> rets(acks.size());
  std::vector<int32_t> best(acks.size());
  for (size_t i = 0; i < acks.size(); ++i) {
    rets[i] = Append(acks[i]).ret;
    best[i] = acks[i];
    if (i > 0 && Append(best[i - 1]).offset >= Append(acks[i]).offset) best[i] = best[i - 1];
  }
  std::vector<Instance> out;
  for (size_t ri = 0; ri < l_.reads.size(); ++ri) {
    const ReadRec& r = l_.reads[ri];
    if (!r.linearizable) continue;
    size_t k =
        static_cast<size_t>(std::lower_bound(rets.begin(), rets.end(), r.call) - rets.begin());
    if (k == 0) continue;
    const AppendRec& a = Append(best[k - 1]);
    if (a.offset < r.hwm) continue;
    Instance in;
    in.rank = -(a.offset - r.hwm + 1);
    in.time = r.call;
    in.op = r.op;
    in.offset = a.offset;
    in.a = static_cast<int64_t>(ri);
    in.b = best[k - 1];
    out.push_back(in);
  }
  report_.Add("stale-read", std::move(out), [&](const Instance& in) {
    const ReadRec& r = Read(in.a);
    const AppendRec& a = Append(in.b);
    Example ex;
    ex.ops = {a.op, r.op};
    ex.explanation = AckText(a) + "; " + ReadText(r) + ", began at " + Secs(r.call) +
                     " after that ack, yet its HWM " + std::to_string(r.hwm) +
                     " does not include offset " + std::to_string(a.offset) + " (" +
                     std::to_string(a.offset - r.hwm + 1) +
                     " committed entries behind): a linearizable read must see every write "
                     "acknowledged before it began.";
    ex.fields = {{"value", Value(a.vid)}, {"offset", a.offset}, {"read_hwm", r.hwm}};
    return ex;
  });
}

bool Analysis::KilledBetween(const history::OpBrief& op, int64_t after, int64_t before) const {
  if (!op.node) return false;
  auto it = opts_.kills_ns.find(*op.node);
  if (it == opts_.kills_ns.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](int64_t t) { return t > after && t < before; });
}

void Analysis::NonmonotonicReads() {
  struct Last {
    int64_t hwm = -1;
    int32_t read = -1;
  };
  std::unordered_map<std::pair<int64_t, int32_t>, Last, PairHash> last;
  std::unordered_map<std::string, int32_t> node_ids;
  std::vector<Instance> out;
  for (size_t ri = 0; ri < l_.reads.size(); ++ri) {
    const ReadRec& r = l_.reads[ri];
    if (!r.linearizable && !opts_.local_reads_monotonic) continue;
    const history::OpBrief op = OpOf(r.op);
    // Linearizable reads promise monotonicity across nodes; local reads only per node.
    int32_t node = -1;
    if (!r.linearizable) {
      const std::string& name = op.node ? *op.node : std::string();
      auto it = node_ids.find(name);
      if (it == node_ids.end()) {
        it = node_ids.emplace(name, static_cast<int32_t>(node_ids.size())).first;
      }
      node = it->second;
    }
    std::pair<int64_t, int32_t> key{op.process, node};
    Last& l = last[key];
    if (l.read >= 0 && !r.linearizable && KilledBetween(op, Read(l.read).call, r.ret)) {
      l = Last{};  // a new incarnation of the node: compare from here on
    }
    if (l.read >= 0 && r.hwm < l.hwm) {
      Instance in;
      in.rank = -(l.hwm - r.hwm);
      in.time = r.call;
      in.op = r.op;
      in.a = static_cast<int64_t>(ri);
      in.b = l.read;
      out.push_back(in);
      continue;  // keep the maximum as the reference
    }
    l.hwm = r.hwm;
    l.read = static_cast<int32_t>(ri);
  }
  report_.Add("nonmonotonic-read", std::move(out), [&](const Instance& in) {
    const ReadRec& r = Read(in.a);
    const ReadRec& p = Read(in.b);
    Example ex;
    ex.ops = {p.op, r.op};
    ex.explanation = ReadText(p) + "; later " + ReadText(r) + ": the same process's " +
                     (r.linearizable ? "linearizable" : "local (same node)") +
                     " reads went backwards, from hwm " + std::to_string(p.hwm) + " to " +
                     std::to_string(r.hwm) + ".";
    ex.fields = {{"hwm_before", p.hwm}, {"hwm_after", r.hwm}, {"process", OpOf(r.op).process}};
    return ex;
  });
}

CheckResult Analysis::Result() const {
  return LogPrefixResult(l_, static_cast<int64_t>(l_.reads.size()) + l_.dropped_reads,
                         static_cast<int64_t>(finals_.size()), final_end_, report_,
                         unseen_confirmed_);
}

}  // namespace

CheckResult LogPrefixResult(const LogOps& l, int64_t ok_reads, int64_t final_reads,
                            int64_t final_end, const Report& report, bool unseen_confirmed) {
  CheckResult res;
  res.checker = "log-prefix";
  json stats;
  const int64_t a_ok = l.appends_ok, a_fail = l.appends_fail, a_info = l.appends_info;
  stats["appends"] = {{"ok", a_ok}, {"fail", a_fail}, {"info", a_info}};
  stats["reads"] = {{"ok", ok_reads}, {"fail", l.reads_fail}, {"info", l.reads_info}};
  stats["final_reads"] = final_reads;
  stats["final_log_end"] = final_end >= 0 ? json(final_end) : json(nullptr);
  stats["values"] = l.values.size();
  if (l.skipped) stats["skipped_ops"] = l.skipped;
  res.details["anomalies"] = report.Anomalies();
  res.details["counts"] = report.Counts();
  res.details["stats"] = stats;
  std::string checked = std::to_string(a_ok + a_fail + a_info) + " appends (" +
                        std::to_string(a_ok) + " ok), " + std::to_string(ok_reads) + " ok reads (" +
                        std::to_string(final_reads) + " final)";
  bool only_unseen = report.Has("unseen") && report.Counts().size() == 1;
  if (report.Empty()) {
    res.verdict = Verdict::kValid;
    res.summary = "valid: no anomaly in " + checked;
  } else if (only_unseen && !unseen_confirmed) {
    res.verdict = Verdict::kUnknown;
    res.summary = "unknown: " + report.CountsLine() +
                  " — acknowledged appends never read, and no final read came after them";
  } else {
    res.verdict = Verdict::kInvalid;
    res.summary = "invalid: " + report.CountsLine();
  }
  res.explanation = res.summary + "\n" + report.Text();
  return res;
}

}  // namespace logck

CheckResult CheckLogPrefix(const std::vector<history::Op>& ops, const LogCheckOptions& opts) {
  try {
    return CheckLogPrefix(ops, logck::ParseLogOps(ops, opts.ignore_other_ops), opts);
  } catch (...) {
    return UnknownFromException("log-prefix", std::current_exception());
  }
}

CheckResult CheckLogPrefix(history::OpsView ops, const Result<logck::LogOps>& parsed,
                           const LogCheckOptions& opts) {
  CheckResult res;
  res.checker = "log-prefix";
  try {
    std::optional<std::string> malformed;
    if (!parsed.ok()) {
      malformed = parsed.error().message;
    } else if (!opts.ignore_other_ops && parsed->skipped > 0) {
      malformed = parsed->first_skipped_error;
    }
    if (malformed) {
      res.verdict = Verdict::kUnknown;
      res.summary = "unknown: malformed log history: " + *malformed;
      res.explanation = res.summary;
      res.details["errors"] = nlohmann::json::array({*malformed});
      return res;
    }
    if (parsed->appends.empty() && parsed->reads.empty() && parsed->streamed_reads == 0 &&
        parsed->dropped_reads == 0) {
      res.verdict = Verdict::kUnknown;
      res.summary = "unknown: no append or ok read in the history: nothing to check";
      res.explanation = res.summary;
      return res;
    }
    logck::Analysis analysis(ops, parsed.value(), opts);
    analysis.Run();
    return analysis.Result();
  } catch (...) {
    return UnknownFromException(res.checker, std::current_exception());
  }
}

}  // namespace tidemark::checkers

namespace tidemark::checkers {

std::map<std::string, std::vector<int64_t>> KillTimes(const history::History& events) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const history::Event& e : events) {
    if (e.process != history::kNemesisProcess || e.f != "kill" || !e.value.is_object()) continue;
    const nlohmann::json nodes = e.value.value("nodes", nlohmann::json::array());
    if (!nodes.is_array()) continue;
    for (const auto& n : nodes)
      if (n.is_string()) out[n.get<std::string>()].push_back(e.time_ns);
  }
  return out;
}

}  // namespace tidemark::checkers
