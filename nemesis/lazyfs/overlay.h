// The unsynced state of one file in tidemark-lazyfs: the bytes written since its last fsync, and
// the size changes (truncate, fallocate) made since then. The backing file holds the durable
// bytes; an Overlay says how the file *looks* (what reads return) until it is synced or dropped.
//
// Model: the file's logical content is the backing file cut to `keep` bytes (the shortest the
// file was truncated to since the last sync; zeros beyond), resized to `size`, with `extents`
// (non-overlapping written ranges, newest wins) laid over it.
//
// Pure data structure over caller-supplied backing reads/writes: unit-testable without FUSE.
// Not thread-safe (tidemark-lazyfs holds one lock around every operation).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tidemark::lazyfs {

class Overlay {
 public:
  // `backing_size`: the backing file's size when the first unsynced change happens.
  explicit Overlay(uint64_t backing_size) : size_(backing_size), keep_(backing_size) {}

  void Write(uint64_t offset, const char* data, size_t len);
  void Truncate(uint64_t new_size);
  // Grows the logical size to at least `end` (fallocate without KEEP_SIZE); never shrinks.
  void Extend(uint64_t end);

  uint64_t size() const { return size_; }
  uint64_t keep() const { return keep_; }
  const std::map<uint64_t, std::string>& extents() const { return extents_; }
  // Bytes held only here (what a drop would lose, not counting truncations).
  uint64_t unsynced_bytes() const;

  // Fills buf[0, len) with the logical bytes at [offset, offset+len) ∩ [0, size): zeros,
  // then the backing bytes below keep (read through `backing_read`), then the extents.
  // Returns the number of bytes (0 at or past the end).
  template <typename BackingRead>
  size_t Read(uint64_t offset, char* buf, size_t len, BackingRead backing_read) const;

 private:
  void EraseRange(uint64_t begin, uint64_t end);  // cuts [begin, end) out of every extent
  uint64_t size_;
  uint64_t keep_;
  std::map<uint64_t, std::string> extents_;  // offset -> bytes, non-overlapping
};

template <typename BackingRead>
size_t Overlay::Read(uint64_t offset, char* buf, size_t len, BackingRead backing_read) const {
  if (offset >= size_) return 0;
  size_t n = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
  std::fill(buf, buf + n, '\0');
  if (offset < keep_) {
    size_t from_backing = static_cast<size_t>(std::min<uint64_t>(n, keep_ - offset));
    backing_read(offset, buf, from_backing);  // short reads leave zeros
  }
  const uint64_t end = offset + n;
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin()) --it;
  for (; it != extents_.end() && it->first < end; ++it) {
    uint64_t b = std::max(it->first, offset);
    uint64_t e = std::min<uint64_t>(it->first + it->second.size(), end);
    if (b >= e) continue;
    std::copy(it->second.data() + (b - it->first), it->second.data() + (e - it->first),
              buf + (b - offset));
  }
  return n;
}

}  // namespace tidemark::lazyfs
