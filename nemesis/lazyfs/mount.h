// LazyMount: one running tidemark-lazyfs (lazyfs.cc) mounted over a directory, seen from the
// controller: start it, ask it to drop what was not fsynced, unmount it.
//
// Layout for a mount point M: the durable bytes live in M.backing/, replaced and unlinked
// files wait in M.stash/ until their directory is fsynced, and the control socket is an
// abstract unix socket named after this process. Mount() creates the two directories, moves
// whatever M already holds into the backing dir (so a mount over an existing data dir keeps its
// contents), starts the program and waits until the mount answers. Unmount() (also the destructor)
// stops the program with SIGTERM — it syncs everything on an orderly exit — and detaches the mount
// if the program could not (killed, hung), so nothing stays mounted; the backing dir's contents are
// moved back into M.
//
// Threading: one owner; Drop may be called from another thread than Mount as long as calls do
// not overlap.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace tidemark::lazyfs {

// Why a FUSE mount cannot be made here ("" when /dev/fuse and the program are usable).
std::string Unavailable(const std::string& binary);

struct DropReport {
  uint64_t bytes = 0;   // unsynced bytes discarded
  uint64_t files = 0;   // files that had unsynced state
  uint64_t undone = 0;  // namespace changes undone (create, rename, unlink not yet dir-fsynced)
  uint64_t torn = 0;    // bytes of the newest write kept (a torn write), 0 if none
};

class LazyMount {
 public:
  LazyMount() = default;
  ~LazyMount();
  LazyMount(const LazyMount&) = delete;
  LazyMount& operator=(const LazyMount&) = delete;

  Status Mount(const std::string& binary, const std::string& mountpoint);
  // Discards every unsynced byte; with tear_seed, keeps a seeded prefix of the newest write.
  // Every process writing through the mount must be stopped first.
  Result<DropReport> Drop(std::optional<uint64_t> tear_seed = std::nullopt);
  Status Unmount();

  bool mounted() const { return pid_ > 0; }
  const std::string& backing() const { return backing_; }
  pid_t pid() const { return pid_; }

 private:
  Result<std::string> Command(const std::string& cmd);
  std::string mountpoint_, backing_, stash_, control_;
  pid_t pid_ = -1;
};

}  // namespace tidemark::lazyfs
