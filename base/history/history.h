// The history model: the events a run records and the operations checkers reason about.
//
// A History is the ordered list of Events as recorded (docs/history-format.md).
// Semantics follow Jepsen: a process invokes an op, then exactly one completion follows from the
// same process: kOk (took effect), kFail (certainly never takes effect), kInfo (unknown; may take
// effect at any later time, or never). Nemesis events use process kNemesisProcess.
//
// Ops pairs each invoke with its completion (PairOps); checkers consume Ops. Both types are
// plain values: no threads, no I/O, usable alone (this folder depends on nlohmann/json only).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::history {

enum class EventType { kInvoke, kOk, kFail, kInfo };

const char* ToString(EventType t);
std::optional<EventType> ParseEventType(std::string_view s);

// The process id of nemesis events ("process": "nemesis" in JSONL).
inline constexpr int64_t kNemesisProcess = -1;

struct Event {
  int64_t index = 0;    // dense, increasing from 0 in a recorded history
  int64_t time_ns = 0;  // ns since the run started (monotonic clock); importers synthesise it
  int64_t process = 0;  // >= 0 for clients, kNemesisProcess for the nemesis
  EventType type = EventType::kInvoke;
  std::string f;                   // op name: "read", "write", "cas", "append", ...
  std::optional<std::string> key;  // absent for single-object workloads
  nlohmann::json value;            // invoke: the argument; completion: the result
  // When non-empty, the value's exact JSON text, written to history files in place of `value`,
  // which then holds only what the harness itself needs of it (a log read's entries are written
  // from the reply's text without building a tree). Never set by readers or importers.
  std::string value_text;
  std::optional<std::string> node;   // which node the client talked to
  std::optional<std::string> error;  // completion error text, if any
  // Keys of the JSON object not listed above, kept so tools can round-trip them.
  // Null when there are none (an empty object would cost an allocation per event).
  nlohmann::json extra;
};

using History = std::vector<Event>;

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// One client operation: an invoke paired with its completion.
struct Op {
  int64_t id = 0;  // position in the Ops vector (dense)
  int64_t process = 0;
  std::string f;
  std::optional<std::string> key;
  nlohmann::json invoke_value;  // the argument as invoked
  nlohmann::json value;         // completion value (== invoke_value when the completion had none)
  EventType status = EventType::kInfo;  // kOk, kFail or kInfo (no completion recorded => kInfo)
  int64_t call_ns = 0;
  int64_t return_ns = kNever;   // kNever for info / never-completed ops
  int64_t invoke_index = 0;     // Event::index of the invocation
  int64_t complete_index = -1;  // Event::index of the completion, -1 if none
  std::optional<std::string> node;
  std::optional<std::string> error;
};

struct PairOptions {
  // An invoke with no completion by the end of the history becomes an kInfo op (Jepsen's rule
  // for a crashed client). When false, it is an error instead.
  bool open_invokes_are_info = true;
  // Pair what can be paired and never fail (for showing a damaged history, not for checking
  // it): a second invoke of a process closes its first as info, a completion with no pending
  // invoke is skipped, a completion whose f differs completes the invoke anyway. On a
  // well-formed history the ops are the same as without it.
  bool lenient = false;
};

// The op an invoke starts: status kInfo, no return, value == invoke_value, until CompleteOp.
Op OpFromInvoke(const Event& invoke, int64_t id);

// Completes `op` with its completion event (the second form moves from it: a read's value can
// be large). A completion without a value keeps the invoked argument (Jepsen writes it back on
// writes), except an ok read (or get) that returned nothing, which observed null. The one rule by
// which the checkers (PairOps) and the live generators (the runner's driver) see an op completed.
void CompleteOp(Op& op, const Event& completion);
void CompleteOp(Op& op, Event&& completion);

// Pairs the client events of `h` (nemesis events are skipped) into Ops ordered by invocation.
// Errors name the event index and the problem: a completion with no pending invoke, a second
// invoke while one is outstanding, a completion whose f differs from its invoke.
Result<std::vector<Op>> PairOps(const History& h, PairOptions opts = {});

// PairOps that, on error, also stores in `*error_position` the position in `h` (not the
// Event::index) of the offending event, so file readers can name its line. Unchanged on success.
Result<std::vector<Op>> PairOps(const History& h, PairOptions opts, size_t* error_position);

// PairOps for a caller that no longer needs the client events' payloads: the ops take them
// (values, nodes and errors are moved, not copied), and the client events keep only their index,
// time, process, type, f and key. Nemesis events are untouched. On error `h` is unchanged. A
// large log history holds its values once instead of twice (docs/history-format.md, "Compact
// log reads").
Result<std::vector<Op>> PairOpsTakingValues(History& h, PairOptions opts = {},
                                            size_t* error_position = nullptr);

// PairOps for a history read one event at a time, for a caller that keeps of each op only what
// it needs (a long run's history need not be held whole). Strict pairing (PairOps' rules and
// error texts); ops get the ids PairOps gives (invocation order). Holds only the outstanding ops.
class OpStream {
 public:
  // Feeds the next event. A nemesis event changes nothing and returns nullptr. An invoke starts
  // an op and returns it, still outstanding (the stream keeps it); a completion completes its
  // process's outstanding op, taking the event's value, node and error, and returns it: the
  // caller may take it (move from it) until the next Add. After an error the stream is finished.
  Result<Op*> Add(Event&& e);
  // The ops still outstanding at the end of the history (kInfo, never returned, as PairOps makes
  // them), in id order.
  std::vector<Op> Finish();

 private:
  int64_t next_id_ = 0;
  std::unordered_map<int64_t, Op> pending_;  // process -> its outstanding op
  Op done_;                                  // the op the last completion completed
};

// What a checker or the report reads of an op besides its values.
struct OpBrief {
  int64_t id = 0;
  int64_t process = 0;
  std::string_view f;
  const std::string* node = nullptr;   // nullptr: not recorded
  const std::string* error = nullptr;  // nullptr: none
  EventType status = EventType::kInfo;
  int64_t call_ns = 0;
  int64_t return_ns = kNever;
  int64_t invoke_index = 0;
  int64_t complete_index = -1;
};

// Ops without their values, for a caller that holds every op of a long history
// (checkers::AnalyseLogStream): 64 bytes an op instead of an Op's 240 and its values. The
// names (f, key, node, error) are interned.
//
// A sparse set (Sparse()) holds only the ops Put into it, found by id (about 90 bytes each),
// for a check that names only some of a history's ops: its size() is still the number of ops
// in the history (SetSize; at least one past the highest id Put), and asking for an op it does
// not hold (Brief, Whole) is a broken invariant that aborts.
class OpSkeletons {
 public:
  static OpSkeletons Sparse();
  // n ops known by number only: every op reads as a blank one (its id, no process, name, node or
  // times). For a check whose texts are thrown away unless it finds nothing (the log-replicas
  // check of a screened-clean history: checkers::AnalyseLogStream).
  static OpSkeletons Blank(size_t n);

  // Holds `op` without its values at its id: replaces the op held there, or appends it when
  // op.id == size(). Sparse: holds it at its id, whatever the id.
  void Put(const Op& op);
  void reserve(size_t n) { ops_.reserve(n); }
  // Sparse only: the number of ops of the history (ids 0..n-1), held or not.
  void SetSize(size_t n);
  size_t size() const { return sparse_ ? size_ : ops_.size(); }
  bool sparse() const { return sparse_; }
  // Whether op i is held (always, for i < size(), unless sparse).
  bool Has(size_t i) const;
  // How many ops are held.
  size_t held() const { return ops_.size(); }
  OpBrief Brief(size_t i) const;
  // Op i whole but for its values, which are null.
  Op Whole(size_t i) const;

 private:
  struct Skeleton {
    int64_t process = 0, call_ns = 0, return_ns = kNever, invoke_index = 0, complete_index = -1;
    uint32_t f = 0, key = 0, node = 0, error = 0;  // into names_; 0: none
    EventType status = EventType::kInfo;
  };
  uint32_t Intern(const std::string& name);
  uint32_t Intern(const std::optional<std::string>& name) { return name ? Intern(*name) : 0; }
  const std::string* Name(uint32_t id) const { return id == 0 ? nullptr : &names_[id]; }

  // Where op i is in ops_: i, or (sparse) what at_ says.
  size_t Slot(size_t i) const;

  std::vector<Skeleton> ops_;
  bool sparse_ = false;
  bool blank_ = false;                             // Blank: an op not held reads as ops_[0]
  size_t size_ = 0;                                // sparse: the history's op count
  std::unordered_map<int64_t, uint32_t> at_;       // sparse: op id -> its index in ops_
  std::vector<std::string> names_{std::string()};  // names_[0]: none
  std::unordered_map<std::string, uint32_t> ids_;
};

// Ops by id, held whole (PairOps' vector) or as skeletons: what the log checkers read of them.
// A view: the ops must outlive it.
class OpsView {
 public:
  OpsView(const std::vector<Op>& ops) : whole_(&ops) {}  // NOLINT: implicit by design
  OpsView(const OpSkeletons& ops) : skeletons_(&ops) {}  // NOLINT: implicit by design
  size_t size() const { return whole_ ? whole_->size() : skeletons_->size(); }
  OpBrief operator[](size_t i) const;

 private:
  const std::vector<Op>* whole_ = nullptr;
  const OpSkeletons* skeletons_ = nullptr;
};

// A history read from a file, with where each event came from, so errors can say FILE:LINE.
struct LocatedHistory {
  std::string source;  // the file name, or the name given for in-memory text
  History events;
  std::vector<size_t> lines;  // lines[i]: 1-based line where events[i] starts (same size)
  // Things the reader tolerated and the user should hear of, e.g. a torn last line dropped
  // ("FILE:LINE: ..."). Empty for a clean file.
  std::vector<std::string> warnings;
};

// PairOps on a located history; errors read "SOURCE:LINE: event N: <PairOps reason>".
Result<std::vector<Op>> PairOps(const LocatedHistory& h, PairOptions opts = {});

// PairOpsTakingValues on a located history; errors as for PairOps on one.
Result<std::vector<Op>> PairOpsTakingValues(LocatedHistory& h, PairOptions opts = {});

// The nemesis events of `h`, in order.
std::vector<Event> NemesisEvents(const History& h);

}  // namespace tidemark::history
