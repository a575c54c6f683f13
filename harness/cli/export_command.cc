#include "harness/cli/export_command.h"

#include <fstream>
#include <iostream>

#include "base/history/edn_export.h"
#include "base/history/import.h"
#include "base/history/jsonl.h"
#include "harness/run/read_compactor.h"

namespace tidemark::cli {

int RunExportCommand(const ExportCommandOptions& opts, std::ostream& out, std::ostream& err) {
  auto format = history::ParseFormat(opts.format);
  if (!format) {
    err << "tidemark export: unknown --format '" << opts.format
        << "' (use auto, jsonl, jepsen-log, jepsen-edn or edn-lines)\n";
    return 254;
  }
  if (opts.to != "jepsen-edn" && opts.to != "jsonl" && opts.to != "jsonl-compact") {
    err << "tidemark export: unknown --to '" << opts.to
        << "' (use jepsen-edn, jsonl or jsonl-compact)\n";
    return 254;
  }
  auto hist = history::ImportFile(opts.file, *format);
  if (!hist.ok()) {
    err << "tidemark export: cannot read history: " << hist.error().message << "\n";
    return 255;
  }
  std::string text;
  if (opts.to == "jepsen-edn") {
    text = history::ToJepsenEdn(*hist);
  } else if (opts.to == "jsonl") {
    for (const history::Event& e : *hist) text += history::ToJsonLine(e) + "\n";
  } else {
    run::ReadCompactor compactor;  // as the Recorder writes a run's history
    for (history::Event& e : *hist) {
      if (auto v = compactor.Compact(e)) e.value_text = std::move(*v);
      text += history::ToJsonLine(e) + "\n";
    }
  }
  if (opts.output.empty()) {
    out << text;
    return out ? 0 : 255;
  }
  std::ofstream f(opts.output, std::ios::trunc);
  f << text;
  f.flush();
  if (!f) {
    err << "tidemark export: cannot write " << opts.output << "\n";
    return 255;
  }
  err << "wrote " << hist->size() << " events to " << opts.output << "\n";
  return 0;
}

}  // namespace tidemark::cli
