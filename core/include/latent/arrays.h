#pragma once
// The plain data types core's public API speaks: row-major float arrays with their shape.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace latent {

// `count` images of channels × height × width, values in [0, 1], row-major (channel planes one after
// another), image after image.
struct ImageBatch {
  int64_t count = 0;
  int channels = 1;
  int height = 0;
  int width = 0;
  std::vector<float> pixels;
  // Each image's class (0..classes−1), or empty: a conditional model's encoder needs them; a
  // dataset's images carry theirs.
  std::vector<int32_t> labels;

  int64_t pixels_per_image() const { return int64_t(channels) * height * width; }
  const float* image(int64_t i) const { return pixels.data() + i * pixels_per_image(); }
};

// rows × cols floats, row-major: a batch of latent vectors z, μ or log σ².
struct LatentMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;

  float at(int64_t r, int64_t c) const { return values[size_t(r * cols + c)]; }
  std::vector<float> row(int64_t r) const {
    return {values.begin() + r * cols, values.begin() + (r + 1) * cols};
  }
};

// q(z|x) = N(μ, diag σ²) for a batch of images.
struct Posterior {
  LatentMatrix mu;
  LatentMatrix logvar;
};

}  // namespace latent
