// tidemark-lazyfs against a real FUSE mount: a table of syscall sequences, then a drop (the
// crash), then what must have survived. Needs /dev/fuse and root; skips with the reason
// elsewhere, except under CI=true, where a missing FUSE is a failure.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "nemesis/lazyfs/mount.h"

namespace tidemark::lazyfs {
namespace {
namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& data, int flags = 0) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | flags, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, data.data(), data.size()), ssize_t(data.size()));
  ::close(fd);
}
void Fsync(const std::string& path, int flags = O_RDONLY) {
  int fd = ::open(path.c_str(), flags);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::fsync(fd), 0) << path;
  ::close(fd);
}
void FsyncDir(const std::string& dir) { Fsync(dir, O_RDONLY | O_DIRECTORY); }
std::optional<std::string> Read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  ::close(fd);
  return out;
}
// A durable file: written, fsynced, its directory fsynced.
void Durable(const std::string& dir, const std::string& name, const std::string& data) {
  Write(dir + "/" + name, data);
  Fsync(dir + "/" + name);
  FsyncDir(dir);
}

class LazyFsMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = Unavailable(LAZYFS_BINARY);
    if (why.empty() && ::geteuid() != 0) why = "mounting FUSE here needs root";
    if (!why.empty()) {
      // Under CI=true a FUSE that could be set up must work; only a host without the
      // /dev/fuse device (which no CI step can create) skips, saying so.
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true" && ::access("/dev/fuse", F_OK) == 0)
        FAIL() << "CI=true but FUSE cannot be used: " << why;
      GTEST_SKIP() << why;
    }
    char tmpl[] = "/tmp/lazyfs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    mnt_ = root_ + "/data";
    Status s = mount_.Mount(LAZYFS_BINARY, mnt_);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  void TearDown() override {
    if (root_.empty()) return;
    Status s = mount_.Unmount();
    EXPECT_TRUE(s.ok()) << s.error().message;
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  DropReport Crash(std::optional<uint64_t> tear = std::nullopt) {
    auto r = mount_.Drop(tear);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : DropReport{};
  }
  std::string root_, mnt_;
  LazyMount mount_;
};

struct Row {
  const char* name;
  std::function<void(const std::string& m)> before;  // syscalls before the crash
  const char* file;                                  // what to look at after it
  std::optional<std::string> survives;               // its content, nullopt = absent
};

TEST_F(LazyFsMountTest, SyscallSequencesThenCrash) {
  const std::vector<Row> rows = {
      {"write, no fsync, no dir fsync", [](auto m) { Write(m + "/f", "abc"); }, "f", std::nullopt},
      {"created and dir-fsynced, data not fsynced",
       [](auto m) {
         Write(m + "/f", "");
         FsyncDir(m);
         Write(m + "/f", "abc");
       },
       "f", ""},
      {"write, fsync, dir fsync", [](auto m) { Durable(m, "f", "abc"); }, "f", "abc"},
      {"fsync, but the directory never",
       [](auto m) {
         Write(m + "/f", "abc");
         Fsync(m + "/f");
       },
       "f", std::nullopt},
      {"append after fsync is lost",
       [](auto m) {
         Durable(m, "f", "abc");
         Write(m + "/f", "def", O_APPEND);
       },
       "f", "abc"},
      {"O_DSYNC write is durable",
       [](auto m) {
         Write(m + "/f", "");
         FsyncDir(m);
         Write(m + "/f", "abc", O_DSYNC);
       },
       "f", "abc"},
      {"rename without dir fsync is undone",
       [](auto m) {
         Durable(m, "tmp", "new");
         ASSERT_EQ(::rename((m + "/tmp").c_str(), (m + "/f").c_str()), 0);
       },
       "f", std::nullopt},
      {"rename with dir fsync survives",
       [](auto m) {
         Durable(m, "tmp", "new");
         ASSERT_EQ(::rename((m + "/tmp").c_str(), (m + "/f").c_str()), 0);
         FsyncDir(m);
       },
       "f", "new"},
      {"rename over a file, no dir fsync: the old file is back",
       [](auto m) {
         Durable(m, "f", "old");
         Durable(m, "tmp", "new");
         ASSERT_EQ(::rename((m + "/tmp").c_str(), (m + "/f").c_str()), 0);
       },
       "f", "old"},
      {"truncate without fsync is lost",
       [](auto m) {
         Durable(m, "f", "abcdef");
         ASSERT_EQ(::truncate((m + "/f").c_str(), 2), 0);
       },
       "f", "abcdef"},
      {"truncate then fsync",
       [](auto m) {
         Durable(m, "f", "abcdef");
         ASSERT_EQ(::truncate((m + "/f").c_str(), 2), 0);
         Fsync(m + "/f");
       },
       "f", "ab"},
      {"unlink without dir fsync is undone",
       [](auto m) {
         Durable(m, "f", "abc");
         ASSERT_EQ(::unlink((m + "/f").c_str()), 0);
       },
       "f", "abc"},
      {"unlink with dir fsync",
       [](auto m) {
         Durable(m, "f", "abc");
         ASSERT_EQ(::unlink((m + "/f").c_str()), 0);
         FsyncDir(m);
       },
       "f", std::nullopt},
      {"mkdir without dir fsync is undone",
       [](auto m) { ASSERT_EQ(::mkdir((m + "/d").c_str(), 0755), 0); }, "d", std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(mnt_)) fs::remove_all(e.path(), ec);
    FsyncDir(mnt_);
    row.before(mnt_);
    Crash();
    std::string path = mnt_ + "/" + row.file;
    if (std::string(row.file) == "d") {
      EXPECT_EQ(fs::exists(path), row.survives.has_value());
      continue;
    }
    EXPECT_EQ(Read(path), row.survives);
  }
}

TEST_F(LazyFsMountTest, ReadsSeeUnsyncedDataUntilTheCrash) {
  Durable(mnt_, "f", "abc");
  Write(mnt_ + "/f", "defg", O_APPEND);
  EXPECT_EQ(Read(mnt_ + "/f"), "abcdefg");
  EXPECT_EQ(fs::file_size(mnt_ + "/f"), 7u);
  DropReport r = Crash();
  EXPECT_EQ(r.bytes, 4u);
  EXPECT_EQ(Read(mnt_ + "/f"), "abc");
  EXPECT_EQ(fs::file_size(mnt_ + "/f"), 3u);
}

TEST_F(LazyFsMountTest, TornWriteKeepsAPrefixOfTheNewestWrite) {
  Durable(mnt_, "f", "abc");
  Write(mnt_ + "/f", "0123456789", O_APPEND);
  DropReport r = Crash(42);
  ASSERT_GT(r.torn, 0u);  // seed 42 keeps 2 bytes
  ASSERT_LT(r.torn, 10u);
  EXPECT_EQ(Read(mnt_ + "/f"), "abc" + std::string("0123456789").substr(0, r.torn));
}

TEST_F(LazyFsMountTest, UnmountSyncsAndLeavesTheDataInPlace) {
  Write(mnt_ + "/f", "abc");
  ASSERT_TRUE(mount_.Unmount().ok());
  EXPECT_EQ(Read(mnt_ + "/f"), "abc");  // now a plain directory again
  EXPECT_FALSE(fs::exists(mnt_ + ".backing"));
}

}  // namespace
}  // namespace tidemark::lazyfs
