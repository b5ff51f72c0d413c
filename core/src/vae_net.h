#pragma once
// Internal: the VAE as LibTorch modules, shared by the trainer and by inference copies.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "latent/checkpoint.h"
#include "latent/config.h"

namespace latent {

// q(z|x) = N(μ(x), diag σ²(x)): an MLP body, then two linear heads for μ and log σ².
struct EncoderImpl : torch::nn::Cloneable<EncoderImpl> {
  explicit EncoderImpl(ModelConfig config) : config(std::move(config)) { reset(); }
  void reset() override;
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

  ModelConfig config;
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear mu{nullptr};
  torch::nn::Linear logvar{nullptr};
};
TORCH_MODULE(Encoder);

// p(x|z): the mirrored MLP, returning per-pixel logits (Bernoulli) or pre-sigmoid means (Gaussian).
struct DecoderImpl : torch::nn::Cloneable<DecoderImpl> {
  explicit DecoderImpl(ModelConfig config) : config(std::move(config)) { reset(); }
  void reset() override;
  torch::Tensor forward(const torch::Tensor& z);
  torch::nn::LinearImpl& output_layer();  // the last Linear, producing per-pixel outputs

  ModelConfig config;
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(Decoder);

struct VaeNetImpl : torch::nn::Cloneable<VaeNetImpl> {
  explicit VaeNetImpl(ModelConfig config) : config(std::move(config)) { reset(); }
  void reset() override;

  // log σ of the Gaussian p(x|z): a parameter when learned, else a constant buffer.
  torch::Tensor log_sigma() const { return log_sigma_; }

  ModelConfig config;
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::Tensor log_sigma_;
};
TORCH_MODULE(VaeNet);

// Initial weights drawn from a generator seeded by `seed`, so that runs repeat whatever other
// threads do with LibTorch's global generator. See the .cpp for the scheme.
void initialize(VaeNetImpl& net, uint64_t seed);
// Sets the decoder's output bias to logit(mean pixel): an untrained decoder then draws the average
// image instead of uniform grey, which takes the first hundred steps off the loss curve.
void initialize_output_bias(VaeNetImpl& net, const torch::Tensor& pixel_mean);

// All trainable parameters, in a fixed order, with their names.
std::vector<std::pair<std::string, torch::Tensor>> named_trainables(VaeNetImpl& net);

// Weights <-> checkpoint arrays named prefix + parameter name. load_arrays checks that every
// array exists with the right shape and finite values, else throws latent::Error naming `what`.
void append_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::string& prefix, std::vector<NamedArray>& out);
void load_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                 const std::string& prefix, const Checkpoint& checkpoint, const std::string& what);

torch::Device to_torch_device(const std::string& resolved_device);

}  // namespace latent
