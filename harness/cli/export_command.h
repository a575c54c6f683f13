// `tidemark export`: convert a history to Jepsen EDN (for Knossos/Elle) or to tidemark JSONL.
#pragma once

#include <iosfwd>
#include <string>

namespace tidemark::cli {

struct ExportCommandOptions {
  std::string file;
  std::string format = "auto";
  std::string to = "jepsen-edn";  // jepsen-edn | jsonl
  std::string output;             // "" = standard output
};

// Returns 0 on success, 254 on a bad option value, 255 on unreadable input or unwritable output.
int RunExportCommand(const ExportCommandOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace tidemark::cli
