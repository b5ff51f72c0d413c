// `shapes`: 2-D sprites in the manner of dSprites (Higgins et al. 2017, the β-VAE paper's set), with
// their factors of variation known: shape (square, ellipse, heart), scale, orientation, x and y
// position, and in colour the hue. Generated deterministically, 64×64 unless --size says otherwise,
// each image's factor values drawn uniformly from a fixed grid and kept as metadata.
#include <algorithm>
#include <cmath>
#include <random>

#include "data/source.h"
#include "latent/error.h"

namespace latent {
namespace {

constexpr int64_t kShapesCount = 20000;  // both splits; --test-split holds some out
constexpr double kPi = 3.14159265358979323846;

std::vector<double> grid(int n, double lo, double hi, bool closed) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(lo + (hi - lo) * i / (closed ? n - 1 : n));
  return v;
}

std::vector<Factor> shape_factors(bool colour) {
  std::vector<Factor> f = {
      {"shape", {0, 1, 2}},                          // square, ellipse, heart
      {"scale", grid(6, 0.5, 1.0, true)},
      {"orientation", grid(16, 0, 2 * kPi, false)},  // radians
      {"x", grid(16, 0, 1, true)},
      {"y", grid(16, 0, 1, true)},
  };
  if (colour) f.push_back({"hue", grid(8, 0, 1, false)});  // a fraction of the colour wheel
  return f;
}

// Whether local point (x, y), in units of the sprite's radius, is inside shape `s`.
bool inside(int s, double x, double y) {
  if (s == 0) return std::max(std::abs(x), std::abs(y)) <= 0.8;
  if (s == 1) return x * x + (y / 0.5) * (y / 0.5) <= 1.0;
  // The heart curve (X² + Y² − 1)³ − X²Y³ ≤ 0, upright (image y points down), centred.
  const double X = x * 1.15, Y = -y * 1.15 + 0.15;
  const double r = X * X + Y * Y - 1;
  return r * r * r - X * X * Y * Y * Y <= 0;
}

void hue_to_rgb(double hue, double rgb[3]) {
  const double h = hue * 6;
  const int sector = int(h) % 6;
  const double f = h - std::floor(h);
  const double table[6][3] = {{1, f, 0}, {1 - f, 1, 0}, {0, 1, f}, {0, 1 - f, 1}, {f, 0, 1}, {1, 0, 1 - f}};
  for (int c = 0; c < 3; ++c) rgb[c] = table[sector][c];
}

// Renders one sprite with 4×4 samples per pixel (anti-aliased edges) into C planes of H×W bytes.
void render(const std::vector<Factor>& factors, const int32_t* f, int channels, int height, int width, uint8_t* out) {
  const int shape = int(factors[0].values[size_t(f[0])]);
  const double scale = factors[1].values[size_t(f[1])], angle = factors[2].values[size_t(f[2])];
  const double cx = 0.2 + 0.6 * factors[3].values[size_t(f[3])], cy = 0.2 + 0.6 * factors[4].values[size_t(f[4])];
  double rgb[3] = {1, 1, 1};
  if (factors.size() > 5) hue_to_rgb(factors[5].values[size_t(f[5])], rgb);
  const double radius = 0.16 * scale, c = std::cos(angle), s = std::sin(angle);
  std::fill(out, out + int64_t(channels) * height * width, uint8_t(0));
  // Only the pixels within the sprite's bounding circle can be covered.
  const double reach = 1.3 * radius;
  const int x0 = std::max(0, int((cx - reach) * width) - 1), x1 = std::min(width - 1, int((cx + reach) * width) + 1);
  const int y0 = std::max(0, int((cy - reach) * height) - 1), y1 = std::min(height - 1, int((cy + reach) * height) + 1);
  constexpr int kSub = 4;
  for (int py = y0; py <= y1; ++py)
    for (int px = x0; px <= x1; ++px) {
      int hits = 0;
      for (int sy = 0; sy < kSub; ++sy)
        for (int sx = 0; sx < kSub; ++sx) {
          const double u = (px + (sx + 0.5) / kSub) / width - cx, v = (py + (sy + 0.5) / kSub) / height - cy;
          // Into the sprite's frame: rotate by −angle, in units of its radius.
          hits += inside(shape, (c * u + s * v) / radius, (-s * u + c * v) / radius);
        }
      const double coverage = double(hits) / (kSub * kSub);
      for (int ch = 0; ch < channels; ++ch)
        out[(int64_t(ch) * height + py) * width + px] = uint8_t(std::lround(255 * coverage * (channels == 3 ? rgb[ch] : 1.0)));
    }
}

DatasetShape shape_of(const std::string& spec, const DataOptions& options) {
  check_data_options(options);
  DatasetShape s;
  s.kind = "shapes";
  s.name = "shapes";
  s.directory = "shapes";
  s.channels = output_channels(options, true);  // a colour set unless --color gray
  output_size(options, 64, 64, &s.height, &s.width);
  if (s.height < 8 || s.width < 8) throw Error("--size: shapes needs at least 8x8 pixels to draw its sprites");
  s.test_size = int64_t(held_out_indices(kShapesCount, options, spec).size());
  s.train_size = kShapesCount - s.test_size;
  s.classes = 3;
  return s;
}

RawDataset load(const std::string& spec, const DataOptions& options) {
  RawDataset d;
  d.shape = shape_of(spec, options);
  check_dataset_fits(d.shape, "generating shapes");
  d.factors = shape_factors(d.shape.channels == 3);
  d.class_names = {"square", "ellipse", "heart"};
  const size_t nf = d.factors.size();
  RawSplit all;
  all.count = kShapesCount;
  std::mt19937_64 rng(20170424);  // fixed: the same set on every machine
  all.factors.resize(size_t(all.count) * nf);
  for (int64_t i = 0; i < all.count; ++i)
    for (size_t f = 0; f < nf; ++f) all.factors[size_t(i) * nf + f] = int32_t(rng() % d.factors[f].values.size());
  for (int64_t i = 0; i < all.count; ++i) all.labels.push_back(all.factors[size_t(i) * nf]);  // the shape is the class
  const int64_t image_bytes = int64_t(d.shape.channels) * d.shape.height * d.shape.width;
  all.pixels.resize(size_t(all.count * image_bytes));
  for_each_index(all.count, [&](int64_t i) {
    render(d.factors, all.factors.data() + size_t(i) * nf, d.shape.channels, d.shape.height, d.shape.width,
           all.pixels.data() + i * image_bytes);
  });
  split_held_out(std::move(all), image_bytes, options, spec, &d.train, &d.test);
  return d;
}

}  // namespace

DataSourceEntry shapes_source() {
  return {"shapes", "shapes: generated sprites with known factors (shape, scale, orientation, x, y, hue)",
          [](const std::string& spec) { return spec == "shapes"; }, shape_of, load};
}

}  // namespace latent
