// libFuzzer target: the IDX reader on gzip files. An input with the gzip magic is read as it is
// (corrupt streams, lying trailers, concatenated members); any other input is first compressed, and
// then reading the .gz must agree with parsing the bytes directly.
#include <zlib.h>

#include <optional>
#include <vector>

#include "fuzz_support.h"
#include "latent/error.h"
#include "latent/idx.h"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, uLong(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = uInt(size);
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

template <typename F>
std::optional<latent::IdxArray> attempt(F&& f) {
  try {
    return f();
  } catch (const latent::Error&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = latent::fuzz::scratch_path();
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    latent::fuzz::write_scratch(data, size);
    auto read = attempt([&] { return latent::read_idx(path); });
    if (read) {
      int64_t total = 1;
      for (int64_t d : read->dims) total *= d;
      LATENT_FUZZ_CHECK(size_t(total) == read->data.size());
    }
    return 0;
  }
  std::vector<uint8_t> compressed = gzip(data, size);
  latent::fuzz::write_scratch(compressed.data(), compressed.size());
  auto read = attempt([&] { return latent::read_idx(path); });
  auto parsed = attempt([&] { return latent::parse_idx(data, size, "fuzz-input"); });
  LATENT_FUZZ_CHECK(read.has_value() == parsed.has_value());
  if (read) {
    LATENT_FUZZ_CHECK(read->dims == parsed->dims);
    LATENT_FUZZ_CHECK(read->data == parsed->data);
  }
  return 0;
}
