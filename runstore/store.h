// The run store (docs/architecture.md): one directory per run, and the links that find the latest.
//
//   STORE/<test>/<UTC timestamp>/   test.json history.jsonl results.json harness.log nodes/<n>/ ...
//   STORE/<test>/latest -> <UTC timestamp>
//   STORE/latest        -> <test>/<UTC timestamp>
//
// Pure filesystem work; no threads. Errors are returned, never thrown.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tidemark::store {

struct RunDir {
  std::string root;       // the store root
  std::string test;       // test name (a safe path component)
  std::string timestamp;  // 20261122T101500.123Z
  std::string path;       // root/test/timestamp
};

// "tidelog-log-partition" from free text: lowercase, [a-z0-9._-], no leading dot, non-empty.
std::string SafeName(const std::string& name);

// UTC timestamp with milliseconds, sortable: 20261122T101500.123Z.
std::string UtcTimestamp(std::chrono::system_clock::time_point t);

// Creates root/test/<timestamp>/ (and nodes/), unique even for two runs in the same millisecond.
Result<RunDir> CreateRunDir(const std::string& root, const std::string& test,
                            std::chrono::system_clock::time_point now);

// Points root/test/latest and root/latest at this run (atomically: symlink then rename).
Status UpdateLatestLinks(const RunDir& run);

// Writes `doc` to path atomically (tmp file + rename), pretty-printed.
Status WriteJsonFile(const std::string& path, const nlohmann::json& doc);
Result<nlohmann::json> ReadJsonFile(const std::string& path);

// Every run directory under root (those holding a test.json), newest first.
std::vector<RunDir> ListRuns(const std::string& root);

}  // namespace tidemark::store
