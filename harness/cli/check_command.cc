#include "harness/cli/check_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/history/import.h"
#include "base/history/jsonl.h"
#include "base/text.h"
#include "checkers/analyse.h"
#include "checkers/checker.h"
#include "checkers/linearizability.h"
#include "harness/cli/no_history.h"
#include "harness/cli/progress.h"
#include "harness/cli/suggest.h"

namespace tidemark::cli {
namespace {

using checkers::CheckResult;
using checkers::Verdict;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void PrintResult(const CheckResult& r, std::ostream& out) {
  // Summaries and explanations quote history values: escape what could drive the terminal.
  out << "  " << r.checker << ": " << checkers::ToString(r.verdict);
  if (!r.summary.empty()) out << " — " << EscapeControls(r.summary);
  out << "\n";
  if (r.verdict != Verdict::kValid && !r.explanation.empty()) {
    // Indent the explanation under its checker.
    std::string line;
    for (char c : r.explanation) {
      if (c == '\n') {
        out << "    " << EscapeControls(line) << "\n";
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) out << "    " << EscapeControls(line) << "\n";
  }
}

// The linearizability search charges its tables to the memory budget, but not everything else a
// check allocates. So that --memory-limit holds for the whole process, `tidemark check` also caps
// its data segment (RLIMIT_DATA) at what it uses now plus the budget plus a margin for the rest;
// an allocation beyond fails with std::bad_alloc, which every checker answers as unknown (memory).
// With many files (one `tidemark check`), the cap is set again only for a history of more events
// than every one before it: reading /proc and calling setrlimit cost more than checking a small
// file, and the cap set for a larger history holds for a smaller one.
struct ProcessCap {
  bool set = false;
  size_t largest_events = 0;
};

void CapProcessMemory(size_t budget_bytes, size_t events, ProcessCap* state) {
  if (state->set && events <= state->largest_events) return;
  state->set = true;
  state->largest_events = std::max(state->largest_events, events);
  unsigned long pages[6] = {};
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return;
  int n = std::fscanf(f, "%lu %lu %lu %lu %lu %lu", &pages[0], &pages[1], &pages[2], &pages[3],
                      &pages[4], &pages[5]);
  std::fclose(f);
  if (n != 6) return;
  rlim_t now = static_cast<rlim_t>(pages[5]) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
  rlim_t cap = now + budget_bytes + budget_bytes / 4 + (rlim_t{256} << 20);
  struct rlimit rl;
  if (getrlimit(RLIMIT_DATA, &rl) != 0 || (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= cap)) {
    return;
  }
  rl.rlim_cur = cap;
  setrlimit(RLIMIT_DATA, &rl);
}

}  // namespace

void ModelGuess::Add(const history::Op& op) {
  fs_.insert(op.f);
  if (op.f == "append" && op.value.is_object() && op.value.contains("offset"))
    append_with_offset_ = true;
  if (op.f == "read" && op.value.is_object() &&
      (op.value.contains("entries") || op.value.contains("known")))
    log_shaped_read_ = true;
}

std::string ModelGuess::Model() const {
  if (append_with_offset_) return "log";
  if (fs_.count("get") || fs_.count("put")) return "kv";
  if (fs_.count("append") && !fs_.count("cas")) {
    // A log history whose appends all crashed or failed still has offset-shaped reads.
    return log_shaped_read_ ? "log" : "kv";
  }
  if (fs_.count("cas")) return "cas-register";
  return "register";
}

std::string GuessModel(const std::vector<history::Op>& ops) {
  ModelGuess guess;
  for (const history::Op& op : ops) guess.Add(op);
  return guess.Model();
}

namespace {

// The checkers --checker names for `model` (auto: the model's own, checkers/analyse.h), or
// nullopt after a usage message on `err`.
std::optional<std::vector<std::string>> ChooseCheckers(const CheckCommandOptions& opts,
                                                       const std::string& model,
                                                       std::ostream& err) {
  const std::vector<std::string>* own = checkers::CheckersFor(model);
  if (!own) {
    err << "tidemark check: unknown --model '" << opts.model << "'"
        << DidYouMean(opts.model, {"auto", "register", "cas-register", "kv", "log"})
        << " (use auto, register, cas-register, kv or log)\n";
    return std::nullopt;
  }
  const std::string& which = opts.checker;
  if (which == "auto") return *own;
  if (which == "linearizability") return std::vector<std::string>{"linearizability"};
  if (which == "all") {
    std::vector<std::string> all = {"linearizability"};
    for (const std::string& c : *own)
      if (c != "linearizability") all.push_back(c);
    return all;
  }
  if (which != "log-prefix") {
    err << "tidemark check: unknown --checker '" << opts.checker << "'"
        << DidYouMean(opts.checker, {"auto", "linearizability", "log-prefix", "all"})
        << " (use auto, linearizability, log-prefix or all)\n";
    return std::nullopt;
  }
  if (std::find(own->begin(), own->end(), "log-prefix") == own->end()) {
    err << "tidemark check: --checker log-prefix needs a log history (model 'log'), this one "
           "looks like '"
        << model << "'\n";
    return std::nullopt;
  }
  return std::vector<std::string>{"log-prefix"};
}

// The first line, also all of -q's: "<verdict>: <file> (<n> ops, model <m>, <t> ms)", where t
// is the milliseconds from opening the file to the verdict and its explanation (reading,
// pairing, checking, explaining; not printing), with three decimals (microseconds) so that a
// loop over small histories can compare files, which take a tenth of a millisecond each
// (bench/lin_families.sh reads it beside Porcupine's, also to the microsecond).
void PrintText(const CheckCommandOptions& opts, const std::string& file,
               const checkers::Analysis& a, double total_s, std::ostream& out) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", total_s * 1000);
  out << checkers::ToString(a.verdict) << ": " << file << " (" << a.ops << " ops, model " << a.model
      << ", " << ms << " ms)\n";
  if (!opts.quiet) {
    for (const CheckResult& r : a.checks) PrintResult(r, out);
    out << checkers::FormatFaultSummary(a.faults);
  }
  if (!opts.results_path.empty()) out << "results: " << opts.results_path << "\n";
}

struct CheckSeconds {
  double read = 0, total = 0;
};

// Writes what a check found (text, JSON or results file) and returns the exit code.
int Finish(const CheckCommandOptions& opts, const std::string& file, history::Format format,
           const checkers::Analysis& analysis, const std::vector<std::string>& warnings,
           CheckSeconds seconds, std::ostream& out, std::ostream& err, nlohmann::json* json_out) {
  // results.json's schema, as `tidemark run` writes it, plus what only a check knows; built only
  // when something reads it.
  const bool want_doc = json_out != nullptr || opts.json || !opts.results_path.empty();
  nlohmann::json doc;
  if (want_doc) {
    doc = checkers::ToJson(analysis);
    doc["file"] = file;
    doc["warnings"] = warnings;
    doc["format"] = history::ToString(format);
    doc["seconds"] = {{"read", seconds.read}, {"total", seconds.total}};
  }
  if (!opts.results_path.empty()) {
    if (Status s = WriteFileAtomic(opts.results_path, doc.dump(2) + "\n"); !s.ok()) {
      err << "tidemark check: cannot write results to " << opts.results_path << "\n";
      return 255;
    }
  }
  if (json_out) {
    *json_out = std::move(doc);
  } else if (opts.json) {
    out << doc.dump(2) << "\n";
  } else {
    PrintText(opts, file, analysis, seconds.total, out);
  }
  return checkers::ExitCode(analysis.verdict);
}

// Whether `file` is a JSONL `log` history that the log checkers can read as a stream (never held
// whole: checkers::AnalyseLogStream): model log, given or guessed (GuessModel says log as soon as
// an append was acknowledged at an offset, so the first such append near the start decides).
bool StreamsAsLog(const CheckCommandOptions& opts, const std::string& file,
                  history::Format format) {
  if (opts.checker != "auto" && opts.checker != "log-prefix") return false;
  if (opts.model != "auto" && opts.model != "log") return false;
  if (format == history::Format::kAuto) {
    auto f = history::SniffFileFormat(file);
    if (!f.ok() || *f != history::Format::kJsonl) return false;
  } else if (format != history::Format::kJsonl) {
    return false;
  }
  if (opts.model != "auto") return opts.model == "log";
  auto reader = history::JsonlReader::Open(file, history::LogReads::kAsWritten);
  if (!reader.ok()) return false;
  for (int i = 0; i < 100'000; ++i) {
    auto e = (*reader)->Next();
    if (!e.ok() || !e->has_value()) return false;
    const history::Event& ev = **e;
    if (ev.process >= 0 && ev.type != history::EventType::kInvoke && ev.f == "append" &&
        ev.value.is_object() && ev.value.contains("offset"))
      return true;
  }
  return false;
}

// Checks a log history as a stream; nullopt when it is not one (StreamsAsLog) or the stream
// stops short (a malformed line, a history that does not pair, no client op): the whole-file
// path then says why, with the file and line.
std::optional<int> CheckLogStream(const CheckCommandOptions& opts, const std::string& file,
                                  history::Format format, std::ostream& out, std::ostream& err,
                                  nlohmann::json* json_out, ProgressLine& progress,
                                  ProcessCap* cap) {
  if (!StreamsAsLog(opts, file, format)) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  auto reader = history::JsonlReader::Open(file, history::LogReads::kAsWritten);
  if (!reader.ok()) return std::nullopt;
  checkers::AnalysisSpec spec;
  spec.model = "log";
  auto names = ChooseCheckers(opts, spec.model, err);
  if (!names) return 254;
  spec.checkers = std::move(*names);
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(file, ec);
  double read_s = 0;
  spec.on_step = [&](const std::string& step) {
    if (read_s == 0) {  // the first step after reading
      read_s = SecondsSince(start);
      if (!ec) progress.Reading(total, total);
    }
    progress.Step(step);
  };
  if (!ec) progress.Reading(0, total);
  int64_t events = 0;
  checkers::StreamedHistory kept;
  CapProcessMemory(opts.memory_limit_mb << 20, history::CountLines(file), cap);
  // The first reading uses the reader opened above; a second one (the screen doubted the
  // history, which is then checked whole) opens the file again.
  auto* current = &*reader;
  decltype(reader) again = Error{""};
  int openings = 0;
  auto open = [&]() -> Result<checkers::EventSource> {
    if (openings++ > 0) {
      again = history::JsonlReader::Open(file, history::LogReads::kAsWritten);
      if (!again.ok()) return again.error();
      current = &*again;
      events = 0;
    }
    return checkers::EventSource([&] {
      if ((++events & 0xffff) == 0) progress.Reading((*current)->bytes_read(), ec ? 0 : total);
      return (*current)->Next();
    });
  };
  auto a = checkers::AnalyseLogStream(open, spec, &kept);
  progress.Clear();
  if (!a.ok() || (a->ops == 0 && !kept.out_of_memory)) return std::nullopt;
  std::vector<std::string> warnings;
  if (!(*reader)->torn_tail().empty()) warnings.push_back((*reader)->torn_tail());
  for (const std::string& w : warnings) err << "tidemark check: warning: " << w << "\n";
  return Finish(opts, file, format, *a, warnings, {read_s, SecondsSince(start)}, out, err,
                json_out);
}

// Whether `file` may be a JSONL history that linearizability checks key by key as a stream
// (checkers::AnalyseLinStream): a JSONL file, a model given that is register, cas-register or
// kv (or auto, guessed as it is read), partitioned by key, and only linearizability asked for.
bool StreamsByKey(const CheckCommandOptions& opts, const std::string& file,
                  history::Format format) {
  if (opts.checker != "auto" && opts.checker != "linearizability") return false;
  if (opts.model != "auto" && opts.model != "register" && opts.model != "cas-register" &&
      opts.model != "kv")
    return false;
  if (!opts.partition_by_key) return false;  // one search of every key: read whole
  if (format == history::Format::kAuto) {
    auto f = history::SniffFileFormat(file);
    return f.ok() && *f == history::Format::kJsonl;
  }
  return format == history::Format::kJsonl;
}

// Checks a register, cas-register or kv history as a stream, key by key; nullopt when it is not
// one (StreamsByKey, or a model guessed as log) or the stream stops short (a malformed line, a
// history that does not pair, no client op): the whole-file path then says why, with the file
// and line.
std::optional<int> CheckKeyedStream(const CheckCommandOptions& opts, const std::string& file,
                                    history::Format format, std::ostream& out, std::ostream& err,
                                    nlohmann::json* json_out, ProgressLine& progress,
                                    ProcessCap* cap) {
  if (!StreamsByKey(opts, file, format)) return std::nullopt;
  checkers::AnalysisSpec spec;
  if (!checkers::ParseExplainMode(opts.explain, &spec.explain)) {
    err << "tidemark check: unknown --explain '" << opts.explain
        << "' (use none, fast or minimal)\n";
    return 254;
  }
  spec.timeout_s = opts.timeout_s;
  spec.memory_limit_bytes = opts.memory_limit_mb << 20;
  spec.threads = opts.threads;
  spec.partition_by_key = opts.partition_by_key;
  const auto start = std::chrono::steady_clock::now();
  auto reader = history::JsonlReader::Open(file);
  if (!reader.ok()) return std::nullopt;
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(file, ec);
  double read_s = 0;
  spec.on_step = [&](const std::string& step) {
    if (read_s == 0) {  // the first step after the first reading
      read_s = SecondsSince(start);
      if (!ec) progress.Reading(total, total);
    }
    progress.Step(step);
  };
  CapProcessMemory(opts.memory_limit_mb << 20, history::CountLines(file), cap);
  // Each reading shows how far it got; the second one opens the file again.
  auto* current = &*reader;
  decltype(reader) again = Error{""};
  int64_t events = 0;
  auto source = [&]() {
    return checkers::EventSource([&] {
      if ((++events & 0xffff) == 0) progress.Reading((*current)->bytes_read(), ec ? 0 : total);
      return (*current)->Next();
    });
  };
  if (!ec) progress.Reading(0, total);
  progress.Step("indexing the history's keys");
  checkers::StreamedHistory kept;
  ModelGuess guess;
  auto index = checkers::IndexKeys(source(), [&](const history::Op& op) { guess.Add(op); });
  if (!index.ok()) {
    progress.Clear();
    return std::nullopt;
  }
  spec.model = opts.model == "auto" ? guess.Model() : opts.model;
  if (spec.model == "log") {
    progress.Clear();
    return std::nullopt;
  }
  auto names = ChooseCheckers(opts, spec.model, err);
  if (!names) return 254;
  spec.checkers = std::move(*names);
  const std::string torn = (*reader)->torn_tail();
  auto open = [&]() -> Result<checkers::EventSource> {
    again = history::JsonlReader::Open(file);
    if (!again.ok()) return again.error();
    current = &*again;
    events = 0;
    return source();
  };
  auto a = checkers::AnalyseLinStream(open, std::move(*index), spec, &kept);
  progress.Clear();
  if (!a.ok() || (a->ops == 0 && !kept.out_of_memory)) return std::nullopt;
  std::vector<std::string> warnings;
  if (!torn.empty()) warnings.push_back(torn);
  for (const std::string& w : warnings) err << "tidemark check: warning: " << w << "\n";
  return Finish(opts, file, format, *a, warnings, {read_s, SecondsSince(start)}, out, err,
                json_out);
}

// Checks one file; returns its exit code (0 valid, 1 invalid, 2 unknown, 254 usage, 255
// unreadable). With `json_out`, the results document goes there instead of to `out`.
int CheckFile(const CheckCommandOptions& opts, const std::string& file, history::Format format,
              std::ostream& out, std::ostream& err, nlohmann::json* json_out,
              ProgressLine& progress, ProcessCap* cap) {
  if (auto code = CheckLogStream(opts, file, format, out, err, json_out, progress, cap))
    return *code;
  if (auto code = CheckKeyedStream(opts, file, format, out, err, json_out, progress, cap))
    return *code;
  const auto start = std::chrono::steady_clock::now();
  // Log reads as written: the log checkers expand compact reads one at a time.
  auto hist = history::ImportFileLocated(
      file, format, [&](uint64_t done, uint64_t total) { progress.Reading(done, total); },
      history::LogReads::kAsWritten);
  if (!hist.ok()) {
    progress.Clear();
    err << "tidemark check: cannot read history: " << hist.error().message << "\n";
    return 255;
  }
  progress.Step("pairing " + CountOf(static_cast<int64_t>(hist->events.size()), "event", "events"));
  // Here, for errors with file:line. The ops take the events' values rather than copy them: a
  // long log history is held once (the events keep what the fault summary reads).
  auto ops = history::PairOpsTakingValues(*hist);
  progress.Clear();
  for (const std::string& w : hist->warnings) err << "tidemark check: warning: " << w << "\n";
  if (!ops.ok()) {
    err << "tidemark check: " << ops.error().message << "\n";
    return 255;
  }
  const double parse_s = SecondsSince(start);

  checkers::AnalysisSpec spec;
  spec.model = opts.model == "auto" ? GuessModel(*ops) : opts.model;
  auto names = ChooseCheckers(opts, spec.model, err);
  if (!names) return 254;
  spec.checkers = std::move(*names);
  if (std::any_of(spec.checkers.begin(), spec.checkers.end(),
                  [](const std::string& c) { return c.rfind("log-", 0) != 0; })) {
    // Another checker reads values as they are: compact reads in full first.
    if (auto x = history::ExpandLogReads(*ops); !x) {
      err << "tidemark check: " << file << ": " << x.error().message << "\n";
      return 255;
    }
  }
  spec.timeout_s = opts.timeout_s;
  spec.memory_limit_bytes = opts.memory_limit_mb << 20;
  spec.threads = opts.threads;
  spec.partition_by_key = opts.partition_by_key;
  if (!checkers::ParseExplainMode(opts.explain, &spec.explain)) {
    err << "tidemark check: unknown --explain '" << opts.explain
        << "' (use none, fast or minimal)\n";
    return 254;
  }

  CapProcessMemory(opts.memory_limit_mb << 20, hist->events.size(), cap);
  spec.on_step = [&](const std::string& step) { progress.Step(step); };
  checkers::Analysis analysis = checkers::Analyse(hist->events, *ops, spec);
  progress.Clear();
  if (auto none = NoOperations(file, *hist, *ops, opts.format)) {
    // Nothing to check is not a pass: the checkers' vacuous verdicts give way to this one.
    analysis.checks = {std::move(*none)};
    analysis.verdict = analysis.checks.front().verdict;
  }
  const double total_s = SecondsSince(start);
  return Finish(opts, file, format, analysis, hist->warnings, {parse_s, total_s}, out, err,
                json_out);
}

}  // namespace

int RunCheckCommand(const CheckCommandOptions& opts, std::ostream& out, std::ostream& err) {
  auto format = history::ParseFormat(opts.format);
  if (!format) {
    err << "tidemark check: unknown --format '" << opts.format << "'"
        << DidYouMean(opts.format, {"auto", "jsonl", "jepsen-log", "jepsen-edn", "edn-lines"})
        << " (use auto, jsonl, jepsen-log, jepsen-edn or edn-lines)\n";
    return 254;
  }
  if (opts.files.empty()) {
    err << "tidemark check: name at least one history file\n";
    return 254;
  }
  auto mode = ParseProgressMode(opts.progress, opts.stderr_is_terminal);
  if (!mode) {
    err << "tidemark check: unknown --progress '" << opts.progress << "'"
        << DidYouMean(opts.progress, {"auto", "always", "never"})
        << " (use auto, always or never)\n";
    return 254;
  }
  ProgressLine progress(err, *mode);
  ProcessCap cap;
  if (opts.files.size() == 1) {
    progress.SetSubject(opts.files.front());
    return CheckFile(opts, opts.files.front(), *format, out, err, nullptr, progress, &cap);
  }
  if (!opts.results_path.empty()) {
    err << "tidemark check: --results writes one file's results; with " << opts.files.size()
        << " files use --json (an array, one document per file) instead\n";
    return 254;
  }
  // Many files in one process: each as if alone (-q: one line each), then a tally.
  // The exit code is the worst: unreadable (255) over invalid (1) over unknown (2) over valid.
  std::map<int, int> tally;
  nlohmann::json docs = nlohmann::json::array();
  for (size_t i = 0; i < opts.files.size(); ++i) {
    const std::string& file = opts.files[i];
    progress.SetSubject("[" + std::to_string(i + 1) + "/" + std::to_string(opts.files.size()) +
                        "] " + file);
    nlohmann::json doc;
    int rc = CheckFile(opts, file, *format, out, err, opts.json ? &doc : nullptr, progress, &cap);
    if (rc == 254) return rc;
    ++tally[rc];
    if (opts.json)
      docs.push_back(rc == 255 ? nlohmann::json{{"file", file}, {"verdict", "unreadable"}}
                               : std::move(doc));
  }
  if (opts.json) {
    out << docs.dump(2) << "\n";
  } else {
    out << opts.files.size() << " files: " << tally[0] << " valid, " << tally[1] << " invalid, "
        << tally[2] << " unknown, " << tally[255] << " unreadable\n";
  }
  for (int rc : {255, 1, 2})
    if (tally[rc] > 0) return rc;
  return 0;
}

}  // namespace tidemark::cli
