// libFuzzer target: the .npy header parser on raw bytes, and the file reader on the same bytes. Both
// accept with the same header or both throw latent::Error; an accepted header's sizes are consistent
// and bounded; any other exception, crash, leak or sanitizer report is a bug.
#include <optional>

#include "data/npy.h"
#include "fuzz_support.h"
#include "latent/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<latent::NpyHeader> parsed;
  try {
    parsed = latent::parse_npy_header(data, size, "fuzz-input");
  } catch (const latent::Error&) {
  }
  if (parsed) {
    LATENT_FUZZ_CHECK(parsed->header_bytes >= 10 && size_t(parsed->header_bytes) <= size);
    LATENT_FUZZ_CHECK(int(parsed->shape.size()) <= latent::kNpyMaxRank);
    LATENT_FUZZ_CHECK(parsed->payload_bytes >= 0 && parsed->payload_bytes <= latent::kIdxMaxBytes);
    int64_t count = 1;
    for (int64_t d : parsed->shape) count *= d;
    LATENT_FUZZ_CHECK(count * parsed->item_bytes == parsed->payload_bytes);
  }
  latent::fuzz::write_scratch(data, size);
  std::optional<latent::NpyArray> read;
  try {
    read = latent::read_npy(latent::fuzz::scratch_path());
  } catch (const latent::Error&) {
  }
  // The file holds its payload only when the header's size fits what follows it.
  const bool fits = parsed && size_t(parsed->header_bytes + parsed->payload_bytes) <= size;
  LATENT_FUZZ_CHECK(read.has_value() == fits);
  if (read) {
    LATENT_FUZZ_CHECK(read->header.shape == parsed->shape);
    LATENT_FUZZ_CHECK(int64_t(read->data.size()) == parsed->payload_bytes);
    for (int64_t i = 0; i < read->header.count() && i < 64; ++i) (void)latent::npy_element(*read, i);
  }
  return 0;
}
