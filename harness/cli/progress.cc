#include "harness/cli/progress.h"

#include <chrono>
#include <cstdio>
#include <ostream>

#include "base/text.h"

namespace tidemark::cli {

std::optional<ProgressMode> ParseProgressMode(const std::string& flag, bool stderr_is_terminal) {
  if (flag == "never") return ProgressMode::kOff;
  if (flag == "auto") return stderr_is_terminal ? ProgressMode::kTerminal : ProgressMode::kOff;
  if (flag == "always") return stderr_is_terminal ? ProgressMode::kTerminal : ProgressMode::kLines;
  return std::nullopt;
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 || v >= 10 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(std::ostream& out, ProgressMode mode, Clock clock)
    : out_(out), mode_(mode), clock_(clock ? std::move(clock) : Clock(SteadySeconds)) {
  started_ = clock_();
}

void ProgressLine::SetSubject(std::string subject) {
  subject_ = std::move(subject);
  started_ = clock_();
  last_shown_ = -1;
}

void ProgressLine::Reading(uint64_t done, uint64_t total) {
  if (mode_ == ProgressMode::kOff) return;
  const double elapsed = clock_() - started_;
  std::string text = "reading " + Bytes(done);
  if (total > 0) {
    text += " of " + Bytes(total) + " (" + std::to_string(done * 100 / total) + " %)";
    // The rate so far, once there is enough of it to go by.
    if (done > 0 && done < total && elapsed >= 0.5)
      text += ", about " +
              Secs(elapsed * static_cast<double>(total - done) / static_cast<double>(done)) +
              " left";
  }
  Show(text, total > 0 && done == total);  // the end of reading always shows
}

void ProgressLine::Step(const std::string& step) {
  if (mode_ == ProgressMode::kOff) return;
  Show(step + " (" + Secs(clock_() - started_) + " so far)", true);
}

void ProgressLine::Show(const std::string& text, bool force) {
  const double now = clock_();
  const double min_gap = mode_ == ProgressMode::kTerminal ? 0.2 : 1.0;
  if (!force && last_shown_ >= 0 && now - last_shown_ < min_gap) return;
  last_shown_ = now;
  // The subject is a file name the user gave: escaped like any outside text, and a long path
  // keeps its end (the file's own name).
  std::string subject = EscapeControls(subject_);
  if (subject.size() > 60) subject = "..." + subject.substr(subject.size() - 57);
  const std::string line = (subject.empty() ? "" : subject + ": ") + text;
  if (mode_ == ProgressMode::kTerminal) {
    out_ << "\r\033[K" << line << std::flush;
    shown_ = true;
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressLine::Clear() {
  if (mode_ == ProgressMode::kTerminal && shown_) {
    out_ << "\r\033[K" << std::flush;
    shown_ = false;
  }
}

}  // namespace tidemark::cli
