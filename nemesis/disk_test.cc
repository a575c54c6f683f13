#include "nemesis/disk.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace tidemark::nemesis {
namespace {

TEST(ChooseCorruptionTest, NothingToCorruptWhenEveryFileIsEmpty) {
  Rng rng(1);
  EXPECT_FALSE(ChooseCorruption({}, rng).has_value());
  EXPECT_FALSE(ChooseCorruption({{"wal", 0}, {"x", 0}}, rng).has_value());
}

TEST(ChooseCorruptionTest, ChunksLieInsideANonEmptyFileAndEveryModeOccurs) {
  const std::vector<DataFile> files = {{"empty", 0}, {"small", 3}, {"wal", 100000}};
  std::set<CorruptMode> modes;
  std::set<std::string> chosen;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed);
    auto c = ChooseCorruption(files, rng, 512);
    ASSERT_TRUE(c.has_value());
    ASSERT_NE(c->file, "empty");
    uint64_t size = c->file == "small" ? 3 : 100000;
    modes.insert(c->mode);
    chosen.insert(c->file);
    ASSERT_GE(c->length, 1u);
    if (c->mode == CorruptMode::kTruncate) {
      EXPECT_LT(c->offset, size);
      EXPECT_EQ(c->offset + c->length, size);
    } else {
      EXPECT_LE(c->length, std::min<uint64_t>(512, size));
      EXPECT_LE(c->offset + c->length, size);
    }
  }
  EXPECT_EQ(modes.size(), 3u);
  EXPECT_EQ(chosen.size(), 2u);
}

TEST(ChooseCorruptionTest, TheSameSeedChoosesTheSameCorruption) {
  const std::vector<DataFile> files = {{"a", 10}, {"b", 5000}};
  Rng r1(7), r2(7);
  auto a = ChooseCorruption(files, r1), b = ChooseCorruption(files, r2);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ToJson(), b->ToJson());
}

class ApplyCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/corrupt-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/f") << "abcdef";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Content() {
    std::ifstream in(dir_ + "/f");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
};

TEST_F(ApplyCorruptionTest, FlipZeroTruncate) {
  ASSERT_TRUE(ApplyCorruption(dir_, {"f", 1, 2, CorruptMode::kFlip}).ok());
  std::string s = Content();
  EXPECT_EQ(s[0], 'a');
  EXPECT_EQ(static_cast<unsigned char>(s[1]), static_cast<unsigned char>(~'b' & 0xff));
  EXPECT_EQ(s.substr(3), "def");
  ASSERT_TRUE(ApplyCorruption(dir_, {"f", 3, 2, CorruptMode::kZero}).ok());
  EXPECT_EQ(Content().substr(3), std::string("\0\0f", 3));
  ASSERT_TRUE(ApplyCorruption(dir_, {"f", 2, 4, CorruptMode::kTruncate}).ok());
  EXPECT_EQ(Content().size(), 2u);
  EXPECT_EQ(ListDataFiles(dir_).size(), 1u);
  EXPECT_EQ(ListDataFiles(dir_)[0].size, 2u);
  EXPECT_FALSE(ApplyCorruption(dir_, {"missing", 0, 1, CorruptMode::kZero}).ok());
}

}  // namespace
}  // namespace tidemark::nemesis
