#include "harness/run/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/history/jsonl.h"

namespace tidemark::run {

Result<std::unique_ptr<Recorder>> Recorder::Open(const std::string& path) {
  // close-on-exec: nodes must not inherit it
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  return std::unique_ptr<Recorder>(new Recorder(path, fd));
}

Recorder::Recorder(std::string path, int fd)
    : path_(std::move(path)), fd_(fd), start_(std::chrono::steady_clock::now()) {}

Recorder::~Recorder() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t Recorder::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

history::Event& Recorder::RecordLocked(history::Event e) {
  e.index = static_cast<int64_t>(events_.size());
  e.time_ns = NowNs();
  line_ = history::ToJsonLine(e);
  line_ += '\n';
  // One write(2) per line, handed to the kernel before Record returns: a killed controller
  // loses at most a torn last line. (A short write to a regular file means the disk is full.)
  size_t off = 0;
  while (off < line_.size() && write_error_.empty()) {
    const ssize_t n = ::write(fd_, line_.data() + off, line_.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      write_error_ = path_ + ": write failed: " + (n < 0 ? std::strerror(errno) : "no space");
    }
  }
  if (e.process == history::kNemesisProcess) {
    ++counts_.nemesis;
  } else {
    switch (e.type) {
      case history::EventType::kInvoke:
        ++counts_.invokes;
        break;
      case history::EventType::kOk:
        ++counts_.ok;
        break;
      case history::EventType::kFail:
        ++counts_.fail;
        break;
      case history::EventType::kInfo:
        ++counts_.info;
        break;
    }
  }
  events_.push_back(std::move(e));
  return events_.back();
}

history::Event Recorder::Record(history::Event e) {
  std::lock_guard<std::mutex> lock(mu_);
  return RecordLocked(std::move(e));
}

void Recorder::RecordAndUse(history::Event e, const std::function<void(history::Event&)>& use) {
  std::lock_guard<std::mutex> lock(mu_);
  use(RecordLocked(std::move(e)));
}

history::History Recorder::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history::History(events_.begin(), events_.end());
}

size_t Recorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

std::string Recorder::write_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return write_error_;
}

Recorder::Counts Recorder::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

}  // namespace tidemark::run
