// The write-ahead log of one tidelog node: one append-only file `DATA_DIR/wal` of framed records.
//
// Framing: [u32 payload length, little endian][u32 CRC32C of payload][payload]. Payload kinds:
// hard state (generation, vote), entry (replaces any suffix starting at its index), truncate
// (log shrinks to a given end) and hwm (a hint: the node's high-water mark when written; not
// fsync'd for its own sake). Replaying the records in order yields the node's state.
//
// Recovery (Open) reads the file up to the first record that is torn (length runs past the end
// of the file), has a bad CRC, or does not parse; it reports that on stderr, cuts the file
// there (ftruncate + fsync) and never returns anything from the cut part. When the cut was damage
// (WalState::damaged), records this node had acknowledged may be gone with it: Open leaves a
// durable mark, DATA_DIR/recovering, and sets WalState::recovering, which keeps the node from
// voting or standing for election until it has caught up with a leader (consensus.h); the mark
// outlives crashes until ClearRecovering.
//
// Durability: Append* only buffer in memory; Sync() writes the buffer and fdatasync()s it.
// Nothing is durable before Sync() returns true. With `lazy` (bug lazy-fsync) Sync() only
// writes when the buffer holds a hard-state record; FlushLazy() (called every few hundred ms)
// writes everything, so acknowledged entries can sit in user space and die with the process.
// With `skip_fsync` (bug skip-fsync) Sync() writes with write(2) and returns without fsync, and
// Open does not fsync the directory: a SIGKILL loses nothing (the kernel has the bytes), a
// machine crash — or tidemark's lose-unfsynced fault — loses everything since the last write
// that happened to reach the disk.
//
// Not thread-safe: owned by the node's single event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "types.h"

namespace tidemark::tidelog {

// The state a WAL replays to.
struct WalState {
  HardState hard_state;
  std::vector<Entry> log;
  uint64_t hwm = 0;          // last hwm record seen (0 if none); may exceed log.size() after a cut
  uint64_t records = 0;      // records replayed
  uint64_t valid_bytes = 0;  // length of the good prefix of the file
  std::string corruption;    // empty if the whole file was good; else why it was cut
  // The cut was damage (a CRC mismatch, an unparseable record, an impossible length), not a
  // last write that never finished: records this node had made durable, and acknowledged, may
  // be gone. (A file cut short on a record boundary cannot be told from an older one.)
  bool damaged = false;
  // Set by Wal::Open: this node may have lost acknowledged records (damaged now, or damaged
  // before and not yet caught up since: the DATA_DIR/recovering mark). Consensus::Config.
  bool recovering = false;
};

// Decodes records from `bytes` (a whole WAL file); stops at the first bad one. Pure.
WalState ReplayWal(const std::string& bytes);

// Encodes one record of each kind (framed). Pure; used by Wal and by tests.
std::string EncodeHardState(const HardState& hs);
std::string EncodeEntry(const Entry& e);
std::string EncodeTruncate(uint64_t log_end);
std::string EncodeHwm(uint64_t hwm);

class Wal {
 public:
  // Opens (creating if absent) DATA_DIR/wal, recovers it into *state and cuts a bad tail.
  // Returns nullptr and sets *error if the directory or file cannot be used.
  static std::unique_ptr<Wal> Open(const std::string& dir, bool lazy, WalState* state,
                                   std::string* error, bool skip_fsync = false);
  // Reads DATA_DIR/wal without modifying it (for `tidelog dump`).
  static std::optional<WalState> ReadOnly(const std::string& dir, std::string* error);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  void AppendHardState(const HardState& hs);
  void AppendEntry(const Entry& e);
  void AppendTruncate(uint64_t log_end);
  void AppendHwm(uint64_t hwm);
  // Makes everything appended so far durable (see lazy mode above). False on an I/O error
  // (the caller must not acknowledge anything then).
  bool Sync();
  // Writes and fsyncs the whole buffer regardless of mode.
  bool FlushLazy();
  bool lazy() const { return lazy_; }
  // Removes DATA_DIR/recovering durably (the node has caught up with a leader). No-op when
  // there is none. False on an I/O error.
  bool ClearRecovering();
  uint64_t syncs() const { return syncs_; }

 private:
  Wal(int fd, std::string dir, bool lazy, bool skip_fsync, bool recovering)
      : fd_(fd),
        dir_(std::move(dir)),
        lazy_(lazy),
        skip_fsync_(skip_fsync),
        recovering_mark_(recovering) {}
  bool WriteAll();
  int fd_;
  std::string dir_;
  bool lazy_;
  bool skip_fsync_;
  bool recovering_mark_;  // DATA_DIR/recovering exists
  bool buffer_has_hard_state_ = false;
  std::string buffer_;
  uint64_t syncs_ = 0;
};

}  // namespace tidemark::tidelog
