// Rng: the seeded random source of every pure component (generators, nemesis plans, clients).
//
// xoshiro256** seeded through splitmix64. Every component gets its own independent stream with
// Rng::Derive(run_seed, "component-name"), so adding a client or a generator does not shift the
// fault schedule (docs/architecture.md). The algorithm is fixed: a given (seed, name) yields the
// same numbers on every platform and in every release, so a printed seed reproduces a run's plan.
//
// Threading: a value type with no shared state; one Rng per thread/component.
#pragma once

#include <cstdint>
#include <string_view>

namespace tidemark {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // An independent stream for the component `name` of the run seeded `seed`. Different names
  // give unrelated streams; the same (seed, name) always gives the same stream.
  static Rng Derive(uint64_t seed, std::string_view name);

  // The next 64 random bits.
  uint64_t Next();
  // Uniform in [0, n); n must be > 0 (aborts otherwise).
  uint64_t Uniform(uint64_t n);
  // Uniform in [lo, hi] (inclusive); lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Uniform in [0, 1).
  double Double();
  // True with probability p (p <= 0: never, p >= 1: always).
  bool Bernoulli(double p);

 private:
  uint64_t s_[4];
};

}  // namespace tidemark
