#include "harness/run/watcher.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "harness/run/interrupt.h"
#include "targets/adapters/client.h"

namespace tidemark::run {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Fixed(double v, int digits) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << v;
  return ss.str();
}

}  // namespace

Watcher::Watcher(Cluster& cluster, const std::string& adapter,
                 std::function<void(history::Event)> record)
    : cluster_(cluster), adapter_(adapter), record_(std::move(record)) {
  thread_ = std::thread([this] { Loop(); });
}

void Watcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ClusterView Watcher::View() {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

std::optional<int> Watcher::Leader() {
  std::lock_guard<std::mutex> lock(mu_);
  return view_.leader;
}

void Watcher::WaitForLeader(double timeout_s) {
  for (auto until = Clock::now() + milliseconds(static_cast<int64_t>(timeout_s * 1000));
       Clock::now() < until && !Leader() && !Interrupted();)
    std::this_thread::sleep_for(milliseconds(50));
}

ClusterView Watcher::Poll(const std::function<Result<targets::NodeStatus>(int)>& status) {
  statuses_.assign(static_cast<size_t>(cluster_.size()), std::nullopt);
  ClusterView v;
  v.roles.assign(static_cast<size_t>(cluster_.size()), "down");
  for (int i = 0; i < cluster_.size(); ++i) {
    if (!cluster_.Running(i)) continue;
    if (cluster_.Paused(i)) {
      v.roles[static_cast<size_t>(i)] = "paused";
      continue;
    }
    auto st = status(i);
    if (!st.ok()) {
      v.roles[static_cast<size_t>(i)] = "unreachable";
      continue;
    }
    v.roles[static_cast<size_t>(i)] = st->role;
    statuses_[static_cast<size_t>(i)] = *st;
    if (st->role == "leader" && st->generation > v.generation) {
      v.generation = st->generation;
      v.leader = i;
    }
  }
  return v;
}

void Watcher::Loop() {
  auto client = targets::MakeStatusClient(adapter_, 300);
  auto status = [&](int i) {
    return client ? (*client)->Status(cluster_.ClientUrl(i))
                  : Result<targets::NodeStatus>(Error{"no status client"});
  };
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    ClusterView v = Poll(status);
    lock.lock();
    if (stop_) break;  // Stop() came during the polls: this view may show nodes going down
    view_ = v;
    RecordLeaderChange(v);
    lock.unlock();
    const auto waited = client ? WaitForChange(**client, v) : milliseconds(0);
    lock.lock();
    cv_.wait_for(lock, kPollInterval - std::min(waited, kPollInterval), [&] { return stop_; });
  }
}

// Between polls: a status long-poll (docs/protocol.md) to a node that will notice an election —
// a follower of the current leader (the leader itself may be cut off and notice nothing) — so a
// new generation or leader is polled for within milliseconds instead of up to kPollInterval
// later. Returns how long it waited; zero when the target has no long-poll (or the node answered
// at once without a change, as a node that ignores wait_ms would).
milliseconds Watcher::WaitForChange(targets::StatusClient& client, const ClusterView& v) {
  std::optional<int> watch;
  for (int i = 0; i < cluster_.size() && !watch; ++i)
    if (statuses_[static_cast<size_t>(i)] && i != v.leader) watch = i;
  if (!watch && v.leader) watch = v.leader;
  if (!watch) return milliseconds(0);
  const targets::NodeStatus& known = *statuses_[static_cast<size_t>(*watch)];
  const auto t0 = Clock::now();
  auto st = client.WaitForChange(cluster_.ClientUrl(*watch), known,
                                 static_cast<int>(kPollInterval.count()));
  auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  bool changed = st.ok() && (st->generation != known.generation || st->role != known.role ||
                             st->leader != known.leader);
  if (!st.ok() || (!changed && waited < kPollInterval / 2)) return milliseconds(0);
  return changed ? kPollInterval : waited;
}

// With mu_ held, so that Stop() returns only after the last event was recorded.
void Watcher::RecordLeaderChange(const ClusterView& v) {
  const int64_t generation = v.leader ? v.generation : -1;
  if (v.leader == recorded_leader_ && generation == recorded_generation_) return;
  recorded_leader_ = v.leader;
  recorded_generation_ = generation;
  if (!record_) return;
  history::Event e;
  e.process = history::kNemesisProcess;
  e.type = history::EventType::kInfo;
  e.f = "leader";
  e.value = v.leader
                ? nlohmann::json{{"node", cluster_.Name(*v.leader)}, {"generation", v.generation}}
                : nlohmann::json{{"node", nullptr}};
  record_(std::move(e));
}

StatusLine::StatusLine(std::ostream& out, bool tty, Recorder& rec, Watcher& watcher,
                       Cluster& cluster, double time_limit_s, std::function<std::string()> faults)
    : faults_fn_(std::move(faults)),
      out_(out),
      tty_(tty),
      rec_(rec),
      watcher_(watcher),
      cluster_(cluster),
      time_limit_s_(time_limit_s) {
  thread_ = std::thread([this] { Loop(); });
}

StatusLine::~StatusLine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (tty_) out_ << "\n" << std::flush;
}

void StatusLine::SetPhase(const std::string& phase) {
  std::lock_guard<std::mutex> lock(mu_);
  phase_ = phase;
}

std::string StatusLine::Line(double rate) {
  auto c = rec_.counts();
  ClusterView v = watcher_.View();
  std::string leader = v.leader ? cluster_.Name(*v.leader) : "none";
  std::string faults = faults_fn_ ? faults_fn_() : "";
  return "[" + phase_ + "] " + Fixed(static_cast<double>(rec_.NowNs()) / 1e9, 1) + "/" +
         Fixed(time_limit_s_, 0) + " s  " + Fixed(rate, 0) + " ops/s  ok " + std::to_string(c.ok) +
         "  fail " + std::to_string(c.fail) + "  info " + std::to_string(c.info) + "  leader " +
         leader + "  faults: " + (faults.empty() ? "none" : faults);
}

void StatusLine::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t last_ops = 0;
  auto last_t = Clock::now();
  auto last_plain = Clock::now();
  while (!stop_) {
    cv_.wait_for(lock, milliseconds(tty_ ? 500 : 1000), [&] { return stop_; });
    if (stop_) break;
    auto c = rec_.counts();
    int64_t done = c.ok + c.fail + c.info;
    auto now = Clock::now();
    double dt = std::chrono::duration<double>(now - last_t).count();
    double rate = dt > 0 ? static_cast<double>(done - last_ops) / dt : 0;
    last_ops = done;
    last_t = now;
    std::string line = Line(rate);
    if (tty_) {
      out_ << "\r\033[K" << line << std::flush;
    } else if (now - last_plain >= std::chrono::seconds(5)) {
      out_ << line << "\n" << std::flush;
      last_plain = now;
    }
  }
}

}  // namespace tidemark::run
