// libFuzzer target: a TorchScript file's zip archive as the tool reads it before LibTorch does
// (model/script_archive.h). Any input is refused with latent::Error or read within its bounds: a
// record never inflates past the limit asked, the inflated total past the check's limit, and any
// other exception, crash, leak or sanitizer report is a bug.
#include <string>

#include "fuzz_support.h"
#include "latent/error.h"
#include "model/script_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kLimit = uint64_t(1) << 20;
  try {
    const auto records = latent::read_archive_directory(bytes, "fuzz-input");
    LATENT_FUZZ_CHECK(records.size() <= size / 46);
    for (const auto& record : records) {
      try {
        const std::string contents = latent::read_archive_record(bytes, record, "fuzz-input", kLimit);
        LATENT_FUZZ_CHECK(contents.size() <= kLimit && contents.size() <= record.size);
      } catch (const latent::Error&) {
      }
    }
  } catch (const latent::Error&) {
  }
  try {
    (void)latent::check_script_archive(bytes, "fuzz-input", kLimit);
  } catch (const latent::Error&) {
  }
  return 0;
}
