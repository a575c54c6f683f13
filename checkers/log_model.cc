// The log model: one replicated log (docs/history-format.md `log`, docs/checker.md).
//
// State: the client entries (offset, value) in offset order, plus `sealed`: every offset below it
// is known committed (a read covered it), so no later append may land there. Offsets that hold no
// client entry are leader no-ops, which a read simply does not list.
//   append v at o (ok): legal iff o >= sealed and o > the last entry's offset.
//   read [from,to) → entries E (ok, linearizable): legal iff the state's entries in [from,to)
//     are exactly E; then sealed = max(sealed, to).
// A crashed append has no offset. Values are unique (the harness makes them so), so its offset
// is pinned from the reads: the first read entry holding its value gives the offset; an append
// no read ever observed is dropped (it is optional and occupies no observed offset, so dropping
// it neither hides nor creates a violation). `local` reads may be stale by contract and crashed
// or failed reads constrain nothing: all are dropped.
#include <map>
#include <sstream>

#include "checkers/model.h"

namespace tidemark::checkers {
namespace {

using history::EventType;
using history::Op;

struct LogState {
  int64_t sealed = 0;
  std::vector<std::pair<int64_t, std::string>> entries;
};

std::string EncodeEntries(const std::vector<std::pair<int64_t, std::string>>& e) {
  std::string s;
  for (const auto& [o, v] : e) {
    s += std::to_string(o) + ":" + std::to_string(v.size()) + ":" + v;
  }
  return s;
}

std::vector<std::pair<int64_t, std::string>> DecodeEntries(const std::string& s, size_t i = 0) {
  std::vector<std::pair<int64_t, std::string>> e;
  while (i < s.size()) {
    size_t c1 = s.find(':', i);
    size_t c2 = s.find(':', c1 + 1);
    int64_t o = std::stoll(s.substr(i, c1 - i));
    size_t n = std::stoull(s.substr(c1 + 1, c2 - c1 - 1));
    e.emplace_back(o, s.substr(c2 + 1, n));
    i = c2 + 1 + n;
  }
  return e;
}

std::string Encode(const LogState& st) {
  return std::to_string(st.sealed) + "|" + EncodeEntries(st.entries);
}

LogState Decode(const std::string& s) {
  LogState st;
  size_t bar = s.find('|');
  st.sealed = std::stoll(s.substr(0, bar));
  st.entries = DecodeEntries(s, bar + 1);
  return st;
}

std::string Str(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

class LogModel : public Model {
 public:
  enum Code { kAppend, kRead };
  std::string_view Name() const override { return "log"; }
  std::string Init() const override { return Encode(LogState{}); }

  Status Prepare(const std::vector<const Op*>& ops, std::vector<ModelOp>* out,
                 std::vector<char>* keep) const override {
    out->assign(ops.size(), ModelOp{});
    keep->assign(ops.size(), 1);
    std::map<std::string, int64_t> observed;  // value -> first offset a read saw it at
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = *ops[i];
      ModelOp& m = (*out)[i];
      m.ok = op.status == EventType::kOk;
      if (op.f == "read") {
        m.code = kRead;
        const nlohmann::json& in = op.invoke_value;
        bool local = in.is_object() && in.value("consistency", "") == "local";
        if (!m.ok || local) {
          (*keep)[i] = 0;
          continue;
        }
        const nlohmann::json& v = op.value;
        if (!v.is_object() || !v.contains("from") || !v.contains("to") || !v.contains("entries") ||
            !v["entries"].is_array()) {
          return Error{"op " + std::to_string(op.id) + ": log read result lacks from/to/entries"};
        }
        m.x = v["from"].get<int64_t>();
        m.y = v["to"].get<int64_t>();
        std::vector<std::pair<int64_t, std::string>> e;
        for (const auto& pair : v["entries"]) {
          if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer()) {
            return Error{"op " + std::to_string(op.id) + ": log entry is not [offset, value]"};
          }
          e.emplace_back(pair[0].get<int64_t>(), Str(pair[1]));
          observed.emplace(e.back().second, e.back().first);
        }
        m.a = EncodeEntries(e);
      } else if (op.f == "append") {
        m.code = kAppend;
        m.a = Str(op.invoke_value);
        const nlohmann::json& v = op.value;
        if (m.ok) {
          if (!v.is_object() || !v.contains("offset") || !v["offset"].is_number_integer()) {
            return Error{"op " + std::to_string(op.id) + ": ok append result lacks an offset"};
          }
          m.x = v["offset"].get<int64_t>();
        } else {
          m.x = -1;  // pinned below
        }
      } else {
        return Error{"op " + std::to_string(op.id) + ": '" + op.f + "' is not a log op"};
      }
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      ModelOp& m = (*out)[i];
      if ((*keep)[i] && m.code == kAppend && m.x < 0) {
        auto it = observed.find(m.a);
        if (it == observed.end()) {
          (*keep)[i] = 0;
        } else {
          m.x = it->second;
        }
      }
    }
    return OkStatus();
  }

  bool Step(const std::string& state, const ModelOp& op, std::string* next) const override {
    LogState st = Decode(state);
    if (op.code == kAppend) {
      if (op.x < st.sealed) return false;
      if (!st.entries.empty() && op.x <= st.entries.back().first) return false;
      st.entries.emplace_back(op.x, op.a);
      *next = Encode(st);
      return true;
    }
    if (EncodeEntries(InRange(st, op.x, op.y)) != op.a) return false;
    st.sealed = std::max(st.sealed, op.y);
    *next = Encode(st);
    return true;
  }

  std::string DescribeState(const std::string& state) const override {
    LogState st = Decode(state);
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < st.entries.size(); ++i) {
      s << (i ? " " : "") << st.entries[i].first << ":" << st.entries[i].second;
    }
    s << "], committed below " << st.sealed;
    return s.str();
  }

  std::string CouldReturn(const std::string& state, const ModelOp& op) const override {
    LogState st = Decode(state);
    if (op.code == kRead) {
      std::string s = "a read of [" + std::to_string(op.x) + "," + std::to_string(op.y) +
                      ") here would return [";
      bool first = true;
      for (const auto& [o, v] : InRange(st, op.x, op.y)) {
        s += (first ? "" : " ") + std::to_string(o) + ":" + v;
        first = false;
      }
      return s + "]";
    }
    int64_t lowest = st.sealed;
    if (!st.entries.empty()) lowest = std::max(lowest, st.entries.back().first + 1);
    return "an append here needs offset >= " + std::to_string(lowest);
  }

 private:
  static std::vector<std::pair<int64_t, std::string>> InRange(const LogState& st, int64_t from,
                                                              int64_t to) {
    std::vector<std::pair<int64_t, std::string>> e;
    for (const auto& p : st.entries) {
      if (p.first >= from && p.first < to) e.push_back(p);
    }
    return e;
  }
};

}  // namespace

std::unique_ptr<Model> MakeLogModel() { return std::make_unique<LogModel>(); }

}  // namespace tidemark::checkers
