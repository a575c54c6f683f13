#include "base/history/compact_reads.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace tidemark::history {
namespace {

using nlohmann::json;

// The JSON text of entries [o,payload] joined by commas, inside brackets.
void AppendEntries(std::string& out, std::span<const KnownLog::EntryView> entries, size_t first,
                   size_t last) {
  out += '[';
  for (size_t i = first; i < last; ++i) {
    if (i > first) out += ',';
    out += '[';
    out += std::to_string(entries[i].offset);
    out += ',';
    out += entries[i].payload;
    out += ']';
  }
  out += ']';
}

bool StrictlyIncreasing(std::span<const KnownLog::Entry> v) {
  return std::adjacent_find(v.begin(), v.end(), [](const auto& a, const auto& b) {
           return a.offset >= b.offset;
         }) == v.end();
}

// Parses a compact read's "head" or "tail" (absent: empty) into entries whose payload is the
// value itself.
Result<std::vector<KnownLog::Entry>> ParseEntries(const json& value, const char* name) {
  std::vector<KnownLog::Entry> out;
  auto it = value.find(name);
  if (it == value.end()) return out;
  if (!it->is_array())
    return Error{std::string("a compact read's \"") + name + "\" must be an array"};
  out.reserve(it->size());
  for (const json& pair : *it) {
    KnownLog::Entry e;
    if (!pair.is_array() || pair.size() != 2 || !JsonNonNegative(pair[0], &e.offset) ||
        !pair[1].is_string()) {
      return Error{std::string("a compact read's \"") + name +
                   "\" entries must be [offset, \"value\"], got " + pair.dump()};
    }
    e.payload = pair[1].get<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

bool JsonNonNegative(const json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (!v.is_number_integer()) return false;
  *out = v.get<int64_t>();
  return *out >= 0;
}

size_t KnownLog::FirstAtOrAfter(int64_t from) const {
  return static_cast<size_t>(
      std::lower_bound(entries_.begin(), entries_.end(), from,
                       [](const Entry& e, int64_t x) { return e.offset < x; }) -
      entries_.begin());
}

KnownLog::Split KnownLog::SplitRead(int64_t from, std::span<const EntryView> read) const {
  const size_t start = FirstAtOrAfter(from);
  Split s;
  if (start == entries_.size()) {
    s.head = read.size();
    return s;
  }
  const int64_t first_known = entries_[start].offset;
  while (s.head < read.size() && read[s.head].offset < first_known) ++s.head;
  while (s.head + s.known < read.size() && start + s.known < entries_.size() &&
         read[s.head + s.known].offset == entries_[start + s.known].offset &&
         read[s.head + s.known].payload == entries_[start + s.known].payload) {
    ++s.known;
  }
  return s;
}

bool KnownLog::Learn(int64_t from, std::span<const Entry> head, std::span<const Entry> tail) {
  if (!StrictlyIncreasing(head) || !StrictlyIncreasing(tail)) return false;
  const size_t start = FirstAtOrAfter(from);
  if (!head.empty() &&
      (head.front().offset < from ||
       (start < entries_.size() && head.back().offset >= entries_[start].offset))) {
    return false;
  }
  entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(start), head.begin(), head.end());
  for (const Entry& e : tail) {
    if (entries_.empty() || e.offset > entries_.back().offset) {
      entries_.push_back(e);
      continue;
    }
    const size_t at = FirstAtOrAfter(e.offset);  // a gap in the known log, or an entry it has
    if (entries_[at].offset != e.offset) {
      entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(at), e);
    }
  }
  return true;
}

std::string CompactLogRead(KnownLog& known, int64_t from, int64_t to, int64_t hwm,
                           const std::string& consistency_json,
                           std::span<const KnownLog::EntryView> entries) {
  const KnownLog::Split s = known.SplitRead(from, entries);
  std::string out;
  out.reserve(96 + 24 * (entries.size() - s.known));
  out += '{';
  if (!consistency_json.empty()) {
    out += "\"consistency\":";
    out += consistency_json;
    out += ',';
  }
  out += "\"from\":";
  out += std::to_string(from);
  if (s.head > 0) {
    out += ",\"head\":";
    AppendEntries(out, entries, 0, s.head);
  }
  out += ",\"hwm\":";
  out += std::to_string(hwm);
  out += ",\"known\":";
  out += std::to_string(s.known);
  out += ",\"tail\":";
  AppendEntries(out, entries, s.head + s.known, entries.size());
  out += ",\"to\":";
  out += std::to_string(to);
  out += '}';
  const auto own = [](std::span<const KnownLog::EntryView> v) {
    std::vector<KnownLog::Entry> copy;
    copy.reserve(v.size());
    for (const auto& e : v) copy.push_back({e.offset, std::string(e.payload)});
    return copy;
  };
  known.Learn(from, own(entries.first(s.head)), own(entries.subspan(s.head + s.known)));
  return out;
}

Result<Ok> ExpandLogReads(History& h) {
  LogReadExpander x;
  for (Event& e : h) {
    if (auto r = x.Expand(e); !r) {
      return Error{"event " + std::to_string(e.index) + ": " + r.error().message};
    }
  }
  return Ok{};
}

Result<Ok> ExpandLogReads(std::vector<Op>& ops) {
  // The completions' order is the file's: expand in it, one read at a time.
  std::vector<size_t> reads;
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].status == EventType::kOk && ops[i].f == "read" && IsCompactLogRead(ops[i].value))
      reads.push_back(i);
  std::sort(reads.begin(), reads.end(),
            [&ops](size_t a, size_t b) { return ops[a].complete_index < ops[b].complete_index; });
  LogReadExpander x;
  for (size_t i : reads) {
    Event e;
    e.type = EventType::kOk;
    e.f = "read";
    e.value = std::move(ops[i].value);
    auto r = x.Expand(e);
    ops[i].value = std::move(e.value);
    if (!r)
      return Error{"event " + std::to_string(ops[i].complete_index) + ": " + r.error().message};
  }
  return Ok{};
}

bool IsCompactLogRead(const json& value) { return value.is_object() && value.contains("known"); }

Result<Ok> LogReadExpander::Expand(Event& e) {
  if (e.type != EventType::kOk || e.f != "read" || !IsCompactLogRead(e.value)) return Ok{};
  json& v = e.value;
  int64_t from = 0, known = 0;
  auto f = v.find("from");
  if (f == v.end() || !JsonNonNegative(*f, &from)) {
    return Error{"a compact read needs an integer \"from\" >= 0"};
  }
  if (!JsonNonNegative(v["known"], &known)) {
    return Error{"a compact read's \"known\" must be an integer >= 0, got " + v["known"].dump()};
  }
  if (!v.contains("tail")) return Error{"a compact read needs a \"tail\" array"};
  auto head = ParseEntries(v, "head");
  if (!head) return head.error();
  auto tail = ParseEntries(v, "tail");
  if (!tail) return tail.error();
  const size_t start = known_.FirstAtOrAfter(from);
  const size_t have = known_.size() - start;
  if (static_cast<uint64_t>(known) > have) {
    return Error{"a compact read repeats " + std::to_string(known) +
                 " known entries but the known log holds " + std::to_string(have) +
                 " at offsets >= " + std::to_string(from) +
                 " (was the history filtered or reordered? compact reads need every read "
                 "before them)"};
  }
  json entries = json::array();
  int64_t prev = -1;
  auto add = [&entries, &prev](const KnownLog::Entry& x) {
    if (x.offset <= prev) return false;
    prev = x.offset;
    entries.push_back(json::array({x.offset, x.payload}));
    return true;
  };
  bool ordered = std::all_of(head->begin(), head->end(), add);
  for (size_t i = start; ordered && i < start + static_cast<size_t>(known); ++i)
    ordered = add(known_[i]);
  ordered = ordered && std::all_of(tail->begin(), tail->end(), add);
  if (!ordered) {
    return Error{"a compact read's entries are out of offset order (at offset " +
                 std::to_string(prev) + ")"};
  }
  if (!known_.Learn(from, *head, *tail)) {
    return Error{
        "a compact read's head does not lie between \"from\" and the known log's "
        "entries at or after it"};
  }
  v.erase("known");
  v.erase("head");
  v.erase("tail");
  v["entries"] = std::move(entries);
  return Ok{};
}

}  // namespace tidemark::history
