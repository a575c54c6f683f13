#include "base/history/history.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tidemark::history {

const char* ToString(EventType t) {
  switch (t) {
    case EventType::kInvoke:
      return "invoke";
    case EventType::kOk:
      return "ok";
    case EventType::kFail:
      return "fail";
    case EventType::kInfo:
      return "info";
  }
  return "?";
}

std::optional<EventType> ParseEventType(std::string_view s) {
  if (s == "invoke") return EventType::kInvoke;
  if (s == "ok") return EventType::kOk;
  if (s == "fail") return EventType::kFail;
  if (s == "info") return EventType::kInfo;
  return std::nullopt;
}

Result<std::vector<Op>> PairOps(const History& h, PairOptions opts) {
  return PairOps(h, opts, nullptr);
}

namespace {

// The op an invoke starts, without its payload (values and node): what OpFromInvoke copies and
// PairOpsTakingValues moves.
Op OpSkeleton(const Event& invoke, int64_t id) {
  Op op;
  op.id = id;
  op.process = invoke.process;
  op.f = invoke.f;
  op.key = invoke.key;
  op.status = EventType::kInfo;
  op.call_ns = invoke.time_ns;
  op.return_ns = kNever;
  op.invoke_index = invoke.index;
  return op;
}

}  // namespace

Op OpFromInvoke(const Event& invoke, int64_t id) {
  Op op = OpSkeleton(invoke, id);
  op.invoke_value = invoke.value;
  op.value = invoke.value;
  op.node = invoke.node;
  return op;
}

namespace {

// CompleteOp for a completion to copy from (const Event&) or to move from (Event&&).
template <typename E>
void Complete(Op& op, E&& e) {
  op.status = e.type;
  if (!e.value.is_null()) {
    op.value = std::forward<E>(e).value;
  } else if (e.type == EventType::kOk && (op.f == "read" || op.f == "get")) {
    op.value = nullptr;
  }
  op.return_ns = e.type == EventType::kInfo ? kNever : e.time_ns;
  op.complete_index = e.index;
  if (e.node) op.node = std::forward<E>(e).node;
  op.error = std::forward<E>(e).error;
}

}  // namespace

void CompleteOp(Op& op, const Event& completion) { Complete(op, completion); }
void CompleteOp(Op& op, Event&& completion) { Complete(op, std::move(completion)); }

namespace {

inline constexpr size_t kNoCompletion = static_cast<size_t>(-1);

// The pairing errors, shared by PairOps and OpStream.
std::string BusyProcess(const Event& e, int64_t outstanding_index) {
  return "event " + std::to_string(e.index) + ": process " + std::to_string(e.process) +
         " invokes '" + e.f + "' while its invoke at event " + std::to_string(outstanding_index) +
         " is still outstanding (a process runs one op at a time)";
}
std::string NoInvoke(const Event& e) {
  return "event " + std::to_string(e.index) + ": '" + ToString(e.type) + "' completion of '" + e.f +
         "' by process " + std::to_string(e.process) + " has no outstanding invoke";
}
std::string OtherF(const Event& e, const std::string& invoke_f, int64_t invoke_index) {
  return "event " + std::to_string(e.index) + ": completion f '" + e.f +
         "' does not match its invoke f '" + invoke_f + "' (event " + std::to_string(invoke_index) +
         ")";
}

// Where each op's invoke and completion are in h (kNoCompletion: none), in invocation order:
// the pairing rules of PairOps, without building an op.
struct Pairing {
  size_t invoke = 0;
  size_t completion = kNoCompletion;
};

// Process -> index into the pairs of its outstanding invoke. Process ids number the clients (a
// crashed client's successor gets its id plus the concurrency), so they are small: a flat table
// then, with no allocation per op; a hash map for ids far beyond the history's length.
class Pending {
 public:
  explicit Pending(const History& h) {
    int64_t max = -1;
    bool dense = true;
    for (const Event& e : h) {
      if (e.process == kNemesisProcess) continue;
      dense = dense && e.process >= 0;
      max = std::max(max, e.process);
    }
    dense_ = dense && max < 4 * static_cast<int64_t>(h.size()) + 64;
    if (dense_) slots_.assign(static_cast<size_t>(max + 1), kNone);
  }
  // The process's outstanding invoke, or nullptr.
  const size_t* Find(int64_t process) const {
    if (!dense_) {
      auto it = map_.find(process);
      return it == map_.end() ? nullptr : &it->second;
    }
    const size_t& slot = slots_[static_cast<size_t>(process)];
    return slot == kNone ? nullptr : &slot;
  }
  void Erase(int64_t process) {
    if (!dense_) {
      map_.erase(process);
    } else if (std::exchange(slots_[static_cast<size_t>(process)], kNone) != kNone) {
      --size_;
    }
  }
  // Precondition: Find(process) is nullptr.
  void Add(int64_t process, size_t pair) {
    if (!dense_) {
      map_.emplace(process, pair);
    } else {
      slots_[static_cast<size_t>(process)] = pair;
      ++size_;
    }
  }
  bool empty() const { return dense_ ? size_ == 0 : map_.empty(); }
  // The smallest pair index outstanding (precondition: !empty()).
  size_t Earliest() const {
    size_t first = kNone;
    if (dense_) {
      for (size_t i : slots_) first = std::min(first, i);
    } else {
      for (const auto& [process, i] : map_) first = std::min(first, i);
    }
    return first;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  bool dense_ = false;
  std::vector<size_t> slots_;
  size_t size_ = 0;
  std::unordered_map<int64_t, size_t> map_;
};

Result<std::vector<Pairing>> Pair(const History& h, PairOptions opts, size_t* error_position) {
  auto fail = [&](size_t pos, std::string msg) -> Result<std::vector<Pairing>> {
    if (error_position) *error_position = pos;
    return Error{std::move(msg)};
  };
  std::vector<Pairing> pairs;
  pairs.reserve(h.size() / 2 + 1);
  Pending pending(h);
  for (size_t pos = 0; pos < h.size(); ++pos) {
    const Event& e = h[pos];
    if (e.process == kNemesisProcess) continue;
    if (e.type == EventType::kInvoke) {
      if (const size_t* open = pending.Find(e.process)) {
        if (!opts.lenient) return fail(pos, BusyProcess(e, h[pairs[*open].invoke].index));
        pending.Erase(e.process);  // the first stays an info op
      }
      pending.Add(e.process, pairs.size());
      pairs.push_back({pos, kNoCompletion});
      continue;
    }
    const size_t* open = pending.Find(e.process);
    if (open == nullptr) {
      if (opts.lenient) continue;
      return fail(pos, NoInvoke(e));
    }
    Pairing& p = pairs[*open];
    pending.Erase(e.process);
    const Event& invoke = h[p.invoke];
    if (invoke.f != e.f && !opts.lenient) {
      return fail(pos, OtherF(e, invoke.f, invoke.index));
    }
    p.completion = pos;
  }
  if (!opts.open_invokes_are_info && !opts.lenient && !pending.empty()) {
    // Name the earliest open invoke, so the error does not depend on hash order.
    const size_t first = pending.Earliest();
    const Event& invoke = h[pairs[first].invoke];
    return fail(pairs[first].invoke, "event " + std::to_string(invoke.index) + ": invoke of '" +
                                         invoke.f + "' by process " +
                                         std::to_string(invoke.process) + " never completed");
  }
  return pairs;
}

}  // namespace

Result<std::vector<Op>> PairOps(const History& h, PairOptions opts, size_t* error_position) {
  auto pairs = Pair(h, opts, error_position);
  if (!pairs.ok()) return pairs.error();
  std::vector<Op> ops;
  ops.reserve(pairs->size());
  for (const Pairing& p : *pairs) {
    ops.push_back(OpFromInvoke(h[p.invoke], static_cast<int64_t>(ops.size())));
    if (p.completion != kNoCompletion) CompleteOp(ops.back(), h[p.completion]);
  }
  return ops;
}

Result<std::vector<Op>> PairOpsTakingValues(History& h, PairOptions opts, size_t* error_position) {
  auto pairs = Pair(h, opts, error_position);
  if (!pairs.ok()) return pairs.error();
  std::vector<Op> ops;
  ops.reserve(pairs->size());
  for (const Pairing& p : *pairs) {
    Event& invoke = h[p.invoke];
    Op op = OpSkeleton(invoke, static_cast<int64_t>(ops.size()));
    op.node = std::move(invoke.node);
    invoke.node.reset();
    op.invoke_value = std::exchange(invoke.value, nullptr);
    // As OpFromInvoke + CompleteOp: a completion with a value replaces the argument.
    if (p.completion != kNoCompletion) {
      Event& c = h[p.completion];
      if (c.value.is_null()) op.value = op.invoke_value;
      Complete(op, std::move(c));
      c.value = nullptr;  // moved-from: make what is left explicit
      c.node.reset();
      c.error.reset();
    } else {
      op.value = op.invoke_value;
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

Result<Op*> OpStream::Add(Event&& e) {
  if (e.process == kNemesisProcess) return static_cast<Op*>(nullptr);
  auto it = pending_.find(e.process);
  if (e.type == EventType::kInvoke) {
    if (it != pending_.end()) return Error{BusyProcess(e, it->second.invoke_index)};
    Op op = OpSkeleton(e, next_id_++);
    op.node = std::move(e.node);
    op.invoke_value = std::move(e.value);
    op.value = op.invoke_value;
    return &pending_.emplace(e.process, std::move(op)).first->second;
  }
  if (it == pending_.end()) return Error{NoInvoke(e)};
  if (it->second.f != e.f) return Error{OtherF(e, it->second.f, it->second.invoke_index)};
  done_ = std::move(it->second);
  pending_.erase(it);
  CompleteOp(done_, std::move(e));
  return &done_;
}

std::vector<Op> OpStream::Finish() {
  std::vector<Op> open;
  open.reserve(pending_.size());
  for (auto& [process, op] : pending_) open.push_back(std::move(op));
  pending_.clear();
  std::sort(open.begin(), open.end(), [](const Op& x, const Op& y) { return x.id < y.id; });
  return open;
}

uint32_t OpSkeletons::Intern(const std::string& name) {
  auto [it, added] = ids_.emplace(name, static_cast<uint32_t>(names_.size()));
  if (added) names_.push_back(name);
  return it->second;
}

OpSkeletons OpSkeletons::Sparse() {
  OpSkeletons s;
  s.sparse_ = true;
  return s;
}

OpSkeletons OpSkeletons::Blank(size_t n) {
  OpSkeletons s = Sparse();
  s.blank_ = true;
  s.size_ = n;
  s.ops_.emplace_back();  // what every op reads as: no process, name, node or times
  return s;
}

void OpSkeletons::SetSize(size_t n) {
  if (!sparse_) {
    std::fprintf(stderr, "OpSkeletons::SetSize on a dense set\n");
    std::abort();
  }
  size_ = std::max(n, size_);
}

bool OpSkeletons::Has(size_t i) const {
  if (!sparse_) return i < ops_.size();
  return at_.count(static_cast<int64_t>(i)) > 0;
}

size_t OpSkeletons::Slot(size_t i) const {
  if (!sparse_) return i;
  auto it = at_.find(static_cast<int64_t>(i));
  if (it == at_.end() && blank_) return 0;
  if (it == at_.end()) {
    std::fprintf(stderr, "OpSkeletons: op %zu is not held by this sparse set\n", i);
    std::abort();
  }
  return it->second;
}

void OpSkeletons::Put(const Op& op) {
  Skeleton s;
  s.process = op.process;
  s.call_ns = op.call_ns;
  s.return_ns = op.return_ns;
  s.invoke_index = op.invoke_index;
  s.complete_index = op.complete_index;
  s.f = Intern(op.f);
  s.key = Intern(op.key);
  s.node = Intern(op.node);
  s.error = Intern(op.error);
  s.status = op.status;
  const auto id = static_cast<size_t>(op.id);
  if (sparse_) {
    auto [it, added] = at_.emplace(op.id, static_cast<uint32_t>(ops_.size()));
    if (added) {
      ops_.push_back(s);
    } else {
      ops_[it->second] = s;
    }
    size_ = std::max(size_, id + 1);
    return;
  }
  if (id < ops_.size()) {
    ops_[id] = s;
  } else {
    ops_.push_back(s);
  }
}

OpBrief OpSkeletons::Brief(size_t i) const {
  const Skeleton& s = ops_[Slot(i)];
  return OpBrief{static_cast<int64_t>(i), s.process,       names_[s.f], Name(s.node),
                 Name(s.error),           s.status,        s.call_ns,   s.return_ns,
                 s.invoke_index,          s.complete_index};
}

Op OpSkeletons::Whole(size_t i) const {
  const Skeleton& s = ops_[Slot(i)];
  Op op;
  op.id = static_cast<int64_t>(i);
  op.process = s.process;
  op.f = names_[s.f];
  if (s.key) op.key = names_[s.key];
  op.invoke_value = op.value = nullptr;
  op.status = s.status;
  op.call_ns = s.call_ns;
  op.return_ns = s.return_ns;
  op.invoke_index = s.invoke_index;
  op.complete_index = s.complete_index;
  if (s.node) op.node = names_[s.node];
  if (s.error) op.error = names_[s.error];
  return op;
}

OpBrief OpsView::operator[](size_t i) const {
  if (skeletons_) return skeletons_->Brief(i);
  const Op& op = (*whole_)[i];
  return OpBrief{op.id,
                 op.process,
                 op.f,
                 op.node ? &*op.node : nullptr,
                 op.error ? &*op.error : nullptr,
                 op.status,
                 op.call_ns,
                 op.return_ns,
                 op.invoke_index,
                 op.complete_index};
}

Result<std::vector<Op>> PairOps(const LocatedHistory& h, PairOptions opts) {
  size_t pos = 0;
  auto ops = PairOps(h.events, opts, &pos);
  if (ops.ok()) return ops;
  std::string line = pos < h.lines.size() ? std::to_string(h.lines[pos]) : "?";
  return Error{h.source + ":" + line + ": " + ops.error().message};
}

Result<std::vector<Op>> PairOpsTakingValues(LocatedHistory& h, PairOptions opts) {
  size_t pos = 0;
  auto ops = PairOpsTakingValues(h.events, opts, &pos);
  if (ops.ok()) return ops;
  std::string line = pos < h.lines.size() ? std::to_string(h.lines[pos]) : "?";
  return Error{h.source + ":" + line + ": " + ops.error().message};
}

std::vector<Event> NemesisEvents(const History& h) {
  std::vector<Event> out;
  for (const Event& e : h)
    if (e.process == kNemesisProcess) out.push_back(e);
  return out;
}

}  // namespace tidemark::history
