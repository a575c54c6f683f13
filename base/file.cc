#include "base/file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tidemark {

Status WriteFileAtomic(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.flush();
    if (!f) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return Error{"cannot write " + tmp + " (disk full?)"};
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return Error{"cannot rename " + tmp + " to " + path + ": " + ec.message()};
  }
  return OkStatus();
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return Error{"cannot read " + path};
  return ss.str();
}

}  // namespace tidemark
