// Compact log reads (docs/history-format.md "Compact log reads", history format 2).
//
// A `log` read returns a window of the committed log, and consecutive reads overlap almost
// entirely: written in full, nearly every byte of a long run's history repeats entries already
// written. A compact read stores only what the run did not know yet:
//
//   {"consistency":"local","from":F,"head":[[o,"v"],...],"hwm":H,"known":N,
//    "tail":[[o,"v"],...],"to":T}
//
// whose entries are `head`, then the first N entries of the *known log* at offsets >= F, then
// `tail`. The known log is a function of the history alone: it starts empty and learns from
// every compact read, in file order, by the rule in KnownLog::Learn. Expanding a compact read
// therefore needs every compact read before it, which is how a history is read anyway.
//
// A read whose entries disagree with the known log (a bug under test) costs nothing in
// exactness: the disagreeing part is simply written out in `tail`.
//
// Threading: a KnownLog (and the reader's expander) is used by one thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::history {

// The history format a file is in: 1 writes every log read in full; 2 may hold compact reads.
// (test.json's "history_format" names it; readers accept both.)
inline constexpr int kHistoryFormat = 2;

// The known log: entries in strictly increasing offset order. `payload` is whatever the user
// compares entries by: the writer keeps the value's JSON text, the reader the value itself, the
// log checkers the value's id (checkers/log/log_ops.h). Entries live in a deque: a long run's
// log grows without the copies (and twice the memory) a vector's doubling costs.
template <typename Payload>
class BasicKnownLog {
 public:
  struct Entry {
    int64_t offset = 0;
    Payload payload{};
    bool operator==(const Entry&) const = default;
  };

  // The position of the first entry whose offset is >= from.
  size_t FirstAtOrAfter(int64_t from) const {
    return static_cast<size_t>(
        std::lower_bound(entries_.begin(), entries_.end(), from,
                         [](const Entry& e, int64_t x) { return e.offset < x; }) -
        entries_.begin());
  }
  size_t size() const { return entries_.size(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }

  // The rule by which the log learns from a compact read at `from` (writer and reader apply the
  // same, in file order): it takes every entry of the read's head and tail at an offset it holds
  // no entry for, and keeps what it has. (Entries the read repeated it already holds; an entry
  // that disagrees with one it holds is not learned.) Returns false, changing nothing, when the
  // head or tail is out of order or the head does not lie in [from, the first entry at or after
  // from), which a well-formed compact read never does.
  bool Learn(int64_t from, std::span<const Entry> head, std::span<const Entry> tail) {
    const auto increasing = [](std::span<const Entry> v) {
      return std::adjacent_find(v.begin(), v.end(), [](const Entry& a, const Entry& b) {
               return a.offset >= b.offset;
             }) == v.end();
    };
    if (!increasing(head) || !increasing(tail)) return false;
    const size_t start = FirstAtOrAfter(from);
    if (!head.empty() &&
        (head.front().offset < from ||
         (start < entries_.size() && head.back().offset >= entries_[start].offset))) {
      return false;
    }
    // (Never with nothing to insert: GCC 12's deque then move-assigns the entries before the
    // position onto themselves, which empties their strings.)
    if (!head.empty()) {
      entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(start), head.begin(),
                      head.end());
    }
    for (const Entry& e : tail) {
      if (entries_.empty() || e.offset > entries_.back().offset) {
        entries_.push_back(e);
        continue;
      }
      const size_t at = FirstAtOrAfter(e.offset);  // a gap in the known log, or an entry it has
      if (entries_[at].offset != e.offset) {
        entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(at), e);
      }
    }
    return true;
  }

 private:
  std::deque<Entry> entries_;
};

// The writer's and the reader's known log: payloads are strings.
class KnownLog : public BasicKnownLog<std::string> {
 public:
  // How a read of entries `read` (strictly increasing offsets, all >= from) is written against
  // this log: head = the read's entries below the log's first entry at or after `from` (all of
  // them when there is none), known = how many of the log's entries from there on the read
  // repeats next, tail = the rest.
  struct Split {
    size_t head = 0;
    size_t known = 0;
  };
  // One entry of a read as the writer sees it: the payload points into the read's own text.
  struct EntryView {
    int64_t offset = 0;
    std::string_view payload;
  };
  Split SplitRead(int64_t from, std::span<const EntryView> read) const;
};

// The compact value text of an ok log read (the keys of docs/history-format.md in nlohmann's
// sorted order, "head" left out when empty), learning from it. `entries` are the read's
// entries with each payload the value's JSON string text (quotes included); `consistency` is
// the reply's consistency JSON text or "" when it had none. Preconditions as for SplitRead.
// Only the head and tail are copied (the known log keeps them); the rest is compared in place.
std::string CompactLogRead(KnownLog& known, int64_t from, int64_t to, int64_t hwm,
                           const std::string& consistency_json,
                           std::span<const KnownLog::EntryView> entries);

// Reads the compact read `value` (an object holding "known") against `known`: calls
// emit(offset, payload) for each of its entries in order (its head, the N known entries, its
// tail), then learns from it (BasicKnownLog::Learn). `intern(offset, std::string&& value)` makes a
// head or tail entry's payload. On an error (what is wrong, as LogReadExpander::Expand says it)
// the known log is unchanged, though emit may have been called.
template <typename Payload, typename Intern, typename Emit>
Result<Ok> ReadCompactEntries(BasicKnownLog<Payload>& known, const nlohmann::json& value,
                              Intern&& intern, Emit&& emit);

// Reading side: turns compact reads back into full ones.
class LogReadExpander {
 public:
  // When `e` is an ok "read" whose value is compact (it holds "known"), replaces the value by
  // the full read ({"consistency"?, "entries", "from", "hwm", "to"}) and learns from it; any
  // other event is left alone. The error says what is wrong ("a compact read repeats 40 known
  // entries but the known log holds 12 at offsets >= 300"); callers add the file and line.
  Result<Ok> Expand(Event& e);

 private:
  KnownLog known_;
};

// How a reader hands compact log reads on: expanded to full reads (what every tool expects), or
// as written, for a caller that expands them itself one at a time (ParseLogOps, the report) and
// so never holds every read's entries as JSON at once.
enum class LogReads { kExpand, kAsWritten };

// Expands every compact read of `h` in place, in order (a history read kAsWritten). Errors as
// for LogReadExpander::Expand, prefixed with the event's index.
Result<Ok> ExpandLogReads(History& h);
// The same for the compact reads of paired ops (PairOps' strict pairing, so that every completion
// is an op's), in their completions' order, which is the file's.
Result<Ok> ExpandLogReads(std::vector<Op>& ops);

// Reads a JSON integer >= 0 that fits in int64 into *out; false otherwise.
bool JsonNonNegative(const nlohmann::json& v, int64_t* out);

// True when `value` is a compact log read's value (an object holding "known").
bool IsCompactLogRead(const nlohmann::json& value);

namespace compact_detail {
// The pieces of ReadCompactEntries that need no payload type (compact_reads.cc).
// A compact read's "from" and "known", and that it has a "tail".
Result<Ok> FromAndKnown(const nlohmann::json& value, int64_t* from, int64_t* known);
// Its "head" or "tail" (absent: none) as (offset, value) pairs.
Result<Ok> RawEntries(const nlohmann::json& value, const char* name,
                      std::vector<std::pair<int64_t, std::string>>* out);
Error TooFewKnown(int64_t known, size_t have, int64_t from);
Error OutOfOrder(int64_t at);
Error HeadMisplaced();
}  // namespace compact_detail

template <typename Payload, typename Intern, typename Emit>
Result<Ok> ReadCompactEntries(BasicKnownLog<Payload>& known, const nlohmann::json& value,
                              Intern&& intern, Emit&& emit) {
  using Entry = typename BasicKnownLog<Payload>::Entry;
  int64_t from = 0, n = 0;
  if (auto r = compact_detail::FromAndKnown(value, &from, &n); !r) return r.error();
  std::vector<std::pair<int64_t, std::string>> raw_head, raw_tail;
  if (auto r = compact_detail::RawEntries(value, "head", &raw_head); !r) return r.error();
  if (auto r = compact_detail::RawEntries(value, "tail", &raw_tail); !r) return r.error();
  const size_t start = known.FirstAtOrAfter(from);
  const size_t have = known.size() - start;
  if (static_cast<uint64_t>(n) > have) return compact_detail::TooFewKnown(n, have, from);
  const auto own = [&intern](std::vector<std::pair<int64_t, std::string>>& raw) {
    std::vector<Entry> out;
    out.reserve(raw.size());
    for (auto& [offset, v] : raw) out.push_back(Entry{offset, intern(offset, std::move(v))});
    return out;
  };
  const std::vector<Entry> head = own(raw_head), tail = own(raw_tail);
  int64_t prev = -1;
  const auto add = [&prev, &emit](const Entry& x) {
    if (x.offset <= prev) return false;
    prev = x.offset;
    emit(x.offset, x.payload);
    return true;
  };
  bool ordered = std::all_of(head.begin(), head.end(), add);
  for (size_t i = start; ordered && i < start + static_cast<size_t>(n); ++i)
    ordered = add(known[i]);
  ordered = ordered && std::all_of(tail.begin(), tail.end(), add);
  if (!ordered) return compact_detail::OutOfOrder(prev);
  if (!known.Learn(from, head, tail)) return compact_detail::HeadMisplaced();
  return Ok{};
}

}  // namespace tidemark::history
