// libFuzzer target: the IDX reader on raw bytes. The in-memory parser and the file reader must agree
// (both accept with the same array, or both throw latent::Error); any other exception, crash, leak
// or sanitizer report is a bug.
#include <optional>

#include "fuzz_support.h"
#include "latent/error.h"
#include "latent/idx.h"

namespace {

std::optional<latent::IdxArray> try_parse(const uint8_t* data, size_t size) {
  try {
    return latent::parse_idx(data, size, "fuzz-input");
  } catch (const latent::Error&) {
    return std::nullopt;
  }
}

std::optional<latent::IdxArray> try_read(const std::string& path) {
  try {
    return latent::read_idx(path);
  } catch (const latent::Error&) {
    return std::nullopt;
  }
}

void check_shape(const latent::IdxArray& a) {
  LATENT_FUZZ_CHECK(!a.dims.empty() && a.dims.size() <= 4);
  int64_t total = 1;
  for (int64_t d : a.dims) {
    LATENT_FUZZ_CHECK(d >= 1 && d <= latent::kIdxMaxDim);
    total *= d;
  }
  LATENT_FUZZ_CHECK(size_t(total) == a.data.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = try_parse(data, size);
  if (parsed) check_shape(*parsed);
  // Inputs with the gzip magic take read_idx's gzip path: fuzz_idx_gzip covers those.
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
  latent::fuzz::write_scratch(data, size);
  auto read = try_read(latent::fuzz::scratch_path());
  LATENT_FUZZ_CHECK(parsed.has_value() == read.has_value());
  if (read) {
    LATENT_FUZZ_CHECK(read->dims == parsed->dims);
    LATENT_FUZZ_CHECK(read->data == parsed->data);
  }
  return 0;
}
