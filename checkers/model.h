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

#include "base/history/history.h"
#include "base/result.h"

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

// The search's view of a model's states (optional fast path): states are dense integer ids
// (0 = the initial state) that the state space interns itself, so a step never has to build or
// hash an encoded state. Equal ids must mean equal states (the search memoizes on ids); equal
// states may, rarely, get different ids (only costs search work). `ops` given at creation are
// the partition's ops (with their call times); Step's `op` indexes them.
class StateSpace {
 public:
  virtual ~StateSpace() = default;
  // The state after `op` from state `s`, or -1 when the op cannot take effect there.
  virtual int32_t Step(int32_t s, int op) = 0;
  // The encoded state (as Model::Step would have produced it).
  virtual std::string Encode(int32_t s) const = 0;
  virtual size_t size() const = 0;   // states interned so far
  virtual size_t bytes() const = 0;  // approximate memory held
  // A pruning hint: true when the search configuration "state `s`, the ops with placed[i] != 0
  // placed" can never place every completed op (e.g. kv: an unplaced completed get of a string
  // that does not extend `s`, with no unplaced put that could restart the string towards it).
  // Every completed op called before `placed_before` is placed. `last` is the op just placed to
  // reach the configuration from one that was not dead (only what it touched needs checking);
  // `to_global` maps this space's op indices to indices into `placed` (nullptr: the same). Must
  // be sound; may always answer false.
  virtual bool Dead(int32_t /*s*/, int /*last*/, const uint8_t* /*placed*/,
                    int64_t /*placed_before*/, const int* /*to_global*/ = nullptr) {
    return false;
  }
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

  // For the search's optional ops: the ops that can take effect only in a state that optional op
  // i may leave behind (a register: completed reads of the value i writes, and cas ops expecting
  // it). Once every witness of i is placed, or when it has none, placing i can never help place
  // a completed op: the state i leaves admits only ops that overwrite it (docs/checker.md has the
  // argument), so the search stops offering i. The witnesses of op i are
  // (*list)[(*begin)[i] .. (*begin)[i + 1]), in increasing order (`begin` gets ops.size() + 1
  // entries): one list for the whole partition, not one allocation per op. Filled for every op
  // that is not a read, completed or not (the explanation re-checks completed updates as
  // optional); the search ignores the entries of ops it must place. Returns false when the model
  // cannot tell (every optional op stays).
  virtual bool OptionalWitnesses(const std::vector<const ModelOp*>& /*ops*/,
                                 std::vector<int>* /*begin*/, std::vector<int>* /*list*/) const {
    return false;
  }

  // True when `op` can take effect in every state and leaves the same state whatever the state
  // before it (a register write, a kv put). The search then never places such an op right after
  // an optional one: that optional op's effect would be overwritten unseen, so the same
  // linearization without it exists (docs/checker.md). Default false (always sound).
  virtual bool Overwrites(const ModelOp& /*op*/) const { return false; }

  // A state space for the search over `ops` (kept alive by the caller while it is used). The
  // default interns encoded states (Step over strings); models with large states override it.
  virtual std::unique_ptr<StateSpace> NewStateSpace(const std::vector<const ModelOp*>& ops,
                                                    const std::vector<int64_t>& call_ns) const;
};

// The default state space: encoded states interned by their bytes, transitions via Model::Step.
std::unique_ptr<StateSpace> NewStringStateSpace(const Model& model,
                                                const std::vector<const ModelOp*>& ops);

// The model called `name` ("register", "cas-register", "kv", "kv-append", "log"), or nullptr.
std::unique_ptr<Model> MakeModel(std::string_view name);

// Wraps a per-key model so that one search covers several keys (partitioning switched off): the
// state holds every key's state; each op acts on its ModelOp::key only.
std::unique_ptr<Model> MakeMultiKeyModel(std::unique_ptr<Model> inner);

// The names MakeModel accepts.
std::vector<std::string> ModelNames();

}  // namespace tidemark::checkers
