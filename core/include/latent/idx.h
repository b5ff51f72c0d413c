#pragma once
// Reader for the IDX format MNIST ships in: a 4-byte magic (0, 0, type, ndims), ndims big-endian
// uint32 sizes, then the payload. Raw or gzip-compressed. Only unsigned-byte payloads are accepted.
#include <cstdint>
#include <string>
#include <vector>

namespace latent {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Hard limits that keep a malicious header from asking for an absurd allocation.
constexpr int64_t kIdxMaxDim = 1 << 20;
constexpr int64_t kIdxMaxBytes = int64_t(4) << 30;

// Reads `path`; gzip is detected by its magic bytes, not by the name. Every malformed file (missing,
// empty, wrong magic, unsupported type, zero or absurd dims, payload size disagreeing with the header,
// truncated or corrupt gzip) throws latent::Error naming the file and the problem. The header is
// checked against the file size (or the gzip trailer) before the payload is allocated.
IdxArray read_idx(const std::string& path);

// Parses an in-memory IDX image (already decompressed); `what` names it in messages.
IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& what);

}  // namespace latent
