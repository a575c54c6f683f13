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

KnownLog::Split KnownLog::SplitRead(int64_t from, std::span<const EntryView> read) const {
  const size_t start = FirstAtOrAfter(from);
  Split s;
  if (start == size()) {
    s.head = read.size();
    return s;
  }
  const int64_t first_known = (*this)[start].offset;
  while (s.head < read.size() && read[s.head].offset < first_known) ++s.head;
  while (s.head + s.known < read.size() && start + s.known < size() &&
         read[s.head + s.known].offset == (*this)[start + s.known].offset &&
         read[s.head + s.known].payload == (*this)[start + s.known].payload) {
    ++s.known;
  }
  return s;
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

namespace compact_detail {

Result<Ok> FromAndKnown(const json& v, int64_t* from, int64_t* known) {
  auto f = v.find("from");
  if (f == v.end() || !JsonNonNegative(*f, from)) {
    return Error{"a compact read needs an integer \"from\" >= 0"};
  }
  auto k = v.find("known");
  if (k == v.end() || !JsonNonNegative(*k, known)) {
    return Error{"a compact read's \"known\" must be an integer >= 0, got " +
                 (k == v.end() ? std::string("null") : k->dump())};
  }
  if (!v.contains("tail")) return Error{"a compact read needs a \"tail\" array"};
  return Ok{};
}

Result<Ok> RawEntries(const json& value, const char* name,
                      std::vector<std::pair<int64_t, std::string>>* out) {
  auto it = value.find(name);
  if (it == value.end()) return Ok{};
  if (!it->is_array())
    return Error{std::string("a compact read's \"") + name + "\" must be an array"};
  out->reserve(it->size());
  for (const json& pair : *it) {
    int64_t offset = 0;
    if (!pair.is_array() || pair.size() != 2 || !JsonNonNegative(pair[0], &offset) ||
        !pair[1].is_string()) {
      return Error{std::string("a compact read's \"") + name +
                   "\" entries must be [offset, \"value\"], got " + pair.dump()};
    }
    out->emplace_back(offset, pair[1].get<std::string>());
  }
  return Ok{};
}

Error TooFewKnown(int64_t known, size_t have, int64_t from) {
  return Error{"a compact read repeats " + std::to_string(known) +
               " known entries but the known log holds " + std::to_string(have) +
               " at offsets >= " + std::to_string(from) +
               " (was the history filtered or reordered? compact reads need every read "
               "before them)"};
}

Error OutOfOrder(int64_t at) {
  return Error{"a compact read's entries are out of offset order (at offset " + std::to_string(at) +
               ")"};
}

Error HeadMisplaced() {
  return Error{
      "a compact read's head does not lie between \"from\" and the known log's "
      "entries at or after it"};
}

}  // namespace compact_detail

Result<Ok> LogReadExpander::Expand(Event& e) {
  if (e.type != EventType::kOk || e.f != "read" || !IsCompactLogRead(e.value)) return Ok{};
  json& v = e.value;
  json entries = json::array();
  auto read = ReadCompactEntries(
      known_, v, [](int64_t, std::string&& value) { return std::move(value); },
      [&entries](int64_t offset, const std::string& value) {
        entries.push_back(json::array({offset, value}));
      });
  if (!read) return read.error();
  v.erase("known");
  v.erase("head");
  v.erase("tail");
  v["entries"] = std::move(entries);
  return Ok{};
}

}  // namespace tidemark::history
