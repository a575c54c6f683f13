// The `log` workload ops of a history, validated and flattened into arrays the anomaly
// detectors index (no JSON access after parsing). Internal to the log checkers, except that a
// caller streaming a history builds them (LogOpsBuilder) and hands them to the checkers.
//
// Values are interned to dense ids. Reads overlap almost entirely, so their entries are shared:
// a read's entries are a slice of `canon` (entries earlier reads agreed on, offset-sorted, only
// ever appended to) followed by a slice of `own` (where it disagreed with them, or started below
// them). For a correct log, memory grows with the log's length, not with the number of reads
// times their length. Times are ns; final reads get the time key kFinalKey so that
// they count as "after" every append (they follow the main phase by construction).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/history/history.h"
#include "base/result.h"

namespace tidemark::checkers::logck {

inline constexpr int64_t kFinalKey = std::numeric_limits<int64_t>::max();

struct AppendRec {
  int32_t op = 0;   // index into the ops vector
  int32_t vid = 0;  // interned value
  history::EventType status = history::EventType::kInfo;
  int64_t offset = -1;  // ok only
  int64_t hwm = -1;     // ok only
  int64_t call = 0;
  int64_t ret = history::kNever;
};

struct EntryRec {
  int64_t offset = 0;
  int32_t vid = 0;
};

struct ReadRec {
  int32_t op = 0;
  int64_t from = 0, to = 0, hwm = 0;
  int64_t cov_end = 0;  // committed coverage is [from, cov_end), cov_end = max(from, min(to, hwm))
  bool linearizable = false;
  bool final = false;
  int64_t call = 0, ret = 0;
  int64_t key = 0;  // call, or kFinalKey for final reads
  // The entries: canon[canon_begin, canon_end) then own[own_begin, own_end), offsets strictly
  // increasing across both (LogOps::Entries iterates them).
  uint32_t canon_begin = 0, canon_end = 0, own_begin = 0, own_end = 0;

  bool Covers(int64_t o) const { return from <= o && o < cov_end; }
};

// The entries of one read, in offset order, for range-for.
class ReadEntries {
 public:
  class Iterator {
   public:
    Iterator(const EntryRec* cur, const EntryRec* seg_end, const EntryRec* next_begin,
             const EntryRec* next_end)
        : cur_(cur), seg_end_(seg_end), next_begin_(next_begin), next_end_(next_end) {}
    const EntryRec& operator*() const { return *cur_; }
    Iterator& operator++() {
      if (++cur_ == seg_end_ && next_begin_ != next_end_) {
        cur_ = next_begin_;
        seg_end_ = next_end_;
        next_begin_ = next_end_ = nullptr;
      }
      return *this;
    }
    bool operator!=(const Iterator& o) const { return cur_ != o.cur_; }

   private:
    const EntryRec *cur_, *seg_end_, *next_begin_, *next_end_;
  };
  ReadEntries(const EntryRec* a, const EntryRec* a_end, const EntryRec* b, const EntryRec* b_end)
      : a_(a), a_end_(a_end), b_(b), b_end_(b_end) {}
  Iterator begin() const {
    return a_ != a_end_ ? Iterator(a_, a_end_, b_, b_end_) : Iterator(b_, b_end_, nullptr, nullptr);
  }
  Iterator end() const {
    const EntryRec* last = b_ != b_end_ ? b_end_ : a_ != a_end_ ? a_end_ : b_end_;
    return Iterator(last, last, nullptr, nullptr);
  }

 private:
  const EntryRec *a_, *a_end_, *b_, *b_end_;
};

// The distinct values of a history, interned to dense ids: each once, in one buffer, found by an
// open-addressing table of ids (about the value's length plus 20 bytes a value; a vector of
// strings and a hash map of them took about 100).
class ValueTable {
 public:
  // The id of v, a new one (the next) when v is new.
  int32_t Intern(std::string_view v);
  // The id of v, or -1.
  int32_t Find(std::string_view v) const;
  std::string_view operator[](size_t id) const {
    return std::string_view(chars_).substr(begin_[id], begin_[id + 1] - begin_[id]);
  }
  size_t size() const { return begin_.size() - 1; }
  bool empty() const { return size() == 0; }

 private:
  size_t Slot(std::string_view v) const;  // where v is, or the empty slot it would go in

  std::string chars_;
  std::deque<uint64_t> begin_{0};  // value id -> its first char; one past the last at the end
  std::vector<int32_t> slots_;     // -1 or a value id; a power of two, at most half full
};

// 16 bytes a value: a long run has millions. The checkers ask of the counts only whether they are
// zero, and whether there was more than one failure, so they saturate at 255.
struct ValueInfo {
  int64_t first_call = history::kNever;
  int32_t first_append = -1;  // index into appends (earliest invoked); -1: never appended
  uint8_t n_ok = 0, n_fail = 0, n_info = 0;

  // Counts one more append of the value with this outcome.
  void Count(history::EventType status) {
    uint8_t& n = status == history::EventType::kOk     ? n_ok
                 : status == history::EventType::kFail ? n_fail
                                                       : n_info;
    if (n < 255) ++n;
  }
};

struct LogOps {
  // Every append op, in invocation order; streaming (a LogOpsBuilder with a ReadSink), only the
  // ok ones, in completion order (ValueInfo::first_append then counts the appends invoked
  // before).
  std::deque<AppendRec> appends;
  int64_t appends_ok = 0, appends_fail = 0, appends_info = 0;  // every append, by outcome
  std::vector<ReadRec> reads;                                  // ok reads only, in invocation order
  std::vector<EntryRec> canon;  // shared by reads: offsets strictly increasing, append-only
  std::vector<EntryRec> own;    // each read's entries that are not in canon
  ValueTable values;            // vid -> value
  std::deque<ValueInfo> info;   // vid -> what the appends of that value did
  int64_t reads_fail = 0, reads_info = 0;
  int64_t streamed_reads = 0;  // ok reads handed to a ReadSink instead of kept in `reads`
  // A focused parse (ReadKeep): the ok reads parsed but not kept in `reads`, and vid -> whether
  // one of them held it committed (below its cov_end; shorter than `values` when the last
  // values were not). The checkers count the dropped reads as ok reads and take a value they
  // held as observed by a read; nothing else of them is known.
  int64_t dropped_reads = 0;
  std::vector<bool> dropped_observed;
  int64_t skipped = 0;  // ops of other f skipped (ignore_other_ops)
  // When some were: the error a parse that does not ignore them gives for the first.
  std::string first_skipped_error;

  // The entries of read r, in offset order.
  ReadEntries Entries(const ReadRec& r) const {
    return ReadEntries(canon.data() + r.canon_begin, canon.data() + r.canon_end,
                       own.data() + r.own_begin, own.data() + r.own_end);
  }
  // The entry of read r at offset o, or -1.
  int32_t ValueAt(const ReadRec& r, int64_t o) const;
};

// Whether a parse keeps an ok read (in LogOps::reads), given the read and its entries (offset
// order; valid only during the call). A read it drops is parsed (its values interned, its shape
// validated) and counted (LogOps::dropped_reads, dropped_observed), not kept. Final reads should
// be kept: the checkers take the final log from the kept ones.
using ReadKeep = std::function<bool(const ReadRec& r, const std::vector<EntryRec>& entries)>;

// Parses and validates. An error names the op (id and event index) and what is wrong.
Result<LogOps> ParseLogOps(const std::vector<history::Op>& ops, bool ignore_other_ops);
// The same, keeping only the ok reads `keep` says to (unset: every one).
Result<LogOps> ParseLogOps(const std::vector<history::Op>& ops, bool ignore_other_ops,
                           ReadKeep keep);

// What a LogOpsBuilder in streaming mode hands over instead of keeping: each ok append as it
// completes, and each ok read, parsed, as it completes (in the file's order). The read's entries
// are valid only during the call. `sofar` is what the builder holds: every append invoked so far,
// the values interned so far and their ValueInfo; its `reads`, `canon` and `own` stay empty.
class ReadSink {
 public:
  virtual ~ReadSink() = default;
  virtual void Acked(const LogOps& sofar, int32_t append) = 0;
  virtual void Read(const LogOps& sofar, const ReadRec& r,
                    const std::vector<EntryRec>& entries) = 0;
};

// ParseLogOps one op at a time, as a history is read (history::OpStream): Invoked for every op
// as it is invoked (in id order), Completed as it completes (in the file's order; ops that never
// completed, at the end), then Finish. Only the flat entries are kept, so the ops' values may
// be dropped once Completed has seen them. The first error is kept and Finish returns it;
// ParseLogOps is this over a vector of ops, so both give the same LogOps.
class LogOpsBuilder {
 public:
  // With a sink, ok reads are handed to it (ReadSink) and not kept: the LogOps Finish returns
  // holds the appends and values only.
  explicit LogOpsBuilder(bool ignore_other_ops, ReadSink* sink = nullptr);
  // A focused parse: ok reads are kept only when `keep` says so (ReadKeep).
  LogOpsBuilder(bool ignore_other_ops, ReadKeep keep);
  ~LogOpsBuilder();
  LogOpsBuilder(LogOpsBuilder&&) noexcept;
  LogOpsBuilder& operator=(LogOpsBuilder&&) noexcept;

  void Invoked(const history::Op& op);    // reads f and, for an append, the invoke value
  void Completed(const history::Op& op);  // reads the status, times and values
  // The id of a value seen so far (an append's, or a read entry's), or -1.
  int32_t ValueId(std::string_view v) const;
  Result<LogOps> Finish() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidemark::checkers::logck
