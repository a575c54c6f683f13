#include "base/rng.h"

#include <cstdio>
#include <cstdlib>

namespace tidemark {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// FNV-1a: a stable (platform independent) hash of the component name.
uint64_t HashName(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(x);
}

Rng Rng::Derive(uint64_t seed, std::string_view name) {
  // Mix the name hash through splitmix so that seeds differing in one bit and names differing in
  // one character both give unrelated streams.
  uint64_t x = seed;
  uint64_t a = SplitMix64(x);
  return Rng(a ^ HashName(name));
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Uniform(uint64_t n) {
  if (n == 0) {
    std::fprintf(stderr, "tidemark: internal error: Rng::Uniform(0)\n");
    std::abort();
  }
  // Rejection sampling: no modulo bias, still deterministic.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do {
    r = Next();
  } while (r >= limit);
  return r % n;
}

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  if (lo > hi) {
    std::fprintf(stderr, "tidemark: internal error: Rng::UniformInt(%lld, %lld)\n",
                 static_cast<long long>(lo), static_cast<long long>(hi));
    std::abort();
  }
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + Uniform(span + 1));
}

double Rng::Double() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Rng::Bernoulli(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return Double() < p;
}

}  // namespace tidemark
