#pragma once
// Reader for the IDX format MNIST ships in: a 4-byte magic (0, 0, type, ndims), ndims big-endian
// uint32 sizes, then the payload. Raw or gzip-compressed. Only unsigned-byte payloads are accepted.
#include <cstdint>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace latent {

// Payload memory: an array of 1 MiB or more gets its own mapping with every page mapped in one call,
// and its bytes are left for the reader to fill rather than zeroed first. Faulting pages in one at a
// time cost 207 ms for MNIST's 47 MB of training images on this project's VM; populated, 72 ms.
void* allocate_payload(size_t bytes);
void free_payload(void* p, size_t bytes) noexcept;

template <class T>
struct PayloadAllocator {
  using value_type = T;
  PayloadAllocator() = default;
  template <class U>
  PayloadAllocator(const PayloadAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(allocate_payload(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { free_payload(p, n * sizeof(T)); }
  // resize() default-initialises: the bytes are read into next, so zeroing them would be wasted.
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U>
  bool operator==(const PayloadAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const PayloadAllocator<U>&) const noexcept { return false; }
};

using PayloadBytes = std::vector<uint8_t, PayloadAllocator<uint8_t>>;

struct IdxArray {
  std::vector<int64_t> dims;
  PayloadBytes data;  // product(dims) bytes
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
