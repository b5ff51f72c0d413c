// libFuzzer target: the checkpoint loader. An input that starts with the magic is parsed twice: as it
// is (so the CRC check is exercised) and with its last four bytes replaced by the right CRC-32, so
// that mutations reach the array parser behind it. Any other input is taken as the metadata text and
// wrapped in a valid container (lengths and CRC right), which is how mutations reach the key=value
// parser. A checkpoint that loads must save and load back unchanged, and its training history (if it
// reads as one) too.
#include <zlib.h>

#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_support.h"
#include "latent/checkpoint.h"
#include "io/run_history.h"
#include "latent/error.h"

namespace {

std::optional<latent::Checkpoint> try_parse(const uint8_t* data, size_t size) {
  try {
    return latent::parse_checkpoint(data, size, "fuzz-input");
  } catch (const latent::Error&) {
    return std::nullopt;
  }
}

// A checkpoint's training history is refused with an error, or reads back the same once written again.
void check_history(const latent::Checkpoint& c) {
  latent::RunHistory history;
  try {
    history = latent::read_history(c);
  } catch (const latent::Error&) {
    return;
  }
  latent::Checkpoint again;
  again.progress = c.progress;
  latent::append_history(history.steps, history.epochs, again.arrays);
  const latent::RunHistory back = latent::read_history(again);
  LATENT_FUZZ_CHECK(back.steps.size() == history.steps.size() && back.epochs.size() == history.epochs.size());
  for (size_t i = 0; i < back.steps.size(); ++i)
    LATENT_FUZZ_CHECK(back.steps[i].step == history.steps[i].step && back.steps[i].loss == history.steps[i].loss);
  for (size_t i = 0; i < back.epochs.size(); ++i)
    LATENT_FUZZ_CHECK(back.epochs[i].epoch == history.epochs[i].epoch && back.epochs[i].step == history.epochs[i].step);
}

void check_round_trip(const latent::Checkpoint& c) {
  for (const auto& a : c.arrays) {
    uint64_t elements = 1;
    for (int64_t d : a.shape) {
      LATENT_FUZZ_CHECK(d >= 0);
      elements *= uint64_t(d);
    }
    LATENT_FUZZ_CHECK(elements == a.values.size());
  }
  std::vector<uint8_t> bytes = latent::serialize_checkpoint(c);
  std::optional<latent::Checkpoint> back = try_parse(bytes.data(), bytes.size());
  LATENT_FUZZ_CHECK(back.has_value());
  LATENT_FUZZ_CHECK(back->model == c.model);
  LATENT_FUZZ_CHECK(back->train.batch_size == c.train.batch_size);
  LATENT_FUZZ_CHECK(back->train.learning_rate == c.train.learning_rate);
  LATENT_FUZZ_CHECK(back->train.lr_schedule == c.train.lr_schedule);
  LATENT_FUZZ_CHECK(back->train.beta == c.train.beta);
  LATENT_FUZZ_CHECK(back->train.warmup_epochs == c.train.warmup_epochs);
  LATENT_FUZZ_CHECK(back->train.seed == c.train.seed);
  LATENT_FUZZ_CHECK(back->train.limit == c.train.limit);
  LATENT_FUZZ_CHECK(back->dataset == c.dataset);
  LATENT_FUZZ_CHECK(back->progress.step == c.progress.step);
  LATENT_FUZZ_CHECK(back->progress.epoch == c.progress.epoch);
  LATENT_FUZZ_CHECK(back->progress.epoch_offset == c.progress.epoch_offset);
  LATENT_FUZZ_CHECK(back->arrays.size() == c.arrays.size());
  check_history(c);
  for (size_t i = 0; i < c.arrays.size(); ++i) {
    LATENT_FUZZ_CHECK(back->arrays[i].name == c.arrays[i].name);
    LATENT_FUZZ_CHECK(back->arrays[i].shape == c.arrays[i].shape);
    // Bitwise: NaN payloads must survive too.
    LATENT_FUZZ_CHECK(c.arrays[i].values.empty() ||
                      std::memcmp(back->arrays[i].values.data(), c.arrays[i].values.data(),
                                  c.arrays[i].values.size() * sizeof(float)) == 0);
  }
}

// magic, version 1, metadata length, the metadata, one 2x2 array, CRC-32.
std::vector<uint8_t> wrap_metadata(const uint8_t* meta, size_t size) {
  std::vector<uint8_t> out = {'L', 'X', 'C', 'K', 'P', 'T', 0, 1, 1, 0, 0, 0};
  auto put = [&](const void* p, size_t n) {
    out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
  };
  uint64_t meta_len = size;
  put(&meta_len, 8);
  put(meta, size);
  const uint32_t count = 1, name_len = 5, rank = 2;
  const int64_t dims[2] = {2, 2};
  const float values[4] = {1, -2, 0.5f, 3};
  put(&count, 4);
  put(&name_len, 4);
  put("vae.w", 5);
  put(&rank, 4);
  put(dims, sizeof dims);
  put(values, sizeof values);
  uint32_t crc = uint32_t(crc32(0L, out.data(), uInt(out.size())));
  put(&crc, 4);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto c = try_parse(data, size)) check_round_trip(*c);
  if (size < 6 || std::memcmp(data, "LXCKPT", 6) != 0) {
    std::vector<uint8_t> wrapped = wrap_metadata(data, size);
    if (auto c = try_parse(wrapped.data(), wrapped.size())) check_round_trip(*c);
    return 0;
  }
  std::vector<uint8_t> fixed(data, data + size);
  uint32_t crc = uint32_t(crc32(0L, fixed.data(), uInt(size - 4)));
  std::memcpy(fixed.data() + size - 4, &crc, 4);
  if (auto c = try_parse(fixed.data(), fixed.size())) check_round_trip(*c);
  return 0;
}
