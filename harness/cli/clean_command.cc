#include "harness/cli/clean_command.h"

#include <filesystem>
#include <iostream>
#include <vector>

#include "nemesis/clean.h"

namespace tidemark::cli {

int RunCleanCommand(const std::string& store, bool machine) {
  std::vector<nemesis::CleanReport> reports;
  if (machine) reports.push_back(nemesis::CleanMachine());
  std::error_code ec;
  if (!machine || std::filesystem::is_directory(store, ec))
    reports.push_back(nemesis::CleanLeftovers(store));
  bool removed = false, failed = false;
  for (const auto& report : reports) {
    for (const auto& r : report.removed) std::cout << "removed: " << r << "\n";
    for (const auto& r : report.skipped) std::cout << "skipped: " << r << "\n";
    for (const auto& r : report.errors) std::cerr << "error: " << r << "\n";
    removed = removed || !report.removed.empty();
    failed = failed || !report.errors.empty();
  }
  if (!removed && !failed)
    std::cout << "nothing to clean "
              << (machine ? "on this machine (" + nemesis::MachineRunsDir() + ")"
                          : "under " + store)
              << "\n";
  return failed ? 255 : 0;
}

}  // namespace tidemark::cli
