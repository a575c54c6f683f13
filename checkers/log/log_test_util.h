// Test support: a tiny builder for hand-written `log` workload histories. Ops are written with
// explicit times in milliseconds; Build() orders the events by time and numbers them.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/history/history.h"
#include "checkers/log/log_checker.h"

namespace tidemark::checkers::testing {

using nlohmann::json;

struct Entry {
  int64_t offset;
  std::string value;
};

class LogHistory {
 public:
  // Each returns the op id (ops are numbered in invocation-time order by Build; the builder
  // requires invocation times to be distinct so ids are predictable).
  LogHistory& AppendOk(int64_t p, const std::string& v, int64_t offset, int64_t hwm, int64_t t0,
                       int64_t t1, const std::string& node = "n1") {
    Add(p, history::EventType::kInvoke, "append", v, t0, node);
    Add(p, history::EventType::kOk, "append", json{{"value", v}, {"offset", offset}, {"hwm", hwm}},
        t1, node);
    return *this;
  }
  LogHistory& AppendFail(int64_t p, const std::string& v, int64_t t0, int64_t t1) {
    Add(p, history::EventType::kInvoke, "append", v, t0, "n1");
    Add(p, history::EventType::kFail, "append", nullptr, t1, "n1");
    return *this;
  }
  LogHistory& AppendInfo(int64_t p, const std::string& v, int64_t t0, int64_t t1) {
    Add(p, history::EventType::kInvoke, "append", v, t0, "n1");
    Add(p, history::EventType::kInfo, "append", nullptr, t1, "n1");
    return *this;
  }
  LogHistory& Read(int64_t p, int64_t from, int64_t to, int64_t hwm, std::vector<Entry> entries,
                   int64_t t0, int64_t t1, const std::string& node = "n1",
                   const std::string& consistency = "linearizable", bool final = false) {
    json inv = {{"from", from}, {"consistency", consistency}};
    if (final) inv["final"] = true;
    json es = json::array();
    for (const Entry& e : entries) es.push_back(json::array({e.offset, e.value}));
    Add(p, history::EventType::kInvoke, "read", inv, t0, node);
    Add(p, history::EventType::kOk, "read",
        json{{"from", from},
             {"to", to},
             {"hwm", hwm},
             {"consistency", consistency},
             {"entries", es}},
        t1, node);
    return *this;
  }
  LogHistory& FinalRead(int64_t p, int64_t hwm, std::vector<Entry> entries, int64_t t0, int64_t t1,
                        const std::string& node = "n1") {
    return Read(p, 0, hwm, hwm, std::move(entries), t0, t1, node, "linearizable", true);
  }
  LogHistory& Raw(int64_t p, history::EventType type, const std::string& f, json value, int64_t t) {
    Add(p, type, f, std::move(value), t, "n1");
    return *this;
  }

  history::History Build() const {
    history::History h = events_;
    std::stable_sort(h.begin(), h.end(), [](const history::Event& a, const history::Event& b) {
      return a.time_ns < b.time_ns;
    });
    for (size_t i = 0; i < h.size(); ++i) h[i].index = static_cast<int64_t>(i);
    return h;
  }
  std::vector<history::Op> Ops() const {
    auto ops = history::PairOps(Build());
    EXPECT_TRUE(ops.ok()) << (ops.ok() ? "" : ops.error().message);
    return ops.ok() ? ops.value() : std::vector<history::Op>{};
  }
  CheckResult Check(const LogCheckOptions& opts = {}) const { return CheckLogPrefix(Ops(), opts); }

 private:
  void Add(int64_t p, history::EventType type, const std::string& f, json value, int64_t t_ms,
           const std::string& node) {
    history::Event e;
    e.time_ns = t_ms * 1000000;
    e.process = p;
    e.type = type;
    e.f = f;
    e.value = std::move(value);
    e.node = node;
    events_.push_back(std::move(e));
  }
  history::History events_;
};

// The op ids of example `i` of anomaly `name` in a log-prefix result.
inline std::vector<int64_t> ExampleOps(const CheckResult& r, const std::string& name,
                                       size_t i = 0) {
  const json& ex = r.details["anomalies"][name]["examples"][i];
  return ex["ops"].get<std::vector<int64_t>>();
}

inline int64_t AnomalyCount(const CheckResult& r, const std::string& name) {
  if (!r.details.contains("counts") || !r.details["counts"].contains(name)) return 0;
  return r.details["counts"][name].get<int64_t>();
}

// The ids of the ops invoked at the given times (ms), sorted: how tests name ops.
inline std::vector<int64_t> IdsAt(const std::vector<history::Op>& ops,
                                  std::vector<int64_t> times_ms) {
  std::vector<int64_t> out;
  for (int64_t t : times_ms) {
    for (const history::Op& op : ops) {
      if (op.call_ns == t * 1000000) out.push_back(op.id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The anomaly names found, sorted.
inline std::vector<std::string> Names(const CheckResult& r) {
  std::vector<std::string> out;
  if (!r.details.contains("counts")) return out;
  for (const auto& [k, v] : r.details["counts"].items()) out.push_back(k);
  return out;
}

}  // namespace tidemark::checkers::testing
