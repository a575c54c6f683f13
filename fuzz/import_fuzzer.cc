// libFuzzer target for one history parser, chosen at compile time by TIDEMARK_FUZZ_FORMAT
// (a tidemark::history::Format enumerator). Feeds the input to ImportText and PairOps, which must
// return (a value or an Error) and never crash, hang or leak. On a successful import it also
// checks the round trips the exporters promise: EDN export -> import, and JSONL write -> read,
// give the same events back (compared as dumped JSON, so NaN and bad UTF-8 compare by their
// printed form).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/history/edn_export.h"
#include "base/history/import.h"
#include "base/history/jsonl.h"

namespace {

using tidemark::history::Event;
using tidemark::history::History;

std::string Dump(const History& h) {
  std::string out;
  for (const Event& e : h)
    out += tidemark::history::ToJson(e).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace) +
           "\n";
  return out;
}

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "round trip broken (%s): %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace h = tidemark::history;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto located = h::ImportTextLocated(text, h::Format::TIDEMARK_FUZZ_FORMAT, "fuzz");
  if (!located) {
    if (located.error().message.rfind("fuzz", 0) != 0) Die("error prefix", located.error().message);
    return 0;
  }
  if (located->lines.size() != located->events.size()) Die("lines", "size mismatch");
  auto ops = h::PairOps(*located);
  (void)ops;

  const History& hist = located->events;
  const std::string want = Dump(hist);
  auto from_edn = h::ImportText(h::ToJepsenEdn(hist), h::Format::kJepsenEdn, "edn");
  if (!from_edn) Die("edn import", from_edn.error().message);
  if (Dump(*from_edn) != want) Die("edn", want + "\n!=\n" + Dump(*from_edn));

  // JSONL refuses what the recorder never writes: nemesis events other than info, empty f.
  bool jsonl_ok = true;
  for (const Event& e : hist)
    jsonl_ok = jsonl_ok && e.f.size() > 0 &&
               (e.process != h::kNemesisProcess || e.type == h::EventType::kInfo);
  if (jsonl_ok) {
    std::string jsonl;
    for (const Event& e : hist) jsonl += h::ToJsonLine(e) + "\n";
    auto from_jsonl = h::ImportText(jsonl, h::Format::kJsonl, "jsonl");
    if (!from_jsonl) Die("jsonl import", from_jsonl.error().message);
    if (Dump(*from_jsonl) != want) Die("jsonl", want + "\n!=\n" + Dump(*from_jsonl));
  }
  return 0;
}
