#include "base/file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace tidemark {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tidemark-file-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileTest, WritesThenReplacesAndLeavesNoTemporary) {
  const std::string path = (dir_ / "a.json").string();
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, std::string("sec\0ond", 7)).ok());
  auto back = ReadFileToString(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, std::string("sec\0ond", 7));
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FileTest, AMissingDirectoryIsAnErrorNamingThePath) {
  const std::string path = (dir_ / "no" / "such" / "a.json").string();
  Status s = WriteFileAtomic(path, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("a.json"), std::string::npos) << s.error().message;
  auto r = ReadFileToString(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace tidemark
