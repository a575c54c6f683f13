#include "harness/run/test_name.h"

#include "runstore/store.h"

namespace tidemark::run {

std::string DefaultTestName(const std::string& target_name, const RunOptions& opts) {
  if (!opts.test_name.empty()) return store::SafeName(opts.test_name);
  std::string name = target_name + "-" + opts.workload + "-" +
                     (opts.scenario.empty() ? opts.nemesis : opts.scenario);
  for (const std::string& bug : opts.bugs) name += "-bug-" + bug;
  if (!opts.node_args.empty()) {
    name += "-args";
    for (const std::string& arg : opts.node_args) {
      size_t word = arg.find_first_not_of('-');  // "--heartbeat-ms" reads "heartbeat-ms"
      name += "-" + arg.substr(word == std::string::npos ? 0 : word);
    }
  }
  return store::SafeName(name);
}

}  // namespace tidemark::run
