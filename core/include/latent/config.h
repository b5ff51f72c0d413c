#pragma once
// Plain configuration structs shared by core, latent-train and the app. No torch types here.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace latent {

// A TorchScript VAE file as load_torchscript (latent/torchscript.h) read and checked it.
struct ScriptFile {
  std::string path;
  std::string bytes;       // the file's contents: every copy of the model is built from them
  int64_t parameters = 0;  // trainable values
  int64_t step = -1;       // its `step` attribute, -1 without one
};

// p(x|z): Bernoulli over pixels (BCE from logits) or Gaussian with fixed or learned σ.
enum class ReconstructionLikelihood { Bernoulli, Gaussian };

// The hidden layers' nonlinearity.
enum class Activation { Relu, Elu };

std::string to_string(ReconstructionLikelihood likelihood);
std::string to_string(Activation activation);
// Throws latent::Error for anything but "relu" or "elu".
Activation parse_activation(const std::string& text);

// Constant, or cosine annealing from the learning rate down to 0 over TrainConfig::epochs
// (constant when epochs is 0, i.e. open-ended runs).
enum class LearningRateSchedule { Constant, Cosine };
std::string to_string(LearningRateSchedule schedule);
LearningRateSchedule parse_lr_schedule(const std::string& text);
// How training on the CPU uses more than one thread: each thread a forward and backward over its
// share of the batch's images (gradients summed, Adam split by slices), or OpenBLAS splitting each
// matrix product (LibTorch's own operations on one thread). Measured in docs/benchmarks.md.
enum class ParallelMode { Batch, Blas };
std::string to_string(ParallelMode mode);
// Throws latent::Error for anything but "batch" or "blas".
ParallelMode parse_parallel(const std::string& text);
// Throws latent::Error for anything but "bernoulli" or "gaussian".
ReconstructionLikelihood parse_likelihood(const std::string& text);

// The architectures (core/src/model/registry.cpp builds them; docs/design.md shows how to add one):
//   "mlp"   fully connected: the encoder's hidden widths, then the μ and log σ² heads; the decoder
//           mirrors the widths.
//   "conv"  stride-2 3×3 convolutions with `channels` filters each, the `dense` fully connected
//           layers, then linear heads for μ and log σ²; the decoder mirrors the dense layers, then
//           a linear layer and transposed convolutions back to C×H×W.
// These are the names a user picks. A third, "torchscript", is a user's own PyTorch VAE, which
// comes from its file (--model FILE, latent/torchscript.h) rather than by name.
std::vector<std::string> architecture_names();
// "" when `name` is one of architecture_names(), else what is wrong ("unknown architecture 'x'
// (expected mlp or conv)").
std::string check_architecture(const std::string& name);

// The priors p(z) (core/src/model/prior.cpp builds them): "normal", "mog", "vamp".
std::vector<std::string> prior_names();
// K when --prior-components is not given: 10 Gaussians for mog, 500 pseudo-inputs for vamp (the
// VampPrior paper's MNIST setting), 0 for normal.
int default_prior_components(const std::string& prior);
// Whether KL(q(z|x) ‖ p(z)) has a closed form under this prior (normal); otherwise the objective
// uses the single-sample estimate log q(z|x) − log p(z) at the reparameterized z.
inline bool prior_has_closed_form_kl(const std::string& prior) { return prior == "normal"; }
constexpr int kMaxPriorComponents = 5000;

struct ModelConfig {
  std::string architecture = "mlp";
  int image_channels = 1;  // C: 1 (gray) or 3 (RGB)
  int image_height = 28;
  int image_width = 28;
  int latent_dim = 2;
  // mlp: hidden layer widths of the encoder; the decoder mirrors them. Chosen by measurement (docs/benchmarks.md).
  std::vector<int> hidden = {512, 256};
  // conv: filters of each stride-2 convolution of the encoder; the decoder mirrors them.
  std::vector<int> channels = {32, 64, 128};
  // conv: widths of the fully connected layers between the convolutions and the heads (may be
  // empty); the decoder mirrors them. Both chosen by measurement (docs/benchmarks.md).
  std::vector<int> dense = {512, 256};
  Activation activation = Activation::Elu;
  ReconstructionLikelihood likelihood = ReconstructionLikelihood::Bernoulli;
  // Gaussian p(x|z) only: σ of N(x; μ(z), σ²). When learn_sigma, it is a trained scalar starting here.
  double gaussian_sigma = 0.1;
  bool learn_sigma = false;
  // p(z): "normal" N(0, I); "mog", a mixture of prior_components learned Gaussians with learned
  // weights; "vamp", the VampPrior (1/K) Σ_k q(z | u_k) over K learned pseudo-inputs u_k.
  std::string prior = "normal";
  int prior_components = 0;  // K: 0 for normal
  // The conditional VAE: with classes > 0, the label's one-hot y goes into the encoder and the
  // decoder, q(z|x, y) and p(x|z, y), and every image needs its class; 0 is the plain VAE.
  int classes = 0;
  // torchscript: the file the model came from (its path and the bytes read), which sets the image
  // shape, latent_dim, likelihood and σ above; null for every other architecture.
  std::shared_ptr<const ScriptFile> script;

  bool conditional() const { return classes > 0; }

  // Values per image, C·H·W: the length of an image's row, and the number of terms log p(x|z) sums.
  int pixels() const { return image_channels * image_height * image_width; }
  bool operator==(const ModelConfig& o) const;
  bool operator!=(const ModelConfig& o) const { return !(*this == o); }
};

// Denoising: the encoder sees a corrupted copy of each training image while the likelihood scores
// the clean one, so the model learns to undo the corruption (test figures use clean inputs).
//   gaussian:S    x + S·ε, ε ~ N(0, 1) per value, clamped to [0, 1]   (S ≥ 0, at most 10)
//   mask:P        each pixel (all its channels) set to 0 with probability P
//   saltpepper:P  each pixel set to black or white (one half each) with probability P
struct Corruption {
  enum class Kind { None, Gaussian, Mask, SaltPepper };
  Kind kind = Kind::None;
  double amount = 0;  // S or P
  bool active() const { return kind != Kind::None; }
  bool operator==(const Corruption& o) const { return kind == o.kind && amount == o.amount; }
};
// "none", or "gaussian:0.3" as --corrupt writes it.
std::string to_string(const Corruption& corruption);
// Parses --corrupt's value ("none" too); throws latent::Error naming what is wrong.
Corruption parse_corruption(const std::string& text);
// "" when usable, else what is wrong (S < 0, P outside [0, 1], not a finite number).
std::string check_corruption(const Corruption& corruption);

struct TrainConfig {
  int batch_size = 128;
  // Chosen by measurement with the default model (docs/benchmarks.md): 3e-3 annealed to 0 reaches a better
  // bound in 10 epochs than a constant 1e-3 (98.9 vs 102.3 nats, 20-D).
  double learning_rate = 3e-3;
  LearningRateSchedule lr_schedule = LearningRateSchedule::Cosine;
  double beta = 1.0;           // −ELBO_β = recon + β·KL
  double warmup_epochs = 0.0;  // KL weight rises linearly from 0 to β over this many epochs
  Corruption corrupt;          // of the encoder's input, for a denoising VAE (none by default)
  uint64_t seed = 1;
  int epochs = 0;         // stop (state Idle) after this many epochs; 0 = run until paused
  int64_t limit = 0;      // use only the first N training images; 0 = all
  std::string device = "cpu";  // cpu, cuda or auto
  int threads = 1;        // compute threads for the trainer
  ParallelMode parallel = ParallelMode::Batch;  // how threads > 1 are used on the CPU
};

constexpr int kMaxLatentDim = 64;

// Trainable parameters of the VAE `config` describes (its architecture's encoder, decoder and σ when
// learned), counted from the config alone: a checkpoint is checked against it before its model is
// built, and memory estimates use it.
int64_t parameter_count(const ModelConfig& config);
// Values of every hidden layer's output for one image, encoder and decoder: what one image costs
// in activations (the memory estimate scales it by the batch).
int64_t layer_output_values(const ModelConfig& config);

// A number as the messages about these values write it ("%g": 0.003, 1, 1e-05).
std::string format_number(double v);

// Each returns an empty string when the config is usable, else a message naming the bad field.
// These are the only range checks: the flags, the app's fields, the trainer's commands and the
// checkpoint reader all call them.
std::string validate(const ModelConfig& config);
std::string validate(const TrainConfig& config);
std::string check_batch_size(int64_t batch);
std::string check_learning_rate(double lr);
std::string check_beta(double beta);
std::string check_warmup_epochs(double epochs);
std::string check_gaussian_sigma(double sigma);
// The prior's name and K (0 for normal; 1..kMaxPriorComponents otherwise).
std::string check_prior(const std::string& prior, int components);
// Classes a conditional model takes: 0 (not conditional) or 1..kMaxClasses.
constexpr int kMaxClasses = 1000;
std::string check_classes(int classes);
// Fits a new model to its data: the image shape, and the classes when `conditional` (0 otherwise).
// Returns "" or, when a conditional model meets unlabeled data, a message naming `dataset`.
std::string fit_model_to_data(ModelConfig& model, bool conditional, int channels, int height, int width, int classes,
                              const std::string& dataset);
// "prior N(0, I)", "prior mog(10)", "prior vamp(500)": for logs and the app.
std::string describe_prior(const ModelConfig& model);

// "conv 32,64,128 dense 512,256 elu" / "mlp 512,256 elu": the architecture and its layers, for logs and the app.
std::string describe_layers(const ModelConfig& model);

// "" when data of C×H×W images (from `dataset`) fits the model, else a message saying both shapes:
// "<subject> is for 8x8 images but dataset mnist has 28x28".
std::string image_mismatch(const ModelConfig& model, int channels, int height, int width, const std::string& dataset,
                           const std::string& subject = "the model");

// Convolution layers only: the spatial sizes from the input down, one per layer and the last
// layer's output: 28 → {28, 14, 7}. A stride-2 3×3 convolution with padding 1 maps n to ⌈n/2⌉.
std::vector<int> conv_sizes(int input, size_t layers);

// "512,256" <-> {512, 256}. parse_widths throws latent::Error naming `what` (e.g. "hidden sizes")
// on anything but 1 to 8 comma-separated integers in 1..`most`.
std::string format_widths(const std::vector<int>& widths);
std::vector<int> parse_widths(const std::string& text, const std::string& what, int most);
inline std::string format_hidden(const std::vector<int>& hidden) { return format_widths(hidden); }
inline std::vector<int> parse_hidden(const std::string& text) { return parse_widths(text, "hidden sizes", 8192); }
inline std::vector<int> parse_channels(const std::string& text) { return parse_widths(text, "channels", 1024); }
// "256" or "512,256"; "none" (or "") for no dense layers. format_dense is its inverse.
std::vector<int> parse_dense(const std::string& text);
inline std::string format_dense(const std::vector<int>& dense) { return dense.empty() ? "none" : format_widths(dense); }

}  // namespace latent
