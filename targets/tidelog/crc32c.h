// CRC32C (Castagnoli), as used to frame WAL records. Pure function, thread-safe.
#pragma once

#include <boost/crc.hpp>
#include <cstddef>
#include <cstdint>

namespace tidemark::tidelog {

// Returns the standard CRC32C of `data[0, n)` ("123456789" -> 0xE3069283).
inline uint32_t Crc32c(const void* data, size_t n) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, n);
  return crc.checksum();
}

}  // namespace tidemark::tidelog
