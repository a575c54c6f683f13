// The fault vocabulary of `--nemesis` and the seeded schedule of start/stop steps
// (docs/nemesis.md).
//
// `--nemesis VALUE`: "none", "all" (= partition,kill,pause), or a comma list of items
//   partition[:SHAPE][:one-way]   SHAPE one of one|halves|majorities-ring|bridge|leader;
//                                 no SHAPE = a random shape per fault
//   kill[:TARGET]  pause[:TARGET] TARGET one of one|minority|majority|all|leader|followers;
//                                 no TARGET = a random one of one|minority|leader|followers
//   lose-unfsynced[:TARGET]       a kill that also drops every byte the killed nodes had not
//                                 fsynced (their data dirs are mounted on tidemark-lazyfs)
//   corrupt[:TARGET]              a kill, then a chunk of one file in each killed node's data
//                                 dir is flipped, zeroed or cut off; no TARGET = a random one of
//                                 one|minority|leader (never a majority unless asked)
// Duplicates are kept (they weight the random choice). Errors say which item is wrong and list
// what is allowed.
//
// The schedule is pure: MakeSchedule(faults, options) with options.seed the *run* seed; the
// stream is Rng::Derive(seed, "nemesis"), so it does not depend on clients or generators. One
// fault is active at a time: quiet gap, start, active gap, stop, quiet gap, ... where every gap
// is uniform in [0.5, 1.5] × interval. A fault without a shape/target gets a random one here, so
// every step's FaultSpec is concrete; the nodes and the grudge are *not* chosen here (a leader
// is only known at run time): see PlanPartition / SelectTargets.
//
// Threading: value types and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "nemesis/grudge.h"

namespace tidemark::nemesis {

enum class FaultKind { kPartition, kKill, kPause };
const char* ToString(FaultKind k);

// What a kill also does to the killed nodes' disks while they are down.
enum class DiskFault { kNone, kLoseUnfsynced, kCorrupt };

struct FaultSpec {
  FaultKind kind = FaultKind::kPartition;
  std::optional<PartitionShape> shape;  // partition only; nullopt = random per fault
  bool one_way = false;                 // partition only
  std::optional<ProcessTarget> target;  // kill/pause only; nullopt = random per fault
  DiskFault disk = DiskFault::kNone;    // kill only
  std::optional<Grudge> grudge;         // partition with shape kExplicit (API only, not parsed)

  bool operator==(const FaultSpec&) const = default;
  static FaultSpec Of(FaultKind k) {
    FaultSpec f;
    f.kind = k;
    return f;
  }
};

// "partition:bridge:one-way", "kill:leader", "pause", "lose-unfsynced:all" — the inverse of
// ParseNemesis for one item.
std::string ToString(const FaultSpec& f);

// Parses the --nemesis value. "none" (or "") gives an empty list.
Result<std::vector<FaultSpec>> ParseNemesis(std::string_view value);
// Parses --nemesis-interval: a finite number of seconds > 0.
Result<double> ParseInterval(std::string_view value);

struct ScheduleOptions {
  uint64_t seed = 0;       // the run seed (the stream "nemesis" is derived from it)
  double interval_s = 10;  // mean gap between steps, seconds (> 0)
  double duration_s = 60;  // steps are planned for [0, duration_s) of the main phase
};

struct Step {
  double at_s = 0;  // seconds since the main phase started
  bool start = true;
  FaultSpec fault;  // for a stop step: the fault being stopped
};

// Alternating start/stop steps, strictly increasing at_s, every at_s < duration_s; a stop step
// repeats its start's FaultSpec; every FaultSpec has its shape (partition) or target (kill,
// pause) set. The last step may be a start (the final heal stops it). Empty when `faults` is
// empty or interval/duration are not > 0.
std::vector<Step> MakeSchedule(const std::vector<FaultSpec>& faults, const ScheduleOptions& o);

}  // namespace tidemark::nemesis
