// `tidemark check`: re-check a stored or imported history offline (docs/architecture.md).
//
// Reads a history (any supported format), picks a model (or is told one), runs the checkers that
// fit the workload, prints the verdict and the explanation, optionally writes results.json, and
// returns the process exit code: 0 valid, 1 invalid, 2 unknown, 255 unreadable input. Usage
// errors (254) are mostly the CLI parser's business, before this is called. Several files are
// checked one after another in the same process (a loop over thousands of small histories pays
// the process start-up once); the exit code is then the worst of theirs.
#pragma once

#include <iosfwd>
#include <set>
#include <string>

#include <vector>

#include "base/history/history.h"

namespace tidemark::cli {

struct CheckCommandOptions {
  std::vector<std::string> files;  // one or more; with several, one line each and a tally
  std::string format = "auto";     // auto|jsonl|jepsen-log|jepsen-edn|edn-lines
  std::string model = "auto";      // auto|register|cas-register|kv|log
  std::string checker = "auto";    // auto|linearizability|log-prefix|all
  double timeout_s = 300;
  size_t memory_limit_mb = 4096;
  int threads = 0;
  bool partition_by_key = true;
  std::string explain = "fast";  // none|fast|minimal (checkers/linearizability.h ExplainMode)
  std::string results_path;      // "" = do not write
  bool json = false;             // print results JSON instead of text
  bool quiet = false;            // only the one-line verdict
  // auto|always|never: a progress line on stderr (auto: when stderr is a terminal; always:
  // plain lines when it is not). progress.h.
  std::string progress = "auto";
  bool stderr_is_terminal = false;  // set by main from isatty(2)
};

// Runs the check, writing human output to `out` and one-line errors to `err`.
int RunCheckCommand(const CheckCommandOptions& opts, std::ostream& out, std::ostream& err);

// Chooses a model from the ops' shapes: "log" (append with offsets), "kv" (get/put), else
// "cas-register" (cas present) or "register". Exposed for tests.
std::string GuessModel(const std::vector<history::Op>& ops);

// GuessModel for ops seen one at a time (a history read as a stream): what it keeps is the op
// names and two flags, whatever the number of ops; Model() says what GuessModel says of them all.
class ModelGuess {
 public:
  void Add(const history::Op& op);
  std::string Model() const;

 private:
  std::set<std::string> fs_;
  bool append_with_offset_ = false;
  bool log_shaped_read_ = false;  // a read whose value has "entries" or "known"
};

}  // namespace tidemark::cli
