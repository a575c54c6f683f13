// The run's write phase: what a run leaves behind, from what the runner holds in memory.
//
// WriteRunFiles writes RUN/results.json, moves the store's `latest` links to the run, then
// renders RUN/report.html, RUN/junit.xml and STORE/index.html from the same documents (none of
// them reads results.json back). A run that stopped before it could be checked (its cluster did
// not start) goes through the same path with a "cause" in its results (StopCause), so it still
// leaves a complete run directory: results, report, junit, index and links.
//
// Threading: the runner's thread.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "base/result.h"
#include "runstore/store.h"

namespace tidemark::run {

// Why a run stopped before it could be checked: results.json "cause".
struct StopCause {
  std::string phase;     // "start": the cluster or the harness around it did not come up
  std::string message;   // the first line of the error
  std::string node;      // the node at fault, "" when none is
  std::string log_tail;  // the last lines of that node's log
};

nlohmann::json ToJson(const StopCause& cause);

struct RunRecord {
  store::RunDir dir;
  nlohmann::json test;     // test.json as written
  nlohmann::json results;  // results.json, to be written
  history::History events;
  // The events paired, when the caller already did (history::PairOpsTakingValues); otherwise
  // the report pairs them.
  std::optional<std::vector<history::Op>> ops;
  // Instead of events and ops, when the history was analysed as a stream (a log run): only its
  // nemesis events. The report reads what it needs of the ops back from history.jsonl
  // (reports::RunStreamed), holding only the ops it embeds.
  std::optional<history::History> streamed_nemesis;
  int64_t end_ns = 0;  // the last event's time, with `streamed_nemesis`
};

// Writes the run's files (see above). Errors only when results.json cannot be written; a report,
// junit.xml or index that cannot be written is a warning on `out`. Returns the report's path
// (results.json's when the report could not be written).
Result<std::string> WriteRunFiles(RunRecord record, std::ostream& out);

}  // namespace tidemark::run
