// Files written whole: a reader (a browser, `tidemark report`, a CI job) sees the old content or
// the new one, never a torn mix, even if the controller dies mid-write.
//
// WriteFileAtomic writes `content` to `path`.tmp.<pid>, flushes it and renames it over `path`
// (rename(2) is atomic within one filesystem). The temporary name carries the pid so two
// processes writing the same file (two zoo shards, say) do not write into each other's
// temporary. The data is not fsynced: these are reports and indexes that a re-run rebuilds, and
// an fsync per report would cost more than it protects.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace tidemark {

Status WriteFileAtomic(const std::string& path, std::string_view content);

// The whole content of `path`, or an error naming it.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace tidemark
