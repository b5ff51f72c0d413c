#include "latent/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>

#include "latent/error.h"
#include "latent/files.h"

namespace latent {
namespace {

// Payloads this large get a populated mapping (allocate_payload) and a staged read (read_raw).
constexpr size_t kPopulatedPayloadBytes = size_t(1) << 20;

const char* type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct Header {
  std::vector<int64_t> dims;
  int64_t header_bytes = 0;
  int64_t payload_bytes = 0;
};

// Validates the magic and dims; `available` is how many bytes the file holds in all (-1: unknown).
Header parse_header(const uint8_t* bytes, size_t size, const std::string& what) {
  if (size == 0) throw Error(what + ": file is empty");
  if (size < 4) throw Error(what + ": file is too short for an IDX header (" + std::to_string(size) + " bytes)");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error(what + ": wrong magic (not an IDX file: first bytes must be 0x00 0x00)");
  uint8_t type = bytes[2];
  int rank = bytes[3];
  if (type != 0x08)
    throw Error(what + ": unsupported IDX type 0x" + [&] { char b[8]; std::snprintf(b, sizeof b, "%02X", type); return std::string(b); }() +
                " (" + type_name(type) + "); only unsigned byte (0x08) is supported");
  if (rank < 1 || rank > 4)
    throw Error(what + ": unsupported number of dimensions " + std::to_string(rank) + " (1..4)");
  Header h;
  h.header_bytes = 4 + 4 * int64_t(rank);
  if (int64_t(size) < h.header_bytes)
    throw Error(what + ": truncated header (" + std::to_string(size) + " bytes, need " +
                std::to_string(h.header_bytes) + ")");
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    int64_t d = read_be32(bytes + 4 + 4 * i);
    if (d == 0) throw Error(what + ": dimension " + std::to_string(i) + " is zero");
    if (d > kIdxMaxDim)
      throw Error(what + ": dimension " + std::to_string(i) + " is absurd (" + std::to_string(d) + ")");
    total *= d;
    if (total > kIdxMaxBytes)
      throw Error(what + ": header asks for more than " + std::to_string(kIdxMaxBytes >> 30) + " GiB");
    h.dims.push_back(d);
  }
  h.payload_bytes = total;
  return h;
}

void check_payload_size(const Header& h, int64_t payload_available, const std::string& what) {
  if (payload_available < h.payload_bytes)
    throw Error(what + ": truncated payload (header says " + std::to_string(h.payload_bytes) +
                " bytes, file holds " + std::to_string(payload_available) + ")");
  if (payload_available > h.payload_bytes)
    throw Error(what + ": header counts disagree with the file size (header says " +
                std::to_string(h.payload_bytes) + " payload bytes, file holds " +
                std::to_string(payload_available) + ")");
}

Header read_raw_header(FILE* f, int64_t file_size, const std::string& what) {
  uint8_t head[20] = {};
  size_t got = std::fread(head, 1, sizeof head, f);
  Header h = parse_header(head, got, what);
  check_payload_size(h, file_size - h.header_bytes, what);
  return h;
}

IdxArray read_raw(FILE* f, int64_t file_size, const std::string& what) {
  Header h = read_raw_header(f, file_size, what);
  IdxArray out;
  out.dims = h.dims;
  out.data.resize(size_t(h.payload_bytes));
  std::fseek(f, long(h.header_bytes), SEEK_SET);
  // A large payload goes through a staging buffer rather than straight in: on this project's VM,
  // pages the kernel wrote cost as much again at their first access from user space (MNIST's 47 MB of
  // training images: read 82 ms, then 71 ms for the trainer's first pass over them); copied in from
  // user space, 84 ms in all.
  if (out.data.size() < kPopulatedPayloadBytes) {
    if (std::fread(out.data.data(), 1, out.data.size(), f) != out.data.size()) throw Error(what + ": read error");
    return out;
  }
  std::vector<uint8_t> staging(kPopulatedPayloadBytes);
  for (size_t done = 0; done < out.data.size();) {
    const size_t n = std::min(staging.size(), out.data.size() - done);
    if (std::fread(staging.data(), 1, n, f) != n) throw Error(what + ": read error");
    std::memcpy(out.data.data() + done, staging.data(), n);
    done += n;
  }
  return out;
}

std::string gz_message(gzFile gz) {
  int code = 0;
  const char* msg = gzerror(gz, &code);
  return msg && *msg ? msg : "read error";
}

using GzHandle = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

// Deflate cannot compress better than 1032:1, so a stream of N bytes holds at most ~1032·N.
constexpr int64_t kDeflateMaxRatio = 1032;

// Opens the gzip stream and reads its IDX header, checked against what a stream of this size can
// hold; leaves `gz` positioned at the payload. The trailer's ISIZE is not consulted: in a file of
// several gzip members (cat a.gz b.gz, valid) it gives the last member's size only, and zlib checks
// each member's own length and CRC as it reads.
Header read_gzip_header(const std::string& path, int64_t file_size, const std::string& what, GzHandle& gz_out) {
  if (file_size < 18) throw Error(what + ": corrupt gzip (file too short)");
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw Error(what + ": cannot open");
  GzHandle guard(gz, gzclose);
  uint8_t head[20] = {};
  int got = gzread(gz, head, 4);
  if (got < 0) throw Error(what + ": corrupt gzip (" + gz_message(gz) + ")");
  if (got >= 4) {
    int rank = head[3];
    if (rank >= 1 && rank <= 4) {
      int more = gzread(gz, head + 4, unsigned(4 * rank));
      if (more < 0) throw Error(what + ": corrupt gzip (" + gz_message(gz) + ")");
      got += more;
    }
  }
  Header h = parse_header(head, size_t(got), what);
  if (h.header_bytes + h.payload_bytes > kDeflateMaxRatio * file_size + 1024)
    throw Error(what + ": header counts larger than the file (header says " +
                std::to_string(h.header_bytes + h.payload_bytes) + " bytes uncompressed, more than a " +
                std::to_string(file_size) + "-byte gzip stream can hold)");
  gz_out = std::move(guard);
  return h;
}

IdxArray read_gzip(const std::string& path, int64_t file_size, const std::string& what) {
  GzHandle guard(nullptr, gzclose);
  Header h = read_gzip_header(path, file_size, what, guard);
  gzFile gz = guard.get();
  IdxArray out;
  out.dims = h.dims;
  // Memory follows what has really been inflated, a chunk at a time, never the header's claim
  // alone: a header that lies (or a stream padded to pass the size check) costs what it holds.
  // Reserved up front: six times the file, above what gzip makes of images (MNIST's training images
  // are 4.7:1, Fashion-MNIST's 2.4:1), so that a real dataset is inflated into one allocation.
  constexpr int64_t kChunk = int64_t(16) << 20;
  out.data.reserve(size_t(std::min(h.payload_bytes, 6 * file_size)));
  int64_t done = 0;
  while (done < h.payload_bytes) {
    const int64_t chunk = std::min(h.payload_bytes - done, kChunk);
    out.data.resize(size_t(done + chunk));
    int n = gzread(gz, out.data.data() + done, unsigned(chunk));
    if (n < 0) throw Error(what + ": corrupt gzip (" + gz_message(gz) + ")");
    if (n == 0) {
      int code = 0;
      gzerror(gz, &code);
      if (code != Z_OK) throw Error(what + ": corrupt gzip (" + gz_message(gz) + ")");
      throw Error(what + ": truncated payload (header says " + std::to_string(h.payload_bytes) +
                  " bytes, gzip stream holds " + std::to_string(done) + ")");
    }
    done += n;
  }
  out.data.resize(size_t(done));
  // Reading past the payload makes zlib verify the last CRC and notice trailing data.
  uint8_t extra;
  int n = gzread(gz, &extra, 1);
  if (n < 0) throw Error(what + ": corrupt gzip (" + gz_message(gz) + ")");
  if (n > 0) throw Error(what + ": header counts disagree with the file size (data after the payload)");
  return out;
}

}  // namespace

void* allocate_payload(size_t bytes) {
  if (bytes < kPopulatedPayloadBytes) return ::operator new(bytes);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void free_payload(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes < kPopulatedPayloadBytes) ::operator delete(p);
  else ::munmap(p, bytes);
}

IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& what) {
  Header h = parse_header(bytes, size, what);
  check_payload_size(h, int64_t(size) - h.header_bytes, what);
  IdxArray out;
  out.dims = h.dims;
  out.data.assign(bytes + h.header_bytes, bytes + h.header_bytes + h.payload_bytes);
  return out;
}

namespace {

struct OpenedIdx {
  FilePtr file;
  int64_t size = 0;
  bool gzip = false;
};

OpenedIdx open_idx(const std::string& path) {
  OpenedIdx o;
  o.file = open_regular_file(path, &o.size);
  if (o.size == 0) throw Error(path + ": file is empty");
  uint8_t magic[2] = {};
  size_t got = std::fread(magic, 1, 2, o.file.get());
  std::fseek(o.file.get(), 0, SEEK_SET);
  o.gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  return o;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  OpenedIdx o = open_idx(path);
  if (o.gzip) return read_gzip(path, o.size, path);
  return read_raw(o.file.get(), o.size, path);
}

IdxHeader read_idx_header(const std::string& path) {
  OpenedIdx o = open_idx(path);
  IdxHeader out;
  out.gzip = o.gzip;
  if (o.gzip) {
    GzHandle gz(nullptr, gzclose);
    out.dims = read_gzip_header(path, o.size, path, gz).dims;
  } else {
    out.dims = read_raw_header(o.file.get(), o.size, path).dims;
  }
  return out;
}

}  // namespace latent
