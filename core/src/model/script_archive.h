#pragma once
// Internal: a TorchScript file read as the zip archive it is, before LibTorch sees it. A file from
// someone else is untrusted: its records' inflated sizes are bounded (a small file may inflate to
// gigabytes), and its code is read as text first, because loading runs some of it (__setstate__).
#include <cstdint>
#include <string>
#include <vector>

namespace latent {

struct ArchiveRecord {
  std::string name;
  int method = 0;             // 0 stored, 8 deflated
  uint64_t packed = 0;        // bytes in the file
  uint64_t size = 0;          // bytes once inflated
  uint64_t local_header = 0;  // offset of its local header
};

// The archive's records from its central directory (zip64 included), the one LibTorch's reader
// trusts. Throws latent::Error naming `path` for a file that is not a well-formed zip archive.
std::vector<ArchiveRecord> read_archive_directory(const std::string& bytes, const std::string& path);

// The record's contents, inflated; at most `limit` bytes are produced. Throws latent::Error.
std::string read_archive_record(const std::string& bytes, const ArchiveRecord& record, const std::string& path,
                                uint64_t limit);

// The checks made on a file's bytes before LibTorch loads it: the sum of the records' inflated
// sizes against `inflated_limit`, and the code records (code/**.py) read for what runs on load. Returns
// the archive's format version (its "<name>/version" record), or -1 when it has none.
int64_t check_script_archive(const std::string& bytes, const std::string& path, uint64_t inflated_limit);

}  // namespace latent
