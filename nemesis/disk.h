// Disk corruption while a node is down (`--nemesis corrupt`): which file, where, how much, and
// doing it. The choice is pure (seeded), so a run's corruptions repeat with its seed; the
// effect writes through whatever is mounted on the data dir and fsyncs, so it is durable even
// on tidemark-lazyfs.
//
// Threading: value types and free functions; the caller serialises effects per node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/rng.h"

namespace tidemark::nemesis {

enum class CorruptMode { kFlip, kZero, kTruncate };
const char* ToString(CorruptMode m);

struct DataFile {
  std::string path;  // relative to the data dir
  uint64_t size = 0;
};

struct Corruption {
  std::string file;  // relative to the data dir
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes changed (flip, zero) or cut off the end (truncate)
  CorruptMode mode = CorruptMode::kFlip;
  nlohmann::json ToJson() const;
};

// Every regular file under `dir` (recursively), sorted by path. Missing dir: empty list.
std::vector<DataFile> ListDataFiles(const std::string& dir);

// A random non-empty file, a random mode, and a chunk inside the file: for flip and zero,
// 1..max_chunk bytes lying wholly inside it; for truncate, a cut at a random offset below its
// size (length = what is cut off). nullopt when every file is empty (nothing to corrupt).
std::optional<Corruption> ChooseCorruption(const std::vector<DataFile>& files, Rng& rng,
                                           uint64_t max_chunk = 4096);

// Applies `c` to dir/c.file: flip inverts every bit of the chunk, zero overwrites it with
// zeros, truncate cuts the file at c.offset; then fsyncs the file.
Status ApplyCorruption(const std::string& dir, const Corruption& c);

}  // namespace tidemark::nemesis
