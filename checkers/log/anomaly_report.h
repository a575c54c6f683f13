// Internal to checkers/log: collects anomaly instances and renders them as the details JSON and
// the terminal text of a CheckResult (grouped per anomaly; the worst few explained in full, the
// rest summarised so that 10,000 lost writes still make a small, readable result).
//
// Detectors find instances cheaply (a few integers each); only the instances chosen as examples
// are passed to the anomaly's Describer, which may do more work (find a witness read, format
// values). Not thread-safe; one Report per check.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "checkers/checker.h"
#include "checkers/log/log_checker.h"

namespace tidemark::checkers::logck {

// One occurrence of an anomaly, as found by a detector.
struct Instance {
  int64_t rank = 0;     // smaller is worse: examples are the instances with the smallest
                        // (rank, time, op)
  int64_t time = 0;     // ns: when it happened (the attributed op's invocation); kNever: no
                        // time (a replica's log has offsets only)
  int32_t op = -1;      // the op the instance is attributed to (-1: none, e.g. a replica)
  int64_t offset = -1;  // the log offset concerned, -1 if none
  int64_t a = -1, b = -1, c = -1;  // detector-specific payload, read by its Describer
  int64_t count = 1;               // how many observations this instance stands for
  std::string node;                // summary "by_node" key; empty: the attributed op's node
};

// What an example shows: plain text with real values and times, the ops that prove it, and
// structured fields for the report.
struct Example {
  std::string explanation;
  std::vector<int64_t> ops;  // op ids, the minimal set that proves the anomaly
  nlohmann::json fields = nlohmann::json::object();
};

using Describer = std::function<Example(const Instance&)>;

class Report {
 public:
  Report(history::OpsView ops, const LogCheckOptions& opts) : ops_(ops), opts_(opts) {}

  // Adds one anomaly's instances (nothing when empty). Sorts them worst first, describes the
  // first opts.max_examples and summarises the rest.
  void Add(const std::string& name, std::vector<Instance> instances, const Describer& describe);

  bool Has(const std::string& name) const { return groups_.count(name) > 0; }
  int64_t Count(const std::string& name) const;
  bool Empty() const { return groups_.empty(); }

  // {"name": {...}, ...} and {"name": count}; see log_checker.h for the shape.
  nlohmann::json Anomalies() const;
  nlohmann::json Counts() const;
  // "lost-write ×3, inconsistent-offsets ×1"
  std::string CountsLine() const;
  // Multi-line text: per anomaly its count, the examples' explanations, and what was omitted.
  std::string Text() const;

 private:
  history::OpsView ops_;
  LogCheckOptions opts_;
  struct Group {
    int64_t count = 0;
    nlohmann::json json;
    std::string text;
  };
  std::map<std::string, Group> groups_;
};

// The log-prefix result (stats, verdict, texts) of a check that found `report`'s anomalies in
// `l`: shared by the whole-history check and by LogScreen when it found none (log_screen.h).
// `ok_reads` counts ok reads, `final_reads` the ok final ones; `final_end` is the highest HWM of
// a final read (-1: none); `unseen_confirmed`: an unseen append has a final read after its ack.
CheckResult LogPrefixResult(const LogOps& l, int64_t ok_reads, int64_t final_reads,
                            int64_t final_end, const Report& report, bool unseen_confirmed);

// Formatting helpers shared by the describers.
std::string Secs(int64_t ns);                    // "12.48 s"; "never" for kNever
std::string Quote(const std::string& value);     // the value, shortened if very long
std::string NodeOf(const history::OpBrief& op);  // "n3", or "an unrecorded node"

}  // namespace tidemark::checkers::logck
