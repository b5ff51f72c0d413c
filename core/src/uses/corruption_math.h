#pragma once
// Internal: corruption of image rows [B, C·H·W] (channel planes) in two parts, so that a batch split
// across threads draws its randomness once, in order, and each shard applies its rows.
#include <torch/torch.h>

#include "latent/config.h"

namespace latent {

// The random draws for `rows` images of `channels` planes of `plane` values: N(0, 1) per value for
// gaussian, U(0, 1) per pixel for mask and saltpepper. [rows, C·plane] or [rows, plane]
torch::Tensor corruption_noise(int64_t rows, int channels, int64_t plane, const Corruption& corruption,
                               torch::Generator& gen);
// x corrupted with those draws (rows of noise matching the rows of x), in a new tensor:
//   gaussian    clamp(x + S·n, 0, 1)
//   mask        0 where u < P
//   saltpepper  0 where u < P/2, 1 where P/2 ≤ u < P
torch::Tensor apply_corruption(const torch::Tensor& x, const torch::Tensor& noise, const Corruption& corruption,
                               int channels);

}  // namespace latent
