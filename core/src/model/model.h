#pragma once
// Internal: the interface every VAE architecture implements, and the registry that builds one from
// its config. The trainer, the objective, the bounds and inference know only this interface.
//
//   q(z|x) = N(μ(x), diag σ²(x))     encode(x) → (μ, log σ²)
//   p(x|z)                           decode(z) → its parameters: per-value logits (Bernoulli) or
//                                    pre-sigmoid means (Gaussian, with σ = exp(log_sigma()))
//
// Images travel as rows: x is [N, C·H·W] with values in [0, 1], as the datasets hold them and as
// log p(x|z) sums over them. An architecture that needs [N, C, H, W] views its rows so (no copy).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "latent/checkpoint.h"
#include "latent/config.h"
#include "model/prior.h"

namespace latent {

class Model : public torch::nn::Module {
 public:
  explicit Model(ModelConfig config) : config_(std::move(config)) {}
  const ModelConfig& config() const { return config_; }

  // q(z|x) for rows x [N, C·H·W]: μ and log σ², [N, D] each. A conditional model (config().classes
  // > 0) is q(z|x, y) and takes y, the one-hot classes [N, classes] that condition() makes; a plain
  // model takes y undefined.
  virtual std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& y = {}) = 0;
  // p(x|z)'s (p(x|z, y)'s) parameters for rows z [N, D] (and y as above): [N, C·H·W].
  virtual torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& y = {}) = 0;

  // y for labels [N] (integers, any device): one-hot float32 [N, classes] on the model's device;
  // undefined for a plain model or undefined labels. Throws latent::Error for a label outside
  // 0..classes−1.
  torch::Tensor condition(const torch::Tensor& labels) const;

  // log σ of the Gaussian p(x|z): a trained parameter when learned, else a constant buffer. Every
  // architecture has it; only a learned Gaussian σ trains it.
  const torch::Tensor& log_sigma() const { return log_sigma_; }

  // p(z) (model/prior.h): log p(z) for rows z [N, D] → [N], and n draws from it [N, D].
  Prior& prior() const { return *prior_; }
  torch::Tensor log_prior(const torch::Tensor& z) { return prior_->log_prob(z, *this); }
  torch::Tensor sample_prior(int64_t n, torch::Generator& gen) { return prior_->sample(n, gen, *this); }

  // Initial weights drawn from `gen` only, so that runs repeat whatever other threads do with
  // LibTorch's global generator. log σ is set by the base (to log gaussian_sigma).
  virtual void initialize(torch::Generator& gen) = 0;
  // Sets the decoder's output bias to logit(mean value) [C·H·W]: an untrained decoder then draws the
  // average image instead of uniform grey, which takes the first hundred steps off the loss curve.
  virtual void initialize_output_bias(const torch::Tensor& pixel_mean) = 0;

  // Inference without autograd, into storage the caller owns ([N, D] twice; [N, C·H·W]), for at
  // most kInferenceChunkRows rows. The default runs encode()/decode() and copies; an architecture
  // may override them with a path that allocates nothing (the MLP does: the explorer calls these
  // every frame).
  virtual void encode_into(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor& mu, torch::Tensor& logvar);
  virtual void decode_into(const torch::Tensor& z, const torch::Tensor& y, torch::Tensor& out);

  // Whether a Gaussian decode() returns the means themselves (a user's TorchScript module, by its
  // contract) rather than pre-sigmoid values (ours, which keeps the means in [0, 1]).
  virtual bool decodes_means() const { return false; }

  // TorchScript source defining `encode(self, x)` → (μ, log σ²) for x [N, C, H, W] and
  // `decode_rows(self, z)` → [N, C·H·W] (what decode() returns), over this model's parameters named
  // as named_trainables() names them with '.' replaced by '_' (model/torchscript.cpp exports a
  // model so); "" when the architecture has none.
  virtual std::string script_source() const { return ""; }

 protected:
  // h with y's columns after its own, the input of the first layer a conditional model's class
  // enters; h itself for a plain model. Throws latent::Error when a conditional model is given no
  // y, or a y that does not fit h's rows.
  torch::Tensor with_condition(const torch::Tensor& h, const torch::Tensor& y) const;

  // Registers log σ and the prior: call it at the end of a derived constructor, after the
  // architecture's own modules, so that parameters keep the order (encoder, decoder, σ, prior).
  void register_common();

  ModelConfig config_;
  torch::Tensor log_sigma_;
  std::shared_ptr<Prior> prior_;
};

using ModelPtr = std::shared_ptr<Model>;

// The registry: an architecture's name, what --help says about it, and its constructor. A new
// architecture is a file in core/src/model/ defining a Model and one line in registry.cpp (and its
// config rules, validation and parameter count, in core/src/config.cpp).
struct Architecture {
  const char* name;
  const char* summary;
  ModelPtr (*make)(const ModelConfig& config);
};
const std::vector<Architecture>& architectures();

// Builds the model config.architecture names, with weights from `seed` (or uninitialised with
// initialize = false, for a model whose weights are copied in). Throws latent::Error for an
// invalid config or an unknown architecture.
ModelPtr make_model(const ModelConfig& config, uint64_t seed = 0, bool initialize = true);

// Inference chunks: see Model::encode_into.
inline constexpr int64_t kInferenceChunkRows = 256;

// All trainable parameters, in a fixed order, with their names.
std::vector<std::pair<std::string, torch::Tensor>> named_trainables(Model& model);

// Copies every parameter and buffer of `from` into `to` (same config) without allocating.
void copy_weights(Model& from, Model& to);

// Weights <-> checkpoint arrays named prefix + parameter name. load_arrays checks that every
// array exists with the right shape and finite values, else throws latent::Error naming `what`.
void append_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::string& prefix, std::vector<NamedArray>& out);
void load_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                 const std::string& prefix, const Checkpoint& checkpoint, const std::string& what);

// He-uniform U(±√(6/fan_in)) for weights followed by a ReLU/ELU, which keeps activations from
// shrinking layer by layer; PyTorch's default U(±1/√fan_in) for the heads (μ, log σ², the output),
// so that q(z|x) starts near N(0, I). Biases are drawn from the same range as their weights.
void fill_uniform(torch::Tensor& t, double bound, torch::Generator& gen);
inline double he_bound(double fan_in) { return std::sqrt(6.0 / fan_in); }
inline double head_bound(double fan_in) { return 1.0 / std::sqrt(fan_in); }

// logit(p) of the mean image, its values clamped to [0.001, 0.999]: the output bias that makes an
// untrained decoder draw the mean image.
torch::Tensor mean_image_logits(const torch::Tensor& pixel_mean);

// The activation ModelConfig::activation names, in place.
torch::nn::AnyModule make_activation(Activation activation);

// TorchScript lines (four spaces in) that run `var` through `body`'s layers in order: Linear,
// Conv2d (stride 2, padding 1), ConvTranspose2d (likewise, with its output padding) and the
// activations, each layer's parameters named `prefix` + "_<index>_weight" / "_bias".
std::string script_layers(torch::nn::Sequential& body, const std::string& prefix, const std::string& var);
// The line `var = torch.linear(var, self.<prefix>_weight, self.<prefix>_bias)` (four spaces in).
std::string script_linear(const std::string& prefix, const std::string& var, const std::string& into);

// Appends a Linear layer and the activation for each width, the first taking `in` features (the
// decoders pass their widths reversed). Returns the features out of the last, `in` if none.
int64_t append_dense(torch::nn::Sequential& body, int64_t in, const std::vector<int>& widths, Activation activation);

}  // namespace latent
