// The default name of a test: the directory its runs are stored under and the name test.json,
// the report, junit.xml and the store index show. One spelling everywhere: the name is already
// in store::SafeName form, so `--nemesis partition,kill` gives `partition-kill` in all of them.
#pragma once

#include <string>

#include "harness/run/runner.h"

namespace tidemark::run {

// <target>-<workload>-<faults or scenario>, then -bug-<name> for each --bug and -args-<words>
// for --node-args, so a run with a deliberate bug or extra node flags never lands in (and is
// never compared with) the directory of a plain run. `opts.test_name` wins when set (also
// brought to SafeName form).
std::string DefaultTestName(const std::string& target_name, const RunOptions& opts);

}  // namespace tidemark::run
