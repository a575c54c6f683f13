#include "harness/run/workers.h"

namespace tidemark::run {

using Clock = std::chrono::steady_clock;

Workers::Workers(int slots, const ClientFactory& make_client) {
  for (int i = 0; i < slots; ++i) {
    auto s = std::make_unique<Slot>();
    s->client = make_client(i);
    slots_.push_back(std::move(s));
  }
  for (int i = 0; i < slots; ++i)
    slots_[static_cast<size_t>(i)]->thread = std::thread([this, i] { Loop(i); });
}

Workers::~Workers() { Stop(); }

void Workers::Dispatch(int slot, Job job) {
  dispatched_.emplace_back(slot, std::move(job));
  ++outstanding_;
}

void Workers::Loop(int slot) {
  Slot& s = *slots_[static_cast<size_t>(slot)];
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    s.cv.wait(lock, [&] { return stopping_ || s.job.has_value(); });
    if (!s.job) return;  // stopping with nothing to do
    Job job = std::move(*s.job);
    s.job.reset();
    lock.unlock();
    targets::Completion c = s.client->Invoke(job.op, job.node_name, job.url);
    lock.lock();
    done_.push_back(Done{slot, std::move(job), std::move(c)});
    if (waiting_) done_cv_.notify_one();
  }
}

std::vector<Done> Workers::WaitCompletions(std::chrono::steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [slot, job] : dispatched_) {
    Slot& s = *slots_[static_cast<size_t>(slot)];
    s.job = std::move(job);
    s.cv.notify_one();
  }
  dispatched_.clear();
  if (done_.empty() && Clock::now() < until) {
    waiting_ = true;
    done_cv_.wait_until(lock, until, [&] { return !done_.empty(); });
    waiting_ = false;
  }
  std::vector<Done> out(std::make_move_iterator(done_.begin()),
                        std::make_move_iterator(done_.end()));
  done_.clear();
  outstanding_ -= static_cast<int>(out.size());
  return out;
}

void Workers::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && slots_.empty()) return;
    stopping_ = true;
  }
  for (auto& s : slots_) {
    std::lock_guard<std::mutex> lock(mu_);
    s->cv.notify_one();
  }
  for (auto& s : slots_)
    if (s->thread.joinable()) s->thread.join();
}

}  // namespace tidemark::run
