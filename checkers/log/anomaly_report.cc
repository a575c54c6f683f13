#include "checkers/log/anomaly_report.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

namespace tidemark::checkers::logck {

using nlohmann::json;

std::string Secs(int64_t ns) {
  if (ns == history::kNever) return "never";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string Quote(const std::string& value) {
  constexpr size_t kMax = 60;
  if (value.size() <= kMax) return value;
  return value.substr(0, kMax) + "…";
}

std::string NodeOf(const history::OpBrief& op) { return op.node ? *op.node : "an unrecorded node"; }

void Report::Add(const std::string& name, std::vector<Instance> instances,
                 const Describer& describe) {
  if (instances.empty()) return;
  std::sort(instances.begin(), instances.end(), [](const Instance& x, const Instance& y) {
    return std::tie(x.rank, x.time, x.op, x.offset, x.a, x.b) <
           std::tie(y.rank, y.time, y.op, y.offset, y.a, y.b);
  });
  Group g;
  g.count = static_cast<int64_t>(instances.size());
  json examples = json::array();
  size_t n_examples = std::min(instances.size(), opts_.max_examples);
  g.text = name + " ×" + std::to_string(g.count) + "\n";
  for (size_t i = 0; i < n_examples; ++i) {
    Example ex = describe(instances[i]);
    std::vector<int64_t> ids = ex.ops;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    json events = json::array();
    for (int64_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= ops_.size()) continue;
      const history::OpBrief op = ops_[static_cast<size_t>(id)];
      events.push_back(op.invoke_index);
      if (op.complete_index >= 0) events.push_back(op.complete_index);
    }
    json e = ex.fields;
    e["explanation"] = ex.explanation;
    e["ops"] = ids;
    e["events"] = std::move(events);
    if (instances[i].count > 1) e["occurrences"] = instances[i].count;
    examples.push_back(std::move(e));
    g.text += "  - " + ex.explanation + "\n";
  }
  g.json["count"] = g.count;
  g.json["examples"] = std::move(examples);
  size_t rest = instances.size() - n_examples;
  g.json["omitted"] = rest;
  if (rest > 0) {
    json ops = json::array();
    std::map<std::string, int64_t> by_node;
    int64_t min_off = -1, max_off = -1;
    int64_t t0 = history::kNever, t1 = 0;
    std::set<int64_t> listed;
    bool truncated = false;
    for (size_t i = n_examples; i < instances.size(); ++i) {
      const Instance& in = instances[i];
      if (in.op >= 0) {
        if (listed.size() < opts_.max_summary_ops) {
          listed.insert(in.op);
        } else if (!listed.count(in.op)) {
          truncated = true;
        }
      }
      std::string node = in.node;
      if (node.empty() && in.op >= 0) node = NodeOf(ops_[static_cast<size_t>(in.op)]);
      if (!node.empty()) ++by_node[node];
      if (in.offset >= 0) {
        min_off = min_off < 0 ? in.offset : std::min(min_off, in.offset);
        max_off = std::max(max_off, in.offset);
      }
      if (in.time != history::kNever) {  // kNever: an instance with no time (a replica's)
        t0 = std::min(t0, in.time);
        t1 = std::max(t1, in.time);
      }
    }
    for (int64_t id : listed) ops.push_back(id);
    json summary;
    summary["ops"] = std::move(ops);
    summary["ops_truncated"] = truncated;
    summary["offsets"] = min_off < 0 ? json(nullptr) : json::array({min_off, max_off});
    summary["time_s"] =
        t0 == history::kNever
            ? json(nullptr)
            : json::array({static_cast<double>(t0) / 1e9, static_cast<double>(t1) / 1e9});
    summary["by_node"] = by_node;
    g.json["summary"] = std::move(summary);
    std::string text = "  … and " + std::to_string(rest) + " more";
    if (min_off >= 0) {
      text += " (offsets " + std::to_string(min_off) + "–" + std::to_string(max_off);
      if (t0 != history::kNever) text += ", " + Secs(t0) + " to " + Secs(t1);
      text += ")";
    }
    g.text += text + "\n";
  }
  groups_[name] = std::move(g);
}

int64_t Report::Count(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? 0 : it->second.count;
}

json Report::Anomalies() const {
  json out = json::object();
  for (const auto& [name, g] : groups_) out[name] = g.json;
  return out;
}

json Report::Counts() const {
  json out = json::object();
  for (const auto& [name, g] : groups_) out[name] = g.count;
  return out;
}

std::string Report::CountsLine() const {
  std::string s;
  for (const auto& [name, g] : groups_) {
    if (!s.empty()) s += ", ";
    s += name + " ×" + std::to_string(g.count);
  }
  return s;
}

std::string Report::Text() const {
  std::string s;
  for (const auto& [name, g] : groups_) s += g.text;
  return s;
}

}  // namespace tidemark::checkers::logck
