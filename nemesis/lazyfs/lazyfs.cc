// tidemark-lazyfs: a FUSE 3 filesystem that forgets what was not fsynced.
//
//   tidemark-lazyfs --backing DIR --stash DIR --control @NAME|SOCKET MOUNTPOINT
//
// Passes every operation through to the backing directory, except that (docs/nemesis.md
// "lose-unfsynced"):
//   - written file data stays in this process (an Overlay per inode) until fsync/fdatasync on
//     the file, or the write came through an O_SYNC/O_DSYNC descriptor; truncate and fallocate
//     sizes likewise;
//   - creating (create, mknod, mkdir), renaming and unlinking are applied to the backing
//     directory at once but remembered as undoable until the parent directory (for a rename:
//     the destination's) is fsynced; a replaced or unlinked file is parked in the stash dir.
// The control socket takes one command per connection and answers one line:
//   ping                  -> "ok"
//   drop [TEAR_SEED]      -> "ok bytes=B files=F undone=U torn=T": every unsynced byte and size
//                            change discarded, every undoable namespace change undone; with a
//                            seed, a seeded prefix of the newest write survives (a torn write)
// The caller must have stopped every process using the mount before a drop. On a clean exit
// (SIGTERM, unmount) everything is synced, like an orderly shutdown.
#define FUSE_USE_VERSION 314
#include <fuse3/fuse.h>

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nemesis/lazyfs/overlay.h"

namespace tidemark::lazyfs {
namespace {

// An undoable namespace change, newest last.
struct NsChange {
  enum Kind { kCreate, kMkdir, kRename, kUnlink } kind;
  std::string a;      // created/unlinked path, or rename source (relative, starts with '/')
  std::string b;      // rename destination
  std::string stash;  // where the replaced (rename) or unlinked file was parked; "" if none
};

// A file's unsynced state plus a descriptor of its backing file that outlives the opener's.
struct FileState {
  int fd = -1;
  Overlay overlay;
};

struct LastWrite {
  ino_t ino = 0;
  uint64_t offset = 0;
  std::string data;
};

struct Handle {
  int fd;
  ino_t ino;
  bool sync;  // O_SYNC or O_DSYNC
};

class LazyFs {
 public:
  std::string backing, stash, control;

  std::string B(const char* path) const { return backing + path; }
  std::mutex mu;  // one lock around every operation and the control commands
  std::unordered_map<ino_t, std::unique_ptr<FileState>> files;
  std::vector<NsChange> changes;
  LastWrite last;
  uint64_t stash_seq = 0;
  int listen_fd = -1;
  std::thread control_thread;

  FileState& StateFor(ino_t ino, int fd) {
    auto& s = files[ino];
    if (!s) {
      struct stat st {};
      ::fstat(fd, &st);
      s = std::make_unique<FileState>(FileState{::dup(fd), Overlay(uint64_t(st.st_size))});
    }
    return *s;
  }
  FileState* Find(ino_t ino) {
    auto it = files.find(ino);
    return it == files.end() ? nullptr : it->second.get();
  }
  // Makes one file's overlay durable in the backing file; -errno on failure.
  int SyncFile(ino_t ino) {
    FileState* s = Find(ino);
    if (!s) return 0;
    const Overlay& o = s->overlay;
    if (::ftruncate(s->fd, off_t(o.keep())) != 0 || ::ftruncate(s->fd, off_t(o.size())) != 0)
      return -errno;
    for (const auto& [off, bytes] : o.extents())
      if (::pwrite(s->fd, bytes.data(), bytes.size(), off_t(off)) != ssize_t(bytes.size()))
        return -EIO;
    if (::fdatasync(s->fd) != 0) return -errno;
    ::close(s->fd);
    files.erase(ino);
    if (last.ino == ino) last = LastWrite{};
    return 0;
  }
  std::string NewStashPath() { return stash + "/" + std::to_string(++stash_seq); }
  // Commits (forgets) the namespace changes that an fsync of directory `dir` makes durable.
  void CommitDir(const std::string& dir) {
    auto parent = [](const std::string& p) {
      size_t s = p.rfind('/');
      return s == 0 ? std::string("/") : p.substr(0, s);
    };
    std::vector<NsChange> keep;
    for (NsChange& c : changes) {
      const std::string& p = c.kind == NsChange::kRename ? c.b : c.a;
      if (parent(p) != dir) {
        keep.push_back(std::move(c));
        continue;
      }
      if (!c.stash.empty()) {
        if (::unlink(c.stash.c_str()) != 0) ::rmdir(c.stash.c_str());
      }
    }
    changes = std::move(keep);
  }
  std::string Drop(uint64_t tear_seed, bool tear);
  void SyncAll() {
    std::vector<ino_t> inos;
    for (auto& [ino, s] : files) inos.push_back(ino);
    for (ino_t ino : inos) (void)SyncFile(ino);
  }
  void ServeControl();
};

LazyFs* Fs() { return static_cast<LazyFs*>(fuse_get_context()->private_data); }

std::string LazyFs::Drop(uint64_t tear_seed, bool tear) {
  uint64_t bytes = 0, torn = 0;
  size_t nfiles = files.size(), undone = 0;
  if (tear && !last.data.empty()) {
    if (FileState* s = Find(last.ino)) {
      // A seeded prefix of the newest write reached the disk; the rest of it did not.
      torn = (tear_seed * 0x9E3779B97F4A7C15ull >> 7) % last.data.size();
      if (torn > 0) (void)::pwrite(s->fd, last.data.data(), torn, off_t(last.offset));
    }
  }
  for (auto& [ino, s] : files) {
    bytes += s->overlay.unsynced_bytes();
    ::close(s->fd);
  }
  files.clear();
  last = LastWrite{};
  for (auto it = changes.rbegin(); it != changes.rend(); ++it, ++undone) {
    const NsChange& c = *it;
    switch (c.kind) {
      case NsChange::kCreate:
        ::unlink(B(c.a.c_str()).c_str());
        break;
      case NsChange::kMkdir:
        ::rmdir(B(c.a.c_str()).c_str());
        break;
      case NsChange::kRename:
        ::rename(B(c.b.c_str()).c_str(), B(c.a.c_str()).c_str());
        if (!c.stash.empty()) ::rename(c.stash.c_str(), B(c.b.c_str()).c_str());
        break;
      case NsChange::kUnlink:
        ::rename(c.stash.c_str(), B(c.a.c_str()).c_str());
        break;
    }
  }
  changes.clear();
  return "ok bytes=" + std::to_string(bytes) + " files=" + std::to_string(nfiles) +
         " undone=" + std::to_string(undone) + " torn=" + std::to_string(torn);
}

void LazyFs::ServeControl() {
  for (;;) {
    int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      return;  // listen_fd closed: shutting down
    }
    char buf[256];
    ssize_t n = ::read(c, buf, sizeof buf - 1);
    std::string cmd = n > 0 ? std::string(buf, size_t(n)) : "";
    while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == '\r')) cmd.pop_back();
    std::string reply;
    if (cmd == "ping") {
      reply = "ok";
    } else if (cmd == "drop" || cmd.rfind("drop ", 0) == 0) {
      std::lock_guard<std::mutex> lock(mu);
      bool tear = cmd.size() > 5;
      reply = Drop(tear ? std::strtoull(cmd.c_str() + 5, nullptr, 10) : 0, tear);
    } else {
      reply = "error unknown command '" + cmd + "'";
    }
    reply += "\n";
    (void)::write(c, reply.data(), reply.size());
    ::close(c);
  }
}

// --- FUSE operations ----------------------------------------------------------------------------

int GetAttr(const char* path, struct stat* st, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  int r =
      fi ? ::fstat(reinterpret_cast<Handle*>(fi->fh)->fd, st) : ::lstat(fs->B(path).c_str(), st);
  if (r != 0) return -errno;
  if (FileState* s = fs->Find(st->st_ino)) {
    st->st_size = off_t(s->overlay.size());
    st->st_blocks = (st->st_size + 511) / 512;
  }
  return 0;
}

int Open(const char* path, fuse_file_info* fi, mode_t mode, bool create) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  // The backing fd never appends (pwrite must honour offsets) and never truncates (a
  // truncation is an unsynced size change, made by setattr).
  int flags = fi->flags & ~(O_APPEND | O_TRUNC | O_SYNC | O_DSYNC);
  std::string b = fs->B(path);
  bool existed = ::access(b.c_str(), F_OK) == 0;
  int fd = ::open(b.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  struct stat st {};
  ::fstat(fd, &st);
  if (create && !existed) fs->changes.push_back({NsChange::kCreate, path, "", ""});
  if ((fi->flags & O_TRUNC) && S_ISREG(st.st_mode)) fs->StateFor(st.st_ino, fd).overlay.Truncate(0);
  bool sync = (fi->flags & O_SYNC) == O_SYNC || (fi->flags & O_DSYNC) == O_DSYNC;
  fi->fh = reinterpret_cast<uint64_t>(new Handle{fd, st.st_ino, sync});
  return 0;
}

int OpenOp(const char* path, fuse_file_info* fi) { return Open(path, fi, 0, false); }
int CreateOp(const char* path, mode_t mode, fuse_file_info* fi) {
  return Open(path, fi, mode, true);
}

int Read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  Handle* h = reinterpret_cast<Handle*>(fi->fh);
  FileState* s = fs->Find(h->ino);
  if (!s) {
    ssize_t n = ::pread(h->fd, buf, size, off);
    return n < 0 ? -errno : int(n);
  }
  return int(s->overlay.Read(uint64_t(off), buf, size, [&](uint64_t o, char* p, size_t n) {
    (void)::pread(h->fd, p, n, off_t(o));
  }));
}

int Write(const char*, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  Handle* h = reinterpret_cast<Handle*>(fi->fh);
  fs->StateFor(h->ino, h->fd).overlay.Write(uint64_t(off), buf, size);
  fs->last = LastWrite{h->ino, uint64_t(off), std::string(buf, size)};
  if (h->sync) {
    if (int r = fs->SyncFile(h->ino); r != 0) return r;
  }
  return int(size);
}

int Truncate(const char* path, off_t size, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  int fd =
      fi ? reinterpret_cast<Handle*>(fi->fh)->fd : ::open(fs->B(path).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st {};
  ::fstat(fd, &st);
  fs->StateFor(st.st_ino, fd).overlay.Truncate(uint64_t(size));
  if (!fi) ::close(fd);
  return 0;
}

int Fallocate(const char*, int mode, off_t off, off_t len, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  Handle* h = reinterpret_cast<Handle*>(fi->fh);
  if (mode == FALLOC_FL_KEEP_SIZE) return 0;  // reserves space only: no visible change
  if (mode != 0) return -EOPNOTSUPP;
  fs->StateFor(h->ino, h->fd).overlay.Extend(uint64_t(off + len));
  return 0;
}

int Fsync(const char*, int, fuse_file_info* fi) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  Handle* h = reinterpret_cast<Handle*>(fi->fh);
  if (int r = fs->SyncFile(h->ino); r != 0) return r;
  return ::fdatasync(h->fd) == 0 ? 0 : -errno;
}

int Release(const char*, fuse_file_info* fi) {
  Handle* h = reinterpret_cast<Handle*>(fi->fh);
  ::close(h->fd);
  delete h;
  return 0;
}

int Mkdir(const char* path, mode_t mode) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  if (::mkdir(fs->B(path).c_str(), mode) != 0) return -errno;
  fs->changes.push_back({NsChange::kMkdir, path, "", ""});
  return 0;
}

int Rmdir(const char* path) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  return ::rmdir(fs->B(path).c_str()) == 0 ? 0 : -errno;
}

int Unlink(const char* path) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  std::string stash = fs->NewStashPath();
  if (::rename(fs->B(path).c_str(), stash.c_str()) != 0) return -errno;
  fs->changes.push_back({NsChange::kUnlink, path, "", stash});
  return 0;
}

int Rename(const char* from, const char* to, unsigned int flags) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  if (flags != 0) return -EINVAL;
  std::string stash;
  struct stat st {};
  if (::lstat(fs->B(to).c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    stash = fs->NewStashPath();
    if (::rename(fs->B(to).c_str(), stash.c_str()) != 0) return -errno;
  }
  if (::rename(fs->B(from).c_str(), fs->B(to).c_str()) != 0) {
    int e = errno;
    if (!stash.empty()) ::rename(stash.c_str(), fs->B(to).c_str());
    return -e;
  }
  fs->changes.push_back({NsChange::kRename, from, to, stash});
  return 0;
}

int ReadDir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
            fuse_readdir_flags) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  DIR* d = ::opendir(fs->B(path).c_str());
  if (!d) return -errno;
  while (dirent* e = ::readdir(d)) {
    if (fill(buf, e->d_name, nullptr, 0, fuse_fill_dir_flags(0))) break;
  }
  ::closedir(d);
  return 0;
}

int FsyncDir(const char* path, int, fuse_file_info*) {
  LazyFs* fs = Fs();
  std::lock_guard<std::mutex> lock(fs->mu);
  fs->CommitDir(path);
  int fd = ::open(fs->B(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int r = ::fsync(fd) == 0 ? 0 : -errno;
  ::close(fd);
  return r;
}

int StatFs(const char* path, struct statvfs* st) {
  return ::statvfs(Fs()->B(path).c_str(), st) == 0 ? 0 : -errno;
}
int Chmod(const char* path, mode_t mode, fuse_file_info*) {
  return ::chmod(Fs()->B(path).c_str(), mode) == 0 ? 0 : -errno;
}
int Chown(const char* path, uid_t uid, gid_t gid, fuse_file_info*) {
  return ::lchown(Fs()->B(path).c_str(), uid, gid) == 0 ? 0 : -errno;
}
int Utimens(const char* path, const struct timespec tv[2], fuse_file_info*) {
  return ::utimensat(AT_FDCWD, Fs()->B(path).c_str(), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

void* Init(fuse_conn_info* conn, fuse_config* cfg) {
  conn->want &= ~unsigned(FUSE_CAP_WRITEBACK_CACHE);  // every write must reach us
  cfg->use_ino = 1;
  cfg->hard_remove = 1;
  cfg->entry_timeout = 0;  // a dropped create or an undone rename must be seen at once
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->kernel_cache = 0;  // reopening a file drops the kernel's cached pages
  LazyFs* fs = Fs();
  fs->control_thread = std::thread([fs] { fs->ServeControl(); });
  return fs;
}

void Destroy(void* data) {
  LazyFs* fs = static_cast<LazyFs*>(data);
  ::shutdown(fs->listen_fd, SHUT_RDWR);
  ::close(fs->listen_fd);
  if (fs->control_thread.joinable()) fs->control_thread.join();
  std::lock_guard<std::mutex> lock(fs->mu);
  fs->SyncAll();  // an orderly unmount loses nothing
  if (fs->control[0] != '@') ::unlink(fs->control.c_str());
}

// `path` is "@NAME" (an abstract socket: no file, no sun_path length trouble under deep run
// directories) or a file path.
int Listen(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (fd < 0 || path.empty() || path.size() >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(a.sun_path, path.c_str(), path.size());
  if (path[0] == '@')
    a.sun_path[0] = '\0';
  else
    ::unlink(path.c_str());
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 8) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int Usage() {
  std::fprintf(stderr,
               "usage: tidemark-lazyfs --backing DIR --stash DIR --control SOCKET MOUNTPOINT\n");
  return 254;
}

}  // namespace
}  // namespace tidemark::lazyfs

int main(int argc, char** argv) {
  using namespace tidemark::lazyfs;
  static LazyFs fs;
  static option longopts[] = {{"backing", required_argument, nullptr, 'b'},
                              {"stash", required_argument, nullptr, 's'},
                              {"control", required_argument, nullptr, 'c'},
                              {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "", longopts, nullptr)) != -1;) {
    if (c == 'b')
      fs.backing = optarg;
    else if (c == 's')
      fs.stash = optarg;
    else if (c == 'c')
      fs.control = optarg;
    else
      return Usage();
  }
  if (fs.backing.empty() || fs.stash.empty() || fs.control.empty() || optind + 1 != argc)
    return Usage();
  fs.listen_fd = Listen(fs.control);
  if (fs.listen_fd < 0) {
    std::fprintf(stderr, "tidemark-lazyfs: cannot listen on %s: %s\n", fs.control.c_str(),
                 std::strerror(errno));
    return 255;
  }
  fuse_operations ops{};
  ops.getattr = GetAttr;
  ops.open = OpenOp;
  ops.create = CreateOp;
  ops.read = Read;
  ops.write = Write;
  ops.truncate = Truncate;
  ops.fallocate = Fallocate;
  ops.fsync = Fsync;
  ops.release = Release;
  ops.mkdir = Mkdir;
  ops.rmdir = Rmdir;
  ops.unlink = Unlink;
  ops.rename = Rename;
  ops.readdir = ReadDir;
  ops.fsyncdir = FsyncDir;
  ops.statfs = StatFs;
  ops.chmod = Chmod;
  ops.chown = Chown;
  ops.utimens = Utimens;
  ops.init = Init;
  ops.destroy = Destroy;
  std::string mnt = argv[optind];
  std::vector<std::string> fargs = {"tidemark-lazyfs", "-f", "-o",
                                    "fsname=tidemark-lazyfs,subtype=lazyfs", mnt};
  std::vector<char*> fargv;
  for (auto& a : fargs) fargv.push_back(a.data());
  return fuse_main(int(fargv.size()), fargv.data(), &ops, &fs);
}
