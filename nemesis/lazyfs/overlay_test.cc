#include "nemesis/lazyfs/overlay.h"

#include <gtest/gtest.h>

#include <string>

namespace tidemark::lazyfs {
namespace {

// Reads the whole logical file of `o` over the durable bytes `backing`.
std::string Logical(const Overlay& o, const std::string& backing) {
  std::string out(o.size(), '?');
  size_t n = o.Read(0, out.data(), out.size(), [&](uint64_t off, char* p, size_t len) {
    if (off < backing.size()) backing.copy(p, std::min(len, size_t(backing.size() - off)), off);
  });
  out.resize(n);
  return out;
}

TEST(OverlayTest, WritesOverlayTheBackingBytes) {
  std::string backing = "0123456789";
  Overlay o(backing.size());
  o.Write(2, "ab", 2);
  o.Write(12, "xy", 2);  // past the end: a hole of zeros between
  EXPECT_EQ(Logical(o, backing), std::string("01ab456789\0\0xy", 14));
  EXPECT_EQ(o.unsynced_bytes(), 4u);
}

TEST(OverlayTest, NewerWritesWinAndSplitOlderOnes) {
  Overlay o(0);
  o.Write(0, "aaaaaaaa", 8);
  o.Write(2, "bb", 2);
  o.Write(1, "c", 1);
  o.Write(6, "dddd", 4);
  EXPECT_EQ(Logical(o, ""), "acbbaadddd");
  EXPECT_EQ(o.unsynced_bytes(), 10u);
}

TEST(OverlayTest, TruncateHidesBackingBytesEvenWhenRegrown) {
  std::string backing = "0123456789";
  Overlay o(backing.size());
  o.Write(8, "zz", 2);
  o.Truncate(4);
  EXPECT_EQ(Logical(o, backing), "0123");
  o.Truncate(6);  // the bytes 4..5 were cut: they read as zeros, not as the old backing bytes
  EXPECT_EQ(Logical(o, backing), std::string("0123\0\0", 6));
  EXPECT_EQ(o.keep(), 4u);
  EXPECT_EQ(o.unsynced_bytes(), 0u);
}

TEST(OverlayTest, ExtendGrowsWithZerosAndNeverShrinks) {
  Overlay o(3);
  o.Extend(5);
  o.Extend(2);
  EXPECT_EQ(Logical(o, "abc"), std::string("abc\0\0", 5));
}

TEST(OverlayTest, ReadsPastTheEndReturnNothing) {
  Overlay o(2);
  char buf[4];
  EXPECT_EQ(o.Read(2, buf, 4, [](uint64_t, char*, size_t) {}), 0u);
  EXPECT_EQ(o.Read(1, buf, 4, [](uint64_t, char* p, size_t n) { std::fill(p, p + n, 'k'); }), 1u);
  EXPECT_EQ(buf[0], 'k');
}

}  // namespace
}  // namespace tidemark::lazyfs
