#include "nemesis/lazyfs/overlay.h"

#include <algorithm>

namespace tidemark::lazyfs {

void Overlay::EraseRange(uint64_t begin, uint64_t end) {
  if (begin >= end) return;
  auto it = extents_.upper_bound(begin);
  if (it != extents_.begin()) --it;
  while (it != extents_.end() && it->first < end) {
    const uint64_t b = it->first;
    const uint64_t e = b + it->second.size();
    if (e <= begin) {
      ++it;
      continue;
    }
    std::string bytes = std::move(it->second);
    it = extents_.erase(it);
    // Keep what lies outside [begin, end): a head, a tail, or both.
    if (b < begin) extents_.emplace(b, bytes.substr(0, begin - b));
    if (e > end) it = extents_.emplace(end, bytes.substr(end - b)).first;
  }
}

void Overlay::Write(uint64_t offset, const char* data, size_t len) {
  if (len == 0) return;
  EraseRange(offset, offset + len);
  extents_.emplace(offset, std::string(data, len));
  size_ = std::max<uint64_t>(size_, offset + len);
}

void Overlay::Truncate(uint64_t new_size) {
  EraseRange(new_size, UINT64_MAX);
  size_ = new_size;
  keep_ = std::min(keep_, new_size);
}

void Overlay::Extend(uint64_t end) { size_ = std::max(size_, end); }

uint64_t Overlay::unsynced_bytes() const {
  uint64_t n = 0;
  for (const auto& [off, bytes] : extents_) n += bytes.size();
  return n;
}

}  // namespace tidemark::lazyfs
