// The `log` workload: clients append unique values to one replicated log and read ranges of its
// committed prefix (docs/architecture.md).
//
// Op shapes (docs/history-format.md):
//   append invoke "v<process>-<n>"                   ok: {"value","offset","hwm"}
//   read   invoke {"from":F,"consistency":C}          ok:
//   {"from","to","hwm","consistency","entries"} final read: invoke
//   {"from":0,"consistency":"local","final":true}, one per node.
// Appended values are globally unique within a run: n is a counter over all appends of the
// generator, so the value is unique even without the process part.
//
// Reads: `linearizable` reads carry no node preference (the runner sends them where appends go,
// normally the leader); `local` reads name a uniformly random node, leaving out for a while a
// node where a local read just timed out (LogOptions::avoid_after_timeout_ns). A read starts a
// little below the highest HWM seen so far (at most `read_window` offsets), so reads keep
// overlapping recent appends without re-reading the whole log every time; the final reads cover
// everything.
//
// Threading: a Generator (not thread-safe; see generator.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "workloads/generator.h"

namespace tidemark::workloads {

struct LogOptions {
  double read_fraction = 0.5;        // of ops; the rest are appends
  double local_read_fraction = 0.5;  // of reads: consistency "local" (random node)
  int64_t read_window = 256;         // a read's `from` is in [max_hwm_seen - window, max_hwm_seen]
  // Optional: processes that only read, half linearizable, half local, and whose local reads
  // name no node, so the runner sends every read of theirs to the node it binds them to (a
  // per-node reader keeps observing that node through a fault; harness/run/routing.h).
  std::function<bool(int64_t process)> reader;
  // A worker's local read that did not end ok after waiting at least `slow_read_ns` (it timed
  // out: the node is paused, cut off or stalled; adapters record a timed-out read as `fail`,
  // since a read changes nothing) steers the other workers' local reads away from that node for
  // `avoid_after_timeout_ns` after the read was sent, so they do not each wait out a read
  // timeout there; per-node readers keep reading it. A quick failure (connection refused) costs
  // nothing and steers nothing. avoid_after_timeout_ns 0: never steer.
  int64_t avoid_after_timeout_ns = 3'000'000'000;
  int64_t slow_read_ns = 250'000'000;
};

// The main-phase stream: endless; wrap it in TimeLimit / Stagger.
class LogGenerator : public Generator {
 public:
  explicit LogGenerator(LogOptions opts);

  GenResult Next(const GenContext& ctx, Rng& rng) override;
  // Learns the highest HWM any ok append or read reported.
  void OnComplete(const history::Op& completed) override;

  int64_t max_hwm_seen() const { return max_hwm_; }

 private:
  int PickLocalNode(const GenContext& ctx, Rng& rng) const;

  LogOptions opts_;
  int64_t appends_ = 0;
  int64_t max_hwm_ = 0;
  std::map<int64_t, int> local_read_node_;  // process -> node of its outstanding local read
  std::map<int, int64_t> avoid_until_ns_;   // node -> no worker's local read before this time
};

// The final phase: one `{"from":0,"consistency":"local","final":true}` read from every node
// (OpRequest::node = i), each retried up to `attempts` times about `retry_interval_ns` apart
// until it is ok.
GenPtr LogFinalReads(int64_t attempts, int64_t retry_interval_ns);

}  // namespace tidemark::workloads
