// Checker results: the verdict channel (docs/architecture.md "Errors and verdicts").
//
// Every checker returns a CheckResult with a Verdict: kValid, kInvalid or kUnknown. Merging keeps
// the worst (invalid > unknown > valid). A checker that throws (bad_alloc included), runs out of
// time or memory, or cannot interpret its input says kUnknown with the reason — never kValid;
// no exception leaves a checker (UnknownFromException).
//
// `details` is structured data (written to results.json and drawn by the report); `explanation`
// is plain text for a terminal. Both describe the same facts.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidemark::checkers {

enum class Verdict { kValid, kUnknown, kInvalid };

inline const char* ToString(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kInvalid:
      return "invalid";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

// invalid > unknown > valid.
inline Verdict Worst(Verdict a, Verdict b) {
  auto rank = [](Verdict v) { return v == Verdict::kInvalid ? 2 : v == Verdict::kUnknown ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

// Process exit code for a verdict (Jepsen's convention): 0 valid, 1 invalid, 2 unknown.
inline int ExitCode(Verdict v) { return v == Verdict::kValid ? 0 : v == Verdict::kInvalid ? 1 : 2; }

struct CheckResult {
  std::string checker;  // "linearizability", "log-prefix", ...
  Verdict verdict = Verdict::kUnknown;
  std::string summary;      // one line: "invalid: key k3 — read of 4 cannot be placed"
  std::string explanation;  // multi-line plain text for the terminal
  nlohmann::json details = nlohmann::json::object();  // structured, for results.json / report
};

inline nlohmann::json ToJson(const CheckResult& r) {
  return nlohmann::json{{"checker", r.checker},
                        {"verdict", ToString(r.verdict)},
                        {"summary", r.summary},
                        {"explanation", r.explanation},
                        {"details", r.details}};
}

// The result of a checker that threw `e`: kUnknown, details.reason "memory" for std::bad_alloc
// and "exception" for anything else, details.error the message. Every checker catches (...)
// around its work and answers with this, so nothing a checker throws reaches its caller.
inline CheckResult UnknownFromException(const std::string& checker, std::exception_ptr e) {
  std::string reason = "exception", why = "an exception that is not a std::exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    reason = "memory";
    why = "out of memory (std::bad_alloc)";
  } catch (const std::exception& x) {
    why = x.what();
  } catch (...) {
  }
  CheckResult r;
  r.checker = checker;
  r.verdict = Verdict::kUnknown;
  r.summary = "unknown: the " + checker + " checker failed: " + why;
  r.explanation = r.summary + "\n";
  r.details["reason"] = reason;
  r.details["error"] = why;
  r.details["errors"] = nlohmann::json::array({why});
  return r;
}

}  // namespace tidemark::checkers
