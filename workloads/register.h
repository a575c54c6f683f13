// The `register` workload: many keys, each a compare-and-set register (docs/architecture.md).
//
// Op shapes (docs/history-format.md): `key` is set on every op ("k17"); values are integers.
//   read  invoke null      ok: the integer read, or null when unset
//   write invoke v         ok: v
//   cas   invoke [from,to] ok: [from,to]; a failed precondition completes fail
//
// Keys rotate as in Jepsen's independent-key tests: at most `keys_in_flight` keys are active;
// each key gets `ops_per_key` ops and is then retired for good and replaced by the next unused
// key ("k0", "k1", ...), so every key's sub-history stays small enough for the linearizability
// checker. Every value written to a key (by write or as the `to` of a cas) is unique within that
// key (1, 2, 3, ...), so a read names exactly which write it saw.
//
// Threading: a Generator (not thread-safe; see generator.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "workloads/generator.h"

namespace tidemark::workloads {

struct RegisterOptions {
  int keys_in_flight = 2;      // >= 1
  int64_t ops_per_key = 100;   // >= 1
  double read_fraction = 0.5;  // of ops; the rest are writes and cas in equal parts
  // Probability that a cas's `from` is the last value this generator saw the key hold (so cas
  // often succeeds); otherwise a random earlier value of the key.
  double cas_from_known = 0.75;
};

// The main-phase stream: endless; wrap it in TimeLimit / Stagger. Each op goes to a random free
// process and has no node preference.
class RegisterGenerator : public Generator {
 public:
  explicit RegisterGenerator(RegisterOptions opts);

  GenResult Next(const GenContext& ctx, Rng& rng) override;
  void OnComplete(const history::Op& completed) override;

  // The keys still active (not retired), in slot order. Their final values are worth reading.
  std::vector<std::string> ActiveKeys() const;

  static std::string KeyName(int64_t k);

 private:
  struct KeyState {
    int64_t ops = 0;               // ops issued on this key
    int64_t last_written = 0;      // highest value written so far (0: none)
    std::optional<int64_t> known;  // last value an ok completion showed the key holding
  };
  RegisterOptions opts_;
  std::vector<int64_t> active_;  // key ids, one per slot
  int64_t next_key_ = 0;
  std::map<int64_t, KeyState> keys_;  // active keys only
};

// The final phase: for every key in `keys`, one linearizable read (runner's choice of node),
// retried up to `attempts` times about `retry_interval_ns` apart until one is ok.
GenPtr RegisterFinalReads(const std::vector<std::string>& keys, int64_t attempts,
                          int64_t retry_interval_ns);

}  // namespace tidemark::workloads
