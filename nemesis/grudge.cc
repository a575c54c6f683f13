#include "nemesis/grudge.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace tidemark::nemesis {
namespace {

void Die(const char* what) {
  std::fprintf(stderr, "tidemark: internal error: nemesis: %s\n", what);
  std::abort();
}

std::string DefaultName(int i) { return "n" + std::to_string(i + 1); }

}  // namespace

const char* ToString(PartitionShape s) {
  switch (s) {
    case PartitionShape::kOne:
      return "one";
    case PartitionShape::kHalves:
      return "halves";
    case PartitionShape::kMajoritiesRing:
      return "majorities-ring";
    case PartitionShape::kBridge:
      return "bridge";
    case PartitionShape::kLeader:
      return "leader";
    case PartitionShape::kExplicit:
      return "explicit";
  }
  return "?";
}

std::optional<PartitionShape> ParsePartitionShape(std::string_view s) {
  for (PartitionShape p :
       {PartitionShape::kOne, PartitionShape::kHalves, PartitionShape::kMajoritiesRing,
        PartitionShape::kBridge, PartitionShape::kLeader, PartitionShape::kExplicit})
    if (s == ToString(p)) return p;
  return std::nullopt;
}

const std::vector<PartitionShape>& RandomPartitionShapes() {
  static const std::vector<PartitionShape> kShapes = {
      PartitionShape::kOne, PartitionShape::kHalves, PartitionShape::kMajoritiesRing,
      PartitionShape::kBridge, PartitionShape::kLeader};
  return kShapes;
}

std::vector<int> Shuffled(int n, Rng& rng) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  for (int i = n - 1; i > 0; --i) {
    auto j = static_cast<size_t>(rng.Uniform(static_cast<uint64_t>(i) + 1));
    std::swap(v[static_cast<size_t>(i)], v[j]);
  }
  return v;
}

Grudge Normalize(Grudge g) {
  for (auto it = g.begin(); it != g.end();) it = it->second.empty() ? g.erase(it) : std::next(it);
  return g;
}

Grudge CompletePartition(int n, const std::vector<std::vector<int>>& components) {
  std::vector<int> comp(static_cast<size_t>(n), -1);
  for (size_t c = 0; c < components.size(); ++c)
    for (int node : components[c]) {
      if (node < 0 || node >= n) Die("CompletePartition: node out of range");
      if (comp[static_cast<size_t>(node)] != -1) Die("CompletePartition: components overlap");
      comp[static_cast<size_t>(node)] = static_cast<int>(c);
    }
  Grudge g;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      int ca = comp[static_cast<size_t>(a)], cb = comp[static_cast<size_t>(b)];
      if (a != b && ca != -1 && cb != -1 && ca != cb) g[b].insert(a);
    }
  return g;
}

Grudge OneWayCut(const std::vector<int>& from, const std::vector<int>& to) {
  Grudge g;
  for (int b : to)
    for (int a : from)
      if (a != b) g[b].insert(a);
  return Normalize(std::move(g));
}

Grudge IsolateNode(int n, int node) {
  std::vector<int> rest;
  for (int i = 0; i < n; ++i)
    if (i != node) rest.push_back(i);
  return CompletePartition(n, {{node}, rest});
}

std::pair<std::vector<int>, std::vector<int>> RandomHalves(int n, Rng& rng) {
  std::vector<int> order = Shuffled(n, rng);
  auto mid = order.begin() + n / 2;
  std::vector<int> minority(order.begin(), mid), majority(mid, order.end());
  std::sort(minority.begin(), minority.end());
  std::sort(majority.begin(), majority.end());
  return {minority, majority};
}

Grudge MajoritiesRing(int n, Rng& rng) {
  std::vector<int> ring = Shuffled(n, rng);
  const int m = n / 2 + 1;
  const int back = (m - 1) / 2;
  Grudge g;
  for (int i = 0; i < n; ++i) {
    std::set<int> window;
    for (int k = 0; k < m; ++k)
      window.insert(ring[static_cast<size_t>(((i - back + k) % n + n) % n)]);
    int self = ring[static_cast<size_t>(i)];
    for (int other = 0; other < n; ++other)
      if (!window.count(other)) g[self].insert(other);
  }
  return Normalize(std::move(g));
}

BridgeSplit SplitForBridge(int n, Rng& rng) {
  std::vector<int> order = Shuffled(n, rng);
  const int a_size = (n - 1) / 2;
  BridgeSplit s;
  s.a.assign(order.begin(), order.begin() + a_size);
  s.bridge = order[static_cast<size_t>(a_size)];
  s.c.assign(order.begin() + a_size + 1, order.end());
  std::sort(s.a.begin(), s.a.end());
  std::sort(s.c.begin(), s.c.end());
  return s;
}

Grudge Bridge(int n, Rng& rng, int* bridge) {
  BridgeSplit s = SplitForBridge(n, rng);
  if (bridge) *bridge = s.bridge;
  return CompletePartition(n, {s.a, s.c});
}

Result<PartitionPlan> PlanPartition(PartitionShape shape, bool one_way, int n,
                                    std::optional<int> leader, Rng& rng,
                                    const Grudge* explicit_grudge) {
  if (n < 2) return Error{"a partition needs at least 2 nodes (have " + std::to_string(n) + ")"};
  PartitionPlan p;
  p.shape = shape;
  p.one_way = one_way;
  auto isolate = [&](int node) {
    p.focus = {node};
    std::vector<int> rest;
    for (int i = 0; i < n; ++i)
      if (i != node) rest.push_back(i);
    p.grudge = one_way ? OneWayCut({node}, rest) : IsolateNode(n, node);
  };
  switch (shape) {
    case PartitionShape::kOne:
      isolate(static_cast<int>(rng.Uniform(static_cast<uint64_t>(n))));
      break;
    case PartitionShape::kLeader:
      if (!leader) return Error{"no leader known: cannot isolate the leader"};
      if (*leader < 0 || *leader >= n) return Error{"leader index out of range"};
      isolate(*leader);
      break;
    case PartitionShape::kHalves: {
      auto [minority, majority] = RandomHalves(n, rng);
      p.focus = minority;
      p.grudge =
          one_way ? OneWayCut(minority, majority) : CompletePartition(n, {minority, majority});
      break;
    }
    case PartitionShape::kMajoritiesRing:
      if (one_way) return Error{"a one-way majorities-ring is not defined"};
      p.grudge = MajoritiesRing(n, rng);
      break;
    case PartitionShape::kBridge: {
      if (n < 3) return Error{"a bridge needs at least 3 nodes"};
      BridgeSplit split = SplitForBridge(n, rng);
      p.focus = {split.bridge};
      p.grudge = one_way ? OneWayCut(split.a, split.c) : CompletePartition(n, {split.a, split.c});
      break;
    }
    case PartitionShape::kExplicit: {
      if (!explicit_grudge) return Error{"an explicit partition needs a grudge"};
      for (const auto& [to, drops] : *explicit_grudge) {
        if (to < 0 || to >= n)
          return Error{"grudge names node " + DefaultName(to) + " of " + std::to_string(n)};
        for (int a : drops) {
          if (a < 0 || a >= n)
            return Error{"grudge names node " + DefaultName(a) + " of " + std::to_string(n)};
          if (a == to) return Error{"grudge: " + DefaultName(a) + " cannot drop itself"};
        }
      }
      p.one_way = !Symmetric(*explicit_grudge);
      p.grudge = Normalize(*explicit_grudge);
      break;
    }
  }
  p.grudge = Normalize(std::move(p.grudge));
  return p;
}

bool Cut(const Grudge& g, int from, int to) {
  auto it = g.find(to);
  return it != g.end() && it->second.count(from) > 0;
}

std::set<int> Sees(const Grudge& g, int n, int node) {
  std::set<int> s;
  for (int i = 0; i < n; ++i)
    if (!Cut(g, i, node)) s.insert(i);
  return s;
}

bool Symmetric(const Grudge& g) {
  for (const auto& [to, drops] : g)
    for (int a : drops)
      if (!Cut(g, to, a)) return false;
  return true;
}

nlohmann::json GrudgeToJson(const Grudge& g, const std::function<std::string(int)>& name) {
  auto nm = [&](int i) { return name ? name(i) : DefaultName(i); };
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [to, drops] : g) {
    if (drops.empty()) continue;
    nlohmann::json a = nlohmann::json::array();
    for (int d : drops) a.push_back(nm(d));
    j[nm(to)] = std::move(a);
  }
  return j;
}

Result<Grudge> GrudgeFromJson(const nlohmann::json& j, int n) {
  if (!j.is_object())
    return Error{"a grudge is a JSON object {\"n1\":[\"n2\",...],...}, got " + j.dump()};
  auto parse_name = [&](const std::string& s) -> std::optional<int> {
    if (s.size() < 2 || s[0] != 'n') return std::nullopt;
    int v = 0;
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || v > 100000) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > n) return std::nullopt;
    return v - 1;
  };
  Grudge g;
  for (const auto& [k, v] : j.items()) {
    auto to = parse_name(k);
    if (!to) return Error{"grudge key '" + k + "' is not a node n1..n" + std::to_string(n)};
    if (!v.is_array()) return Error{"grudge[" + k + "] must be an array of node names"};
    for (const auto& x : v) {
      auto from = x.is_string() ? parse_name(x.get<std::string>()) : std::nullopt;
      if (!from)
        return Error{"grudge[" + k + "] holds " + x.dump() + ", not a node n1..n" +
                     std::to_string(n)};
      if (*from == *to) return Error{"grudge[" + k + "]: a node cannot drop itself"};
      g[*to].insert(*from);
    }
  }
  return Normalize(std::move(g));
}

const char* ToString(ProcessTarget t) {
  switch (t) {
    case ProcessTarget::kOne:
      return "one";
    case ProcessTarget::kMinority:
      return "minority";
    case ProcessTarget::kMajority:
      return "majority";
    case ProcessTarget::kAll:
      return "all";
    case ProcessTarget::kLeader:
      return "leader";
    case ProcessTarget::kFollowers:
      return "followers";
  }
  return "?";
}

std::optional<ProcessTarget> ParseProcessTarget(std::string_view s) {
  for (ProcessTarget t : {ProcessTarget::kOne, ProcessTarget::kMinority, ProcessTarget::kMajority,
                          ProcessTarget::kAll, ProcessTarget::kLeader, ProcessTarget::kFollowers})
    if (s == ToString(t)) return t;
  return std::nullopt;
}

const std::vector<ProcessTarget>& RandomProcessTargets() {
  // "all" and "majority" are left out of the random mix: they stop progress for the whole fault
  // window, which is rarely what a plain --nemesis kill wants; name them explicitly.
  static const std::vector<ProcessTarget> kTargets = {ProcessTarget::kOne, ProcessTarget::kMinority,
                                                      ProcessTarget::kLeader,
                                                      ProcessTarget::kFollowers};
  return kTargets;
}

std::vector<int> SelectTargets(ProcessTarget t, int n, std::optional<int> leader, Rng& rng) {
  std::vector<int> out;
  if (n <= 0) return out;
  auto take = [&](int k) {
    std::vector<int> order = Shuffled(n, rng);
    out.assign(order.begin(), order.begin() + std::clamp(k, 0, n));
  };
  bool leader_ok = leader && *leader >= 0 && *leader < n;
  switch (t) {
    case ProcessTarget::kOne:
      take(1);
      break;
    case ProcessTarget::kMinority:
      take(std::max(1, (n - 1) / 2));
      break;
    case ProcessTarget::kMajority:
      take(n / 2 + 1);
      break;
    case ProcessTarget::kAll:
      take(n);
      break;
    case ProcessTarget::kLeader:
      if (leader_ok) out = {*leader};
      break;
    case ProcessTarget::kFollowers:
      if (leader_ok)
        for (int i = 0; i < n; ++i)
          if (i != *leader) out.push_back(i);
      break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tidemark::nemesis
