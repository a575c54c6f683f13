// Test helpers: where the history corpora are, for tests only (gtest).
//
// The golden histories (checkers/testdata/golden/, with their MANIFEST.tsv and licence notes) are
// in the repository: a plain clone always tests against them. The full published corpora are
// optional, in TIDEMARK_SHARED_DIR/histories; a test that needs them skips when they are missing,
// except under CI=true, where it fails, so that CI never passes by testing nothing.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace tidemark::testing {

inline std::filesystem::path GoldenHistories() {
  return std::filesystem::path(TIDEMARK_SOURCE_DIR) / "checkers" / "testdata" / "golden";
}

inline std::filesystem::path SharedHistories() {
  return std::filesystem::path(TIDEMARK_SHARED_DIR) / "histories";
}

inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace tidemark::testing

// Skips the current test when `path` does not exist, saying why; under CI=true, fails instead.
#define TIDEMARK_REQUIRE_CORPUS(path)                                               \
  do {                                                                              \
    if (!std::filesystem::exists(path)) {                                           \
      if (::tidemark::testing::UnderCi()) {                                         \
        FAIL() << (path)                                                            \
               << " not found, and CI=true: CI must check the published corpora "   \
                  "(set TIDEMARK_SHARED_DIR)";                                      \
      }                                                                             \
      GTEST_SKIP() << (path)                                                        \
                   << " not found (the published corpora are optional outside CI; " \
                      "the golden histories in the repository still ran)";          \
    }                                                                               \
  } while (0)
