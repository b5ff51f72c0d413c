#include "latent/dataset.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>

#include "data/dataset_impl.h"
#include "train/kernels.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/idx.h"
#include "latent/resources.h"

namespace latent {
namespace {

std::string find_idx(const std::string& dir, const std::string& name) {
  const std::string raw = dir + "/" + name, gz = raw + ".gz";
  const bool have_raw = path_exists(raw), have_gz = path_exists(gz);
  if (have_raw && have_gz)
    throw Error(dir + ": both " + name + " and " + name + ".gz are there; keep one (they may differ)");
  if (have_raw) return raw;
  if (have_gz) return gz;
  if (::access(dir.c_str(), R_OK | X_OK) != 0 && errno == EACCES) throw Error(dir + ": permission denied");
  throw Error(dir + ": missing " + name + " (or " + name + ".gz)");
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
std::pair<SplitFiles, SplitFiles> check_dataset(const std::string& dir) {
  SplitFiles train = check_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte");
  SplitFiles test = check_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  const auto& a = train.images.dims;
  const auto& b = test.images.dims;
  if (a[1] != b[1] || a[2] != b[2])
    throw Error(dir + ": train images are " + std::to_string(a[1]) + "x" + std::to_string(a[2]) +
                " but test images are " + std::to_string(b[1]) + "x" + std::to_string(b[2]));
  if (a[1] > 4096 || a[2] > 4096)
    throw Error(train.images_path + ": images larger than 4096x4096 are not supported");
  return {std::move(train), std::move(test)};
}

// The payload, which must still be what the header promised (the file may have changed since).
IdxArray read_checked(const std::string& path, const IdxHeader& header) {
  IdxArray a = read_idx(path);
  if (a.dims != header.dims) throw Error(path + ": changed while it was being read");
  return a;
}

std::string name_of(const std::string& spec, const std::string& dir) {
  if (spec == "mnist" || spec == "fashion-mnist") return spec;
  auto path = std::filesystem::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

// uint8 [N, H, W] → uint8 [N, H·W] over the bytes as read: no copy.
torch::Tensor byte_images(IdxArray& a) {
  auto bytes = std::make_shared<PayloadBytes>(std::move(a.data));
  return torch::from_blob(bytes->data(), {a.dims[0], a.dims[1] * a.dims[2]}, [bytes](void*) mutable { bytes.reset(); },
                          torch::kUInt8);
}

ImageBatch gather(const DatasetImpl& d, const torch::Tensor& images, const std::vector<int64_t>& indices) {
  ImageBatch out;
  out.count = int64_t(indices.size());
  out.channels = d.channels;
  out.height = d.height;
  out.width = d.width;
  const int64_t n = images.size(0), p = images.size(1);
  for (int64_t i : indices)
    if (i < 0 || i >= n) throw Error("image index " + std::to_string(i) + " is out of range (0.." + std::to_string(n - 1) + ")");
  out.pixels.resize(size_t(out.count * p));
  gather_unit_floats(images.data_ptr<uint8_t>(), p, indices.data(), out.count, out.pixels.data());
  return out;
}

}  // namespace

Dataset Dataset::load(const std::string& spec) {
  std::string dir = resolve_dataset_dir(spec);
  return load_dir(dir, name_of(spec, dir));
}

DatasetShape Dataset::probe(const std::string& spec) {
  DatasetShape shape;
  shape.directory = resolve_dataset_dir(spec);
  shape.name = name_of(spec, shape.directory);
  auto [train, test] = check_dataset(shape.directory);
  shape.height = int(train.images.dims[1]);
  shape.width = int(train.images.dims[2]);
  shape.train_size = train.images.dims[0];
  shape.test_size = test.images.dims[0];
  return shape;
}

Dataset Dataset::load_dir(const std::string& dir, const std::string& name) {
  auto [train_files, test_files] = check_dataset(dir);
  {
    // What the headers say the images will take (bytes, and the test split again as floats), against
    // what the machine allows, before any of it is read.
    MemoryEstimate need;
    const int64_t train_n = train_files.images.dims[0], test_n = test_files.images.dims[0];
    need.dataset = dataset_bytes(train_files.images.dims[1] * train_files.images.dims[2], train_n, test_n) + train_n + test_n;  // + labels
    check_memory_fits(need, "loading " + dir);
  }
  struct Split {
    IdxArray images, labels;
  };
  // The test split first: usually the smaller, so a corrupt gzip stream in it (found only by
  // decompressing) costs less before it is reported.
  Split test{read_checked(test_files.images_path, test_files.images),
             read_checked(test_files.labels_path, test_files.labels)};
  Split train{read_checked(train_files.images_path, train_files.images),
              read_checked(train_files.labels_path, train_files.labels)};
  auto impl = std::make_shared<DatasetImpl>();
  impl->name = name;
  impl->directory = dir;
  impl->height = int(train.images.dims[1]);
  impl->width = int(train.images.dims[2]);
  impl->train = byte_images(train.images);
  impl->test = byte_images(test.images);
  impl->train_labels.assign(train.labels.data.begin(), train.labels.data.end());
  impl->test_labels.assign(test.labels.data.begin(), test.labels.data.end());
  return Dataset(std::move(impl));
}

const torch::Tensor& DatasetImpl::test_floats() const {
  std::call_once(test_floats_once_, [this] { test_floats_ = test.to(torch::kFloat32).div_(255.0f); });
  return test_floats_;
}

torch::Tensor unit_pixel_mean(const torch::Tensor& bytes) {
  const int64_t n = bytes.size(0), p = bytes.size(1);
  // Sums of bytes in 32 bits: at most kIdxMaxDim rows of 255 each.
  static_assert(uint64_t(kIdxMaxDim) * 255 <= UINT32_MAX, "row sums may overflow");
  std::vector<uint32_t> sums(size_t(p), 0);
  uint32_t* __restrict sum = sums.data();  // restrict: bytes may alias anything, which would stop vectorisation
  const uint8_t* first = bytes.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* __restrict row = first + i * p;
    for (int64_t j = 0; j < p; ++j) sum[j] += row[j];
  }
  torch::Tensor mean = torch::empty({p}, torch::kFloat32);
  float* out = mean.data_ptr<float>();
  for (int64_t j = 0; j < p; ++j) out[j] = n > 0 ? float(double(sums[size_t(j)]) / (255.0 * double(n))) : 0.0f;
  return mean;
}

const std::string& Dataset::name() const { return impl_->name; }
const std::string& Dataset::directory() const { return impl_->directory; }
int Dataset::channels() const { return impl_->channels; }
int Dataset::height() const { return impl_->height; }
int Dataset::width() const { return impl_->width; }
int64_t Dataset::train_size() const { return impl_->train.size(0); }
int64_t Dataset::test_size() const { return impl_->test.size(0); }
const std::vector<uint8_t>& Dataset::test_labels() const { return impl_->test_labels; }
const std::vector<uint8_t>& Dataset::train_labels() const { return impl_->train_labels; }

ImageBatch Dataset::test_images(const std::vector<int64_t>& indices) const {
  return gather(*impl_, impl_->test, indices);
}
ImageBatch Dataset::train_images(const std::vector<int64_t>& indices) const {
  return gather(*impl_, impl_->train, indices);
}

}  // namespace latent
