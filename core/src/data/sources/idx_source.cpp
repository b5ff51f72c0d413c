// IDX files in MNIST's layout: a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz), and the named sets that
// come as such a directory (mnist, fashion-mnist).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "data/source.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/files.h"

namespace latent {
namespace {

const char* const kIdxNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                 "t10k-labels-idx1-ubyte"};

std::string find_idx(const std::string& dir, const std::string& name) {
  const std::string raw = dir + "/" + name, gz = raw + ".gz";
  const bool have_raw = path_exists(raw), have_gz = path_exists(gz);
  if (have_raw && have_gz)
    throw Error(dir + ": both " + name + " and " + name + ".gz are there; keep one (they may differ)");
  if (have_raw) return raw;
  if (have_gz) return gz;
  throw Error(dir + ": missing " + name + " (or " + name + ".gz)");  // gone since check_files looked
}

// One split's two files, checked from their headers alone: ranks and counts agree.
struct SplitFiles {
  std::string images_path, labels_path;
  IdxHeader images, labels;
};

SplitFiles check_split(const std::string& dir, const std::string& images_name, const std::string& labels_name) {
  SplitFiles s;
  s.images_path = find_idx(dir, images_name);
  s.labels_path = find_idx(dir, labels_name);
  s.images = read_idx_header(s.images_path);
  if (s.images.dims.size() != 3)
    throw Error(s.images_path + ": expected 3 dimensions (count, height, width), got " +
                std::to_string(s.images.dims.size()));
  s.labels = read_idx_header(s.labels_path);
  if (s.labels.dims.size() != 1)
    throw Error(s.labels_path + ": expected 1 dimension (count), got " + std::to_string(s.labels.dims.size()));
  if (s.labels.dims[0] != s.images.dims[0])
    throw Error(s.labels_path + ": " + std::to_string(s.labels.dims[0]) + " labels for " +
                std::to_string(s.images.dims[0]) + " images in " + s.images_path);
  return s;
}

// All four files' headers and how they fit together, before any payload is allocated: a bad test
// file is reported without first loading 47 MB of training images.
std::pair<SplitFiles, SplitFiles> check_files(const std::string& dir) {
  std::string missing;
  for (const char* name : kIdxNames)
    if (!path_exists(dir + "/" + name) && !path_exists(dir + "/" + name + ".gz")) missing += (missing.empty() ? "" : ", ") + std::string(name);
  if (!missing.empty()) {
    if (::access(dir.c_str(), R_OK | X_OK) != 0 && errno == EACCES) throw Error(dir + ": permission denied");
    throw Error(dir + ": not a complete IDX directory: missing " + missing +
                " (it needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each "
                "optionally .gz)");
  }
  SplitFiles train = check_split(dir, kIdxNames[0], kIdxNames[1]);
  SplitFiles test = check_split(dir, kIdxNames[2], kIdxNames[3]);
  const auto& a = train.images.dims;
  const auto& b = test.images.dims;
  if (a[1] != b[1] || a[2] != b[2])
    throw Error(dir + ": train images are " + std::to_string(a[1]) + "x" + std::to_string(a[2]) +
                " but test images are " + std::to_string(b[1]) + "x" + std::to_string(b[2]));
  if (a[1] > kMaxImageSide || a[2] > kMaxImageSide)
    throw Error(train.images_path + ": images larger than " + std::to_string(kMaxImageSide) + "x" + std::to_string(kMaxImageSide) +
                " are not supported");
  return {std::move(train), std::move(test)};
}

// The payload, which must still be what the header promised (the file may have changed since).
IdxArray read_checked(const std::string& path, const IdxHeader& header) {
  IdxArray a = read_idx(path);
  if (a.dims != header.dims) throw Error(path + ": changed while it was being read");
  return a;
}

std::string name_of(const std::string& spec, const std::string& dir) {
  if (find_named_dataset(spec)) return spec;
  return path_basename(dir);
}

DatasetShape shape_of(const std::string& spec, const DataOptions& options) {
  check_data_options(options);
  DatasetShape shape;
  shape.kind = "idx";
  shape.directory = resolve_dataset_dir(spec);
  shape.name = name_of(spec, shape.directory);
  auto [train, test] = check_files(shape.directory);
  shape.channels = output_channels(options, false);  // IDX images are gray
  output_size(options, int(train.images.dims[1]), int(train.images.dims[2]), &shape.height, &shape.width);
  shape.train_size = train.images.dims[0];
  shape.test_size = test.images.dims[0];
  const NamedDataset* named = find_named_dataset(spec);
  shape.classes = named ? int(named->class_names.size()) : 0;  // others: known once the labels are read
  return shape;
}

RawSplit to_split(IdxArray&& images, const IdxArray& labels, const DatasetShape& shape) {
  RawSplit s;
  s.count = images.dims[0];
  const int h = int(images.dims[1]), w = int(images.dims[2]);
  if (shape.channels == 1 && shape.height == h && shape.width == w) {
    s.pixels = std::move(images.data);  // already the dataset's form: no copy
  } else {
    s.pixels.resize(size_t(s.count * shape.channels * shape.height * shape.width));
    const uint8_t* first = images.data.data();
    conform_images(
        s.count, [&](int64_t i) { return PixelView::interleaved(first + i * h * w, 1, h, w); }, shape.channels, shape.height,
        shape.width, s.pixels.data());
  }
  s.labels.assign(labels.data.begin(), labels.data.end());
  return s;
}

RawDataset load(const std::string& spec, const DataOptions& options) {
  RawDataset d;
  d.shape = shape_of(spec, options);
  const std::string& dir = d.shape.directory;
  auto [train_files, test_files] = check_files(dir);
  check_dataset_fits(d.shape, "loading " + dir);
  // The test split first: usually the smaller, so a corrupt gzip stream in it (found only by
  // decompressing) costs less before it is reported.
  IdxArray test_images = read_checked(test_files.images_path, test_files.images);
  IdxArray test_labels = read_checked(test_files.labels_path, test_files.labels);
  IdxArray train_images = read_checked(train_files.images_path, train_files.images);
  IdxArray train_labels = read_checked(train_files.labels_path, train_files.labels);
  d.test = to_split(std::move(test_images), test_labels, d.shape);
  d.train = to_split(std::move(train_images), train_labels, d.shape);
  const NamedDataset* named = find_named_dataset(spec);
  d.class_names = named ? named->class_names : numbered_classes(d.train.labels, d.test.labels);
  for (const auto* split : {&d.train, &d.test})
    for (int32_t label : split->labels)
      if (label >= int32_t(d.class_names.size()))
        throw Error(dir + ": label " + std::to_string(label) + " is not one of " + spec + "'s " +
                    std::to_string(d.class_names.size()) + " classes");
  d.shape.classes = int(d.class_names.size());
  return d;
}

bool is_idx_directory(const std::string& spec) {
  struct stat st {};
  if (::stat(spec.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  for (const char* name : kIdxNames)
    if (path_exists(spec + "/" + name) || path_exists(spec + "/" + name + ".gz")) return true;
  return false;
}

}  // namespace

DataSourceEntry named_idx_source() {
  return {"idx", "mnist or fashion-mnist (found where scripts/setup puts them)",
          [](const std::string& spec) { return find_named_dataset(spec) != nullptr; }, shape_of, load};
}

DataSourceEntry idx_directory_source() {
  return {"idx", "a directory of the four MNIST-layout IDX files (each optionally .gz)", is_idx_directory, shape_of, load};
}

}  // namespace latent
