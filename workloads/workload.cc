#include "workloads/workload.h"

#include <cmath>
#include <utility>

#include "workloads/log.h"
#include "workloads/register.h"

namespace tidemark::workloads {
namespace {

int64_t SecondsToNs(double s) { return static_cast<int64_t>(std::llround(s * 1e9)); }

// Main phase: TimeLimit(Stagger(stream)); Stagger only when a rate is set.
GenPtr MainPhase(const WorkloadOptions& o, GenPtr stream) {
  if (o.rate > 0) stream = Stagger(SecondsToNs(1.0 / o.rate), std::move(stream));
  return TimeLimit(SecondsToNs(o.time_limit_s), std::move(stream));
}

class RegisterWorkload : public Workload {
 public:
  explicit RegisterWorkload(const WorkloadOptions& o) : opts_(o) {
    RegisterOptions r;
    r.keys_in_flight = o.keys_in_flight > 0 ? o.keys_in_flight : (o.concurrency + 4) / 5;
    r.ops_per_key = o.ops_per_key;
    r.read_fraction = o.read_fraction;
    auto stream = std::make_unique<RegisterGenerator>(r);
    stream_ = stream.get();
    main_ = MainPhase(o, std::move(stream));
  }
  Generator& Main() override { return *main_; }
  GenPtr FinalPhase() override {
    return TimeLimit(SecondsToNs(opts_.final_timeout_s),
                     RegisterFinalReads(stream_->ActiveKeys(), opts_.final_read_attempts,
                                        SecondsToNs(opts_.final_retry_interval_s)));
  }

 private:
  WorkloadOptions opts_;
  RegisterGenerator* stream_;  // owned by main_
  GenPtr main_;
};

class LogWorkload : public Workload {
 public:
  explicit LogWorkload(const WorkloadOptions& o) : opts_(o) {
    LogOptions l;
    l.read_fraction = o.read_fraction;
    l.local_read_fraction = o.local_read_fraction;
    l.read_window = o.read_window;
    l.reader = o.reader;
    main_ = MainPhase(o, std::make_unique<LogGenerator>(l));
  }
  Generator& Main() override { return *main_; }
  GenPtr FinalPhase() override {
    return TimeLimit(
        SecondsToNs(opts_.final_timeout_s),
        LogFinalReads(opts_.final_read_attempts, SecondsToNs(opts_.final_retry_interval_s)));
  }

 private:
  WorkloadOptions opts_;
  GenPtr main_;
};

bool IsFraction(double x) { return x >= 0 && x <= 1; }

}  // namespace

Result<std::string> ModelOf(const std::string& workload) {
  static const std::pair<const char*, const char*> kModels[] = {{"log", "log"},
                                                                {"register", "cas-register"}};
  for (const auto& [name, model] : kModels)
    if (workload == name) return std::string(model);
  return Error{"unknown workload '" + workload + "' (use log or register)"};
}

Result<std::unique_ptr<Workload>> MakeWorkload(const WorkloadOptions& o) {
  if (o.name != "register" && o.name != "log") {
    return Error{"unknown workload '" + o.name + "' (expected register or log)"};
  }
  if (o.concurrency < 1) return Error{"--concurrency must be at least 1"};
  if (o.nodes < 1) return Error{"--nodes must be at least 1"};
  if (!(o.time_limit_s > 0)) return Error{"--time-limit must be more than 0 seconds"};
  if (!std::isfinite(o.rate)) return Error{"--rate must be a finite number"};
  if (!IsFraction(o.read_fraction)) return Error{"read fraction must be within [0, 1]"};
  if (!IsFraction(o.local_read_fraction)) {
    return Error{"local read fraction must be within [0, 1]"};
  }
  if (o.keys_in_flight < 0) return Error{"keys in flight must be >= 0 (0: automatic)"};
  if (o.ops_per_key < 1) return Error{"ops per key must be at least 1"};
  if (o.read_window < 0) return Error{"read window must be >= 0"};
  if (!(o.final_timeout_s > 0)) return Error{"final phase timeout must be more than 0 seconds"};
  if (o.final_read_attempts < 1) return Error{"final read attempts must be at least 1"};
  if (!(o.final_retry_interval_s >= 0)) return Error{"final retry interval must be >= 0"};
  std::unique_ptr<Workload> w;
  if (o.name == "register") {
    w = std::make_unique<RegisterWorkload>(o);
  } else {
    w = std::make_unique<LogWorkload>(o);
  }
  return w;
}

}  // namespace tidemark::workloads
