// Generates a single-register history by simulating a real atomic cas-register that clients call
// concurrently, some of whose calls crash: the history is linearizable by construction (every op
// takes effect at one instant between its call and its return). With --bad, one completed read
// late in the history reports a value the register held long before. Output: the Jepsen console-log
// format `tidemark check --format jepsen-log` reads (docs/history-format.md), one event a line.
// (--bad: the read returns the value from 10 writes earlier, so with 10 processes it is
// all but certainly a violation.)
//
//   gen_register [--ops N] [--procs P] [--crash RATE] [--seed S] [--values unique|small] [--bad]
//
// Unique values (default): every write and cas writes a value never written before, as
// tidemark's own generators do. Small: values 0..4, as in Jepsen's etcd tests.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  int ops = 20000;
  int procs = 10;
  double crash = 0.01;
  uint64_t seed = 1;
  bool unique = true;
  bool bad = false;
};

enum class Phase { kIdle, kCalled, kApplied };

struct Client {
  int process = 0;  // Jepsen gives a crashed client's successor a new process number
  Phase phase = Phase::kIdle;
  std::string f;
  int64_t arg = 0, arg2 = 0;  // write value / cas from, to
  bool crashes = false;
  bool applied_ok = false;  // cas precondition held
  std::optional<int64_t> read;
};

std::string Value(std::optional<int64_t> v) { return v ? std::to_string(*v) : "nil"; }

class Simulation {
 public:
  explicit Simulation(const Options& o) : o_(o), rng_(o.seed), clients_(o.procs) {
    for (int i = 0; i < o.procs; ++i) clients_[i].process = i;
    bad_at_ = o.bad ? o.ops * 3 / 4 : -1;
  }

  void Run() {
    int invoked = 0, open = 0;
    while (invoked < o_.ops || open > 0) {
      Client& c = clients_[Pick(o_.procs)];
      if (c.phase == Phase::kIdle) {
        if (invoked >= o_.ops) continue;
        Invoke(&c);
        ++invoked;
        ++open;
      } else if (c.phase == Phase::kCalled) {
        Apply(&c);
      } else {
        Complete(&c);
        --open;
      }
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  int64_t NewValue() { return o_.unique ? ++counter_ : Pick(5); }

  void Invoke(Client* c) {
    int kind = Pick(10);
    c->crashes = Chance(o_.crash);
    c->read.reset();
    if (kind < 4) {
      c->f = "read";
      std::printf("INFO  jepsen.util - %d\t:invoke\t:read\tnil\n", c->process);
    } else if (kind < 7) {
      c->f = "write";
      c->arg = NewValue();
      std::printf("INFO  jepsen.util - %d\t:invoke\t:write\t%lld\n", c->process,
                  static_cast<long long>(c->arg));
    } else {
      c->f = "cas";
      // Half the time the expected value is the current one, so that many cas succeed.
      c->arg = Chance(0.5) && reg_ ? *reg_ : (o_.unique ? counter_ - Pick(3) : Pick(5));
      c->arg2 = NewValue();
      std::printf("INFO  jepsen.util - %d\t:invoke\t:cas\t[%lld %lld]\n", c->process,
                  static_cast<long long>(c->arg), static_cast<long long>(c->arg2));
    }
    c->phase = Phase::kCalled;
  }

  // The op's linearization point. A crashing op takes effect only half the time.
  void Apply(Client* c) {
    c->phase = Phase::kApplied;
    if (c->crashes && Chance(0.5)) return;
    if (c->f == "read") {
      c->read = reg_;
    } else if (c->f == "write") {
      Set(c->arg);
    } else {
      c->applied_ok = reg_ && *reg_ == c->arg;
      if (c->applied_ok) Set(c->arg2);
    }
  }

  void Set(int64_t v) {
    past_.push_back(reg_);
    reg_ = v;
  }

  // The value the register held `back` writes ago.
  std::optional<int64_t> Past(size_t back) const {
    return past_.size() >= back ? past_[past_.size() - back] : std::nullopt;
  }

  void Complete(Client* c) {
    c->phase = Phase::kIdle;
    const char* f = c->f.c_str();
    if (c->crashes) {
      std::printf("INFO  jepsen.util - %d\t:info\t:%s\t:timed-out\n", c->process, f);
      c->process += o_.procs;
      return;
    }
    if (c->f == "read") {
      std::optional<int64_t> v = c->read;
      if (++reads_ == bad_at_ / 3 + 1 && bad_at_ >= 0) v = Past(10);
      std::printf("INFO  jepsen.util - %d\t:ok\t:read\t%s\n", c->process, Value(v).c_str());
    } else if (c->f == "write") {
      std::printf("INFO  jepsen.util - %d\t:ok\t:write\t%lld\n", c->process,
                  static_cast<long long>(c->arg));
    } else {
      std::printf("INFO  jepsen.util - %d\t:%s\t:cas\t[%lld %lld]\n", c->process,
                  c->applied_ok ? "ok" : "fail", static_cast<long long>(c->arg),
                  static_cast<long long>(c->arg2));
    }
  }

  Options o_;
  std::mt19937_64 rng_;
  std::vector<Client> clients_;
  std::optional<int64_t> reg_;
  std::vector<std::optional<int64_t>> past_;  // every earlier value, oldest first
  int64_t counter_ = 0;
  int reads_ = 0;
  int bad_at_ = -1;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--bad") {
      o->bad = true;
      continue;
    }
    if (v == nullptr) return false;
    ++i;
    if (a == "--ops") {
      o->ops = std::atoi(v);
    } else if (a == "--procs") {
      o->procs = std::max(1, std::atoi(v));
    } else if (a == "--crash") {
      o->crash = std::atof(v);
    } else if (a == "--seed") {
      o->seed = std::strtoull(v, nullptr, 10);
    } else if (a == "--values") {
      o->unique = std::strcmp(v, "small") != 0;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: gen_register [--ops N] [--procs P] [--crash RATE] [--seed S] "
                 "[--values unique|small] [--bad]\n");
    return 2;
  }
  Simulation(o).Run();
  return 0;
}
