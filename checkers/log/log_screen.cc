#include "checkers/log/log_screen.h"

#include <algorithm>
#include <limits>

#include "checkers/log/anomaly_report.h"

namespace tidemark::checkers::logck {
namespace {

using history::EventType;
using history::Op;

bool IsFinalRead(const Op& op) {
  if (op.f != "read" || !op.invoke_value.is_object()) return false;
  auto it = op.invoke_value.find("final");
  return it != op.invoke_value.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

LogScreen::LogScreen(const LogCheckOptions& opts) : opts_(opts) { opts_.kills_ns.clear(); }

void LogScreen::Suspect(const std::string& why) {
  if (!doubt_) doubt_ = why;
}

void LogScreen::SuspectAll(const std::string& why) {
  global_ = true;
  Suspect(why);
}

void LogScreen::SuspectValue(int32_t vid) {
  const auto v = static_cast<size_t>(vid);
  if (sus_values_.size() <= v) sus_values_.resize(std::max(v + 1, 2 * sus_values_.size()), false);
  sus_values_[v] = true;
}

void LogScreen::Time(int64_t t) {
  if (t < last_time_) SuspectAll("event times go backwards in the file");
  last_time_ = std::max(last_time_, t);
}

bool LogScreen::Sized(int64_t offset, const LogOps& l) {
  // Offsets of a real log are dense: a few times the entries it could hold. Sparse ones would
  // make per-offset state (and the walk over a read's range) cost more than the reads.
  const int64_t limit = std::min<int64_t>(4 * static_cast<int64_t>(l.values.size()) + (1 << 20),
                                          std::numeric_limits<int32_t>::max() - 1);
  if (offset < 0 || offset > limit) {
    SuspectAll("offset " + std::to_string(offset) + " is too sparse to screen");
    return false;
  }
  const auto need = static_cast<size_t>(offset) + 1;
  if (value_at_.size() < need) {
    const size_t n = std::max(need, value_at_.size() * 2);
    value_at_.resize(n, -1);
    gap_.resize(n, false);
    sus_offset_.resize(n, false);
  }
  if (offset_of_.size() < l.values.size()) {
    const size_t n = std::max(l.values.size(), offset_of_.size() * 2);
    offset_of_.resize(n, -1);
    held_.resize(n, false);
    observed_.resize(n, false);
  }
  return true;
}

void LogScreen::Invoked(const Op& op) {
  if (op.process < 0) return;
  Time(op.call_ns);
  const bool final = IsFinalRead(op);
  if (first_final_call_ >= 0 && !final) {
    SuspectAll("an op was invoked after the final reads began");
  }
  if (op.f == "read") pending_read_calls_.insert(op.call_ns);
  if (final && first_final_call_ < 0) first_final_call_ = op.call_ns;
}

void LogScreen::Completed(const Op& op) {
  if (op.process < 0) return;
  if (op.status != EventType::kInfo) {
    Time(op.return_ns);
    if (!IsFinalRead(op)) max_nonfinal_ret_ = std::max(max_nonfinal_ret_, op.return_ns);
  }
  if (op.f == "read") {
    auto it = pending_read_calls_.find(op.call_ns);
    if (it != pending_read_calls_.end()) pending_read_calls_.erase(it);
    Prune();
  }
  if (just_read_ && just_read_->op == op.id) Nonmonotonic(op, *just_read_);
  just_read_.reset();
}

void LogScreen::Killed(const std::string& node, int64_t time_ns) {
  Time(time_ns);
  kills_[node].push_back(time_ns);
}

void LogScreen::Observe(int64_t offset, int32_t vid) {
  const auto o = static_cast<size_t>(offset);
  const auto v = static_cast<size_t>(vid);
  if (gap_[o]) {
    Suspect("a read covered offset " + std::to_string(offset) + " holding nothing");
    SuspectOffset(offset);
  }
  if (value_at_[o] < 0) {
    value_at_[o] = vid;
  } else if (value_at_[o] != vid) {
    Suspect("two values at offset " + std::to_string(offset));
    SuspectOffset(offset);
  }
  if (offset_of_[v] < 0) {
    offset_of_[v] = static_cast<int32_t>(offset);
  } else if (offset_of_[v] != offset) {
    Suspect("a value at two offsets");
    SuspectValue(vid);
  }
}

void LogScreen::Acked(const LogOps& sofar, int32_t append) {
  const AppendRec& a = sofar.appends[static_cast<size_t>(append)];
  if (a.offset >= a.hwm) Suspect("an append acknowledged at or above its HWM");
  max_ack_offset_ = std::max(max_ack_offset_, a.offset);
  if (!Sized(a.offset, sofar)) return;
  Observe(a.offset, a.vid);
  if (best_ack_.empty() || a.offset > best_ack_.back().second)
    best_ack_.emplace_back(a.ret, a.offset);
  Prune();
}

void LogScreen::Read(const LogOps& sofar, const ReadRec& r, const std::vector<EntryRec>& entries) {
  ++ok_reads_;
  if (r.final) {
    ++final_reads_;
    final_end_ = std::max(final_end_, r.hwm);
  }
  just_read_ = r;
  const int64_t top = std::max(r.cov_end, entries.empty() ? 0 : entries.back().offset + 1);
  if (!Sized(top, sofar)) return;
  int64_t next = r.from;  // the next offset of the committed range not yet walked
  for (const EntryRec& e : entries) {
    const ValueInfo& vi = sofar.info[static_cast<size_t>(e.vid)];
    if (vi.first_append < 0 || r.ret < vi.first_call) {
      Suspect("a read holds a value before (or without) its append");
      SuspectValue(e.vid);
    } else {
      held_[static_cast<size_t>(e.vid)] = true;
    }
    if (e.offset >= r.cov_end) {
      if (!r.final) {
        Suspect("a read holds an entry at or above its HWM");
        SuspectOffset(e.offset);
      }
      continue;
    }
    for (; next < e.offset; ++next) {  // committed offsets the read holds nothing at
      if (value_at_[static_cast<size_t>(next)] >= 0) {
        Suspect("a read covered offset " + std::to_string(next) + " holding nothing");
        SuspectOffset(next);
      }
      gap_[static_cast<size_t>(next)] = true;
    }
    next = e.offset + 1;
    Observe(e.offset, e.vid);
    observed_[static_cast<size_t>(e.vid)] = true;
    if (!r.final) max_nonfinal_offset_ = std::max(max_nonfinal_offset_, e.offset);
  }
  for (; next < r.cov_end; ++next) {
    if (value_at_[static_cast<size_t>(next)] >= 0) {
      Suspect("a read covered offset " + std::to_string(next) + " holding nothing");
      SuspectOffset(next);
    }
    gap_[static_cast<size_t>(next)] = true;
  }
  if (r.linearizable && BestAckOffsetBefore(r.call) >= r.hwm) {
    Suspect("a linearizable read misses an earlier ack");
    SuspectRead(r.op);
  }
}

int64_t LogScreen::BestAckOffsetBefore(int64_t t) const {
  auto it =
      std::lower_bound(best_ack_.begin(), best_ack_.end(), t,
                       [](const std::pair<int64_t, int64_t>& p, int64_t x) { return p.first < x; });
  return it == best_ack_.begin() ? -1 : std::prev(it)->second;
}

void LogScreen::Prune() {
  // Reads not yet invoked begin after every kept point (time order); outstanding ones no earlier
  // than the oldest outstanding call. A point followed by one before that is never an answer.
  const int64_t oldest = pending_read_calls_.empty() ? std::numeric_limits<int64_t>::max()
                                                     : *pending_read_calls_.begin();
  while (best_ack_.size() >= 2 && best_ack_[1].first < oldest) best_ack_.pop_front();
}

void LogScreen::Nonmonotonic(const Op& op, const ReadRec& r) {
  if (!r.linearizable && !opts_.local_reads_monotonic) return;
  int32_t node = -1;
  if (!r.linearizable) {
    const std::string& name = op.node ? *op.node : std::string();
    node = node_ids_.emplace(name, static_cast<int32_t>(node_ids_.size())).first->second;
  }
  Last& l = last_[{op.process, node}];
  if (l.any && !r.linearizable && op.node) {
    auto it = kills_.find(*op.node);
    if (it != kills_.end() && std::any_of(it->second.begin(), it->second.end(),
                                          [&](int64_t t) { return t > l.call && t < r.ret; })) {
      l = Last{};  // a new incarnation of the node
    }
  }
  if (l.any && r.hwm < l.hwm) {
    Suspect("a process's reads went back");
    SuspectRead(r.op);  // and the read it went back from, the one that set the highest HWM
    SuspectRead(l.op);
    return;
  }
  l = Last{r.hwm, r.call, r.op, true};
}

std::optional<std::string> LogScreen::Doubt(const LogOps& l) {
  // Every check runs (no early return) so that the focus holds all it found.
  if (l.skipped > 0) SuspectAll("ops of another workload");
  if (l.appends_ok + l.appends_fail + l.appends_info == 0 && ok_reads_ == 0) {
    SuspectAll("no append or ok read");
  }
  if (first_final_call_ >= 0 && max_nonfinal_ret_ >= first_final_call_) {
    SuspectAll("an op completed after the final reads began");
  }
  for (size_t v = 0; v < held_.size() && v < l.info.size(); ++v) {
    const ValueInfo& vi = l.info[v];
    if (held_[v] && vi.n_ok == 0 && vi.n_info == 0) {
      Suspect("a read holds a value whose appends failed");
      SuspectValue(static_cast<int32_t>(v));
    }
  }
  // What follows concerns acks only, which a focused check keeps all of.
  for (const AppendRec& a : l.appends) {
    if (a.status != EventType::kOk) continue;
    if (static_cast<size_t>(a.vid) >= observed_.size() || !observed_[static_cast<size_t>(a.vid)]) {
      Suspect("an acknowledged append was never read");
      break;
    }
  }
  if (final_reads_ > 0 && max_ack_offset_ >= final_end_)
    Suspect("the final log ends before an ack");
  if (final_reads_ > 0 && max_nonfinal_offset_ >= final_end_) {
    Suspect("a read holds an entry beyond the final log");
  }
  return doubt_;
}

std::optional<ReadFocus> LogScreen::Focus() const {
  if (global_) return std::nullopt;
  ReadFocus f;
  for (size_t o = 0; o < sus_offset_.size(); ++o) {
    if (sus_offset_[o]) f.offsets_.push_back(static_cast<int64_t>(o));
  }
  f.reads_ = sus_reads_;
  std::sort(f.reads_.begin(), f.reads_.end());
  f.reads_.erase(std::unique(f.reads_.begin(), f.reads_.end()), f.reads_.end());
  f.values_ = sus_values_;
  f.n_values_ = static_cast<size_t>(std::count(f.values_.begin(), f.values_.end(), true));
  if (final_reads_ > 0) f.beyond_ = final_end_;
  return f;
}

bool ReadFocus::Keep(const ReadRec& r, const std::vector<EntryRec>& entries) const {
  if (r.final || std::binary_search(reads_.begin(), reads_.end(), int64_t{r.op})) return true;
  // Covers a suspect offset (committed range).
  auto it = std::lower_bound(offsets_.begin(), offsets_.end(), r.from);
  if (it != offsets_.end() && *it < r.cov_end) return true;
  for (const EntryRec& e : entries) {
    if (e.offset >= beyond_) return true;
    const auto v = static_cast<size_t>(e.vid);
    if (v < values_.size() && values_[v]) return true;
    if (e.offset >= r.cov_end && std::binary_search(offsets_.begin(), offsets_.end(), e.offset))
      return true;
  }
  return false;
}

CheckResult LogScreen::Clean(const LogOps& l) const {
  const history::OpSkeletons none;
  const Report empty(none, opts_);
  return LogPrefixResult(l, ok_reads_, final_reads_, final_end_, empty, false);
}

}  // namespace tidemark::checkers::logck
