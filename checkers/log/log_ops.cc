#include "checkers/log/log_ops.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "base/history/compact_reads.h"

namespace tidemark::checkers::logck {
namespace {

using history::EventType;
using history::Op;
using nlohmann::json;

std::string Where(const Op& op) {
  std::string s = "op " + std::to_string(op.id) + " (event " + std::to_string(op.invoke_index);
  if (op.complete_index >= 0) s += "/" + std::to_string(op.complete_index);
  return s + ", process " + std::to_string(op.process) + ", f '" + op.f + "')";
}

// Reads a JSON integer >= 0 into *out; false when mistyped or out of range.
bool GetNonNegative(const json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 2)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    int64_t x = v.get<int64_t>();
    if (x < 0) return false;
    *out = x;
    return true;
  }
  return false;
}

// Reads an integer field >= 0 of object j into *out; false when absent or mistyped.
bool GetOffset(const json& j, const char* name, int64_t* out) {
  auto it = j.find(name);
  return it != j.end() && GetNonNegative(*it, out);
}

class Parser {
 public:
  Parser(LogOps* out, ReadSink* sink, ReadKeep keep = {})
      : out_(out), sink_(sink), keep_(std::move(keep)) {}

  // Interns the value of a read entry at `offset`. Reads overlap heavily, so the value last seen
  // at an offset is checked first: one string compare instead of a hash-table probe.
  int32_t InternAt(int64_t offset, const std::string& v) {
    constexpr int64_t kMaxCached = int64_t{1} << 24;
    if (offset >= kMaxCached) return Intern(v);
    size_t o = static_cast<size_t>(offset);
    if (o >= at_offset_.size()) at_offset_.resize(std::max(o + 1, at_offset_.size() * 2), -1);
    int32_t& cached = at_offset_[o];
    if (cached >= 0 && out_->values[static_cast<size_t>(cached)] == v) return cached;
    cached = Intern(v);
    return cached;
  }

  int32_t Intern(const std::string& v) {
    const int32_t id = out_->values.Intern(v);
    if (static_cast<size_t>(id) == out_->info.size()) out_->info.emplace_back();
    return id;
  }

  // An append as invoked: its value is interned in invocation order (what ParseLogOps has
  // always done), so value ids do not depend on when appends complete.
  Result<Ok> AppendInvoked(const Op& op) {
    if (!op.invoke_value.is_string()) {
      return Error{Where(op) + ": an append's invoke value must be a string, got " +
                   op.invoke_value.dump()};
    }
    AppendRec a;
    a.op = static_cast<int32_t>(op.id);
    a.vid = Intern(op.invoke_value.get_ref<const std::string&>());
    a.call = op.call_ns;
    ValueInfo& vi = out_->info[static_cast<size_t>(a.vid)];
    if (vi.first_append < 0) {
      vi.first_append = static_cast<int32_t>(invoked_appends_);
      vi.first_call = a.call;
    }
    ++invoked_appends_;
    if (sink_) {  // streaming: kept until it completes, then only if ok
      pending_.emplace(op.id, a);
      return Ok{};
    }
    open_appends_.emplace(op.id, out_->appends.size());
    out_->appends.push_back(a);
    return Ok{};
  }

  // The append's outcome, once it completed (or, never completed, ended as info).
  Result<Ok> AppendCompleted(const Op& op) {
    AppendRec streamed;
    AppendRec* held = nullptr;
    if (sink_) {
      auto it = pending_.find(op.id);
      if (it == pending_.end()) return Ok{};  // its invoke was refused
      streamed = it->second;
      pending_.erase(it);
      held = &streamed;
    } else {
      auto it = open_appends_.find(op.id);
      if (it == open_appends_.end()) return Ok{};  // its invoke was refused
      held = &out_->appends[it->second];
      open_appends_.erase(it);
    }
    AppendRec& a = *held;
    a.status = op.status;
    a.ret = op.return_ns;
    if (op.status == EventType::kOk) {
      const json& v = op.value;
      if (!v.is_object()) {
        return Error{Where(op) +
                     ": an ok append's value must be {\"value\",\"offset\",\"hwm\"}, got " +
                     v.dump()};
      }
      auto val = v.find("value");
      if (val == v.end() || !val->is_string() || *val != op.invoke_value) {
        return Error{Where(op) + ": the ok append's \"value\" must repeat the appended string " +
                     op.invoke_value.dump()};
      }
      if (!GetOffset(v, "offset", &a.offset)) {
        return Error{Where(op) + ": the ok append has no integer \"offset\" >= 0"};
      }
      if (!GetOffset(v, "hwm", &a.hwm)) {
        return Error{Where(op) + ": the ok append has no integer \"hwm\" >= 0"};
      }
    }
    ValueInfo& vi = out_->info[static_cast<size_t>(a.vid)];
    vi.Count(op.status);
    ++(op.status == EventType::kOk     ? out_->appends_ok
       : op.status == EventType::kFail ? out_->appends_fail
                                       : out_->appends_info);
    if (sink_ && op.status == EventType::kOk) {
      out_->appends.push_back(a);
      sink_->Acked(*out_, static_cast<int32_t>(out_->appends.size() - 1));
    }
    return Ok{};
  }

  // `value` is the completion's value: op.value, or a compact read's value expanded.
  // An ok read's entries come from value["entries"], or, when the value is a compact read
  // (history/compact_reads.h), from `known`, which learns from it: never expanded into JSON.
  Result<Ok> Read(const Op& op, const json& value, history::BasicKnownLog<int32_t>* known) {
    const json& iv = op.invoke_value;
    int64_t ifrom = 0;
    if (!iv.is_object() || !GetOffset(iv, "from", &ifrom)) {
      return Error{Where(op) + ": a read's invoke value must be {\"from\": offset, ...}, got " +
                   iv.dump()};
    }
    bool linearizable = true;  // the protocol's default
    if (auto c = iv.find("consistency"); c != iv.end()) {
      if (!c->is_string() || (*c != "linearizable" && *c != "local")) {
        return Error{Where(op) + ": consistency must be \"linearizable\" or \"local\", got " +
                     c->dump()};
      }
      linearizable = *c == "linearizable";
    }
    bool final = false;
    if (auto fin = iv.find("final"); fin != iv.end()) {
      if (!fin->is_boolean()) return Error{Where(op) + ": \"final\" must be a boolean"};
      final = fin->get<bool>();
    }
    if (op.status == EventType::kFail) {
      ++out_->reads_fail;
      return Ok{};
    }
    if (op.status == EventType::kInfo) {
      ++out_->reads_info;
      return Ok{};
    }
    const json& v = value;
    ReadRec r;
    r.op = static_cast<int32_t>(op.id);
    r.linearizable = linearizable;
    r.final = final;
    r.call = op.call_ns;
    r.ret = op.return_ns;
    r.key = final ? kFinalKey : op.call_ns;
    if (!v.is_object() || !GetOffset(v, "from", &r.from) || !GetOffset(v, "to", &r.to) ||
        !GetOffset(v, "hwm", &r.hwm)) {
      return Error{Where(op) +
                   ": an ok read's value must hold integer \"from\", \"to\" and "
                   "\"hwm\" >= 0"};
    }
    if (r.to < r.from) {
      return Error{Where(op) + ": the read's \"to\" " + std::to_string(r.to) +
                   " is below its \"from\" " + std::to_string(r.from)};
    }
    if (auto c = v.find("consistency");
        c != v.end() && c->is_string() && *c != (linearizable ? "linearizable" : "local")) {
      return Error{Where(op) + ": the read was invoked " +
                   (linearizable ? std::string("linearizable") : std::string("local")) +
                   " but answered " + c->dump()};
    }
    r.cov_end = std::max(r.from, std::min(r.to, r.hwm));
    read_.clear();
    int64_t prev = -1;
    // An entry after `prev`, inside the read's range, or the error that says why not.
    const auto check_entry = [&](int64_t off) -> std::optional<Error> {
      if (off <= prev) {
        return Error{Where(op) + ": read entries must be in strictly increasing offset order (" +
                     std::to_string(off) + " after " + std::to_string(prev) + ")"};
      }
      if (off < r.from || off >= r.to) {
        return Error{Where(op) + ": read entry at offset " + std::to_string(off) +
                     " lies outside the read's range [" + std::to_string(r.from) + ", " +
                     std::to_string(r.to) + ")"};
      }
      prev = off;
      return std::nullopt;
    };
    if (known && history::IsCompactLogRead(v)) {
      std::optional<Error> bad;
      auto read = history::ReadCompactEntries(
          *known, v, [this](int64_t off, std::string&& text) { return InternAt(off, text); },
          [&](int64_t off, int32_t vid) {
            if (bad) return;
            bad = check_entry(off);
            read_.push_back(EntryRec{off, vid});
          });
      if (!read) return Error{Where(op) + ": " + read.error().message};
      if (bad) return *bad;
    } else {
      auto e = v.find("entries");
      if (e == v.end() || !e->is_array()) {
        return Error{Where(op) + ": an ok read's value must hold an \"entries\" array"};
      }
      for (const json& pair : *e) {
        int64_t off = 0;
        if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string() ||
            !GetNonNegative(pair[0], &off)) {
          return Error{Where(op) + ": a read entry must be [offset, \"value\"], got " +
                       pair.dump()};
        }
        if (auto bad = check_entry(off)) return *bad;
        read_.push_back(EntryRec{off, InternAt(off, pair[1].get_ref<const std::string&>())});
      }
    }
    if (sink_) {
      sink_->Read(*out_, r, read_);
      ++out_->streamed_reads;
      return Ok{};
    }
    if (keep_ && !keep_(r, read_)) {
      // Dropped: what the checkers still need of it is which values it observed (unseen).
      ++out_->dropped_reads;
      for (const EntryRec& entry : read_) {
        if (entry.offset >= r.cov_end) break;
        const auto vid = static_cast<size_t>(entry.vid);
        std::vector<bool>& seen = out_->dropped_observed;
        if (seen.size() <= vid) seen.resize(std::max(vid + 1, 2 * seen.size()), false);
        seen[vid] = true;
      }
      return Ok{};
    }
    Place(r);
    out_->reads.push_back(r);
    return Ok{};
  }

  // Stores read_ as the entries of r: the longest run of canon it repeats from its first entry
  // on, then the rest, which extends canon when the run reached canon's end and the read began
  // inside the range canon covers (so canon never has a hole that a later read would fill and
  // so have to keep apart), and goes to `own` otherwise.
  void Place(ReadRec& r) {
    std::vector<EntryRec>& canon = out_->canon;
    size_t a = canon.size(), n = 0;
    if (!read_.empty()) {
      a = static_cast<size_t>(
          std::lower_bound(canon.begin(), canon.end(), read_[0].offset,
                           [](const EntryRec& e, int64_t x) { return e.offset < x; }) -
          canon.begin());
      while (n < read_.size() && a + n < canon.size() && canon[a + n].offset == read_[n].offset &&
             canon[a + n].vid == read_[n].vid) {
        ++n;
      }
    }
    const auto rest = read_.begin() + static_cast<std::ptrdiff_t>(n);
    r.canon_begin = static_cast<uint32_t>(a);
    r.own_begin = r.own_end = static_cast<uint32_t>(out_->own.size());
    if (a + n == canon.size() && (canon_to_ < 0 || r.from <= canon_to_)) {
      canon.insert(canon.end(), rest, read_.end());
      r.canon_end = static_cast<uint32_t>(canon.size());
      canon_to_ = std::max(canon_to_, r.to);
    } else {
      r.canon_end = static_cast<uint32_t>(a + n);
      out_->own.insert(out_->own.end(), rest, read_.end());
      r.own_end = static_cast<uint32_t>(out_->own.size());
    }
  }

 private:
  LogOps* out_;
  ReadSink* sink_;
  ReadKeep keep_;                   // unset: every ok read is kept
  std::vector<int32_t> at_offset_;  // offset -> the value last read there, -1 if none
  std::vector<EntryRec> read_;      // the entries of the read being parsed
  std::unordered_map<int64_t, size_t> open_appends_;  // op id -> its AppendRec, until completed
  std::unordered_map<int64_t, AppendRec> pending_;    // streaming: op id -> its AppendRec, until
                                                      // completed
  int64_t invoked_appends_ = 0;
  int64_t canon_to_ = -1;  // canon covers offsets below this (-1: nothing yet)
};

// Read entries are indexed in 32 bits.
bool TooLarge(const LogOps& l) {
  return l.canon.size() + l.own.size() >= std::numeric_limits<uint32_t>::max() / 2;
}
Error TooLargeError() { return Error{"history too large: more than 2^31 read entries"}; }

}  // namespace

size_t ValueTable::Slot(std::string_view v) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>()(v) & mask;; i = (i + 1) & mask) {
    if (slots_[i] < 0 || (*this)[static_cast<size_t>(slots_[i])] == v) return i;
  }
}

int32_t ValueTable::Find(std::string_view v) const { return slots_.empty() ? -1 : slots_[Slot(v)]; }

int32_t ValueTable::Intern(std::string_view v) {
  if (2 * (size() + 1) > slots_.size()) {  // grow: at most half full
    std::vector<int32_t> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), -1);
    for (int32_t id : old)
      if (id >= 0) slots_[Slot((*this)[static_cast<size_t>(id)])] = id;
  }
  const size_t slot = Slot(v);
  if (slots_[slot] >= 0) return slots_[slot];
  const auto id = static_cast<int32_t>(size());
  chars_.append(v);
  begin_.push_back(chars_.size());
  slots_[slot] = id;
  return id;
}

int32_t LogOps::ValueAt(const ReadRec& r, int64_t o) const {
  const auto find = [o](const EntryRec* first, const EntryRec* last) {
    auto it =
        std::lower_bound(first, last, o, [](const EntryRec& e, int64_t x) { return e.offset < x; });
    return it != last && it->offset == o ? it->vid : -1;
  };
  const int32_t v = find(canon.data() + r.canon_begin, canon.data() + r.canon_end);
  return v >= 0 ? v : find(own.data() + r.own_begin, own.data() + r.own_end);
}

struct LogOpsBuilder::Impl {
  Impl(bool ignore, ReadSink* sink, ReadKeep keep = {})
      : ignore_other_ops(ignore), parser(&out, sink, std::move(keep)) {}
  bool ignore_other_ops;
  LogOps out;
  Parser parser;
  history::BasicKnownLog<int32_t> known;  // what compact reads repeat, as value ids
  std::optional<Error> error;
  int64_t ops = 0;

  void Check(Result<Ok> r) {
    if (!r.ok()) {
      error = r.error();
    } else if (TooLarge(out)) {
      error = TooLargeError();
    }
  }
};

LogOpsBuilder::LogOpsBuilder(bool ignore_other_ops, ReadSink* sink)
    : impl_(std::make_unique<Impl>(ignore_other_ops, sink)) {}
LogOpsBuilder::LogOpsBuilder(bool ignore_other_ops, ReadKeep keep)
    : impl_(std::make_unique<Impl>(ignore_other_ops, nullptr, std::move(keep))) {}
LogOpsBuilder::~LogOpsBuilder() = default;
LogOpsBuilder::LogOpsBuilder(LogOpsBuilder&&) noexcept = default;
LogOpsBuilder& LogOpsBuilder::operator=(LogOpsBuilder&&) noexcept = default;

void LogOpsBuilder::Invoked(const Op& op) {
  Impl& b = *impl_;
  if (b.error) return;
  if (op.id != b.ops) {
    b.error = Error{"op " + std::to_string(op.id) + " invoked after " + std::to_string(b.ops) +
                    " ops: ops must be PairOps' dense ids, in invocation order"};
    return;
  }
  if (++b.ops >= std::numeric_limits<int32_t>::max()) {
    b.error = Error{"history too large: more than " + std::to_string(b.ops - 1) + " ops"};
    return;
  }
  if (op.process < 0) return;  // nemesis: not a client op
  if (op.f == "append") b.Check(b.parser.AppendInvoked(op));
}

void LogOpsBuilder::Completed(const Op& op) {
  Impl& b = *impl_;
  if (b.error || op.process < 0) return;
  if (op.f != "append" && op.f != "read") {
    std::string why = Where(op) + ": '" + op.f +
                      "' is not an op of the log workload (append, read): is this a log history?";
    if (!b.ignore_other_ops) {
      b.error = Error{std::move(why)};
    } else if (b.out.skipped++ == 0) {
      b.out.first_skipped_error = std::move(why);
    }
  } else if (op.f == "append") {
    b.Check(b.parser.AppendCompleted(op));
  } else if (op.f == "read") {
    // Compact reads (docs/history-format.md) are read in the order the file holds them, which is
    // their completions' order, one at a time, against a known log of value ids.
    b.Check(b.parser.Read(op, op.value, &b.known));
  }
}

int32_t LogOpsBuilder::ValueId(std::string_view v) const { return impl_->out.values.Find(v); }

Result<LogOps> LogOpsBuilder::Finish() && {
  Impl& b = *impl_;
  if (b.error) return *b.error;
  std::stable_sort(b.out.reads.begin(), b.out.reads.end(),
                   [](const ReadRec& x, const ReadRec& y) { return x.op < y.op; });
  return std::move(b.out);
}

Result<LogOps> ParseLogOps(const std::vector<history::Op>& ops, bool ignore_other_ops) {
  return ParseLogOps(ops, ignore_other_ops, ReadKeep());
}

Result<LogOps> ParseLogOps(const std::vector<history::Op>& ops, bool ignore_other_ops,
                           ReadKeep keep) {
  if (ops.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Error{"history too large: " + std::to_string(ops.size()) + " ops"};
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].id != static_cast<int64_t>(i)) {
      return Error{"op at position " + std::to_string(i) + " has id " + std::to_string(ops[i].id) +
                   ": ops must be PairOps' dense vector"};
    }
  }
  // The invocations and completions in the file's order (ops that never completed last, as a
  // stream ends them), as LogOpsBuilder sees them when a history is read one event at a time:
  // values are then interned in the same order both ways, and the checkers, which list values
  // by id, say the same.
  struct Step {
    int64_t index;  // the event's; invocations and completions never share one
    size_t op;
    bool invoke;
  };
  std::vector<Step> steps;
  steps.reserve(2 * ops.size());
  constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < ops.size(); ++i) {
    steps.push_back({ops[i].invoke_index, i, true});
    steps.push_back({ops[i].complete_index < 0 ? kEnd : ops[i].complete_index, i, false});
  }
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& x, const Step& y) { return x.index < y.index; });
  LogOpsBuilder b(ignore_other_ops, std::move(keep));
  for (const Step& st : steps) {
    if (st.invoke) {
      b.Invoked(ops[st.op]);
    } else {
      b.Completed(ops[st.op]);
    }
  }
  return std::move(b).Finish();
}

}  // namespace tidemark::checkers::logck
