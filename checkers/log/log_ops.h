// Internal to checkers/log: the `log` workload ops of a history, validated and flattened into
// arrays the anomaly detectors index (no JSON access after parsing).
//
// Values are interned to dense ids; read entries of all reads live in one array, each read owning
// a contiguous, offset-sorted slice. Times are ns; final reads get the time key kFinalKey so that
// they count as "after" every append (they follow the main phase by construction).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
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
  int64_t key = 0;              // call, or kFinalKey for final reads
  uint32_t begin = 0, end = 0;  // slice of LogOps::entries, offsets strictly increasing

  bool Covers(int64_t o) const { return from <= o && o < cov_end; }
};

struct ValueInfo {
  int32_t n_ok = 0, n_fail = 0, n_info = 0;
  int32_t first_append = -1;  // index into appends (earliest invoked)
  int64_t first_call = history::kNever;
};

struct LogOps {
  std::vector<AppendRec> appends;  // every append op, in invocation order
  std::vector<ReadRec> reads;      // ok reads only, in invocation order
  std::vector<EntryRec> entries;
  std::vector<std::string> values;  // vid -> value
  std::vector<ValueInfo> info;      // vid -> what the appends of that value did
  int64_t reads_fail = 0, reads_info = 0;
  int64_t skipped = 0;  // ops of other f skipped (ignore_other_ops)

  // The entry of read r at offset o, or -1.
  int32_t ValueAt(const ReadRec& r, int64_t o) const;
};

// Parses and validates. An error names the op (id and event index) and what is wrong.
Result<LogOps> ParseLogOps(const std::vector<history::Op>& ops, bool ignore_other_ops);

}  // namespace tidemark::checkers::logck
