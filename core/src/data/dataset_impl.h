#pragma once
// Internal: the tensors behind latent::Dataset. Only core's .cpp files include this.
#include <torch/torch.h>

#include <mutex>
#include <string>
#include <vector>

#include "latent/dataset.h"

namespace latent {

struct DatasetImpl {
  std::string name;
  std::string directory;
  std::string kind;
  std::string spec;
  DataOptions options;
  int channels = 1;
  int height = 0;
  int width = 0;
  // The pixels, uint8 [N, C·H·W] (channel planes), contiguous, CPU: a quarter of the memory of
  // floats, and no 188 MB of new pages to fault in while the app starts (0.9 s of its first frame on
  // this project's VM). The model sees x = byte / 255, formed a batch at a time for training.
  torch::Tensor train;
  torch::Tensor test;  // uint8 [M, C·H·W]
  std::vector<int32_t> train_labels;
  std::vector<int32_t> test_labels;
  std::vector<std::string> class_names;
  std::vector<Factor> factors;
  std::vector<int32_t> test_factors;

  // The test split as x = byte / 255 (float32 [M, C·H·W]), made on first use and kept: every epoch's
  // evaluation and every refresh of the encoded scatter read all of it (31 MB for MNIST), and
  // converting it each time cost the explorer's trainer a tenth of its speed.
  const torch::Tensor& test_floats() const;

 private:
  mutable std::once_flag test_floats_once_;
  mutable torch::Tensor test_floats_;
};

// The mean of each pixel over the rows of `bytes` (uint8 [N, P], CPU), as x = byte / 255: float32 [P].
torch::Tensor unit_pixel_mean(const torch::Tensor& bytes);

}  // namespace latent
