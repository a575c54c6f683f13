#include "harness/run/recorder.h"

#include <cerrno>
#include <cstring>

#include "harness/history/jsonl.h"

namespace tidemark::run {

Result<std::unique_ptr<Recorder>> Recorder::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "we");  // close-on-exec: nodes must not inherit it
  if (!f) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  return std::unique_ptr<Recorder>(new Recorder(path, f));
}

Recorder::Recorder(std::string path, FILE* f)
    : path_(std::move(path)), file_(f), start_(std::chrono::steady_clock::now()) {}

Recorder::~Recorder() {
  if (file_) std::fclose(file_);
}

int64_t Recorder::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

history::Event Recorder::Record(history::Event e) {
  std::lock_guard<std::mutex> lock(mu_);
  e.index = static_cast<int64_t>(events_.size());
  e.time_ns = NowNs();
  std::string line = history::ToJsonLine(e);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    if (write_error_.empty()) write_error_ = path_ + ": write failed: " + std::strerror(errno);
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
  events_.push_back(e);
  return e;
}

history::History Recorder::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
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
