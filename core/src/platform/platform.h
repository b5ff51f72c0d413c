#pragma once
// Internal: the platform API's LibTorch side.
#include <torch/torch.h>

#include <string>

namespace latent {

// "cpu" or "cuda" (a device resolve_device() returned) as LibTorch's device.
torch::Device to_torch_device(const std::string& resolved_device);

}  // namespace latent
