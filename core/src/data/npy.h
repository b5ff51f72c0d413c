#pragma once
// Internal: NumPy's .npy format (numpy.org/neps/nep-0001-npy-format.html): the magic "\x93NUMPY", a
// version, a little-endian header length, and a Python dict literal {'descr': '<f4', 'fortran_order':
// False, 'shape': (N, H, W), } padded with spaces, then the payload. Parsed here, with every check a
// hostile file needs: the header is bounded, the dtype must be a plain number, the payload's size
// must follow from the shape. No LibTorch here.
#include <cstdint>
#include <string>
#include <vector>

#include "latent/idx.h"

namespace latent {

enum class NpyKind { kUnsigned, kSigned, kFloat };

struct NpyHeader {
  std::string descr;           // as written, e.g. "<f4", "|u1"
  NpyKind kind = NpyKind::kUnsigned;
  int item_bytes = 1;          // 1, 2, 4 or 8 (floats: 4 or 8)
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t header_bytes = 0;    // where the payload starts
  int64_t payload_bytes = 0;   // item_bytes × the product of shape
  int64_t count() const { return item_bytes > 0 ? payload_bytes / item_bytes : 0; }
};

// Limits that keep a hostile header from asking for an absurd parse or allocation.
constexpr int64_t kNpyMaxHeaderBytes = 1 << 16;
constexpr int kNpyMaxRank = 8;

// Parses the header from the first `size` bytes of a file (at least the whole header); `what` names
// the file in messages. Throws latent::Error: bad magic, unknown version, a header that is not the
// dict above, an object, string or structured dtype, a bad shape.
NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& what);

// The header of `path`, checked against the file's size (a truncated payload is an error).
NpyHeader read_npy_header(const std::string& path);

struct NpyArray {
  NpyHeader header;
  PayloadBytes data;  // payload_bytes, as stored
};
NpyArray read_npy(const std::string& path);

// Element i of the payload in storage order, as a double (the header's type and byte order).
double npy_element(const NpyArray& a, int64_t i);

}  // namespace latent
