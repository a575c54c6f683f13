// `tidemark clean`: sweep what crashed runs left behind (nemesis/clean.h).
#pragma once

#include <string>

namespace tidemark::cli {

// With `machine`, sweeps every run listed machine-wide (nemesis::CleanMachine) and the runs under
// `store` if it exists; otherwise only the runs under `store`. Prints what was removed or left
// alone; returns 0, or 255 when something could not be removed.
int RunCleanCommand(const std::string& store, bool machine);

}  // namespace tidemark::cli
