// NumPy arrays: --data images.npy [--labels labels.npy]. Images are uint8 (0-255) or float32/float64
// in [0, 1], shaped [N,H,W], [N,H,W,C] or [N,C,H,W] with C = 1 or 3, in C or Fortran order; labels are
// integers, one per image. One file holds both splits: --test-split holds some out.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "data/npy.h"
#include "data/source.h"
#include "latent/config.h"
#include "latent/error.h"
#include "latent/files.h"

namespace latent {
namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

// Where image n's element (c, y, x) is in the payload, in elements.
struct ImageLayout {
  int64_t count = 0;
  int channels = 1, height = 0, width = 0;
  int64_t stride_n = 0, stride_c = 0, stride_y = 0, stride_x = 0;
};

ImageLayout image_layout(const NpyHeader& h, const std::string& path) {
  const auto& d = h.shape;
  auto bad = [&](const std::string& why) -> ImageLayout {
    throw Error(path + ": shape " + shape_text(d) + " " + why + "; images must be [N,H,W], [N,H,W,C] or [N,C,H,W] with C = 1 or 3");
  };
  if (h.descr.size() >= 2 && !(h.descr[1] == 'u' && h.item_bytes == 1) && h.kind != NpyKind::kFloat)
    throw Error(path + ": unsupported dtype '" + h.descr + "' for images; they must be uint8 (0-255) or float32/float64 in [0, 1]");
  if (d.size() != 3 && d.size() != 4) return bad("has " + std::to_string(d.size()) + " dimensions");
  // Element strides of each dimension, in C order (last fastest) or Fortran order (first fastest).
  std::vector<int64_t> stride(d.size(), 1);
  if (h.fortran_order)
    for (size_t k = 1; k < d.size(); ++k) stride[k] = stride[k - 1] * d[k - 1];
  else
    for (size_t k = d.size() - 1; k-- > 0;) stride[k] = stride[k + 1] * d[k + 1];
  ImageLayout l;
  l.count = d[0];
  l.stride_n = stride[0];
  size_t c = 0, y = 1, x = 2;  // rank 3: no channel dimension
  if (d.size() == 4) {
    if (d[3] == 1 || d[3] == 3) c = 3, y = 1, x = 2;
    else if (d[1] == 1 || d[1] == 3) c = 1, y = 2, x = 3;
    else return bad("has no channel dimension of 1 or 3");
    l.channels = int(d[c]);
    l.stride_c = stride[c];
  }
  if (d[y] < 1 || d[x] < 1) return bad("has an empty image side");
  if (d[y] > kMaxImageSide || d[x] > kMaxImageSide) return bad("has images larger than " + std::to_string(kMaxImageSide) + " per side");
  l.height = int(d[y]);
  l.width = int(d[x]);
  l.stride_y = stride[y];
  l.stride_x = stride[x];
  if (l.count < 1) throw Error(path + ": shape " + shape_text(d) + " holds no images");
  return l;
}

void check_labels_header(const NpyHeader& lh, int64_t count, const std::string& labels, const std::string& images) {
  const bool column = lh.shape.size() == 2 && lh.shape[1] == 1;
  if (lh.shape.size() != 1 && !column)
    throw Error(labels + ": labels must be a 1-D array, one per image; its shape is " + shape_text(lh.shape));
  if (lh.shape[0] != count)
    throw Error(labels + ": " + std::to_string(lh.shape[0]) + " labels for the " + std::to_string(count) + " images of " + images);
}

std::vector<int32_t> read_labels(const std::string& path) {
  NpyArray a = read_npy(path);
  std::vector<int32_t> labels(static_cast<size_t>(a.header.count()));
  for (int64_t i = 0; i < a.header.count(); ++i) {
    const double v = npy_element(a, i);
    if (!(v >= 0) || v != std::floor(v) || v >= (1 << 20))
      throw Error(path + ": label " + std::to_string(i) + " is " + std::to_string(v) +
                  "; labels must be whole numbers from 0 to " + std::to_string((1 << 20) - 1));
    labels[size_t(i)] = int32_t(v);
  }
  return labels;
}

struct Probed {
  DatasetShape shape;
  NpyHeader images;
  ImageLayout layout;
};

Probed probe_npy(const std::string& spec, const DataOptions& options) {
  check_data_options(options);
  Probed p;
  p.images = read_npy_header(spec);
  p.layout = image_layout(p.images, spec);
  DatasetShape& s = p.shape;
  if (!options.labels.empty()) {
    check_labels_header(read_npy_header(options.labels), p.layout.count, options.labels, spec);
    // One label per image, small beside the images: read here, so that the class count a
    // conditional model is sized by is known before the images are loaded.
    s.classes = int(numbered_classes(read_labels(options.labels), {}).size());
  }
  s.kind = "npy";
  s.directory = spec;
  std::string base = path_basename(spec);
  s.name = base.size() > 4 ? base.substr(0, base.size() - 4) : base;
  s.channels = output_channels(options, p.layout.channels == 3);
  output_size(options, p.layout.height, p.layout.width, &s.height, &s.width);
  s.test_size = int64_t(held_out_indices(p.layout.count, options, spec).size());
  s.train_size = p.layout.count - s.test_size;
  return p;
}

DatasetShape shape_of(const std::string& spec, const DataOptions& options) { return probe_npy(spec, options).shape; }

// The payload as bytes in storage order: uint8 as it is, floats in [0, 1] scaled to 0..255.
PayloadBytes payload_bytes(NpyArray&& a, const std::string& path) {
  if (a.header.kind != NpyKind::kFloat) return std::move(a.data);
  const int64_t n = a.header.count();
  PayloadBytes out(size_t(n), 0);
  double lo = 0, hi = 1;
  for (int64_t i = 0; i < n; ++i) {
    const double v = npy_element(a, i);
    if (std::isnan(v)) throw Error(path + ": element " + std::to_string(i) + " is NaN; float images must be in [0, 1]");
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    out[size_t(i)] = uint8_t(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
  }
  if (lo < 0 || hi > 1) {
    char range[96];
    std::snprintf(range, sizeof range, "%s to %s", format_number(lo).c_str(), format_number(hi).c_str());
    throw Error(path + ": float values range from " + range + "; float images must be in [0, 1] (divide by 255, or save uint8)");
  }
  return out;
}

RawDataset load(const std::string& spec, const DataOptions& options) {
  Probed p = probe_npy(spec, options);
  RawDataset d;
  d.shape = p.shape;
  check_dataset_fits(d.shape, "loading " + spec);
  NpyArray array = read_npy(spec);
  if (array.header.shape != p.images.shape) throw Error(spec + ": changed while it was being read");
  const PayloadBytes bytes = payload_bytes(std::move(array), spec);
  const ImageLayout& l = p.layout;
  RawSplit all;
  all.count = l.count;
  const int64_t image_bytes = int64_t(d.shape.channels) * d.shape.height * d.shape.width;
  all.pixels.resize(size_t(all.count * image_bytes));
  conform_images(
      all.count,
      [&](int64_t i) {
        return PixelView{bytes.data() + i * l.stride_n, l.channels, l.height, l.width, l.stride_c, l.stride_y, l.stride_x};
      },
      d.shape.channels, d.shape.height, d.shape.width, all.pixels.data());
  if (!options.labels.empty()) {
    all.labels = read_labels(options.labels);
    if (int64_t(all.labels.size()) != all.count) throw Error(options.labels + ": changed while it was being read");
    d.class_names = numbered_classes(all.labels, {});
  } else {
    all.labels.assign(size_t(all.count), kUnlabeled);
  }
  d.shape.classes = int(d.class_names.size());
  split_held_out(std::move(all), image_bytes, options, spec, &d.train, &d.test);
  return d;
}

bool is_npy(const std::string& spec) {
  if (spec.size() < 4) return false;
  std::string ext = spec.substr(spec.size() - 4);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  struct stat st {};
  return ext == ".npy" && !(::stat(spec.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
}

}  // namespace

DataSourceEntry npy_source() {
  return {"npy", "a .npy file of images (with --labels, a .npy file of their labels)", is_npy, shape_of, load};
}

}  // namespace latent
