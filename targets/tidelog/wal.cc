#include "wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "crc32c.h"

namespace tidemark::tidelog {
namespace {

enum RecordType : uint8_t { kHardState = 1, kEntry = 2, kTruncate = 3, kHwm = 4 };
// A length above this is treated as garbage rather than trusted for a huge allocation.
constexpr uint32_t kMaxRecord = 64u << 20;

void PutU8(std::string* s, uint8_t v) { s->push_back(static_cast<char>(v)); }
void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutStr(std::string* s, const std::string& v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s->append(v);
}

// Bounds-checked little-endian reader; every getter fails (returns false) past the end.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  bool U8(uint8_t* v) {
    if (n_ - pos_ < 1) return false;
    *v = static_cast<uint8_t>(p_[pos_++]);
    return true;
  }
  bool U32(uint32_t* v) {
    if (n_ - pos_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<uint32_t>(static_cast<uint8_t>(p_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (n_ - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(p_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool Str(std::string* v) {
    uint32_t len;
    if (!U32(&len) || n_ - pos_ < len) return false;
    v->assign(p_ + pos_, len);
    pos_ += len;
    return true;
  }
  bool AtEnd() const { return pos_ == n_; }

 private:
  const char* p_;
  size_t n_;
  size_t pos_ = 0;
};

std::string Frame(const std::string& payload) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  PutU32(&out, Crc32c(payload.data(), payload.size()));
  out += payload;
  return out;
}

// One decoded record, not yet applied.
struct Record {
  RecordType type = kHwm;
  HardState hard_state;  // kHardState
  Entry entry;           // kEntry
  uint64_t value = 0;    // kTruncate: the new log end; kHwm: the hint
};

// Decodes one payload; false if it does not parse. Touches no state.
bool DecodePayload(const char* p, size_t n, Record* rec) {
  Reader r(p, n);
  uint8_t type;
  if (!r.U8(&type)) return false;
  switch (type) {
    case kHardState:
      rec->type = kHardState;
      return r.U64(&rec->hard_state.generation) && r.Str(&rec->hard_state.voted_for) && r.AtEnd();
    case kEntry: {
      rec->type = kEntry;
      Entry& e = rec->entry;
      uint8_t kind;
      if (!r.U64(&e.index) || !r.U64(&e.generation) || !r.U8(&kind) || kind > 3 ||
          !r.Str(&e.client_id) || !r.U64(&e.seq) || !r.Str(&e.payload) || !r.AtEnd())
        return false;
      e.kind = static_cast<EntryKind>(kind);
      return true;
    }
    case kTruncate:
    case kHwm:
      rec->type = static_cast<RecordType>(type);
      return r.U64(&rec->value) && r.AtEnd();
    default:
      return false;
  }
}

// Applies a decoded record to *st; false (leaving *st untouched) if it contradicts the log.
// Validation comes before any change so that the caller never needs a copy of the state:
// copying the whole log per record made replay quadratic in the number of records.
bool ApplyRecord(Record&& rec, WalState* st) {
  switch (rec.type) {
    case kHardState:
      st->hard_state = std::move(rec.hard_state);
      return true;
    case kEntry:
      // An entry at index i replaces the suffix from i; a gap means the file is not ours.
      if (rec.entry.index > st->log.size()) return false;
      st->log.resize(rec.entry.index);
      st->log.push_back(std::move(rec.entry));
      return true;
    case kTruncate:
      if (rec.value > st->log.size()) return false;
      st->log.resize(rec.value);
      return true;
    case kHwm:
      st->hwm = rec.value;
      return true;
  }
  return false;
}

}  // namespace

std::string EncodeHardState(const HardState& hs) {
  std::string p;
  PutU8(&p, kHardState);
  PutU64(&p, hs.generation);
  PutStr(&p, hs.voted_for);
  return Frame(p);
}

std::string EncodeEntry(const Entry& e) {
  std::string p;
  PutU8(&p, kEntry);
  PutU64(&p, e.index);
  PutU64(&p, e.generation);
  PutU8(&p, static_cast<uint8_t>(e.kind));
  PutStr(&p, e.client_id);
  PutU64(&p, e.seq);
  PutStr(&p, e.payload);
  return Frame(p);
}

std::string EncodeTruncate(uint64_t log_end) {
  std::string p;
  PutU8(&p, kTruncate);
  PutU64(&p, log_end);
  return Frame(p);
}

std::string EncodeHwm(uint64_t hwm) {
  std::string p;
  PutU8(&p, kHwm);
  PutU64(&p, hwm);
  return Frame(p);
}

WalState ReplayWal(const std::string& bytes) {
  WalState st;
  size_t pos = 0;
  while (pos < bytes.size()) {
    Reader hdr(bytes.data() + pos, bytes.size() - pos);
    uint32_t len = 0, crc = 0;
    if (!hdr.U32(&len) || !hdr.U32(&crc)) {
      st.corruption = "torn record header at byte " + std::to_string(pos);
      break;
    }
    if (len > kMaxRecord || bytes.size() - pos - 8 < len) {
      st.corruption = "torn or oversized record (length " + std::to_string(len) + ") at byte " +
                      std::to_string(pos);
      // A plausible length that runs past the end is a write that never finished (nothing in
      // it was acknowledged); a length no record can have is damage.
      st.damaged = len > kMaxRecord;
      break;
    }
    const char* payload = bytes.data() + pos + 8;
    if (Crc32c(payload, len) != crc) {
      st.corruption = "CRC mismatch in record at byte " + std::to_string(pos);
      st.damaged = true;
      break;
    }
    // A record that does not parse or does not fit the log leaves the state untouched.
    Record rec;
    if (!DecodePayload(payload, len, &rec) || !ApplyRecord(std::move(rec), &st)) {
      st.corruption = "unparseable record at byte " + std::to_string(pos);
      st.damaged = true;
      break;
    }
    pos += 8 + len;
    st.records++;
    st.valid_bytes = pos;
  }
  return st;
}

namespace {
bool ReadFile(int fd, std::string* out) {
  struct stat sb;
  if (::fstat(fd, &sb) == 0 && sb.st_size > 0) out->reserve(static_cast<size_t>(sb.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}
}  // namespace

std::unique_ptr<Wal> Wal::Open(const std::string& dir, bool lazy, WalState* state,
                               std::string* error, bool skip_fsync) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = "cannot create data dir " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  std::string path = dir + "/wal";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::string bytes;
  if (!ReadFile(fd, &bytes)) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  *state = ReplayWal(bytes);
  if (!state->corruption.empty()) {
    std::cerr << "tidelog: WAL " << path << ": " << state->corruption << "; cutting "
              << (bytes.size() - state->valid_bytes) << " bytes at offset " << state->valid_bytes
              << "\n";
    if (::ftruncate(fd, static_cast<off_t>(state->valid_bytes)) != 0 || ::fsync(fd) != 0) {
      *error = "cannot cut " + path + ": " + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
  }
  if (::lseek(fd, 0, SEEK_END) < 0) {
    *error = "cannot seek " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  const std::string mark = dir + "/recovering";
  state->recovering = state->damaged || ::access(mark.c_str(), F_OK) == 0;
  if (state->damaged) {
    int mfd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (mfd < 0 || (!skip_fsync && ::fsync(mfd) != 0)) {
      *error = "cannot create " + mark + ": " + std::strerror(errno);
      if (mfd >= 0) ::close(mfd);
      ::close(fd);
      return nullptr;
    }
    ::close(mfd);
  }
  // The directory entries of a newly created file and of the mark must be durable too.
  int dfd = skip_fsync ? -1 : ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return std::unique_ptr<Wal>(new Wal(fd, dir, lazy, skip_fsync, state->recovering));
}

bool Wal::ClearRecovering() {
  if (!recovering_mark_) return true;
  const std::string mark = dir_ + "/recovering";
  if (::unlink(mark.c_str()) != 0 && errno != ENOENT) return false;
  int dfd = skip_fsync_ ? -1 : ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    bool ok = ::fsync(dfd) == 0;
    ::close(dfd);
    if (!ok) return false;
  }
  recovering_mark_ = false;
  return true;
}

std::optional<WalState> Wal::ReadOnly(const std::string& dir, std::string* error) {
  std::string path = dir + "/wal";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string bytes;
  bool ok = ReadFile(fd, &bytes);
  ::close(fd);
  if (!ok) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  return ReplayWal(bytes);
}

Wal::~Wal() {
  if (lazy_) FlushLazy();  // a clean shutdown loses nothing, even with the bug
  ::close(fd_);
}

void Wal::AppendHardState(const HardState& hs) {
  buffer_ += EncodeHardState(hs);
  buffer_has_hard_state_ = true;
}
void Wal::AppendEntry(const Entry& e) { buffer_ += EncodeEntry(e); }
void Wal::AppendTruncate(uint64_t log_end) { buffer_ += EncodeTruncate(log_end); }
void Wal::AppendHwm(uint64_t hwm) { buffer_ += EncodeHwm(hwm); }

bool Wal::WriteAll() {
  size_t off = 0;
  while (off < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::cerr << "tidelog: WAL write failed: " << std::strerror(errno) << "\n";
      return false;
    }
    off += static_cast<size_t>(n);
  }
  buffer_.clear();
  buffer_has_hard_state_ = false;
  if (skip_fsync_) return true;  // bug skip-fsync: acknowledged once the kernel has the bytes
  if (::fdatasync(fd_) != 0) {
    std::cerr << "tidelog: WAL fdatasync failed: " << std::strerror(errno) << "\n";
    return false;
  }
  syncs_++;
  return true;
}

bool Wal::Sync() {
  if (buffer_.empty()) return true;
  // lazy-fsync keeps entries in user space but still persists votes: the bug is about
  // acknowledged data, not about double voting.
  if (lazy_ && !buffer_has_hard_state_) return true;
  return WriteAll();
}

bool Wal::FlushLazy() { return buffer_.empty() ? true : WriteAll(); }

}  // namespace tidemark::tidelog
