#include "harness/run/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/history/jsonl.h"

namespace tidemark::run {

// Batched lines beyond this are written at once, whatever the driver does.
constexpr size_t kMaxPending = 1 << 20;

Result<std::unique_ptr<Recorder>> Recorder::Open(const std::string& path) {
  // close-on-exec: nodes must not inherit it
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  return std::unique_ptr<Recorder>(new Recorder(path, fd));
}

Recorder::Recorder(std::string path, int fd)
    : path_(std::move(path)), fd_(fd), start_(std::chrono::steady_clock::now()) {}

Recorder::~Recorder() {
  Flush();
  if (fd_ >= 0) ::close(fd_);
}

int64_t Recorder::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

void Recorder::Stamp(history::Event& e) {
  e.index = next_index_++;
  e.time_ns = NowNs();
  if (e.process == history::kNemesisProcess) {
    ++counts_.nemesis;
    return;
  }
  switch (e.type) {
    case history::EventType::kInvoke:
      ++counts_.invokes;
      break;
    case history::EventType::kOk:
      ++counts_.ok;
      if (e.f != "read") ok_writes_.fetch_add(1, std::memory_order_relaxed);
      break;
    case history::EventType::kFail:
      ++counts_.fail;
      break;
    case history::EventType::kInfo:
      ++counts_.info;
      break;
  }
}

void Recorder::Append(history::Event& e, Write w) {
  if (auto compact = compacting_ ? compactor_.Compact(e) : std::nullopt) {
    // Written compact; the caller gets the event back as it gave it.
    std::swap(e.value_text, *compact);
    pending_ += history::ToJsonLine(e);
    std::swap(e.value_text, *compact);
  } else {
    pending_ += history::ToJsonLine(e);
  }
  pending_ += '\n';
  if (w == Write::kNow || pending_.size() >= kMaxPending) FlushLocked();
}

void Recorder::StopCompacting() {
  std::lock_guard<std::mutex> lock(mu_);
  compacting_ = false;
  compactor_ = ReadCompactor();
}

void Recorder::FlushLocked() {
  // One write(2) for everything pending. (A short write to a regular file means the disk is
  // full.)
  size_t off = 0;
  while (off < pending_.size() && write_error_.empty()) {
    const ssize_t n = ::write(fd_, pending_.data() + off, pending_.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      write_error_ = path_ + ": write failed: " + (n < 0 ? std::strerror(errno) : "no space");
    }
  }
  pending_.clear();
}

history::Event Recorder::Record(history::Event e, Write w) {
  std::lock_guard<std::mutex> lock(mu_);
  Stamp(e);
  Append(e, w);
  return e;
}

void Recorder::RecordAndUse(history::Event e, const std::function<void(history::Event&)>& use,
                            Write w) {
  std::lock_guard<std::mutex> lock(mu_);
  Stamp(e);
  Append(e, w);
  use(e);
}

void Recorder::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_.empty()) FlushLocked();
}

size_t Recorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(next_index_);
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
