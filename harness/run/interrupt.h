// Where the run looks for SIGINT/SIGTERM: the CLI's signal handler sets a flag, every phase that
// waits or loops asks Interrupted() and ends early (the run then tears down and still writes
// what it recorded).
#pragma once

#include <atomic>

namespace tidemark::run {

inline std::atomic<bool>* g_interrupt_flag = nullptr;

// Installs the flag the CLI's handler sets (nullptr: never interrupted).
inline void SetInterruptFlag(std::atomic<bool>* flag) { g_interrupt_flag = flag; }
inline bool Interrupted() { return g_interrupt_flag && g_interrupt_flag->load(); }

}  // namespace tidemark::run
