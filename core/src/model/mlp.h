#pragma once
// Internal: the fully connected VAE. q(z|x): an MLP body, then two linear heads for μ and log σ²;
// p(x|z): the mirrored MLP, returning per-value logits (Bernoulli) or pre-sigmoid means (Gaussian).
// A conditional model's one-hot class joins the images' values at the encoder's input and z at the
// decoder's.
// The hand-written training step (train/mlp_step.h) reads its layers directly.
#include "model/model.h"

namespace latent {

struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const ModelConfig& config);
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear mu{nullptr};
  torch::nn::Linear logvar{nullptr};
};
TORCH_MODULE(Encoder);

struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const ModelConfig& config);
  torch::nn::LinearImpl& output_layer();  // the last Linear, producing per-value outputs
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(Decoder);

class MlpModel : public Model {
 public:
  explicit MlpModel(ModelConfig config);

  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& y = {}) override;
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& y = {}) override;
  void initialize(torch::Generator& gen) override;
  void initialize_output_bias(const torch::Tensor& pixel_mean) override;
  void encode_into(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor& mu, torch::Tensor& logvar) override;
  void decode_into(const torch::Tensor& z, const torch::Tensor& y, torch::Tensor& out) override;
  std::string script_source() const override;

  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
};

ModelPtr make_mlp(const ModelConfig& config);  // registered in registry.cpp

}  // namespace latent
