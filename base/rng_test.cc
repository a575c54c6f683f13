#include "base/rng.h"

#include <gtest/gtest.h>

#include <set>

namespace tidemark {
namespace {

TEST(RngTest, SameSeedSameStream) {
  Rng a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, KnownFirstValuesPinTheAlgorithm) {
  // A printed seed must reproduce a run in every release: pin the stream.
  // xoshiro256** seeded by splitmix64(0); values computed once and frozen.
  Rng a(0);
  EXPECT_EQ(a.Next(), 11091344671253066420ULL);
  Rng d = Rng::Derive(1, "generator");
  EXPECT_EQ(d.Next(), 7150601542820366601ULL);
}

TEST(RngTest, DerivedStreamsAreIndependentPerName) {
  Rng g = Rng::Derive(7, "generator");
  Rng n = Rng::Derive(7, "nemesis");
  Rng g8 = Rng::Derive(8, "generator");
  const uint64_t x = g.Next();
  EXPECT_NE(x, n.Next());
  EXPECT_NE(x, g8.Next());
}

TEST(RngTest, UniformStaysInRangeAndCoversIt) {
  Rng r(99);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = r.Uniform(7);
    ASSERT_LT(x, 7u);
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 7u);
  for (int i = 0; i < 1000; ++i) {
    const int64_t y = r.UniformInt(-3, 3);
    ASSERT_GE(y, -3);
    ASSERT_LE(y, 3);
  }
  EXPECT_EQ(r.UniformInt(5, 5), 5);
}

TEST(RngTest, DoubleAndBernoulli) {
  Rng r(5);
  int hits = 0;
  for (int i = 0; i < 10000; ++i) {
    const double d = r.Double();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    hits += r.Bernoulli(0.25) ? 1 : 0;
  }
  EXPECT_NEAR(hits, 2500, 200);
  EXPECT_FALSE(r.Bernoulli(0));
  EXPECT_TRUE(r.Bernoulli(1));
}

}  // namespace
}  // namespace tidemark
