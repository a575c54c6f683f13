// A simulated *correct* replicated log that records `log` workload histories, and single-fault
// injection into such histories. Test and benchmark support for the log-prefix checkers (not
// linked into the checker library).
//
// The simulation is a sequence of random steps, each at a strictly later time: a client process
// invokes or advances its op (an append is applied to the leader's log, then acknowledged once
// committed; a read takes its snapshot between its invocation and completion), the leader's HWM
// advances, a follower learns a newer HWM (follower lag), or the leader changes (its uncommitted
// suffix may be dropped; the new leader appends a no-op). Appends also time out (`info`, with
// the entry applied, applied later, or never), fail definitely (never applied), and are retried
// with the same value by the next process of the worker, which the log deduplicates. Reads are
// `linearizable` (leader HWM) or `local` (the node's possibly stale HWM), paged. The run ends
// like a real one: every outstanding op completes, followers catch up, and every node is read
// from 0 with `"final": true`. Everything is determined by the seed.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string>

#include "base/history/history.h"

namespace tidemark::checkers::logsim {

struct SimOptions {
  uint64_t seed = 1;
  int64_t ops = 1000;  // client ops in the main phase (final reads come on top)
  int processes = 5;
  int nodes = 3;
  double read_fraction = 0.5;
  double local_fraction = 0.5;  // of reads
  int64_t page = 40;            // main-phase reads return at most this many offsets
  int64_t final_page = 100000;  // final reads are paged with this size
  double info_rate = 0.04;      // an outstanding append times out
  double fail_rate = 0.03;      // an append is refused definitely
  double read_fail_rate = 0.02;
  double leader_change_rate = 0.005;  // per step
  double retry_rate = 0.5;            // after an info append, retry the same value
  bool final_reads = true;
};

// Options that vary with the seed so that seeds cover small and large concurrency, long and
// short reads, frequent and rare faults (the property and screen tests' corpus).
SimOptions VariedOptions(uint64_t seed);

// Records a history of a correct log. Events are dense-indexed from 0, times strictly increase.
history::History Simulate(const SimOptions& opts);

enum class Fault {
  kDropAcked,       // an acknowledged entry disappears from every read that began after the ack
  kSwapOffsets,     // one read shows two acknowledged values at each other's offsets
  kDuplicateValue,  // a final read shows a value a second time, one offset past its end
  kAboveHwm,        // a read serves the entry at its own HWM (uncommitted when served)
};
inline constexpr Fault kAllFaults[] = {Fault::kDropAcked, Fault::kSwapOffsets,
                                       Fault::kDuplicateValue, Fault::kAboveHwm};
const char* ToString(Fault f);
// The anomaly the checker must report for the fault.
const char* ExpectedAnomaly(Fault f);

// Injects one fault of kind `f` into `h` (a Simulate history), choosing where with `seed`.
// Returns false, leaving `h` unchanged, when the history has no place for it; otherwise sets
// *what to a description of the change.
bool InjectFault(history::History* h, Fault f, uint64_t seed, std::string* what);

// Corrupts `h` (a Simulate history) with 1 to max_mutations random changes chosen with `seed`,
// keeping the op shapes valid: drops a read entry, replaces a read value with another appended
// value or with the value of an append that failed, lowers a read's HWM, serves one more entry
// past a read's end, or moves an ack one offset on. Some leave the history valid, most make
// anomalies of several kinds.
void Corrupt(history::History* h, uint64_t seed, int max_mutations = 6);

}  // namespace tidemark::checkers::logsim
