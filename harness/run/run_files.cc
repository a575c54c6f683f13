#include "harness/run/run_files.h"

#include <ostream>
#include <utility>

#include "base/filename.h"
#include "reports/index.h"
#include "reports/junit.h"
#include "reports/report.h"
#include "reports/report_data.h"

namespace tidemark::run {

nlohmann::json ToJson(const StopCause& cause) {
  nlohmann::json j = {{"phase", cause.phase}, {"message", cause.message}};
  j["node"] = cause.node.empty() ? nlohmann::json() : nlohmann::json(cause.node);
  j["log_tail"] = cause.log_tail;
  return j;
}

Result<std::string> WriteRunFiles(RunRecord record, std::ostream& out) {
  const std::string& path = record.dir.path;
  if (Status s = store::WriteJsonFile(filename::Results(path), record.results); !s.ok())
    return s.error();
  (void)store::UpdateLatestLinks(record.dir);
  std::string name = record.test.value("name", record.dir.test);
  if (Status s = reports::WriteJUnit(path, name, record.results); !s.ok())
    out << "warning: could not write junit.xml: " << s.error().message << "\n";
  // The report before the index, whose row links to it when it exists.
  reports::RunData data =
      record.streamed_nemesis
          ? reports::RunStreamed(path, record.test, record.results,
                                 std::move(*record.streamed_nemesis), record.end_ns, {})
          : reports::RunInMemory(path, record.test, record.results, std::move(record.events),
                                 std::move(record.ops));
  std::string shown = filename::Report(path);
  if (Status s = reports::WriteReport(data); !s.ok()) {
    out << "warning: could not write the report: " << s.error().message << "\n";
    shown = filename::Results(path);
  }
  reports::KnownRun known{path, std::move(record.test), std::move(record.results)};
  if (Status s = reports::WriteStoreIndex(record.dir.root, known); !s.ok())
    out << "warning: could not update the store index: " << s.error().message << "\n";
  return shown;
}

}  // namespace tidemark::run
