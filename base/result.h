// Result<T>: the harness-error channel (docs/architecture.md "Errors and verdicts").
//
// A fallible harness call (file unreadable, malformed input, bad config) returns a Result that
// holds either a value or an Error whose message a user can act on ("history.jsonl:17: ...").
// It is never used for the behaviour of the system under test: that is data (ok/fail/info).
// No exception crosses a library boundary; GCC 12 has no std::expected, hence this type.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <variant>

namespace tidemark {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->Checked(); }
  T& operator*() { return Checked(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  T& Checked() {
    if (!ok()) {
      std::cerr << "tidemark: internal error: value() on failed Result: " << error().message
                << "\n";
      std::abort();
    }
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace tidemark
