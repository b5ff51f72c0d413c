#include "latent/config.h"

#include <cmath>
#include <sstream>

#include "latent/error.h"

namespace latent {

std::string to_string(ReconstructionLikelihood likelihood) {
  return likelihood == ReconstructionLikelihood::Bernoulli ? "bernoulli" : "gaussian";
}

ReconstructionLikelihood parse_likelihood(const std::string& text) {
  if (text == "bernoulli") return ReconstructionLikelihood::Bernoulli;
  if (text == "gaussian") return ReconstructionLikelihood::Gaussian;
  throw Error("unknown likelihood '" + text + "' (expected bernoulli or gaussian)");
}

std::string to_string(Activation activation) { return activation == Activation::Relu ? "relu" : "elu"; }

Activation parse_activation(const std::string& text) {
  if (text == "relu") return Activation::Relu;
  if (text == "elu") return Activation::Elu;
  throw Error("unknown activation '" + text + "' (expected relu or elu)");
}

std::string to_string(LearningRateSchedule schedule) {
  return schedule == LearningRateSchedule::Constant ? "constant" : "cosine";
}

LearningRateSchedule parse_lr_schedule(const std::string& text) {
  if (text == "constant") return LearningRateSchedule::Constant;
  if (text == "cosine") return LearningRateSchedule::Cosine;
  throw Error("unknown learning-rate schedule '" + text + "' (expected constant or cosine)");
}

std::string to_string(ParallelMode mode) { return mode == ParallelMode::Batch ? "batch" : "blas"; }

ParallelMode parse_parallel(const std::string& text) {
  if (text == "batch") return ParallelMode::Batch;
  if (text == "blas") return ParallelMode::Blas;
  throw Error("unknown parallel mode '" + text + "' (expected batch or blas)");
}

bool ModelConfig::operator==(const ModelConfig& o) const {
  return image_height == o.image_height && image_width == o.image_width &&
         latent_dim == o.latent_dim && hidden == o.hidden && activation == o.activation && likelihood == o.likelihood &&
         gaussian_sigma == o.gaussian_sigma && learn_sigma == o.learn_sigma;
}

int64_t parameter_count(const ModelConfig& c) {
  auto linear = [](int64_t in, int64_t out) { return in * out + out; };
  int64_t n = 0, in = c.pixels();
  for (int h : c.hidden) n += linear(in, h), in = h;
  n += 2 * linear(in, c.latent_dim);  // μ and log σ² heads
  in = c.latent_dim;
  for (auto it = c.hidden.rbegin(); it != c.hidden.rend(); ++it) n += linear(in, *it), in = *it;
  n += linear(in, c.pixels());
  if (c.learn_sigma && c.likelihood == ReconstructionLikelihood::Gaussian) n += 1;
  return n;
}

std::string validate(const ModelConfig& c) {
  if (c.image_height < 1 || c.image_width < 1 || c.image_height > 4096 || c.image_width > 4096)
    return "image size " + std::to_string(c.image_height) + "x" + std::to_string(c.image_width) +
           " is out of range (1..4096 per side)";
  if (c.latent_dim < 1 || c.latent_dim > kMaxLatentDim)
    return "latent dim " + std::to_string(c.latent_dim) + " is out of range (1.." +
           std::to_string(kMaxLatentDim) + ")";
  if (c.hidden.empty() || c.hidden.size() > 8)
    return "hidden layers: need 1 to 8 widths, got " + std::to_string(c.hidden.size());
  for (int h : c.hidden)
    if (h < 1 || h > 8192) return "hidden width " + std::to_string(h) + " is out of range (1..8192)";
  if (!std::isfinite(c.gaussian_sigma) || c.gaussian_sigma <= 0 || c.gaussian_sigma > 100)
    return "gaussian sigma must be in (0, 100]";
  return "";
}

std::string validate(const TrainConfig& c) {
  if (c.batch_size < 1 || c.batch_size > 65536)
    return "batch size " + std::to_string(c.batch_size) + " is out of range (1..65536)";
  if (!std::isfinite(c.learning_rate) || c.learning_rate <= 0 || c.learning_rate > 10)
    return "learning rate must be a finite number in (0, 10]";
  if (!std::isfinite(c.beta) || c.beta < 0 || c.beta > 1e4)
    return "beta must be a finite number in [0, 10000]";
  if (!std::isfinite(c.warmup_epochs) || c.warmup_epochs < 0 || c.warmup_epochs > 1e6)
    return "warm-up epochs must be a finite number >= 0";
  if (c.epochs < 0) return "epochs must be >= 0";
  if (c.limit < 0) return "limit must be >= 0";
  if (c.threads < 1 || c.threads > 1024) return "threads must be in 1..1024";
  if (c.device != "cpu" && c.device != "cuda" && c.device != "auto")
    return "unknown device '" + c.device + "' (expected cpu, cuda or auto)";
  return "";
}

std::string format_hidden(const std::vector<int>& hidden) {
  std::string out;
  for (size_t i = 0; i < hidden.size(); ++i) out += (i ? "," : "") + std::to_string(hidden[i]);
  return out;
}

std::vector<int> parse_hidden(const std::string& text) {
  std::vector<int> hidden;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t used = 0;
    long value = 0;
    try {
      value = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 1 || value > 8192)
      throw Error("hidden sizes '" + text + "': '" + item + "' is not a width in 1..8192");
    hidden.push_back(int(value));
  }
  if (hidden.empty() || text.back() == ',')
    throw Error("hidden sizes '" + text + "': expected widths like 512,256");
  return hidden;
}

}  // namespace latent
