// Cleanup guarantees (docs/nemesis.md): a per-run registry of what the run created, and the sweep
// that removes what a SIGKILLed controller left behind.
//
// CleanupRegistry writes RUN_DIR/cleanup.json *before* each resource is created and updates it
// after each is removed, so the file always lists a superset of what exists:
//   {"controller": {"pid": 123, "start_time": 456, "cmdline": "tidemark run ..."},
//    "processes": [{"pid": 7, "start_time": 89, "cmdline": "sleep 600"}],
//    "namespaces": ["tmab12cd-n1"], "links": ["tmab12cdbr"], "mounts": ["/abs/n1/data"]}
// (start_time: field 22 of /proc/PID/stat, clock ticks since boot; with the cmdline it tells a
// reused pid apart from ours.)
//
// CleanLeftovers(store_root) finds every cleanup.json under store_root whose controller is no
// longer alive and removes what it lists: processes only when /proc/PID/cmdline (and start_time)
// still match (SIGKILL to the process group if the process leads one, else to the process),
// FUSE mounts still mounted (lazy unmount), network namespaces, then links (bridges, veths). A
// registry whose controller is alive is left alone (that run is in progress). Processed
// registries are emptied, so a second sweep is a no-op.
//
// The machine-wide list of runs: a CleanupRegistry also leaves an entry (a file holding the
// absolute path of its cleanup.json) in MachineRunsDir() — /run/tidemark/runs, or
// $TIDEMARK_RUNS_DIR — and removes it when it is destroyed with nothing left listed. So a
// controller killed with SIGKILL leaves its entry behind, and CleanMachine() (what `tidemark
// clean` with no arguments runs) finds that run whatever store it used, from any directory.
//
// Threading: CleanupRegistry methods are serialised by an internal mutex; CleanLeftovers is a
// plain blocking function.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::nemesis {

class CleanupRegistry {
 public:
  // `path` is RUN_DIR/cleanup.json; the file is (re)written on every change, atomically
  // (temp file + rename). The controller entry is this process.
  explicit CleanupRegistry(std::string path);
  // Removes the machine-wide entry when nothing is left listed (a clean end).
  ~CleanupRegistry();
  CleanupRegistry(const CleanupRegistry&) = delete;
  CleanupRegistry& operator=(const CleanupRegistry&) = delete;

  Status AddProcess(pid_t pid);  // reads its cmdline/start_time from /proc now
  Status RemoveProcess(pid_t pid);
  Status AddNamespace(const std::string& name);
  Status RemoveNamespace(const std::string& name);
  Status AddLink(const std::string& name);
  Status RemoveLink(const std::string& name);
  Status AddMount(const std::string& absolute_path);  // a FUSE mount point
  Status RemoveMount(const std::string& absolute_path);

  const std::string& path() const { return path_; }
  nlohmann::json Snapshot() const;

 private:
  Status Write();  // with mu_ held
  Status AddName(const char* list, const std::string& name);
  Status RemoveName(const char* list, const std::string& name);
  std::string path_;
  std::string entry_;  // the machine-wide entry ("" if it could not be made)
  mutable std::mutex mu_;
  nlohmann::json doc_;
};

struct CleanReport {
  std::vector<std::string> removed;  // "killed pid 123 (sleep 600)", "deleted netns tm..-n1"
  std::vector<std::string> skipped;  // "run X in progress (controller pid 5)", "pid 9 reused"
  std::vector<std::string> errors;
  bool in_progress = false;  // CleanRegistryFile: the controller is alive, nothing was touched
};

// Where the machine-wide entries live: $TIDEMARK_RUNS_DIR if set, else /run/tidemark/runs.
std::string MachineRunsDir();

// Sweeps every run listed in MachineRunsDir() whose controller is gone, and drops the entries of
// runs swept without error or whose cleanup.json no longer exists.
CleanReport CleanMachine();

// Sweeps every cleanup.json under `store_root` (recursively; symlinks are not followed).
CleanReport CleanLeftovers(const std::string& store_root);
// Sweeps one registry file (whatever its controller's state when `force` is true).
CleanReport CleanRegistryFile(const std::string& path, bool force = false);

// /proc helpers (exposed for tests): the NUL-separated cmdline joined with spaces ("" if gone),
// and the start time in clock ticks since boot (-1 if gone).
std::string ProcCmdline(pid_t pid);
long long ProcStartTime(pid_t pid);

}  // namespace tidemark::nemesis
