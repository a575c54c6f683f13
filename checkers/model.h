// Sequential specifications (models) for the linearizability checker.
//
// A model is a few pure functions over *encoded states*: a state is an opaque byte string the
// model defines (a register's JSON value, a kv key's string, a log's entries). The checker
// interns states to small integer ids and caches transitions, so a model never needs to be fast,
// only pure and deterministic: Step(s, op) must always give the same answer for the same inputs.
//
// Before the search, Prepare translates one partition's history ops into ModelOps (canonical
// strings and integers, no JSON), and says which ops the model drops (crashed reads: they
// constrain nothing). `fail` ops never reach a model: the checker removes them first.
//
// Models: "register" (read/write), "cas-register" (read/write/cas [from,to]), "kv" (alias
// "kv-append"; get/put/append on strings, initial ""), "log" (append → offset, read → entries of
// a range; docs/history-format.md `log`). See docs/checker.md for the exact semantics.
//
// Thread safety: models are immutable after construction; every method is const and may be
// called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/history/history.h"
#include "harness/history/result.h"

namespace tidemark::checkers {

// One op as a model sees it.
struct ModelOp {
  int code = 0;   // model-specific opcode
  std::string a;  // first canonical operand (value written, value read, cas from, ...)
  std::string b;  // second canonical operand (cas to, ...)
  int64_t x = 0;  // integer operands (log offsets and ranges)
  int64_t y = 0;
  bool ok = true;         // false: crashed (info); its result is unknown
  bool observer = false;  // a completed read: a legal step never changes the state
  std::string key;        // the op's key (used only when partitioning is off)
};

class Model {
 public:
  virtual ~Model() = default;

  // The name MakeModel accepts.
  virtual std::string_view Name() const = 0;

  // The initial state.
  virtual std::string Init() const = 0;

  // Translates one partition's ops into `out` (same length and order as `ops`). Sets keep[i] to
  // 0 for ops the model drops (crashed reads; `local` log reads). Precondition: no op has status
  // kFail. Returns an error naming the op (Op::id) when an op does not fit the model.
  virtual Status Prepare(const std::vector<const history::Op*>& ops, std::vector<ModelOp>* out,
                         std::vector<char>* keep) const = 0;

  // Applies `op` to `state`. Returns false when the op cannot take effect there (a read of
  // another value, a cas whose `from` differs); otherwise writes the new state to *next.
  virtual bool Step(const std::string& state, const ModelOp& op, std::string* next) const = 0;

  // Human-readable state ("3", "nil", "\"x 1 0 y\"", "[0:v1 2:v3] sealed below 3").
  virtual std::string DescribeState(const std::string& state) const = 0;

  // What `op` would have observed in `state` ("read would have returned 3"), or "" when the
  // question does not apply (a write can always take effect).
  virtual std::string CouldReturn(const std::string& state, const ModelOp& op) const = 0;
};

// The model called `name` ("register", "cas-register", "kv", "kv-append", "log"), or nullptr.
std::unique_ptr<Model> MakeModel(std::string_view name);

// Wraps a per-key model so that one search covers several keys (partitioning switched off): the
// state holds every key's state; each op acts on its ModelOp::key only.
std::unique_ptr<Model> MakeMultiKeyModel(std::unique_ptr<Model> inner);

// The names MakeModel accepts.
std::vector<std::string> ModelNames();

}  // namespace tidemark::checkers
