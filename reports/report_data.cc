#include "reports/report_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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

// The last event's time.
int64_t EndNs(const RunData& run) {
  int64_t end_ns = run.end_ns;
  for (const auto& e : run.events) end_ns = std::max(end_ns, e.time_ns);
  return end_ns;
}

// Finds info completion times, expands the log reads an anomaly names and counts the ops.
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
  run.tally = OpTally(ReferencedOps(run.results), ThroughputBucketNs(EndNs(run)));
  for (size_t i = 0; i < run.ops.size(); ++i) run.tally.Add(run.ops[i], run.info_ns[i]);
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

std::optional<RunData> LoadRunStreamed(const std::string& run_dir, const EmbedOptions& embed) {
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) return std::nullopt;
  RunData files;
  files.run_dir = run_dir;
  ReadTest(files);
  const size_t test_warnings = files.warnings.size();
  ReadResults(files);
  if (files.results.is_null() || files.warnings.size() != test_warnings) return std::nullopt;
  // One pass for what RunStreamed takes (the nemesis events, the last event's time), which also
  // makes sure the file reads and pairs cleanly; LoadRun explains a file that does not.
  auto reader =
      history::JsonlReader::Open(filename::History(run_dir), history::LogReads::kAsWritten);
  if (!reader.ok()) return std::nullopt;
  history::OpStream pairer;
  history::History nemesis;
  int64_t end_ns = 0, last_index = -1;
  for (;;) {
    auto e = (*reader)->Next();
    if (!e.ok()) return std::nullopt;
    if (!e->has_value()) break;
    history::Event& ev = **e;
    if (ev.index <= last_index) return std::nullopt;
    last_index = ev.index;
    end_ns = std::max(end_ns, ev.time_ns);
    if (ev.process == history::kNemesisProcess) {
      nemesis.push_back(std::move(ev));
    } else if (!pairer.Add(std::move(ev)).ok()) {
      return std::nullopt;
    }
  }
  if (!(*reader)->torn_tail().empty()) return std::nullopt;
  RunData run = RunStreamed(run_dir, std::move(files.test), std::move(files.results),
                            std::move(nemesis), end_ns, embed);
  run.warnings.insert(run.warnings.begin(), files.warnings.begin(), files.warnings.end());
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

// Reads PATH's client ops in file order, compact log reads as written: `invoked` (when given) as
// each op is invoked, in id order; `done` as each completes, with when an `info` completion was
// recorded (-1 for another), then the ops that never completed (info, as PairOps makes them), in
// id order. `done` may take the op's values. Errors: the file's, a pairing error, or `done`'s.
Status ForEachOp(const std::string& path, const std::function<void(const history::Op&)>& invoked,
                 const std::function<Status(history::Op&, int64_t info_ns)>& done) {
  auto reader = history::JsonlReader::Open(path, history::LogReads::kAsWritten);
  if (!reader.ok()) return reader.error();
  history::OpStream pairer;
  for (;;) {
    auto e = (*reader)->Next();
    if (!e.ok()) return e.error();
    if (!e->has_value()) break;
    const EventType type = (*e)->type;
    const int64_t time_ns = (*e)->time_ns;
    auto op = pairer.Add(std::move(**e));
    if (!op.ok())
      return Error{path + ":" + std::to_string((*reader)->line()) + ": " + op.error().message};
    if (!*op) continue;  // a nemesis event
    if (type == EventType::kInvoke) {
      if (invoked) invoked(**op);
      continue;
    }
    if (Status s = done(**op, type == EventType::kInfo ? time_ns : -1); !s.ok()) return s;
  }
  for (history::Op& op : pairer.Finish())
    if (Status s = done(op, -1); !s.ok()) return s;
  return OkStatus();
}

// The second pass of RunStreamed, after `tally` counted the same ops: keeps in *held the ops
// `chooser` takes, whole. Compact log reads are expanded in file order (each needs every one
// before it) while an op an anomaly names is still to come, and the named ones keep their
// expansion; the others keep their values as written.
Status CollectOps(const std::string& path, const OpTally& tally, OpChooser& chooser,
                  std::map<int64_t, RunData::Embedded>* held) {
  const std::set<int64_t>& referenced = tally.referenced();
  history::LogReadExpander expander;
  size_t named_to_come = tally.referenced_times().size();  // the named ops that exist
  int narrowed = 0;
  auto invoked = [&](const history::Op& op) { chooser.Invoke(op.id, op.call_ns); };
  auto done = [&](history::Op& op, int64_t info_ns) -> Status {
    const bool named = referenced.count(op.id) > 0;
    if (named_to_come > 0 && op.status == EventType::kOk && op.f == "read" &&
        history::IsCompactLogRead(op.value)) {
      history::Event copy;
      copy.type = EventType::kOk;
      copy.f = "read";
      copy.value = op.value;
      if (auto x = expander.Expand(copy); !x)
        return Error{path + ": op " + std::to_string(op.id) + ": " + x.error().message};
      if (named) op.value = std::move(copy.value);
    }
    if (named) --named_to_come;
    if (chooser.Complete(op.id, EndOf(op)))
      held->insert_or_assign(op.id, RunData::Embedded{std::move(op), info_ns});
    if (chooser.narrowed() != narrowed) {
      narrowed = chooser.narrowed();
      std::erase_if(*held, [&](const auto& kept) { return !chooser.Wanted(kept.first); });
    }
    return OkStatus();
  };
  return ForEachOp(path, invoked, done);
}

}  // namespace

RunData RunStreamed(const std::string& run_dir, nlohmann::json test, nlohmann::json results,
                    history::History nemesis, int64_t end_ns, const EmbedOptions& embed) {
  RunData run;
  run.run_dir = run_dir;
  run.test = std::move(test);
  run.results = std::move(results);
  run.events = std::move(nemesis);
  run.streamed = true;
  run.end_ns = end_ns;
  const std::set<int64_t> referenced = ReferencedOps(run.results);
  const std::string path = filename::History(run.run_dir);
  // One pass counts every op; the other, knowing how many there are and when the named ones ran,
  // keeps the ops the report embeds.
  OpTally tally(referenced, ThroughputBucketNs(EndNs(run)));
  Status read = ForEachOp(path, nullptr, [&](const history::Op& op, int64_t info_ns) {
    tally.Add(op, info_ns);
    return OkStatus();
  });
  if (read.ok()) {
    OpChooser chooser(tally, embed);
    read = CollectOps(path, tally, chooser, &run.embedded);
    if (read.ok()) {
      const std::vector<int64_t> chosen = chooser.Chosen(&run.sampled);
      std::erase_if(run.embedded, [&](const auto& kept) {
        return !std::binary_search(chosen.begin(), chosen.end(), kept.first);
      });
      run.tally = std::move(tally);
    }
  }
  if (!read.ok()) {
    run.embedded.clear();
    run.sampled = nlohmann::json();
    run.warnings.push_back("the ops could not be read back from " + path + " (" +
                           read.error().message + "): the report shows none");
  }
  return run;
}

const history::Op* RunData::Whole(size_t i) const {
  if (!streamed) return i < ops.size() ? &ops[i] : nullptr;
  auto it = embedded.find(static_cast<int64_t>(i));
  return it == embedded.end() ? nullptr : &it->second.op;
}

int64_t RunData::InfoNs(size_t i) const {
  if (!streamed) return i < info_ns.size() ? info_ns[i] : -1;
  auto it = embedded.find(static_cast<int64_t>(i));
  return it == embedded.end() ? -1 : it->second.info_ns;
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

// The ops ReportData embeds, in id order; *sampled as OpChooser::Chosen.
std::vector<int64_t> ChooseOps(const RunData& run, const EmbedOptions& embed,
                               nlohmann::json* sampled) {
  if (run.streamed) {
    *sampled = run.sampled;
    std::vector<int64_t> chosen;
    for (const auto& [id, kept] : run.embedded) chosen.push_back(id);
    return chosen;
  }
  OpChooser chooser(run.tally, embed);
  if (chooser.overview()) {
    for (const history::Op& op : run.ops) {
      chooser.Invoke(op.id, op.call_ns);
      chooser.Complete(op.id, EndOf(op));
    }
  }
  return chooser.Chosen(sampled);
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

  nlohmann::json sampled;
  const std::vector<int64_t> chosen = ChooseOps(run, embed, &sampled);
  const bool overview = !sampled.is_null();
  nlohmann::json ops = nlohmann::json::array();
  for (int64_t id : chosen) {
    const auto i = static_cast<size_t>(id);
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
         run.InfoNs(i)}));
    if (overview) ops.back().push_back(op.id);
  }
  nlohmann::json nemesis = nlohmann::json::array();
  const int64_t end_ns = EndNs(run);
  for (const auto& e : run.events) {
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
    // The names of the ops not embedded get their ids in the order of the first op counted.
    std::vector<std::pair<int64_t, const std::string*>> first;
    for (const auto& [f, id] : run.tally.first_counted()) first.emplace_back(id, &f);
    std::sort(first.begin(), first.end());
    for (const auto& [id, f] : first) intern(*f);
    std::map<std::pair<int, int>, std::vector<int64_t>> series;
    for (const auto& [key, counts] : run.tally.series())
      series[{intern(key.first), key.second}] = counts;
    nlohmann::json s = nlohmann::json::array();
    for (auto& [key, counts] : series) s.push_back({key.first, key.second, std::move(counts)});
    out["strings"] = strings;  // interned more above
    out["sampled"] = std::move(sampled);
    out["throughput"] = {{"bucket_ns", run.tally.bucket_ns()}, {"series", std::move(s)}};
  }
  return out;
}

}  // namespace tidemark::reports
