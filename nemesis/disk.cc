#include "nemesis/disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tidemark::nemesis {
namespace fs = std::filesystem;

const char* ToString(CorruptMode m) {
  switch (m) {
    case CorruptMode::kFlip:
      return "flip";
    case CorruptMode::kZero:
      return "zero";
    case CorruptMode::kTruncate:
      return "truncate";
  }
  return "?";
}

nlohmann::json Corruption::ToJson() const {
  return {{"file", file}, {"offset", offset}, {"length", length}, {"mode", ToString(mode)}};
}

std::vector<DataFile> ListDataFiles(const std::string& dir) {
  std::vector<DataFile> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) continue;
    uint64_t size = it->file_size(ec2);
    if (ec2) continue;
    out.push_back({fs::relative(it->path(), dir, ec2).string(), size});
  }
  std::sort(out.begin(), out.end(),
            [](const DataFile& a, const DataFile& b) { return a.path < b.path; });
  return out;
}

std::optional<Corruption> ChooseCorruption(const std::vector<DataFile>& files, Rng& rng,
                                           uint64_t max_chunk) {
  std::vector<const DataFile*> candidates;
  for (const DataFile& f : files)
    if (f.size > 0) candidates.push_back(&f);
  if (candidates.empty() || max_chunk == 0) return std::nullopt;
  const DataFile& f = *candidates[static_cast<size_t>(rng.Uniform(candidates.size()))];
  Corruption c;
  c.file = f.path;
  c.mode = static_cast<CorruptMode>(rng.Uniform(3));
  if (c.mode == CorruptMode::kTruncate) {
    c.offset = rng.Uniform(f.size);
    c.length = f.size - c.offset;
    return c;
  }
  c.length = 1 + rng.Uniform(std::min(max_chunk, f.size));
  c.offset = rng.Uniform(f.size - c.length + 1);
  return c;
}

Status ApplyCorruption(const std::string& dir, const Corruption& c) {
  std::string path = (fs::path(dir) / c.file).string();
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error{"corrupt: cannot open " + path + ": " + std::strerror(errno)};
  auto fail = [&](const char* what) {
    Error e{std::string("corrupt: ") + what + " " + path + ": " + std::strerror(errno)};
    ::close(fd);
    return e;
  };
  if (c.mode == CorruptMode::kTruncate) {
    if (::ftruncate(fd, static_cast<off_t>(c.offset)) != 0) return fail("cannot truncate");
  } else {
    std::string chunk(c.length, '\0');
    if (c.mode == CorruptMode::kFlip) {
      ssize_t n = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(c.offset));
      if (n != static_cast<ssize_t>(chunk.size())) return fail("cannot read");
      for (char& b : chunk) b = static_cast<char>(~static_cast<unsigned char>(b));
    }
    ssize_t n = ::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(c.offset));
    if (n != static_cast<ssize_t>(chunk.size())) return fail("cannot write");
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  ::close(fd);
  return OkStatus();
}

}  // namespace tidemark::nemesis
