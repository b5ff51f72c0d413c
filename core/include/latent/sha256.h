#pragma once
// SHA-256 (FIPS 180-4), for verifying downloaded datasets.
#include <cstddef>
#include <cstdint>
#include <string>

namespace latent {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  std::string hex_digest();  // finishes the hash

 private:
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  uint64_t length_ = 0;
  size_t buffered_ = 0;
};

std::string sha256_hex(const void* data, size_t size);
// Throws latent::Error if the file cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace latent
