#pragma once
// Plain configuration structs shared by core, latent-train and the app. No torch types here.
#include <cstdint>
#include <string>
#include <vector>

namespace latent {

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

struct ModelConfig {
  int image_height = 28;
  int image_width = 28;
  int latent_dim = 2;
  // Hidden layer widths of the encoder MLP; the decoder mirrors them. Chosen by measurement (docs/benchmarks.md).
  std::vector<int> hidden = {512, 256};
  Activation activation = Activation::Elu;
  ReconstructionLikelihood likelihood = ReconstructionLikelihood::Bernoulli;
  // Gaussian p(x|z) only: σ of N(x; μ(z), σ²). When learn_sigma, it is a trained scalar starting here.
  double gaussian_sigma = 0.1;
  bool learn_sigma = false;

  int pixels() const { return image_height * image_width; }
  bool operator==(const ModelConfig& o) const;
  bool operator!=(const ModelConfig& o) const { return !(*this == o); }
};

struct TrainConfig {
  int batch_size = 128;
  // Chosen by measurement with the default model (docs/benchmarks.md): 3e-3 annealed to 0 reaches a better
  // bound in 10 epochs than a constant 1e-3 (98.9 vs 102.3 nats, 20-D).
  double learning_rate = 3e-3;
  LearningRateSchedule lr_schedule = LearningRateSchedule::Cosine;
  double beta = 1.0;           // −ELBO_β = recon + β·KL
  double warmup_epochs = 0.0;  // KL weight rises linearly from 0 to β over this many epochs
  uint64_t seed = 1;
  int epochs = 0;         // stop (state Idle) after this many epochs; 0 = run until paused
  int64_t limit = 0;      // use only the first N training images; 0 = all
  std::string device = "cpu";  // cpu, cuda or auto
  int threads = 1;        // compute threads for the trainer
  ParallelMode parallel = ParallelMode::Batch;  // how threads > 1 are used on the CPU
};

constexpr int kMaxLatentDim = 64;

// Trainable parameters of the VAE `config` describes: the encoder MLP with its μ and log σ² heads,
// the mirrored decoder, and σ when learned. Checked against a checkpoint before building its model.
int64_t parameter_count(const ModelConfig& config);

// Each returns an empty string when the config is usable, else a message naming the bad field.
std::string validate(const ModelConfig& config);
std::string validate(const TrainConfig& config);

// "512,256" <-> {512, 256}; parse throws latent::Error on anything else.
std::string format_hidden(const std::vector<int>& hidden);
std::vector<int> parse_hidden(const std::string& text);

}  // namespace latent
