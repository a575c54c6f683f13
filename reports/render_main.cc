// reports_render: writes report.html and junit.xml for run directories, and index.html for a
// store. A developer tool (the user-facing command is `tidemark report`).
//   reports_render RUN_DIR...        report.html + junit.xml in each
//   reports_render --index STORE     STORE/index.html
// Exit code 0 when every file was written, 255 otherwise.
#include <iostream>
#include <string>

#include "reports/index.h"
#include "reports/junit.h"
#include "reports/report.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: reports_render RUN_DIR... | reports_render --index STORE\n";
    return 254;
  }
  int rc = 0;
  auto check = [&](const tidemark::Status& s) {
    if (!s.ok()) {
      std::cerr << "reports_render: " << s.error().message << "\n";
      rc = 255;
    }
  };
  std::string first = argv[1];
  if (first == "--index") {
    for (int i = 2; i < argc; ++i) check(tidemark::reports::WriteStoreIndex(argv[i]));
    return rc;
  }
  for (int i = 1; i < argc; ++i) {
    check(tidemark::reports::WriteReport(argv[i]));
    check(tidemark::reports::WriteJUnit(argv[i]));
  }
  return rc;
}
