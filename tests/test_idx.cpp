// The IDX reader on valid files of any size, raw and gzip, and on every malformed case.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "latent/error.h"
#include "latent/idx.h"
#include "test_support.h"

namespace latent {
namespace {

using test::read_bytes;
using test::temp_dir;
using test::write_bytes;
using test::write_idx;

std::string error_reading(const std::string& path) {
  try {
    read_idx(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_ERROR(path, fragment)                                                  \
  do {                                                                                \
    std::string message = error_reading(path);                                        \
    EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message;   \
    EXPECT_NE(message.find(path), std::string::npos) << "message names no file: " << message; \
  } while (0)

class IdxFormat : public ::testing::TestWithParam<bool> {};  // parameter: gzip

TEST_P(IdxFormat, ReadsImagesOfAnySize) {
  bool gzip = GetParam();
  std::string path = temp_dir() + "/images";
  std::vector<uint8_t> payload(3 * 5 * 7);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i);
  write_idx(path, {3, 5, 7}, payload, gzip);
  IdxArray a = read_idx(path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(std::vector<uint8_t>(a.data.begin(), a.data.end()), payload);
}

// Payloads of 1 MiB or more take the populated mapping instead of the heap: every byte read, none left
// as the mapping's zeros.
TEST_P(IdxFormat, ReadsPayloadsThatGetTheirOwnMapping) {
  bool gzip = GetParam();
  std::string path = temp_dir() + "/large";
  std::vector<uint8_t> payload(1500 * 28 * 28);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(1 + i % 251);
  write_idx(path, {1500, 28, 28}, payload, gzip);
  IdxArray a = read_idx(path);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{1500, 28, 28}));
  ASSERT_EQ(a.data.size(), payload.size());
  EXPECT_TRUE(std::equal(a.data.begin(), a.data.end(), payload.begin()));
  IdxArray moved = std::move(a);  // the mapping moves with the array and is freed once
  EXPECT_EQ(moved.data.back(), payload.back());
}

TEST_P(IdxFormat, RejectsWrongMagic) {
  std::string path = temp_dir() + "/bad";
  std::vector<uint8_t> bytes = {0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4};
  write_bytes(path, bytes);
  EXPECT_ERROR(path, "wrong magic");
}

TEST_P(IdxFormat, RejectsUnsupportedType) {
  std::string path = temp_dir() + "/floats";
  write_idx(path, {2, 2, 2}, std::vector<uint8_t>(32), GetParam(), 0x0D);
  EXPECT_ERROR(path, "unsupported IDX type 0x0D (float32)");
}

TEST_P(IdxFormat, RejectsTruncatedPayload) {
  std::string path = temp_dir() + "/short";
  write_idx(path, {10, 4, 4}, std::vector<uint8_t>(100), GetParam());
  EXPECT_ERROR(path, "truncated payload (header says 160 bytes,");
}

TEST_P(IdxFormat, RejectsHeaderCountsLargerThanTheFile) {
  std::string path = temp_dir() + "/huge";
  // Claims 60000 28x28 images but holds one: rejected before allocating 47 MB.
  write_idx(path, {60000, 28, 28}, std::vector<uint8_t>(784), GetParam());
  std::string message = error_reading(path);
  EXPECT_TRUE(message.find("truncated") != std::string::npos || message.find("disagree") != std::string::npos ||
              message.find("larger than the file") != std::string::npos)
      << message;
}

TEST_P(IdxFormat, RejectsExtraBytes) {
  std::string path = temp_dir() + "/long";
  write_idx(path, {2, 2, 2}, std::vector<uint8_t>(9), GetParam());
  EXPECT_ERROR(path, "disagree");
}

TEST_P(IdxFormat, RejectsZeroAndAbsurdDims) {
  std::string dir = temp_dir();
  write_idx(dir + "/zero", {0, 28, 28}, {}, GetParam());
  EXPECT_ERROR(dir + "/zero", "dimension 0 is zero");
  write_idx(dir + "/absurd", {4000000000u, 28, 28}, {}, GetParam());
  EXPECT_ERROR(dir + "/absurd", "absurd");
  write_idx(dir + "/product", {1000000, 1000000, 1000}, {}, GetParam());
  EXPECT_ERROR(dir + "/product", "GiB");
}

TEST_P(IdxFormat, RejectsTruncatedHeader) {
  std::string path = temp_dir() + "/header";
  std::vector<uint8_t> bytes = {0, 0, 8, 3, 0, 0, 0, 5};
  write_bytes(path, bytes);
  EXPECT_ERROR(path, "truncated header");
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxFormat, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "gzip" : "raw"; });

TEST(Idx, RejectsEmptyAndMissingFilesAndDirectories) {
  std::string dir = temp_dir();
  write_bytes(dir + "/empty", {});
  EXPECT_ERROR(dir + "/empty", "empty");
  EXPECT_ERROR(dir + "/nothing-here", "not found");
  EXPECT_ERROR(dir, "is a directory");
}

TEST(Idx, RejectsCorruptGzip) {
  std::string dir = temp_dir();
  write_idx(dir + "/good.gz", {4, 8, 8}, std::vector<uint8_t>(256, 7), true);
  auto bytes = read_bytes(dir + "/good.gz");
  ASSERT_GT(bytes.size(), 30u);
  // Flip bits in the deflate stream: zlib's CRC or the stream structure catches it.
  auto corrupt = bytes;
  for (size_t i = 12; i < corrupt.size() - 8; i += 3) corrupt[i] ^= 0x5A;
  write_bytes(dir + "/corrupt.gz", corrupt);
  std::string message = error_reading(dir + "/corrupt.gz");
  EXPECT_TRUE(message.find("corrupt gzip") != std::string::npos || message.find("disagree") != std::string::npos ||
              message.find("truncated") != std::string::npos || message.find("magic") != std::string::npos)
      << message;
  // A stream cut in half.
  std::vector<uint8_t> half(bytes.begin(), bytes.begin() + long(bytes.size() / 2));
  write_bytes(dir + "/half.gz", half);
  message = error_reading(dir + "/half.gz");
  EXPECT_TRUE(message.find("corrupt gzip") != std::string::npos || message.find("disagree") != std::string::npos ||
              message.find("truncated") != std::string::npos)
      << message;
  // Only the CRC in the trailer is wrong.
  auto bad_crc = bytes;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  write_bytes(dir + "/crc.gz", bad_crc);
  EXPECT_ERROR(dir + "/crc.gz", "corrupt gzip");
}

TEST(Idx, RejectsAGzipStreamTooSmallForWhatItsHeaderAndTrailerClaim) {
  // 784 MB claimed by header and trailer alike (a forged trailer): deflate cannot pack that into
  // 100 kB (at most ~1032:1), so it is refused before the payload is allocated.
  std::string dir = temp_dir();
  std::vector<uint8_t> noise(100000);  // incompressible, and more than zlib reads at once
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = uint8_t((i * 2654435761u) >> 13);
  write_idx(dir + "/forged.gz", {1000000, 28, 28}, noise, true);
  auto bytes = read_bytes(dir + "/forged.gz");
  const uint32_t claimed = 16 + 784000000u;
  for (size_t i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = uint8_t(claimed >> (8 * i));
  write_bytes(dir + "/forged.gz", bytes);
  EXPECT_ERROR(dir + "/forged.gz", "header counts larger than the file");
}

TEST(Idx, HeaderAloneMakesTheReadersChecks) {
  std::string dir = temp_dir();
  for (bool gzip : {false, true}) {
    std::string path = dir + (gzip ? "/ok.gz" : "/ok");
    write_idx(path, {3, 5, 7}, std::vector<uint8_t>(105, 1), gzip);
    IdxHeader h = read_idx_header(path);
    EXPECT_EQ(h.dims, (std::vector<int64_t>{3, 5, 7}));
    EXPECT_EQ(h.gzip, gzip);
    // Truncated, and header counts larger than the file: found from the header and the file size.
    path = dir + (gzip ? "/short.gz" : "/short");
    write_idx(path, {60000, 28, 28}, std::vector<uint8_t>(784), gzip);
    try {
      read_idx_header(path);
      ADD_FAILURE() << path << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()), error_reading(path));  // the same message as the full read
    }
  }
  write_bytes(dir + "/empty", {});
  EXPECT_THROW(read_idx_header(dir + "/empty"), Error);
  EXPECT_THROW(read_idx_header(dir + "/none"), Error);
}

// A gzip stream's trailer and its header's claim are never a reason to allocate: a 4 GiB claim,
// padded past the size check with a 4 MB FCOMMENT and a trailer forged to agree, is read for what it
// holds and refused. (Its peak memory is measured in the bad-dataset catalogue, through latent-train.)
TEST(Idx, AHeaderThatLiesIsReadForWhatTheStreamHolds) {
  const std::string dir = temp_dir();
  // 65536 x 256 x 255 bytes claimed: just under the reader's 4 GiB limit, and within what deflate
  // could pack into 4 MB.
  std::vector<uint8_t> idx = {0, 0, 8, 3, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xFF};
  idx.resize(idx.size() + 1000, 7);
  write_bytes(dir + "/padded.gz", test::gzip_with_comment(idx, size_t(4) << 20, uint32_t(16 + 65536ull * 256 * 255)));
  EXPECT_ERROR(dir + "/padded.gz", "corrupt gzip");
}

// `cat a.gz b.gz` is a valid gzip file (gzip -d reads it whole), and so a valid IDX file.
TEST(Idx, AMultiMemberGzipReads) {
  const std::string dir = temp_dir();
  std::vector<uint8_t> payload(3 * 5 * 7);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i);
  write_idx(dir + "/whole", {3, 5, 7}, payload, false);
  const std::vector<uint8_t> raw = read_bytes(dir + "/whole");
  std::vector<uint8_t> joined;
  for (const auto& [from, to] : {std::pair<size_t, size_t>{0, 40}, {40, raw.size()}}) {
    write_bytes(dir + "/part", std::vector<uint8_t>(raw.begin() + long(from), raw.begin() + long(to)));
    gzFile gz = gzopen((dir + "/part.gz").c_str(), "wb");
    const std::vector<uint8_t> part = read_bytes(dir + "/part");
    gzwrite(gz, part.data(), unsigned(part.size()));
    gzclose(gz);
    const std::vector<uint8_t> member = read_bytes(dir + "/part.gz");
    joined.insert(joined.end(), member.begin(), member.end());
  }
  write_bytes(dir + "/joined.gz", joined);
  IdxArray a = read_idx(dir + "/joined.gz");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(std::vector<uint8_t>(a.data.begin(), a.data.end()), payload);
}

TEST(Idx, ParsesInMemory) {
  std::vector<uint8_t> bytes = {0, 0, 8, 1, 0, 0, 0, 3, 9, 8, 7};
  IdxArray a = parse_idx(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3}));
  EXPECT_EQ(std::vector<uint8_t>(a.data.begin(), a.data.end()), (std::vector<uint8_t>{9, 8, 7}));
}

// Inputs kept for the fuzzers (tests/fuzz/regressions/idx*, replayed by scripts/check-robustness):
// each reads or is refused with latent::Error, as a file, in memory, and gzip-compressed. Headers
// claiming 4 GiB whose size agrees with the gzip trailer mod 2^32 must be refused before allocating.
TEST(Idx, FuzzerFindingsReadOrAreRefused) {
  std::string dir = temp_dir();
  int files = 0;
  for (const char* target : {"idx", "idx_gzip"}) {
    for (const auto& entry : std::filesystem::directory_iterator(std::string(LATENT_FUZZ_REGRESSIONS) + "/" + target)) {
      std::string path = entry.path().string();
      ++files;
      std::string message;
      EXPECT_NO_THROW(message = error_reading(path)) << path;
      if (entry.path().filename().string().rfind("claims-4gib", 0) == 0)
        EXPECT_TRUE(message.find("larger than the file") != std::string::npos ||
                    message.find("truncated payload") != std::string::npos) << path << ": " << message;
      auto bytes = read_bytes(path);
      EXPECT_NO_THROW(try { parse_idx(bytes.data(), bytes.size(), path); } catch (const Error&) {}) << path;
      gzFile gz = gzopen((dir + "/compressed.gz").c_str(), "wb");
      gzwrite(gz, bytes.data(), unsigned(bytes.size()));
      gzclose(gz);
      EXPECT_NO_THROW(message = error_reading(dir + "/compressed.gz")) << path << " compressed";
    }
  }
  EXPECT_GE(files, 3);
}

}  // namespace
}  // namespace latent
