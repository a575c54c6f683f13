#include "base/history/writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/history/jsonl.h"

namespace tidemark::history {

Result<std::unique_ptr<HistoryWriter>> HistoryWriter::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Error{path + ": cannot create: " + std::strerror(errno)};
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(path, f));
}

HistoryWriter::~HistoryWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status HistoryWriter::WriteLocked(const Event& e) {
  if (error_) return *error_;
  if (file_ == nullptr) return Error{path_ + ": history writer is closed"};
  if (last_index_ && e.index <= *last_index_) {
    // Not sticky: the file is still well formed, only this event is refused.
    return Error{path_ + ": event index " + std::to_string(e.index) +
                 " does not increase (last written " + std::to_string(*last_index_) + ")"};
  }
  std::string line = ToJsonLine(e);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    error_ = Error{path_ + ": write failed after " + std::to_string(written_) +
                   " events: " + std::strerror(errno)};
    return *error_;
  }
  last_index_ = e.index;
  ++written_;
  return OkStatus();
}

Status HistoryWriter::Append(const Event& e) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteLocked(e);
}

Result<Event> HistoryWriter::AppendNext(Event e, const std::function<int64_t()>& now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  e.index = last_index_ ? *last_index_ + 1 : 0;
  if (now_ns) e.time_ns = now_ns();
  auto st = WriteLocked(e);
  if (!st) return st.error();
  return e;
}

Status HistoryWriter::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) return *error_;
  if (file_ == nullptr) return Error{path_ + ": history writer is closed"};
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    error_ = Error{path_ + ": sync failed: " + std::strerror(errno)};
    return *error_;
  }
  return OkStatus();
}

Status HistoryWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return error_ ? Status(*error_) : OkStatus();
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0 && !error_) error_ = Error{path_ + ": close failed: " + std::strerror(errno)};
  if (error_) return *error_;
  return OkStatus();
}

int64_t HistoryWriter::events_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

}  // namespace tidemark::history
