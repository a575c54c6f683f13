// The per-run report: RUN_DIR/report.html (docs/report.md).
//
// One self-contained HTML file: inline CSS, JS and drawings, no request to any other file or
// host, opens from file://. The static part (verdict header, the cause when the run stopped
// before it could be checked, checker results with their anomalies
// and links to the ops involved, a table of those ops) is rendered here and readable without
// JavaScript; the page's script (reports/report_template.html) draws the timeline, latency and
// throughput plots, the linearizability and log-anomaly drawings and the full ops table from the
// history embedded as JSON. Every string from the history or the system under test is escaped
// (html.h). When the page's script has rendered, <body> carries data-status="ok"; a script error
// sets data-status="error" and shows a banner.
//
// Threading: no shared state; concurrent calls on different run directories are fine.
#pragma once

#include <string>

#include "base/result.h"
#include "reports/report_data.h"

namespace tidemark::reports {

// Reads RUN_DIR/test.json, history.jsonl and results.json (each may be missing or partial: the
// report of a crashed run shows what there is, with a warning) and writes RUN_DIR/report.html
// atomically (temporary file + rename). Errors: run_dir is not a directory, or the file cannot
// be written. (`tidemark report`)
Status WriteReport(const std::string& run_dir);
// Writes RUN.run_dir/report.html for a run held in memory (RunInMemory; `tidemark run`).
Status WriteReport(const RunData& run);

// The report page for a loaded run (what WriteReport writes; report_data.h EmbedOptions says
// how much of a large run it holds).
std::string RenderReport(const RunData& run, const EmbedOptions& embed = {});

// Writes a report holding every op of [from_s, to_s] (seconds since the run started) besides
// the overview, as RUN_DIR/report-FROM-TO.html (`tidemark report RUN --window FROM-TO`), and
// returns its path. Errors: a bad window, run_dir not a directory, the file not written.
Result<std::string> WriteWindowReport(const std::string& run_dir, double from_s, double to_s);

}  // namespace tidemark::reports
