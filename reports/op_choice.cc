#include "reports/op_choice.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <iterator>

namespace tidemark::reports {
namespace {

using history::EventType;

int StatusCode(EventType status) {
  return status == EventType::kOk ? 0 : status == EventType::kFail ? 1 : 2;
}

// Sorted, merged [from, to] intervals.
std::vector<std::pair<int64_t, int64_t>> Merge(std::vector<std::pair<int64_t, int64_t>> w) {
  std::sort(w.begin(), w.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& x : w) {
    if (!out.empty() && x.first <= out.back().second) {
      out.back().second = std::max(out.back().second, x.second);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

}  // namespace

int64_t ThroughputBucketNs(int64_t end_ns) {
  return std::max<int64_t>(1'000'000, end_ns / kThroughputBuckets + 1);
}

int64_t EndOf(const history::Op& op) {
  return op.return_ns == history::kNever ? op.call_ns : op.return_ns;
}

OpTally::OpTally(std::set<int64_t> referenced, int64_t bucket_ns)
    : referenced_(std::move(referenced)), bucket_ns_(bucket_ns) {}

void OpTally::Add(const history::Op& op, int64_t info_ns) {
  ++ops_;
  const int status = StatusCode(op.status);
  ++(status == 0 ? ok_ : status == 1 ? fail_ : info_);
  if (referenced_.count(op.id)) referenced_times_[op.id] = {op.call_ns, EndOf(op)};
  const int64_t done = status == 2 ? info_ns : op.return_ns;
  if (done < 0 || done == history::kNever) return;
  auto [first, added] = first_counted_.emplace(op.f, op.id);
  if (!added) first->second = std::min(first->second, op.id);
  auto& counts = series_[{op.f, status}];
  const auto b = static_cast<size_t>(done / bucket_ns_);
  if (counts.size() <= b) counts.resize(b + 1, 0);
  ++counts[b];
}

OpChooser::OpChooser(const OpTally& tally, const EmbedOptions& embed)
    : n_(tally.ops()),
      overview_(n_ > embed.max_full_ops || embed.window_ns.has_value()),
      budget_(embed.max_full_ops / 2),
      stride_(std::max<size_t>(1, (n_ + budget_ - 1) / std::max<size_t>(1, budget_))),
      window_(embed.window_ns) {
  for (int64_t id : tally.referenced())
    if (id >= 0 && static_cast<size_t>(id) < n_) referenced_.insert(id);
  const std::array<int64_t, 3> halves = {kAnomalyWindowNs, kAnomalyWindowNs / 10, 0};
  for (size_t k = 0; k < widths_.size(); ++k) {
    Width& width = widths_[k];
    width.half = halves[k];
    std::vector<std::pair<int64_t, int64_t>> w;
    for (int64_t id : referenced_) {
      auto it = tally.referenced_times().find(id);
      if (it == tally.referenced_times().end()) continue;  // not counted: never fed
      w.emplace_back(it->second.first - width.half, it->second.second + width.half);
    }
    width.windows = Merge(std::move(w));
  }
}

void OpChooser::Invoke(int64_t id, int64_t call_ns) {
  if (!overview_) return;
  // Each sweep moves past the windows that end before this call and never comes back (ops are
  // in call order, so no later op can overlap them).
  Outstanding& o = outstanding_[id];
  for (size_t k = 0; k < kSwept; ++k) {
    Width& width = widths_[k];
    while (width.next < width.windows.size() && width.windows[width.next].second < call_ns)
      ++width.next;
    o.next[k] = width.next;
  }
  if (window_ && window_->second < call_ns) window_open_ = false;
  o.window_open = window_ && window_open_;
}

bool OpChooser::Complete(int64_t id, int64_t end_ns) {
  if (!overview_) return true;
  auto node = outstanding_.extract(id);
  if (node.empty()) {
    std::cerr << "OpChooser: op " << id << " completed without an invoke\n";
    std::abort();
  }
  const Outstanding& o = node.mapped();
  const bool referenced = referenced_.count(id) > 0;
  const bool in_window = o.window_open && window_->first <= end_ns;
  uint8_t mark = referenced || in_window || static_cast<size_t>(id) % stride_ == 0 ? kBase : 0;
  for (size_t k = 0; k < kSwept; ++k) {
    Width& width = widths_[k];
    const size_t w = o.next[k];
    if (referenced || in_window || w >= width.windows.size() || width.windows[w].first > end_ns)
      continue;
    ++width.count;
    if (!width.alive) continue;
    if (width.count > budget_) {
      // Too wide: the ops held for this width alone go.
      width.alive = false;
      ++narrowed_;
      const uint8_t bit = WidthBit(k);
      for (auto it = marks_.begin(); it != marks_.end();) {
        it->second = static_cast<uint8_t>(it->second & ~bit);
        it = it->second == 0 ? marks_.erase(it) : std::next(it);
      }
      continue;
    }
    mark = static_cast<uint8_t>(mark | WidthBit(k));
  }
  if (mark == 0) return false;
  marks_[id] = mark;
  return true;
}

bool OpChooser::Wanted(int64_t id) const { return !overview_ || marks_.count(id) > 0; }

std::vector<int64_t> OpChooser::Chosen(nlohmann::json* sampled) const {
  *sampled = nlohmann::json();
  std::vector<int64_t> chosen;
  if (!overview_) {
    chosen.resize(n_);
    for (size_t i = 0; i < n_; ++i) chosen[i] = static_cast<int64_t>(i);
    return chosen;
  }
  size_t k = 0;
  while (k < kSwept && !widths_[k].alive) ++k;
  // The last width takes no op beyond the named ones: only its windows are described.
  const uint8_t take = static_cast<uint8_t>(k < kSwept ? kBase | WidthBit(k) : kBase);
  for (const auto& [id, mark] : marks_)
    if (mark & take) chosen.push_back(id);
  nlohmann::json wins = nlohmann::json::array();
  for (const auto& [a, b] : widths_[k].windows) wins.push_back({a, b});
  *sampled = {{"ops", n_},
              {"embedded", chosen.size()},
              {"stride", stride_},
              {"window_ns", widths_[k].half},
              {"windows", wins},
              {"window", window_ ? nlohmann::json::array({window_->first, window_->second})
                                 : nlohmann::json()}};
  return chosen;
}

}  // namespace tidemark::reports
