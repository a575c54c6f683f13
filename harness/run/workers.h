// Workers: one thread per logical client slot, each with its own client adapter instance.
//
// The runner's single generator thread hands a worker an op (Dispatch, passed on at the next
// WaitCompletions: dispatcher.h); the worker performs it through its Client (blocking HTTP,
// bounded by the per-op timeout) and posts the completion to a queue the generator thread
// drains (WaitCompletions). A worker never records events itself:
// the generator thread records the invoke before Dispatch and the completion after draining, so
// history order follows one thread's view.
//
// Wake-ups: Dispatch wakes only the worker it hands the op to (one condition variable per
// slot; a shared one woke every idle worker per op), and a completion wakes only the generator
// thread, and only while it waits.
//
// Thread safety: Dispatch/WaitCompletions/Stop from the generator thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/run/dispatcher.h"
#include "targets/adapters/client.h"

namespace tidemark::run {

class Workers : public Dispatcher {
 public:
  using ClientFactory = std::function<std::unique_ptr<targets::Client>(int slot)>;
  Workers(int slots, const ClientFactory& make_client);
  ~Workers() override;  // Stop()

  void Dispatch(int slot, Job job) override;
  std::vector<Done> WaitCompletions(std::chrono::steady_clock::time_point until) override;
  int outstanding() const override { return outstanding_; }
  // Asks every worker to finish its current op and exit; joins them.
  void Stop() override;

 private:
  struct Slot {
    std::unique_ptr<targets::Client> client;
    std::optional<Job> job;      // guarded by mu_
    std::condition_variable cv;  // a job arrived or stopping_
    std::thread thread;
  };
  void Loop(int slot);

  std::mutex mu_;
  std::condition_variable done_cv_;
  bool stopping_ = false;
  bool waiting_ = false;  // the generator thread waits on done_cv_; guarded by mu_
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Done> done_;
  std::vector<std::pair<int, Job>> dispatched_;  // not yet handed to their workers
  int outstanding_ = 0;                          // generator thread only
};

}  // namespace tidemark::run
