// A one-line progress display for long work (tidemark check on a large history): what is being
// done, how far it got and, while reading, the time left. On a terminal the line is redrawn in
// place (at most five times a second) and erased before the result is printed; elsewhere, when
// asked for, it is printed as plain lines, at most one a second.
//
// Threading: one thread (the one doing the work calls it).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace tidemark::cli {

enum class ProgressMode { kOff, kTerminal, kLines };

// --progress auto|always|never and whether stderr is a terminal -> the mode; nullopt for a
// value that is none of the three.
std::optional<ProgressMode> ParseProgressMode(const std::string& flag, bool stderr_is_terminal);

class ProgressLine {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic

  ProgressLine(std::ostream& out, ProgressMode mode, Clock clock = {});
  ~ProgressLine() { Clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // What the line starts with, e.g. "history.jsonl" or "[3/103] etcd_003.log".
  void SetSubject(std::string subject);
  // Bytes of the input read so far, of `total` (0: unknown). Shown when due, and always once
  // done reaches total.
  void Reading(uint64_t done, uint64_t total);
  // A new step ("pairing 4,012,345 events", "checking log-prefix"); always shown.
  void Step(const std::string& step);
  // Erases the line on a terminal (call before printing anything else on the same stream).
  void Clear();

 private:
  void Show(const std::string& text, bool force);

  std::ostream& out_;
  ProgressMode mode_;
  Clock clock_;
  std::string subject_;
  double started_ = 0;
  double last_shown_ = -1;
  bool shown_ = false;  // a terminal line is on screen
};

// "1.5 KiB", "120 MiB", "2.3 GiB".
std::string Bytes(uint64_t n);

}  // namespace tidemark::cli
