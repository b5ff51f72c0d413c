#include "latent/dataset.h"

#include "data/dataset_impl.h"
#include "data/source.h"
#include "train/kernels.h"
#include "latent/error.h"

namespace latent {
namespace {

// A split's bytes as uint8 [N, C·H·W], owning them: no copy.
torch::Tensor byte_images(PayloadBytes&& pixels, int64_t count, int64_t image_bytes) {
  auto bytes = std::make_shared<PayloadBytes>(std::move(pixels));
  return torch::from_blob(bytes->data(), {count, image_bytes}, [bytes](void*) mutable { bytes.reset(); }, torch::kUInt8);
}

ImageBatch gather(const DatasetImpl& d, const torch::Tensor& images, const std::vector<int32_t>& labels,
                  const std::vector<int64_t>& indices) {
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
  if (!d.class_names.empty() && labels.size() == size_t(n))
    for (int64_t i : indices) out.labels.push_back(labels[size_t(i)]);
  return out;
}

void check_labels_apply(const std::string& spec, const DataSourceEntry& source, const DataOptions& options) {
  if (!options.labels.empty() && std::string(source.kind) != "npy")
    throw Error("--labels " + options.labels + ": labels files go with .npy images; " + spec + " is " + source.kind +
                " data, which carries its own labels");
}

}  // namespace

bool Dataset::is_name(const std::string& spec) { return find_named_dataset(spec) != nullptr || spec == "shapes"; }

std::string Dataset::spec_help() {
  return "mnist, fashion-mnist, shapes, a directory of the four IDX files, a folder of images, or a .npy file";
}

DatasetShape Dataset::probe(const std::string& spec, const DataOptions& options) {
  const DataSourceEntry& source = data_source_for(spec);
  check_labels_apply(spec, source, options);
  return source.probe(spec, options);
}

Dataset Dataset::load(const std::string& spec, const DataOptions& options) {
  const DataSourceEntry& source = data_source_for(spec);
  check_labels_apply(spec, source, options);
  RawDataset raw = source.load(spec, options);
  const DatasetShape& s = raw.shape;
  const int64_t image_bytes = int64_t(s.channels) * s.height * s.width;
  if (raw.train.count < 1 || raw.test.count < 1)
    throw Error(spec + ": " + std::to_string(raw.train.count) + " training and " + std::to_string(raw.test.count) +
                " test images; both splits need at least one");
  auto impl = std::make_shared<DatasetImpl>();
  impl->name = s.name;
  impl->directory = s.directory;
  impl->kind = s.kind;
  impl->spec = spec;
  impl->options = options;
  impl->channels = s.channels;
  impl->height = s.height;
  impl->width = s.width;
  impl->train = byte_images(std::move(raw.train.pixels), raw.train.count, image_bytes);
  impl->test = byte_images(std::move(raw.test.pixels), raw.test.count, image_bytes);
  impl->train_labels = std::move(raw.train.labels);
  impl->test_labels = std::move(raw.test.labels);
  impl->class_names = std::move(raw.class_names);
  impl->factors = std::move(raw.factors);
  impl->test_factors = std::move(raw.test.factors);
  return Dataset(std::move(impl));
}

const torch::Tensor& DatasetImpl::test_floats() const {
  std::call_once(test_floats_once_, [this] { test_floats_ = test.to(torch::kFloat32).div_(255.0f); });
  return test_floats_;
}

torch::Tensor unit_pixel_mean(const torch::Tensor& bytes) {
  const int64_t n = bytes.size(0), p = bytes.size(1);
  std::vector<uint64_t> sums(size_t(p), 0);  // 64 bits: a folder may hold more than 2^24 images
  uint64_t* __restrict sum = sums.data();  // restrict: bytes may alias anything, which would stop vectorisation
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
const std::string& Dataset::kind() const { return impl_->kind; }
const std::string& Dataset::spec() const { return impl_->spec; }
const DataOptions& Dataset::options() const { return impl_->options; }
int Dataset::channels() const { return impl_->channels; }
int Dataset::height() const { return impl_->height; }
int Dataset::width() const { return impl_->width; }
int64_t Dataset::train_size() const { return impl_->train.size(0); }
int64_t Dataset::test_size() const { return impl_->test.size(0); }
const std::vector<int32_t>& Dataset::test_labels() const { return impl_->test_labels; }
const std::vector<int32_t>& Dataset::train_labels() const { return impl_->train_labels; }
int Dataset::classes() const { return int(impl_->class_names.size()); }
const std::vector<std::string>& Dataset::class_names() const { return impl_->class_names; }
const std::vector<Factor>& Dataset::factors() const { return impl_->factors; }
const std::vector<int32_t>& Dataset::test_factors() const { return impl_->test_factors; }

std::string Dataset::class_name(int32_t label) const {
  if (label == kUnlabeled) return "unlabeled";
  if (label >= 0 && label < classes()) return impl_->class_names[size_t(label)];
  return std::to_string(label);
}

ImageBatch Dataset::test_images(const std::vector<int64_t>& indices) const { return gather(*impl_, impl_->test, impl_->test_labels, indices); }
ImageBatch Dataset::train_images(const std::vector<int64_t>& indices) const { return gather(*impl_, impl_->train, impl_->train_labels, indices); }

}  // namespace latent
