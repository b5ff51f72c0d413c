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

// The inference the explorer repeats every second or so (the test set's encoding for the latent map,
// the manifold grid, the decoded images), in chunks of at most kInferenceChunkRows rows through
// activations the calling thread keeps from call to call, into the result's own storage. Through
// the modules' forward() every layer's output was a fresh tensor: under the explorer's malloc
// policy (blocks over 256 KiB are mappings of their own) its inference thread took ~10,000 page
// faults a second, each munmap also interrupting the threads on the other core.
inline constexpr int64_t kInferenceChunkRows = 256;
// q(z|x)'s μ and log σ² for rows x [n, H·W].
Posterior encode_rows(const VaeImpl& vae, const torch::Tensor& x);
// The decoder's mean, sigmoid(logits), for latents z [n, d] on the model's device.
ImageBatch decode_rows(const VaeImpl& vae, const torch::Tensor& z);

// Conversions between the public plain types and tensors, shared by inference, evaluation and bounds.
LatentMatrix to_matrix(const torch::Tensor& t);
// Images as rows [count, H·W] on the model's device; throws latent::Error on a size mismatch.
torch::Tensor images_tensor(const ImageBatch& images, const VaeImpl& vae);
// The first `limit` test images (0 = all) as x = byte / 255 on the model's device; throws when they
// do not fit it.
torch::Tensor test_rows(const Vae& vae, const Dataset& data, int64_t limit);

}  // namespace latent
