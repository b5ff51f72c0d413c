#pragma once
// An image dataset (train + test, optional labels with class names) held in memory as uint8
// [N, C, H, W] per split, C = 1 (gray) or 3 (RGB). The model sees x = byte / 255. The tensors stay
// inside core; this header speaks plain types.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latent/arrays.h"

namespace latent {

struct DatasetImpl;

// The label of an image in an unlabeled dataset (a flat image folder, a .npy file without --labels).
constexpr int32_t kUnlabeled = -1;

// How a dataset is read, whatever its source: the flags --labels, --size, --color, --test-split and
// --skip-bad. Every source takes them, so the same rule holds for a folder, a .npy file and IDX.
struct DataOptions {
  std::string labels;               // a .npy file of integer labels for a .npy image file
  int height = 0, width = 0;        // --size HxW: resize every image to this (0: keep the files' size)
  std::string color = "auto";       // gray | rgb | auto (RGB when any image is stored in colour)
  double test_split = 0.1;          // the held-out fraction where the source has no test split
  bool skip_bad = false;            // skip (and count) images that fail to decode instead of failing
  bool operator==(const DataOptions& o) const;
  bool operator!=(const DataOptions& o) const { return !(*this == o); }
};

// What is wrong with the options ("--test-split: 0.9 is out of range ..."), or "" when nothing is.
std::string validate(const DataOptions& options);
// "32x32" or "32" (square) → height and width; Error naming --size otherwise.
void parse_image_size(const std::string& text, int* height, int* width);

// A known factor of variation of a generated set (shapes): its name and the values it takes. Each
// image holds one value index per factor.
struct Factor {
  std::string name;
  std::vector<double> values;
};

// What Dataset::load would give, known without reading the pixels (headers, a folder's listing).
struct DatasetShape {
  std::string name;       // recorded in checkpoints: "mnist", or the folder's or file's name
  std::string directory;  // where it is: a directory or a file
  std::string kind;       // the source: "idx", "image-folder", "npy", "shapes"
  int channels = 1;
  int height = 0, width = 0;
  int64_t train_size = 0, test_size = 0;
  int classes = 0;        // 0: unlabeled
};

class Dataset {
 public:
  Dataset() = default;

  // `spec` is a name from the registry (mnist, fashion-mnist, shapes), a directory of the four
  // MNIST-layout IDX files, an image folder, or a .npy file: data_source_for (core/src/data/source.h)
  // decides which from what it finds. Throws latent::Error naming the file and the problem.
  static Dataset load(const std::string& spec, const DataOptions& options = {});
  // Every check load() makes short of decoding the pixels (headers and listings only, nothing large
  // allocated), and the shape load() would give. Throws latent::Error like load().
  static DatasetShape probe(const std::string& spec, const DataOptions& options = {});
  // Whether `spec` is one of the registry's names (mnist, fashion-mnist, shapes).
  static bool is_name(const std::string& spec);
  // Both halves of --data's help: what a spec may be, and the registry's names.
  static std::string spec_help();

  bool empty() const { return impl_ == nullptr; }
  const std::string& name() const;
  const std::string& directory() const;
  const std::string& kind() const;
  const std::string& spec() const;  // what load() was given: loading it again gives this dataset
  const DataOptions& options() const;
  int channels() const;  // values per pixel: 1 (gray) or 3 (RGB)
  int height() const;
  int width() const;
  int64_t train_size() const;
  int64_t test_size() const;

  ImageBatch test_images(const std::vector<int64_t>& indices) const;
  ImageBatch train_images(const std::vector<int64_t>& indices) const;
  // One label per image, 0 ≤ label < classes(), or kUnlabeled.
  const std::vector<int32_t>& test_labels() const;
  const std::vector<int32_t>& train_labels() const;
  bool labeled() const { return classes() > 0; }
  int classes() const;
  const std::vector<std::string>& class_names() const;
  // The name of class `label` ("T-shirt/top", a folder's name, "7"); "unlabeled" for kUnlabeled.
  std::string class_name(int32_t label) const;

  // The known factors of a generated set (empty for other sources), and each test image's value
  // indices: test_size() rows of factors().size() entries.
  const std::vector<Factor>& factors() const;
  const std::vector<int32_t>& test_factors() const;

  const DatasetImpl& impl() const { return *impl_; }

 private:
  explicit Dataset(std::shared_ptr<const DatasetImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const DatasetImpl> impl_;
};

}  // namespace latent
