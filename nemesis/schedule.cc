#include "nemesis/schedule.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace tidemark::nemesis {
namespace {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

const char* kUsage =
    "--nemesis takes none, all, or a comma list of partition[:SHAPE][:one-way], kill[:TARGET], "
    "pause[:TARGET], lose-unfsynced[:TARGET], corrupt[:TARGET]; SHAPE: "
    "one|halves|majorities-ring|bridge|leader; TARGET: "
    "one|minority|majority|all|leader|followers";

}  // namespace

const char* ToString(FaultKind k) {
  switch (k) {
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kPause:
      return "pause";
  }
  return "?";
}

std::string ToString(const FaultSpec& f) {
  std::string s = f.disk == DiskFault::kLoseUnfsynced ? "lose-unfsynced"
                  : f.disk == DiskFault::kCorrupt     ? "corrupt"
                                                      : ToString(f.kind);
  if (f.kind == FaultKind::kPartition) {
    if (f.shape) s += std::string(":") + ToString(*f.shape);
    if (f.one_way) s += ":one-way";
  } else if (f.target) {
    s += std::string(":") + ToString(*f.target);
  }
  return s;
}

Result<std::vector<FaultSpec>> ParseNemesis(std::string_view value) {
  std::vector<FaultSpec> out;
  std::string v = Trim(std::string(value));
  if (v.empty() || v == "none") return out;
  for (const std::string& raw : Split(v, ',')) {
    std::string item = Trim(raw);
    if (item.empty()) return Error{"--nemesis '" + v + "': empty item in the list. " + kUsage};
    if (item == "none")
      return Error{"--nemesis '" + v + "': 'none' cannot be combined with other faults"};
    if (item == "all") {
      out.push_back(FaultSpec::Of(FaultKind::kPartition));
      out.push_back(FaultSpec::Of(FaultKind::kKill));
      out.push_back(FaultSpec::Of(FaultKind::kPause));
      continue;
    }
    std::vector<std::string> parts = Split(item, ':');
    FaultSpec f;
    const std::string& kind = parts[0];
    auto bad = [&](const std::string& why) {
      return Error{"--nemesis item '" + item + "': " + why + ". " + kUsage};
    };
    if (kind == "partition") {
      f.kind = FaultKind::kPartition;
      for (size_t i = 1; i < parts.size(); ++i) {
        if (parts[i] == "one-way") {
          if (f.one_way) return bad("one-way given twice");
          f.one_way = true;
        } else if (auto shape = ParsePartitionShape(parts[i]);
                   shape && *shape != PartitionShape::kExplicit) {
          if (f.shape) return bad("two shapes");
          if (f.one_way) return bad("write the shape before one-way");
          f.shape = shape;
        } else {
          return bad("unknown partition shape '" + parts[i] + "'");
        }
      }
      if (f.one_way && f.shape == PartitionShape::kMajoritiesRing)
        return bad("a one-way majorities-ring is not defined");
    } else if (kind == "kill" || kind == "pause" || kind == "lose-unfsynced" || kind == "corrupt") {
      f.kind = kind == "pause" ? FaultKind::kPause : FaultKind::kKill;
      if (kind == "lose-unfsynced") f.disk = DiskFault::kLoseUnfsynced;
      if (kind == "corrupt") f.disk = DiskFault::kCorrupt;
      if (parts.size() > 2) return bad("at most one target");
      if (parts.size() == 2) {
        f.target = ParseProcessTarget(parts[1]);
        if (!f.target) return bad("unknown target '" + parts[1] + "'");
      }
    } else {
      return bad("unknown fault '" + kind + "'");
    }
    out.push_back(f);
  }
  return out;
}

Result<double> ParseInterval(std::string_view value) {
  std::string s(value);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(d) || d <= 0)
    return Error{"--nemesis-interval '" + s + "': expected a number of seconds > 0 (e.g. 10, 2.5)"};
  return d;
}

std::vector<Step> MakeSchedule(const std::vector<FaultSpec>& faults, const ScheduleOptions& o) {
  std::vector<Step> steps;
  if (faults.empty() || !(o.interval_s > 0) || !(o.duration_s > 0)) return steps;
  Rng rng = Rng::Derive(o.seed, "nemesis");
  auto gap = [&] { return o.interval_s * (0.5 + rng.Double()); };
  double t = gap();
  while (t < o.duration_s) {
    FaultSpec f = faults[static_cast<size_t>(rng.Uniform(faults.size()))];
    // Resolve "random shape/target" here so the printed schedule is fully determined by the seed.
    if (f.kind == FaultKind::kPartition && !f.shape) {
      const auto& shapes = RandomPartitionShapes();
      do {
        f.shape = shapes[static_cast<size_t>(rng.Uniform(shapes.size()))];
      } while (f.one_way && f.shape == PartitionShape::kMajoritiesRing);
    } else if (f.kind != FaultKind::kPartition && !f.target) {
      // Corrupting a majority's disks at once can lose acknowledged data in any system: only
      // when asked for (corrupt:majority).
      static const std::vector<ProcessTarget> kCorruptTargets = {
          ProcessTarget::kOne, ProcessTarget::kMinority, ProcessTarget::kLeader};
      const auto& targets =
          f.disk == DiskFault::kCorrupt ? kCorruptTargets : RandomProcessTargets();
      f.target = targets[static_cast<size_t>(rng.Uniform(targets.size()))];
    }
    steps.push_back({t, true, f});
    t += gap();
    if (t >= o.duration_s) break;
    steps.push_back({t, false, f});
    t += gap();
  }
  return steps;
}

}  // namespace tidemark::nemesis
