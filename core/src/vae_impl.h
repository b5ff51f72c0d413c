#pragma once
// Internal: what a latent::Vae holds.
#include "latent/arrays.h"
#include "vae_net.h"

namespace latent {

class Vae;
class Dataset;

struct VaeImpl {
  VaeImpl(VaeNet net, torch::Device device) : config(net->config), device(device), net(std::move(net)) {}
  ModelConfig config;
  torch::Device device;
  VaeNet net;  // never trained; only run under NoGradGuard

  // Forward passes are not const in LibTorch's API although they change nothing here.
  VaeNetImpl& module() const { return *net.ptr(); }
};

// Copies every parameter and buffer of `from` into `to` (same config) without allocating.
void copy_weights(VaeNetImpl& from, VaeNetImpl& to);

// Conversions between the public plain types and tensors, shared by inference, evaluation and bounds.
LatentMatrix to_matrix(const torch::Tensor& t);
// Images as rows [count, H·W] on the model's device; throws latent::Error on a size mismatch.
torch::Tensor images_tensor(const ImageBatch& images, const VaeImpl& vae);
// The first `limit` test images (0 = all) as x = byte / 255 on the model's device; throws when they
// do not fit it.
torch::Tensor test_rows(const Vae& vae, const Dataset& data, int64_t limit);

}  // namespace latent
