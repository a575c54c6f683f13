// The `tidelog dump` document: the streamed writer prints exactly what nlohmann::json prints for
// the whole object (the harness parses it: NormalizeDump, ReplicaLogFromJson).
#include "codec.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace tidemark::tidelog {
namespace {

using nlohmann::json;

// The document as one nlohmann::json object: how `tidelog dump` printed it before it streamed.
std::string DomDump(const WalState& st) {
  json j;
  j["generation"] = st.hard_state.generation;
  j["voted_for"] = st.hard_state.voted_for.empty() ? json(nullptr) : json(st.hard_state.voted_for);
  j["hwm_hint"] = st.hwm;
  j["records"] = st.records;
  j["valid_bytes"] = st.valid_bytes;
  j["corruption"] = st.corruption.empty() ? json(nullptr) : json(st.corruption);
  json entries = json::array();
  for (const auto& e : st.log) entries.push_back(EntryToJson(e));
  j["entries"] = std::move(entries);
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string Streamed(const WalState& st) {
  std::ostringstream out;
  EXPECT_TRUE(WriteDumpJson(st, out));
  return out.str();
}

TEST(WriteDumpJsonTest, EmptyLogMatchesWholeDocument) {
  WalState st;
  EXPECT_EQ(Streamed(st), DomDump(st));
  EXPECT_EQ(Streamed(st),
            "{\"corruption\":null,\"entries\":[],\"generation\":0,\"hwm_hint\":0,\"records\":0,"
            "\"valid_bytes\":0,\"voted_for\":null}\n");
}

TEST(WriteDumpJsonTest, ManyEntriesOfEveryKindMatchWholeDocument) {
  const unsigned seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  WalState st;
  st.hard_state = {9, "n3"};
  st.hwm = 1234;
  st.records = 5000;
  st.valid_bytes = 987654;
  st.corruption = "CRC mismatch in record at byte 987654";
  // Enough entries to cross the writer's flush threshold many times; payloads with quotes,
  // control characters, non-ASCII and invalid UTF-8 (replaced, as in the whole document).
  const std::string odd[] = {"", "\"q\"", "tab\there", "\xc3\xa9t\xc3\xa9", "bad\xff\xfe", "\\"};
  for (uint64_t i = 0; i < 4000; ++i) {
    Entry e;
    e.index = i;
    e.generation = 1 + i / 1000;
    e.kind = static_cast<EntryKind>(rng() % 4);
    e.client_id = e.kind == EntryKind::kNoop ? "" : "c" + std::to_string(rng() % 32);
    e.seq = rng();
    e.payload = std::to_string(rng()) + odd[rng() % std::size(odd)];
    st.log.push_back(std::move(e));
  }
  const std::string streamed = Streamed(st);
  EXPECT_EQ(streamed, DomDump(st));
  // And it parses back to the same entries.
  json doc = json::parse(streamed, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_EQ(doc["entries"].size(), st.log.size());
  EXPECT_EQ(EntryFromJson(doc["entries"][17]), st.log[17]);
}

TEST(WriteDumpJsonTest, FailedStreamIsReported) {
  WalState st;
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  EXPECT_FALSE(WriteDumpJson(st, out));
}

}  // namespace
}  // namespace tidemark::tidelog
