#include "runstore/store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tidemark::store {
namespace {
namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        (fs::temp_directory_path() / ("tidemark_store_test_" + std::to_string(getpid()))).string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST(SafeNameTest, KeepsSafeCharactersOnly) {
  EXPECT_EQ(SafeName("tidelog log/partition"), "tidelog-log-partition");
  EXPECT_EQ(SafeName("../../etc"), "etc");
  EXPECT_EQ(SafeName("Etcd_3.4"), "etcd_3.4");
  EXPECT_EQ(SafeName("///"), "test");
}

TEST(UtcTimestampTest, IsSortableWithMilliseconds) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795342500123LL));
  EXPECT_EQ(UtcTimestamp(t), "20261122T101500.123Z");
}

TEST_F(StoreTest, TwoRunsInTheSameMillisecondGetDistinctDirectories) {
  auto now = std::chrono::system_clock::now();
  auto a = CreateRunDir(root_, "tidelog log", now);
  auto b = CreateRunDir(root_, "tidelog log", now);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_NE(a->path, b->path);
  EXPECT_TRUE(fs::is_directory(fs::path(a->path) / "nodes"));
  EXPECT_EQ(a->test, "tidelog-log");
}

TEST_F(StoreTest, LatestLinksFollowTheNewestRunAndListRunsIsNewestFirst) {
  auto now = std::chrono::system_clock::now();
  auto a = CreateRunDir(root_, "t", now);
  auto b = CreateRunDir(root_, "t", now + std::chrono::seconds(1));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(WriteJsonFile(a->path + "/test.json", {{"seed", 1}}).ok());
  ASSERT_TRUE(WriteJsonFile(b->path + "/test.json", {{"seed", 2}}).ok());
  ASSERT_TRUE(UpdateLatestLinks(*a).ok());
  ASSERT_TRUE(UpdateLatestLinks(*b).ok());
  EXPECT_EQ(fs::canonical(fs::path(root_) / "latest"), fs::canonical(b->path));
  EXPECT_EQ(fs::canonical(fs::path(root_) / "t" / "latest"), fs::canonical(b->path));
  auto doc = ReadJsonFile(root_ + "/latest/test.json");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["seed"], 2);
  auto runs = ListRuns(root_);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].path, b->path);
}

TEST_F(StoreTest, ReadJsonFileReportsGarbage) {
  fs::create_directories(root_);
  {
    std::ofstream f(root_ + "/bad.json");
    f << "{not json";
  }
  auto doc = ReadJsonFile(root_ + "/bad.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message.find("bad.json"), std::string::npos);
  EXPECT_FALSE(ReadJsonFile(root_ + "/missing.json").ok());
}

}  // namespace
}  // namespace tidemark::store
