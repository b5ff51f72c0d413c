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

// The header alone, with every check read_idx makes before it allocates the payload: a raw file's
// size must match the header, a gzip file's trailer must agree with it (and the stream must be able
// to hold that much). Reads a few bytes; lets a caller check a set of files before loading any.
struct IdxHeader {
  std::vector<int64_t> dims;
  bool gzip = false;
};
IdxHeader read_idx_header(const std::string& path);

// Parses an in-memory IDX image (already decompressed); `what` names it in messages.
IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& what);

}  // namespace latent
