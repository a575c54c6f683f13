#include "reports/report_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/filename.h"
#include "base/history/jsonl.h"
#include "runstore/store.h"

namespace tidemark::reports {
namespace fs = std::filesystem;
using history::EventType;

namespace {

void CollectOpIds(const nlohmann::json& arr, std::set<int64_t>& out) {
  if (!arr.is_array()) return;
  for (const auto& x : arr) {
    if (x.is_number_integer()) {
      out.insert(x.get<int64_t>());
    } else if (x.is_object() && x.contains("op") && x["op"].is_number_integer()) {
      out.insert(x["op"].get<int64_t>());
    }
  }
}

}  // namespace

namespace {

void ReadTest(RunData& run) {
  std::error_code ec;
  std::string test_path = filename::TestJson(run.run_dir);
  if (!fs::exists(test_path, ec)) {
    run.warnings.push_back("test.json is missing; the run's configuration is unknown");
    return;
  }
  auto t = store::ReadJsonFile(test_path);
  if (t.ok() && t->is_object()) {
    run.test = *t;
  } else {
    run.warnings.push_back(
        "test.json is unreadable or not a JSON object; the run's "
        "configuration is unknown");
  }
}

void ReadResults(RunData& run) {
  std::error_code ec;
  std::string results_path = filename::Results(run.run_dir);
  if (!fs::exists(results_path, ec)) {
    run.warnings.push_back(
        "results.json is missing: the run did not finish checking (crashed "
        "or interrupted?); the verdict is unknown and the history below is "
        "shown as recorded");
    return;
  }
  auto r = store::ReadJsonFile(results_path);
  if (r.ok() && r->is_object()) {
    run.results = *r;
  } else {
    run.warnings.push_back(
        "results.json is unreadable (partially written?): the verdict is "
        "unknown; the history below is shown as recorded");
  }
}

// Read line by line with ParseJsonlLine rather than JsonlReader: a torn last line or a bad line
// in the middle ends the read with a warning and keeps every event before it.
void ReadHistory(RunData& run) {
  std::string history_path = filename::History(run.run_dir);
  std::ifstream in(history_path, std::ios::binary);
  if (!in) {
    run.warnings.push_back("history.jsonl cannot be read (" + history_path +
                           "): the report shows no ops");
    return;
  }
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    bool last_unterminated = in.eof();
    auto e = history::ParseJsonlLine(line);
    std::string where = "history.jsonl:" + std::to_string(lineno) + ": ";
    if (!e.ok()) {
      run.warnings.push_back(
          last_unterminated
              ? where + "dropped an incomplete last line (the run was killed mid-write?): " +
                    e.error().message
              : "history.jsonl was read up to the error " + where + e.error().message +
                    "; the events after it are not shown");
      return;
    }
    if (!e->has_value()) continue;
    if (!run.events.empty() && (*e)->index <= run.events.back().index) {
      run.warnings.push_back("history.jsonl was read up to the error " + where + "index " +
                             std::to_string((*e)->index) +
                             " does not increase; the events after it are not shown");
      return;
    }
    run.events.push_back(std::move(**e));
  }
}

// Log reads stay as written (compact: docs/history-format.md), so the report never holds every
// read's entries at once; the reads an anomaly names get their full value, which the per-node
// drawing of that anomaly reads. Expanding needs every compact read in file order, so all are
// expanded, one at a time, and only those are kept.
void ExpandReferencedReads(RunData& run) {
  auto is_compact_read = [](const history::Op& op) {
    return op.status == EventType::kOk && op.f == "read" && history::IsCompactLogRead(op.value);
  };
  std::set<size_t> wanted;
  for (int64_t id : ReferencedOps(run.results)) {
    if (id < 0 || static_cast<size_t>(id) >= run.ops.size()) continue;
    if (is_compact_read(run.ops[static_cast<size_t>(id)])) wanted.insert(static_cast<size_t>(id));
  }
  if (wanted.empty()) return;
  // Completion index -> op, for every compact read op: the op holds the value when the events
  // gave theirs up to it (history::PairOpsTakingValues).
  std::unordered_map<int64_t, size_t> compact_op;
  for (size_t i = 0; i < run.ops.size(); ++i)
    if (is_compact_read(run.ops[i])) compact_op[run.ops[i].complete_index] = i;
  history::LogReadExpander expander;
  for (const auto& e : run.events) {
    if (e.type != EventType::kOk || e.f != "read") continue;
    auto it = compact_op.find(e.index);
    const nlohmann::json& value = it != compact_op.end() ? run.ops[it->second].value : e.value;
    if (!history::IsCompactLogRead(value)) continue;
    history::Event copy;
    copy.type = e.type;
    copy.f = e.f;
    copy.value = value;
    if (auto x = expander.Expand(copy); !x) {
      run.warnings.push_back("history.jsonl: event " + std::to_string(e.index) + ": " +
                             x.error().message + "; later log reads are shown as written");
      return;
    }
    if (it != compact_op.end() && wanted.count(it->second))
      run.ops[it->second].value = std::move(copy.value);
  }
}

// Pairs the events into ops (leniently if they do not pair).
void PairEvents(RunData& run) {
  auto ops = history::PairOps(run.events);
  if (ops.ok()) {
    run.ops = std::move(*ops);
  } else {
    run.warnings.push_back("the history does not pair cleanly (" + ops.error().message +
                           "); ops were paired leniently and their ids may differ from the "
                           "checkers'");
    history::PairOptions lenient;
    lenient.lenient = true;
    run.ops = std::move(*history::PairOps(run.events, lenient));
  }
}

// Finds info completion times and expands the log reads an anomaly names.
void CompleteOps(RunData& run) {
  std::unordered_map<int64_t, int64_t> time_of_index;
  for (const auto& op : run.ops)
    if (op.status == EventType::kInfo && op.complete_index >= 0)
      time_of_index[op.complete_index] = -1;
  if (!time_of_index.empty())
    for (const auto& e : run.events)
      if (auto it = time_of_index.find(e.index); it != time_of_index.end()) it->second = e.time_ns;
  ExpandReferencedReads(run);
  run.info_ns.assign(run.ops.size(), -1);
  for (size_t i = 0; i < run.ops.size(); ++i) {
    const auto& op = run.ops[i];
    if (op.status == EventType::kInfo && op.complete_index >= 0)
      run.info_ns[i] = time_of_index[op.complete_index];
  }
}

}  // namespace

Result<RunData> LoadRun(const std::string& run_dir) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return Error{run_dir + ": not a run directory"};
  RunData run;
  run.run_dir = run_dir;
  ReadTest(run);
  ReadResults(run);
  ReadHistory(run);
  PairEvents(run);
  CompleteOps(run);
  return run;
}

RunData RunInMemory(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History events, std::optional<std::vector<history::Op>> ops) {
  RunData run;
  run.run_dir = run_dir;
  run.test = std::move(test);
  run.results = std::move(results);
  run.events = std::move(events);
  if (ops) {
    run.ops = std::move(*ops);
  } else {
    PairEvents(run);
  }
  CompleteOps(run);
  return run;
}

namespace {
std::vector<size_t> ChooseOps(const RunData& run, const std::set<int64_t>& referenced,
                              const EmbedOptions& embed, nlohmann::json* sampled);
bool Overview(const RunData& run, const EmbedOptions& embed) {
  return run.OpCount() > embed.max_full_ops || embed.window_ns.has_value();
}

// Reads back the values of the ops `want` names (every compact read is expanded, in file order,
// and kept expanded for the ops in `expand`).
void LoadValues(RunData& run, const std::vector<char>& want, const std::set<int64_t>& expand) {
  const std::string path = filename::History(run.run_dir);
  auto reader = history::JsonlReader::Open(path, history::LogReads::kAsWritten);
  auto give_up = [&](const std::string& why) {
    run.warnings.push_back("the ops' values could not be read back from " + path + " (" + why +
                           "): the report shows them without values");
  };
  if (!reader.ok()) return give_up(reader.error().message);
  history::OpStream pairer;
  history::LogReadExpander expander;
  auto take = [&](history::Op& op) {
    const auto id = static_cast<size_t>(op.id);
    if (id >= run.OpCount() || !want[id]) return;
    history::Op& kept = run.embedded[op.id];
    kept.invoke_value = std::move(op.invoke_value);
    kept.value = std::move(op.value);
  };
  for (;;) {
    auto e = (*reader)->Next();
    if (!e.ok()) return give_up(e.error().message);
    if (!e->has_value()) break;
    const bool invoke = (*e)->type == EventType::kInvoke;
    auto op = pairer.Add(std::move(**e));
    if (!op.ok()) return give_up(op.error().message);
    if (!*op || invoke) continue;
    history::Op& done = **op;
    if (done.status == EventType::kOk && done.f == "read" &&
        history::IsCompactLogRead(done.value)) {
      history::Event copy;
      copy.type = EventType::kOk;
      copy.f = "read";
      copy.value = done.value;
      if (auto x = expander.Expand(copy); !x) return give_up(x.error().message);
      if (expand.count(done.id)) done.value = std::move(copy.value);
    }
    take(done);
  }
  for (history::Op& op : pairer.Finish()) take(op);
}
}  // namespace

RunData RunStreamed(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History nemesis, history::OpSkeletons ops,
                    std::vector<int64_t> info_ns, int64_t end_ns, const EmbedOptions& embed) {
  RunData run;
  run.run_dir = run_dir;
  run.test = std::move(test);
  run.results = std::move(results);
  run.events = std::move(nemesis);
  run.streamed = true;
  run.skeletons = std::move(ops);
  run.info_ns = std::move(info_ns);
  run.info_ns.resize(run.OpCount(), -1);
  run.end_ns = end_ns;
  const std::set<int64_t> referenced = ReferencedOps(run.results);
  std::vector<char> want(run.OpCount(), Overview(run, embed) ? 0 : 1);
  if (Overview(run, embed)) {
    nlohmann::json sampled;
    for (size_t i : ChooseOps(run, referenced, embed, &sampled)) want[i] = 1;
  }
  // The embedded ops whole; their values as the history holds them.
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i]) run.embedded.emplace(static_cast<int64_t>(i), run.skeletons.Whole(i));
  LoadValues(run, want, referenced);
  return run;
}

const history::Op* RunData::Whole(size_t i) const {
  if (!streamed) return i < ops.size() ? &ops[i] : nullptr;
  auto it = embedded.find(static_cast<int64_t>(i));
  return it == embedded.end() ? nullptr : &it->second;
}

std::string OverallVerdict(const RunData& run) {
  if (run.results.is_object() && run.results.contains("verdict") &&
      run.results["verdict"].is_string()) {
    std::string v = run.results["verdict"].get<std::string>();
    if (v == "valid" || v == "invalid" || v == "unknown") return v;
  }
  return "unknown";
}

std::set<int64_t> ReferencedOps(const nlohmann::json& results) {
  std::set<int64_t> out;
  if (!results.is_object() || !results.contains("checkers") || !results["checkers"].is_array())
    return out;
  for (const auto& c : results["checkers"]) {
    if (!c.is_object() || !c.contains("details") || !c["details"].is_object()) continue;
    const auto& d = c["details"];
    if (d.contains("anomalies") && d["anomalies"].is_object()) {
      for (const auto& [name, a] : d["anomalies"].items()) {
        if (!a.is_object()) continue;
        if (a.contains("examples") && a["examples"].is_array())
          for (const auto& ex : a["examples"])
            if (ex.is_object() && ex.contains("ops")) CollectOpIds(ex["ops"], out);
        if (a.contains("summary") && a["summary"].is_object() && a["summary"].contains("ops"))
          CollectOpIds(a["summary"]["ops"], out);
      }
    }
    for (const char* k : {"blocked", "core", "core_context"})
      if (d.contains(k)) CollectOpIds(d[k], out);
    if (d.contains("must") && d["must"].is_number_integer()) out.insert(d["must"].get<int64_t>());
  }
  return out;
}

namespace {

// When an op ends for the report: its return, or its call when it never returned.
int64_t EndOf(const history::OpBrief& op) {
  return op.return_ns == history::kNever ? op.call_ns : op.return_ns;
}

// Sorted, merged [from, to] intervals.
std::vector<std::pair<int64_t, int64_t>> Merge(std::vector<std::pair<int64_t, int64_t>> w) {
  std::sort(w.begin(), w.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& x : w) {
    if (!out.empty() && x.first <= out.back().second) {
      out.back().second = std::max(out.back().second, x.second);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

// Marks in *keep every op overlapping one of `windows` (merged) and returns how many it marked.
// Ops are in call order (op ids follow invocations), so one sweep does.
size_t MarkOverlapping(const RunData& run, const std::vector<std::pair<int64_t, int64_t>>& windows,
                       std::vector<char>* keep) {
  size_t w = 0, n = 0;
  for (size_t i = 0; i < run.OpCount() && w < windows.size(); ++i) {
    const history::OpBrief op = run.Brief(i);
    while (w < windows.size() && windows[w].second < op.call_ns) ++w;
    if (w < windows.size() && windows[w].first <= EndOf(op) && !(*keep)[i]) {
      (*keep)[i] = 1;
      ++n;
    }
  }
  return n;
}

// Which ops an overview embeds (EmbedOptions); fills the "sampled" description.
std::vector<size_t> ChooseOps(const RunData& run, const std::set<int64_t>& referenced,
                              const EmbedOptions& embed, nlohmann::json* sampled) {
  const size_t n = run.OpCount();
  std::vector<char> keep(n, 0);
  for (int64_t id : referenced)
    if (id >= 0 && static_cast<size_t>(id) < n) keep[static_cast<size_t>(id)] = 1;
  if (embed.window_ns) MarkOverlapping(run, {*embed.window_ns}, &keep);
  // Around the named ops, as wide as half the budget allows.
  std::vector<std::pair<int64_t, int64_t>> windows;
  int64_t half = 0;
  for (int64_t width : {kAnomalyWindowNs, kAnomalyWindowNs / 10, int64_t{0}}) {
    std::vector<std::pair<int64_t, int64_t>> w;
    for (int64_t id : referenced) {
      if (id < 0 || static_cast<size_t>(id) >= n) continue;
      const history::OpBrief op = run.Brief(static_cast<size_t>(id));
      w.emplace_back(op.call_ns - width, EndOf(op) + width);
    }
    w = Merge(std::move(w));
    std::vector<char> trial = keep;
    if (width == 0 || MarkOverlapping(run, w, &trial) <= embed.max_full_ops / 2) {
      windows = std::move(w);
      half = width;
      keep = std::move(trial);
      break;
    }
  }
  const size_t stride = std::max<size_t>(
      1, (n + embed.max_full_ops / 2 - 1) / std::max<size_t>(1, embed.max_full_ops / 2));
  for (size_t i = 0; i < n; i += stride) keep[i] = 1;
  std::vector<size_t> chosen;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) chosen.push_back(i);
  nlohmann::json wins = nlohmann::json::array();
  for (const auto& [a, b] : windows) wins.push_back({a, b});
  *sampled = {{"ops", n},
              {"embedded", chosen.size()},
              {"stride", stride},
              {"window_ns", half},
              {"windows", wins},
              {"window", embed.window_ns ? nlohmann::json::array(
                                               {embed.window_ns->first, embed.window_ns->second})
                                         : nlohmann::json()}};
  return chosen;
}

}  // namespace

nlohmann::json ReportData(const RunData& run, const EmbedOptions& embed) {
  std::vector<std::string> strings;
  std::map<std::string, int> string_ids;
  auto intern = [&](const std::string& s) {
    auto [it, inserted] = string_ids.emplace(s, static_cast<int>(strings.size()));
    if (inserted) strings.push_back(s);
    return it->second;
  };
  std::set<int64_t> referenced = ReferencedOps(run.results);
  auto embed_value = [&](const nlohmann::json& v, bool whole) -> nlohmann::json {
    if (whole || v.is_primitive()) return v;
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() <= kMaxEmbeddedValueBytes) return v;
    // Cut on a UTF-8 boundary so the head stays valid text.
    size_t cut = 200;
    while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) ++cut;
    return nlohmann::json{{"$truncated", text.size()}, {"head", text.substr(0, cut)}};
  };

  const bool overview = Overview(run, embed);
  nlohmann::json sampled;
  std::vector<size_t> chosen;
  if (overview) {
    chosen = ChooseOps(run, referenced, embed, &sampled);
  } else {
    chosen.resize(run.OpCount());
    for (size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
  }
  nlohmann::json ops = nlohmann::json::array();
  for (size_t i : chosen) {
    const history::Op* held = run.Whole(i);
    if (!held) continue;  // not kept (RunStreamed keeps every op it chose)
    const history::Op& op = *held;
    bool whole = referenced.count(op.id) > 0;
    int status = op.status == EventType::kOk ? 0 : op.status == EventType::kFail ? 1 : 2;
    ops.push_back(nlohmann::json::array(
        {op.process, intern(op.f), op.key ? intern(*op.key) : -1, status, op.call_ns,
         op.return_ns == history::kNever ? -1 : op.return_ns, op.node ? intern(*op.node) : -1,
         op.invoke_index, op.complete_index, embed_value(op.invoke_value, whole),
         embed_value(op.value, whole), op.error ? nlohmann::json(*op.error) : nlohmann::json(),
         run.info_ns[i]}));
    if (overview) ops.back().push_back(op.id);
  }
  nlohmann::json nemesis = nlohmann::json::array();
  int64_t end_ns = run.end_ns;
  for (const auto& e : run.events) {
    end_ns = std::max(end_ns, e.time_ns);
    if (e.process == history::kNemesisProcess)
      nemesis.push_back(
          nlohmann::json::array({e.index, e.time_ns, e.f, embed_value(e.value, false)}));
  }
  nlohmann::json checkers = nlohmann::json::array();
  if (run.results.is_object() && run.results.contains("checkers") &&
      run.results["checkers"].is_array())
    checkers = run.results["checkers"];
  nlohmann::json concurrency;  // null when test.json does not say
  if (run.test.contains("workload") && run.test["workload"].is_object() &&
      run.test["workload"].contains("concurrency") &&
      run.test["workload"]["concurrency"].is_number_integer())
    concurrency = run.test["workload"]["concurrency"];
  nlohmann::json out{{"strings", strings},         {"ops", std::move(ops)},
                     {"concurrency", concurrency}, {"nemesis", nemesis},
                     {"end_ns", end_ns},           {"checkers", checkers},
                     {"referenced", referenced}};
  if (overview) {
    // Exact throughput: completions per (f, outcome) per bucket, as the page would count them
    // from every op (an info op counts when its info completion was recorded).
    const int64_t bucket = std::max<int64_t>(1'000'000, end_ns / kThroughputBuckets + 1);
    std::map<std::pair<int, int>, std::vector<int64_t>> series;
    for (size_t i = 0; i < run.OpCount(); ++i) {
      const history::OpBrief op = run.Brief(i);
      const int status = op.status == EventType::kOk ? 0 : op.status == EventType::kFail ? 1 : 2;
      const int64_t done = status == 2 ? run.info_ns[i] : op.return_ns;
      if (done < 0 || done == history::kNever) continue;
      auto& counts = series[{intern(std::string(op.f)), status}];
      const auto b = static_cast<size_t>(done / bucket);
      if (counts.size() <= b) counts.resize(b + 1, 0);
      ++counts[b];
    }
    nlohmann::json s = nlohmann::json::array();
    for (auto& [key, counts] : series) s.push_back({key.first, key.second, std::move(counts)});
    out["strings"] = strings;  // interned more above
    out["sampled"] = std::move(sampled);
    out["throughput"] = {{"bucket_ns", bucket}, {"series", std::move(s)}};
  }
  return out;
}

}  // namespace tidemark::reports
