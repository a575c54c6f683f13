// ReadCompactor: writes a run's `log` reads in compact form (base/history/compact_reads.h,
// docs/history-format.md "Compact log reads") as the Recorder writes them.
//
// It accepts both shapes a read reaches the recorder in: a value tree holding "entries" (etcd,
// Redis, exec adapters) and tidelog's value text with the entries spliced in as text
// (Event::value_text). A read it cannot compact exactly (an unexpected key, an entry that is
// not [offset, "value"], offsets out of order) is written in full, as before; the checkers then
// say what is wrong with it.
//
// Threading: used under the recorder's lock, by one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/history/compact_reads.h"
#include "base/history/history.h"

namespace tidemark::run {

class ReadCompactor {
 public:
  // The compact value text of `e` when it is an ok log read that can be written compactly
  // (learning from it); nullopt for any other event.
  std::optional<std::string> Compact(const history::Event& e);

 private:
  history::KnownLog known_;
  std::vector<history::KnownLog::EntryView> entries_;  // the read being compacted
  std::vector<std::string> dumped_;  // the payload texts of a read given as a JSON tree
};

}  // namespace tidemark::run
