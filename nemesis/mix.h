// The default fault mix (`--nemesis all`): a dense, leader-aware random sequence of short fault
// moves, for users who do not know which schedule exposes their bug.
//
// One fault at a time at random moments (schedule.h) is masked by the quorum and rarely hits the
// leader: on tidelog's bug zoo it found 1 of 9 bugs in 60 s. The mix instead draws, back to
// back, *moves* from a weighted catalogue, each a short sequence written against
// ScenarioActions (scenario.h): isolate the leader, cut the leader's outgoing messages only, kill
// the leader, pause the leader then resume it, change the partition during the election that
// follows, kill the new leader the moment it is elected, isolate a follower and then crash the
// leader, crash a majority together, restart everything, pause the followers, a random partition
// shape, and Raft's Figure 8 (an old leader re-elected on a log a later leader has outgrown,
// killed right after its first ack, the later leader back). Every move starts from a healed
// cluster and ends healed, then leaves a short quiet gap (uniform in [0.5, 1.5] × the interval)
// so that clients see its effect.
//
// Timing: every aimed crash (of the leader, a majority, every node) waits for the next write a
// client sees acknowledged (ScenarioActions::AwaitWriteAck), so it lands while that write is
// most exposed.
//
// Coverage: a plan of 30 s or more always has a crash-majority in its strongest form (a follower
// isolated first, the old leader restarted last) in its first third, where the draw alone would
// leave that out most of the time (see PlanMix); without partitions, a restart-all instead. It
// also has pause-leader-wake-apart in its first two thirds and a figure-8 in each third.
//
// Seeded and repeatable: PlanMix is pure — which moves, in which order, how long each holds its
// fault, the quiet gaps, and a seed for each move's run-time choices (which follower) depend
// only on the run seed (stream Rng::Derive(seed, "mix")). The nodes are chosen when the move
// runs, from the leader a fresh probe finds (ScenarioActions::ProbeLeader), so a move lands on
// whoever leads at that moment. Every action is recorded by the ScenarioActions implementation.
//
// Adding a fault kind: write a move (a function over ScenarioActions), add it to Moves() with
// its weight and the capabilities it needs; PlanMix, the filter and the tests pick it up.
//
// Threading: Moves()/PlanMix are pure; RunMix runs on the nemesis thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemesis/scenario.h"

namespace tidemark::nemesis {

// What a planned move may do; its run-time choices come from `rng`.
struct MoveParams {
  double hold_s = 1;  // how long the move keeps its main fault in place
  uint64_t seed = 0;  // seeds the move's own Rng (which follower, which order)
  // The move's most demanding form, not a random one (crash-majority: a follower isolated first
  // and the old leader restarted last). Set by the coverage rule (PlanMix).
  bool strongest = false;
};

struct MoveInfo {
  std::string name;
  std::string summary;  // one line, for docs and test.json
  double weight = 1;    // relative frequency in the mix
  double min_hold_s = 1, max_hold_s = 4;
  bool partitions = false, kills = false, pauses = false;  // capabilities it needs
  // Runs the move; ends healed. Returns false when the run is stopping.
  std::function<bool(ScenarioActions&, Rng&, const MoveParams&)> run;
};

// The catalogue, in a fixed order.
const std::vector<MoveInfo>& Moves();

struct MixOptions {
  uint64_t seed = 0;       // the run seed
  double duration_s = 60;  // main phase; enough moves are planned to fill it
  double interval_s = 2;   // mean quiet gap after each move
  // Which kinds of fault the target (and the --nemesis list) allows; moves that need another
  // kind are left out of the draw.
  bool partitions = true, kills = true, pauses = true;
};

struct PlannedMove {
  int move = 0;  // index into Moves()
  MoveParams params;
  double quiet_s = 1;  // after the move
};

// A plan for a main phase this long (or longer) cuts the power at least once in its first third
// when the target allows it (crash-majority in its strongest form, or restart-all; see PlanMix).
inline constexpr double kPowerCutCoverageMinS = 30;

// Such a plan also has a figure-8 starting in each of this many equal slices of its duration
// (see PlanMix).
inline constexpr int kFigure8Slices = 3;

// The sequence of moves for a run: weighted draws over the allowed moves, enough of them to fill
// duration_s even if every move took only its hold time. Empty when no move is allowed. When the
// run is at least kPowerCutCoverageMinS long and a power cut is allowed, the plan's first third
// (by hold and quiet times) gets the coverage move: crash-majority in its strongest form
// (MoveParams::strongest), or restart-all when partitions are not allowed. An early
// crash-majority the draw already made becomes the strongest form; otherwise one of the early
// moves that is not a power cut, drawn at random, becomes the coverage move. The bugs only a
// correlated crash reaches are not left to the draw. Likewise such a plan has
// pause-leader-wake-apart (two leaders alive at once) in its first two thirds, when partitions
// and pauses are allowed, and a figure-8 (an old leader re-elected on a log a later leader has
// outgrown) starting in each of its kFigure8Slices slices, when partitions, kills and pauses
// are.
std::vector<PlannedMove> PlanMix(const MixOptions& o);

// Runs the planned moves in order until a Sleep returns false or the plan ends (then it stays
// quiet until the stop). The caller heals after.
void RunMix(const std::vector<PlannedMove>& plan, ScenarioActions& a);

// For test.json: [{"move": name, "hold_s": h, "quiet_s": q}, ...].
nlohmann::json DescribeMix(const std::vector<PlannedMove>& plan);

}  // namespace tidemark::nemesis
