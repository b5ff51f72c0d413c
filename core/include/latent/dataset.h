#pragma once
// An image dataset (train + test, with labels) held in memory as one float tensor per split,
// pixels scaled to [0, 1]. The tensors stay inside core; this header speaks plain types.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latent/arrays.h"

namespace latent {

struct DatasetImpl;

// What Dataset::load would give, known from the files' headers alone.
struct DatasetShape {
  std::string name, directory;
  int channels = 1;  // IDX files hold gray images
  int height = 0, width = 0;
  int64_t train_size = 0, test_size = 0;
};

class Dataset {
 public:
  Dataset() = default;

  // `spec` is a directory holding the four MNIST-layout IDX files (each optionally .gz), or a name,
  // "mnist" or "fashion-mnist", resolved by resolve_dataset_dir (data_sources.h). Throws latent::Error.
  static Dataset load(const std::string& spec);
  // Every check load() makes short of reading the payloads (a few bytes per file, nothing large
  // allocated), and the shape load() would give. Throws latent::Error like load().
  static DatasetShape probe(const std::string& spec);
  // Loads the four files from `dir`; `name` is recorded in checkpoints. All four headers are
  // checked, and checked against each other, before any payload is read.
  static Dataset load_dir(const std::string& dir, const std::string& name);

  bool empty() const { return impl_ == nullptr; }
  const std::string& name() const;
  const std::string& directory() const;
  int channels() const;  // values per pixel: 1 (gray) or 3 (RGB)
  int height() const;
  int width() const;
  int64_t train_size() const;
  int64_t test_size() const;

  ImageBatch test_images(const std::vector<int64_t>& indices) const;
  ImageBatch train_images(const std::vector<int64_t>& indices) const;
  const std::vector<uint8_t>& test_labels() const;
  const std::vector<uint8_t>& train_labels() const;

  const DatasetImpl& impl() const { return *impl_; }

 private:
  explicit Dataset(std::shared_ptr<const DatasetImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const DatasetImpl> impl_;
};

}  // namespace latent
