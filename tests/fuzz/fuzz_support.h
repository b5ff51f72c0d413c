#pragma once
// Shared by the fuzz targets: a per-process scratch file (read_idx reads from a path, and gzip goes
// through zlib's gzopen) and an abort that names the broken property, so libFuzzer keeps the input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace latent::fuzz {

// One file per fuzzing process (libFuzzer's -jobs/-fork run several), removed at exit. In /dev/shm
// when there is one: on a disk the writes make the targets 40x slower.
inline const std::string& scratch_path() {
  static const std::string path = [] {
    const char* env = std::getenv("LATENT_FUZZ_TMP");
    std::string dir = env ? env
                      : std::filesystem::is_directory("/dev/shm") ? "/dev/shm"
                                                                  : std::filesystem::temp_directory_path().string();
    std::string p = dir + "/latent-fuzz-" + std::to_string(::getpid());
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return p;
  }();
  return path;
}

inline void write_scratch(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(scratch_path().c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror("fuzz: cannot write the scratch file");
    std::abort();
  }
}

[[noreturn]] inline void property_failed(const char* what) {
  std::fprintf(stderr, "fuzz: property failed: %s\n", what);
  std::abort();
}

#define LATENT_FUZZ_CHECK(cond) \
  do {                          \
    if (!(cond)) ::latent::fuzz::property_failed(#cond); \
  } while (0)

}  // namespace latent::fuzz
