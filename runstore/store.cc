#include "runstore/store.h"
#include "base/file.h"
#include "base/filename.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace tidemark::store {
namespace fs = std::filesystem;

std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (c == '-' || c == '_' || c == '.') {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(out.begin());
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "test" : out;
}

std::string UtcTimestamp(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Result<RunDir> CreateRunDir(const std::string& root, const std::string& test,
                            std::chrono::system_clock::time_point now) {
  RunDir run;
  run.root = root;
  run.test = SafeName(test);
  std::error_code ec;
  fs::create_directories(fs::path(root) / run.test, ec);
  if (ec)
    return Error{"cannot create store directory " + root + "/" + run.test + ": " + ec.message()};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    run.timestamp = UtcTimestamp(now + std::chrono::milliseconds(attempt));
    fs::path p = fs::path(root) / run.test / run.timestamp;
    if (fs::create_directory(p, ec)) {
      run.path = p.string();
      fs::create_directories(p / filename::kNodesDir, ec);
      if (ec)
        return Error{"cannot create " + (p / filename::kNodesDir).string() + ": " + ec.message()};
      return run;
    }
    if (ec) return Error{"cannot create run directory " + p.string() + ": " + ec.message()};
  }
  return Error{"cannot find a free run directory name under " + root + "/" + run.test};
}

namespace {

Status ReplaceSymlink(const fs::path& link, const fs::path& target) {
  std::error_code ec;
  fs::path tmp = link;
  tmp += ".tmp." + std::to_string(::getpid());
  fs::remove(tmp, ec);
  fs::create_directory_symlink(target, tmp, ec);
  if (ec) return Error{"cannot create link " + tmp.string() + ": " + ec.message()};
  fs::rename(tmp, link, ec);
  if (ec) return Error{"cannot replace link " + link.string() + ": " + ec.message()};
  return OkStatus();
}

}  // namespace

Status UpdateLatestLinks(const RunDir& run) {
  Status s = ReplaceSymlink(fs::path(run.root) / run.test / filename::kLatest, run.timestamp);
  if (!s.ok()) return s;
  return ReplaceSymlink(fs::path(run.root) / filename::kLatest, fs::path(run.test) / run.timestamp);
}

Status WriteJsonFile(const std::string& path, const nlohmann::json& doc) {
  return WriteFileAtomic(path,
                         doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{"cannot read " + path};
  std::stringstream ss;
  ss << f.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) return Error{path + ": not valid JSON"};
  return doc;
}

std::vector<RunDir> ListRuns(const std::string& root) {
  std::vector<RunDir> runs;
  std::error_code ec;
  for (const auto& test : fs::directory_iterator(root, ec)) {
    if (!test.is_directory() || test.is_symlink()) continue;
    for (const auto& run : fs::directory_iterator(test.path(), ec)) {
      if (run.is_symlink() || !run.is_directory()) continue;
      if (!fs::exists(run.path() / filename::kTestJson)) continue;
      runs.push_back(RunDir{root, test.path().filename().string(), run.path().filename().string(),
                            run.path().string()});
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunDir& a, const RunDir& b) { return a.timestamp > b.timestamp; });
  return runs;
}

}  // namespace tidemark::store
