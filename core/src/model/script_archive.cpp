// A TorchScript file's zip archive, read before LibTorch loads it (script_archive.h).
#include "model/script_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "latent/error.h"

namespace latent {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kZip64End = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50, kLocalHeader = 0x04034b50;

struct Reader {
  const std::string& bytes;
  const std::string& path;
  bool has(uint64_t at, uint64_t n) const { return at <= bytes.size() && n <= bytes.size() - at; }
  uint64_t le(uint64_t at, int n) const {
    if (!has(at, uint64_t(n))) throw Error(path + ": the zip archive is cut short (a TorchScript file is a zip archive)");
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | uint8_t(bytes[at + uint64_t(i)]);
    return v;
  }
  uint32_t u32(uint64_t at) const { return uint32_t(le(at, 4)); }
  uint16_t u16(uint64_t at) const { return uint16_t(le(at, 2)); }
  [[noreturn]] void bad(const std::string& what) const { throw Error(path + ": damaged zip archive: " + what); }
};

std::string human_bytes(uint64_t n) {
  if (n >= (uint64_t(1) << 30)) return std::to_string(n >> 30) + " GiB";
  if (n >= (uint64_t(1) << 20)) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

std::vector<ArchiveRecord> read_archive_directory(const std::string& bytes, const std::string& path) {
  const Reader r{bytes, path};
  if (bytes.size() < 22) r.bad("too short to hold a zip directory");
  // The end-of-directory record is the last 22 bytes plus a comment of up to 65,535.
  uint64_t end = bytes.size() - 22;
  const uint64_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  while (r.u32(end) != kEndOfDirectory) {
    if (end == lowest) r.bad("no end-of-directory record");
    --end;
  }
  uint64_t count = r.u16(end + 10), offset = r.u32(end + 16);
  // LibTorch's reader (miniz) takes the zip64 record whenever its locator is there, whatever the
  // plain record says: so must this one, or the two would read different directories.
  if (end >= 20 && r.u32(end - 20) == kZip64Locator) {
    const uint64_t at = r.le(end - 20 + 8, 8);
    if (r.u32(at) != kZip64End) r.bad("its zip64 directory record is missing");
    const uint64_t count64 = r.le(at + 32, 8), offset64 = r.le(at + 48, 8);
    if ((count != 0xFFFF && count != count64) || (offset != 0xFFFFFFFF && offset != offset64))
      r.bad("its two end-of-directory records disagree");
    count = count64, offset = offset64;
  }
  // Each entry takes at least 46 bytes: a count past that is a lie, not a reason to reserve memory.
  if (count > bytes.size() / 46) r.bad("it says " + std::to_string(count) + " records, more than the file can hold");
  std::vector<ArchiveRecord> records;
  records.reserve(size_t(count));
  uint64_t at = offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (r.u32(at) != kDirectoryEntry) r.bad("directory entry " + std::to_string(i) + " is not one");
    ArchiveRecord rec;
    rec.method = r.u16(at + 10);
    rec.packed = r.u32(at + 20), rec.size = r.u32(at + 24), rec.local_header = r.u32(at + 42);
    const uint64_t name_length = r.u16(at + 28), extra_length = r.u16(at + 30), comment_length = r.u16(at + 32);
    if (!r.has(at + 46, name_length + extra_length)) r.bad("directory entry " + std::to_string(i) + " runs past the end");
    rec.name = bytes.substr(size_t(at + 46), size_t(name_length));
    // zip64: the sizes and offset that did not fit 32 bits follow in extra field 1, in this order.
    for (uint64_t e = at + 46 + name_length; e + 4 <= at + 46 + name_length + extra_length;) {
      const uint64_t id = r.u16(e), length = r.u16(e + 2);
      if (id == 1) {
        uint64_t field = e + 4;
        for (uint64_t* value : {&rec.size, &rec.packed, &rec.local_header})
          if (*value == 0xFFFFFFFF && field + 8 <= e + 4 + length) *value = r.le(field, 8), field += 8;
      }
      e += 4 + length;
    }
    if (rec.method != 0 && rec.method != 8) r.bad("record " + rec.name.substr(0, 80) + " uses compression method " + std::to_string(rec.method));
    if (rec.method == 0 && rec.packed != rec.size) r.bad("stored record " + rec.name.substr(0, 80) + " has two sizes");
    records.push_back(std::move(rec));
    at += 46 + name_length + extra_length + comment_length;
  }
  return records;
}

std::string read_archive_record(const std::string& bytes, const ArchiveRecord& rec, const std::string& path, uint64_t limit) {
  const Reader r{bytes, path};
  if (r.u32(rec.local_header) != kLocalHeader) r.bad("record " + rec.name.substr(0, 80) + " has no local header");
  const uint64_t data = rec.local_header + 30 + r.u16(rec.local_header + 26) + r.u16(rec.local_header + 28);
  if (!r.has(data, rec.packed)) r.bad("record " + rec.name.substr(0, 80) + " runs past the end");
  const uint64_t size = std::min(rec.size, limit);
  if (rec.method == 0) return bytes.substr(size_t(data), size_t(size));
  std::string out(size_t(size), '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) r.bad("cannot start inflating");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + data));
  z.avail_in = uInt(std::min<uint64_t>(rec.packed, 0xFFFFFFFFu));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(size);
  const int status = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (status != Z_STREAM_END && !(status == Z_BUF_ERROR && produced == size)) r.bad("record " + rec.name.substr(0, 80) + " does not inflate");
  out.resize(size_t(produced));
  return out;
}

int64_t check_script_archive(const std::string& bytes, const std::string& path, uint64_t inflated_limit) {
  const std::vector<ArchiveRecord> records = read_archive_directory(bytes, path);
  if (bytes.size() >= 8 && bytes.compare(4, 4, "PTMF") == 0)  // also a flatbuffer, which LibTorch would read instead
    throw Error(path + ": a zip archive that is also a mobile (flatbuffer) model; this tool reads TorchScript zip files only");
  uint64_t total = 0;
  // Saturating: each term at most 2^62 and the sum held at 2^63, so that no count of records wraps it.
  for (const ArchiveRecord& rec : records) total = std::min(total + std::min<uint64_t>(rec.size, uint64_t(1) << 62), uint64_t(1) << 63);
  if (total > inflated_limit)
    throw Error(path + ": its records inflate to " + human_bytes(total) + " (the file is " + human_bytes(bytes.size()) +
                "), more than the " + human_bytes(inflated_limit) + " a model may take here; it is not loaded");
  int64_t version = -1;
  for (const ArchiveRecord& rec : records) {
    const size_t slash = rec.name.find('/');
    if (slash == std::string::npos) continue;
    const std::string inner = rec.name.substr(slash + 1);
    if (inner == "version") {
      const std::string text = read_archive_record(bytes, rec, path, 20);
      int64_t v = 0;
      for (size_t i = 0; i < text.size() && text[i] >= '0' && text[i] <= '9' && v < (int64_t(1) << 40); ++i) v = v * 10 + (text[i] - '0');
      version = v;
    }
    // Loading a module runs the __setstate__ of each object that defines one, before any check on
    // its compiled code can be made: the contract has no use for it, so such a file is refused unread.
    // LibTorch finds records by name without regard to case, so every record but the tensors'
    // (<name>/data/N, which no code is read from) is looked through.
    std::string lower = inner;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    const bool tensor = lower.compare(0, 5, "data/") == 0;
    if (!tensor && read_archive_record(bytes, rec, path, inflated_limit).find("__setstate__") != std::string::npos)
      throw Error(path + ": its code (" + inner.substr(0, 120) +
                  ") defines __setstate__, which TorchScript runs while loading the file; this tool does not load modules "
                  "that run code before they are checked (docs/torchscript.md)");
  }
  return version;
}

}  // namespace latent
