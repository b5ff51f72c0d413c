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
  torch::Tensor train;  // float32 [N, H·W] in [0, 1], contiguous, CPU
  torch::Tensor test;   // float32 [M, H·W]
  std::vector<uint8_t> train_labels;
  std::vector<uint8_t> test_labels;
};

}  // namespace latent
