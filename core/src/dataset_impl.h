#pragma once
// Internal: the tensors behind latent::Dataset. Only core's .cpp files include this.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "latent/dataset.h"

namespace latent {

struct DatasetImpl {
  std::string name;
  std::string directory;
  int height = 0;
  int width = 0;
  // The pixels as the files hold them, uint8 [N, H·W], contiguous, CPU: a quarter of the memory of
  // floats, and no 188 MB of new pages to fault in while the app starts (0.9 s of its first frame on
  // this project's VM). The model sees x = byte / 255, formed a batch at a time (unit_floats).
  torch::Tensor train;
  torch::Tensor test;  // uint8 [M, H·W]
  std::vector<uint8_t> train_labels;
  std::vector<uint8_t> test_labels;
};

// x = byte / 255 in float32, as the model takes it; float pixels pass through unchanged.
inline torch::Tensor unit_floats(const torch::Tensor& pixels) {
  if (pixels.scalar_type() != torch::kUInt8) return pixels;
  return pixels.to(torch::kFloat32).div_(255.0f);
}

// The mean of each pixel over the rows of `bytes` (uint8 [N, P], CPU), as x = byte / 255: float32 [P].
torch::Tensor unit_pixel_mean(const torch::Tensor& bytes);

}  // namespace latent
