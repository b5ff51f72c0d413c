#include "latent/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "latent/error.h"
#include "latent/files.h"

namespace latent {

std::string format_number(double v) {
  // The fewest digits (at least %g's six) that read back as the same value: 1.0000001 stays 1.0000001
  // in a message that says it is out of [0, 1], instead of reading "1".
  char text[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    if (!std::isfinite(v) || std::strtod(text, nullptr) == v) break;
  }
  return text;
}

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

std::vector<std::string> architecture_names() { return {"mlp", "conv"}; }

std::string check_architecture(const std::string& name) {
  const auto names = architecture_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return "";
  std::string known;
  for (size_t i = 0; i < names.size(); ++i) known += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return "unknown architecture '" + name.substr(0, 40) + "' (expected " + known + ")";
}

std::vector<std::string> prior_names() { return {"normal", "mog", "vamp"}; }

int default_prior_components(const std::string& prior) {
  if (prior == "mog") return 10;
  if (prior == "vamp") return 500;
  return 0;
}

bool ModelConfig::operator==(const ModelConfig& o) const {
  return architecture == o.architecture && image_channels == o.image_channels && image_height == o.image_height &&
         image_width == o.image_width && latent_dim == o.latent_dim && hidden == o.hidden && channels == o.channels && dense == o.dense &&
         activation == o.activation && likelihood == o.likelihood && gaussian_sigma == o.gaussian_sigma &&
         learn_sigma == o.learn_sigma && prior == o.prior && prior_components == o.prior_components &&
         classes == o.classes && script == o.script;
}

std::vector<int> conv_sizes(int input, size_t layers) {
  std::vector<int> sizes = {input};
  for (size_t i = 0; i < layers; ++i) sizes.push_back((sizes.back() + 1) / 2);
  return sizes;
}

namespace {

int64_t linear(int64_t in, int64_t out) { return in * out + out; }

// Weights and biases of Linear layers of these widths from `in` features (model.h append_dense);
// `in` becomes the last width.
int64_t dense(int64_t& in, const std::vector<int>& widths) {
  int64_t n = 0;
  for (int w : widths) n += linear(in, w), in = w;
  return n;
}

// Each architecture's parameters, layer by layer as model/<name>.cpp builds them.
int64_t mlp_parameters(const ModelConfig& c) {
  int64_t in = c.pixels();
  int64_t n = dense(in, c.hidden);
  n += 2 * linear(in, c.latent_dim);  // μ and log σ² heads
  in = c.latent_dim;
  n += dense(in, {c.hidden.rbegin(), c.hidden.rend()});
  return n + linear(in, c.pixels());
}

int64_t conv_parameters(const ModelConfig& c) {
  const size_t layers = c.channels.size();
  const int64_t flat = int64_t(c.channels.back()) * conv_sizes(c.image_height, layers).back() *
                       conv_sizes(c.image_width, layers).back();
  int64_t n = 0, in = c.image_channels;
  for (int out : c.channels) n += in * out * 9 + out, in = out;  // 3×3 convolutions with biases
  int64_t width = flat;
  n += dense(width, c.dense);
  n += 2 * linear(width, c.latent_dim);  // μ and log σ² heads
  width = c.latent_dim;
  n += dense(width, {c.dense.rbegin(), c.dense.rend()});
  n += linear(width, flat);  // back to the last convolution's features
  for (size_t i = layers; i-- > 1;) n += int64_t(c.channels[i]) * c.channels[i - 1] * 9 + c.channels[i - 1];
  // The last transposed convolution has no bias of its own: the decoder adds one per output value.
  return n + int64_t(c.channels.front()) * c.image_channels * 9 + c.pixels();
}

std::string validate_widths(const std::vector<int>& widths, const char* what, int most, bool may_be_empty = false) {
  if ((widths.empty() && !may_be_empty) || widths.size() > 8) return std::string(what) + ": need 1 to 8 widths, got " + std::to_string(widths.size());
  for (int w : widths)
    if (w < 1 || w > most) return std::string(what) + ": width " + std::to_string(w) + " is out of range (1.." + std::to_string(most) + ")";
  return "";
}

std::string validate_conv(const ModelConfig& c) {
  if (std::string problem = validate_widths(c.channels, "channels", 1024); !problem.empty()) return problem;
  // Every layer halves the image (rounding up); each needs at least 2 pixels per side to halve.
  const int side = std::min(c.image_height, c.image_width);
  size_t fit = 0;
  for (int n = side; n >= 2; n = (n + 1) / 2) ++fit;
  if (c.channels.size() > fit)
    return "channels " + format_widths(c.channels) + ": " + std::to_string(c.channels.size()) + " stride-2 layers need images of at least " +
           std::to_string((1 << (c.channels.size() - 1)) + 1) + " pixels per side; these are " + std::to_string(c.image_height) +
           "x" + std::to_string(c.image_width) + " (at most " + std::to_string(fit) + " layers)";
  return "";
}

// The outputs of the layers a conditional model's one-hot y enters (the first after the images in
// the encoder, the first in the decoder): mlp/conv.cpp concatenate y to those layers' inputs.
int64_t conditioned_width(const ModelConfig& c, bool encoder) {
  if (c.architecture == "conv") {
    if (!c.dense.empty()) return encoder ? c.dense.front() : c.dense.back();
    if (encoder) return 2 * int64_t(c.latent_dim);  // the μ and log σ² heads
    const size_t layers = c.channels.size();
    return int64_t(c.channels.back()) * conv_sizes(c.image_height, layers).back() * conv_sizes(c.image_width, layers).back();
  }
  return encoder ? c.hidden.front() : c.hidden.back();
}

}  // namespace

int64_t parameter_count(const ModelConfig& c) {
  if (c.architecture == "torchscript") return c.script ? c.script->parameters : 0;
  int64_t n = c.architecture == "conv" ? conv_parameters(c) : mlp_parameters(c);
  if (c.learn_sigma && c.likelihood == ReconstructionLikelihood::Gaussian) n += 1;
  // The prior's own: K means, log variances and weight logits (mog); K pseudo-inputs (vamp).
  if (c.prior == "mog") n += int64_t(c.prior_components) * (2 * c.latent_dim + 1);
  if (c.prior == "vamp") n += int64_t(c.prior_components) * c.pixels();
  // A conditional model's one-hot y enters the encoder's first dense layer and the decoder's first
  // layer: a column of weights per class in each.
  if (c.conditional()) n += int64_t(c.classes) * (conditioned_width(c, true) + conditioned_width(c, false));
  return n;
}

int64_t layer_output_values(const ModelConfig& c) {
  int64_t n = 0;
  // A user's module's layers are not known from outside: reckoned as four image-sized layers each
  // way, more than the MLP's and conv's defaults take at 28x28.
  if (c.architecture == "torchscript") return 8 * int64_t(c.pixels());
  if (c.architecture == "conv") {
    const auto hs = conv_sizes(c.image_height, c.channels.size()), ws = conv_sizes(c.image_width, c.channels.size());
    for (size_t i = 0; i < c.channels.size(); ++i) n += int64_t(c.channels[i]) * hs[i + 1] * ws[i + 1];
    for (int w : c.dense) n += w;
    n += int64_t(c.channels.back()) * hs.back() * ws.back();  // the decoder's linear layer to the features
  } else {
    for (int h : c.hidden) n += h;
  }
  return 2 * n;  // the encoder's layers and the decoder's mirror of them
}

std::string check_batch_size(int64_t batch) {
  if (batch < 1 || batch > 65536) return "batch size " + std::to_string(batch) + " is out of range (1..65536)";
  return "";
}

std::string check_learning_rate(double lr) {
  if (!std::isfinite(lr) || lr <= 0 || lr > 10) return "learning rate must be in (0, 10], not " + format_number(lr);
  return "";
}

std::string check_beta(double beta) {
  if (!std::isfinite(beta) || beta < 0 || beta > 1e4) return "beta must be in [0, 10000], not " + format_number(beta);
  return "";
}

std::string check_warmup_epochs(double epochs) {
  if (!std::isfinite(epochs) || epochs < 0 || epochs > 1e6)
    return "warm-up epochs must be in [0, 1000000], not " + format_number(epochs);
  return "";
}

std::string to_string(const Corruption& c) {
  switch (c.kind) {
    case Corruption::Kind::None: return "none";
    case Corruption::Kind::Gaussian: return "gaussian:" + format_number(c.amount);
    case Corruption::Kind::Mask: return "mask:" + format_number(c.amount);
    case Corruption::Kind::SaltPepper: return "saltpepper:" + format_number(c.amount);
  }
  return "none";
}

std::string check_corruption(const Corruption& c) {
  if (!std::isfinite(c.amount)) return "the corruption's amount must be a finite number";
  if (c.kind == Corruption::Kind::Gaussian && (c.amount < 0 || c.amount > 10))
    return "gaussian noise's standard deviation must be in [0, 10], not " + format_number(c.amount);
  if ((c.kind == Corruption::Kind::Mask || c.kind == Corruption::Kind::SaltPepper) && (c.amount < 0 || c.amount > 1))
    return "a corruption probability must be in [0, 1], not " + format_number(c.amount);
  return "";
}

Corruption parse_corruption(const std::string& text) {
  Corruption c;
  if (text == "none") return c;
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  if (kind == "gaussian") c.kind = Corruption::Kind::Gaussian;
  else if (kind == "mask") c.kind = Corruption::Kind::Mask;
  else if (kind == "saltpepper") c.kind = Corruption::Kind::SaltPepper;
  else throw Error("unknown corruption '" + kind + "' (expected gaussian:S, mask:P, saltpepper:P or none)");
  if (colon == std::string::npos || colon + 1 == text.size())
    throw Error(kind + " needs its amount after a colon, e.g. " + kind + (kind == "gaussian" ? ":0.3" : ":0.25"));
  const std::string amount = text.substr(colon + 1);
  char* end = nullptr;
  errno = 0;
  c.amount = std::strtod(amount.c_str(), &end);
  if (end != amount.c_str() + amount.size() || errno == ERANGE) throw Error(kind + ": '" + amount + "' is not a number");
  if (std::string problem = check_corruption(c); !problem.empty()) throw Error(problem);
  return c;
}

std::string check_gaussian_sigma(double sigma) {
  if (!std::isfinite(sigma) || sigma <= 0 || sigma > 100) return "gaussian sigma must be in (0, 100], not " + format_number(sigma);
  return "";
}

std::string check_prior(const std::string& prior, int components) {
  const auto names = prior_names();
  if (std::find(names.begin(), names.end(), prior) == names.end())
    return "unknown prior '" + prior.substr(0, 40) + "' (expected normal, mog or vamp)";
  if (prior == "normal") return components == 0 ? "" : "the normal prior has no components (got " + std::to_string(components) + ")";
  if (components < 1 || components > kMaxPriorComponents)
    return "prior components must be in 1.." + std::to_string(kMaxPriorComponents) + ", not " + std::to_string(components);
  return "";
}

std::string check_classes(int classes) {
  if (classes < 0 || classes > kMaxClasses)
    return "classes must be in 0.." + std::to_string(kMaxClasses) + " (0: not conditional), not " + std::to_string(classes);
  return "";
}

std::string fit_model_to_data(ModelConfig& model, bool conditional, int channels, int height, int width, int classes,
                              const std::string& dataset) {
  if (conditional && classes <= 0)
    return "a conditional VAE needs labelled data, and " + dataset +
           " has no labels (an image folder gives one class per subfolder; a .npy file takes --labels)";
  if (model.script) {
    // A user's module is built for one image shape: the data has to come to it.
    if (std::string problem = image_mismatch(model, channels, height, width, dataset, model.script->path + ": the model");
        !problem.empty())
      return problem + " (--size HxW and --color gray|rgb convert the data)";
    return "";
  }
  model.image_channels = channels;
  model.image_height = height;
  model.image_width = width;
  model.classes = conditional ? classes : 0;
  return "";
}

std::string describe_prior(const ModelConfig& m) {
  if (m.prior == "mog") return "prior mog(" + std::to_string(m.prior_components) + ")";
  if (m.prior == "vamp") return "prior vamp(" + std::to_string(m.prior_components) + ")";
  return "prior N(0, I)";
}

std::string describe_layers(const ModelConfig& m) {
  if (m.script) return "torchscript " + path_basename(m.script->path);
  if (m.architecture != "conv") return m.architecture + " " + format_widths(m.hidden) + " " + to_string(m.activation);
  return m.architecture + " " + format_widths(m.channels) + (m.dense.empty() ? "" : " dense " + format_widths(m.dense)) + " " +
         to_string(m.activation);
}

std::string image_mismatch(const ModelConfig& m, int channels, int height, int width, const std::string& dataset,
                           const std::string& subject) {
  if (m.image_channels == channels && m.image_height == height && m.image_width == width) return "";
  auto shape = [](int c, int h, int w) {
    return std::to_string(h) + "x" + std::to_string(w) + (c == 1 ? "" : "x" + std::to_string(c));
  };
  return subject + " is for " + shape(m.image_channels, m.image_height, m.image_width) + " images but " +
         (dataset.empty() ? std::string("the data") : dataset) + " has " + shape(channels, height, width);
}

std::string validate(const ModelConfig& c) {
  const auto names = architecture_names();
  if (c.architecture != "torchscript" && std::find(names.begin(), names.end(), c.architecture) == names.end())
    return "unknown architecture '" + c.architecture.substr(0, 40) + "' (expected mlp or conv, or a TorchScript file with --model)";
  if ((c.architecture == "torchscript") != (c.script != nullptr))
    return c.script ? "a TorchScript file is attached to a '" + c.architecture + "' model"
                    : "a torchscript model needs its file (--model FILE)";
  if (c.script && (c.prior != "normal" || c.conditional() || c.learn_sigma))
    return "a TorchScript model has the N(0, I) prior, no condition and a fixed sigma";
  if (c.image_channels != 1 && c.image_channels != 3)
    return "image channels " + std::to_string(c.image_channels) + " must be 1 (gray) or 3 (RGB)";
  if (c.image_height < 1 || c.image_width < 1 || c.image_height > 4096 || c.image_width > 4096)
    return "image size " + std::to_string(c.image_height) + "x" + std::to_string(c.image_width) +
           " is out of range (1..4096 per side)";
  if (c.latent_dim < 1 || c.latent_dim > kMaxLatentDim)
    return "latent dim " + std::to_string(c.latent_dim) + " is out of range (1.." +
           std::to_string(kMaxLatentDim) + ")";
  // Both lists are checked, whichever architecture uses them: a checkpoint or form holds both.
  if (std::string problem = validate_widths(c.hidden, "hidden sizes", 8192); !problem.empty()) return problem;
  if (std::string problem = validate_widths(c.channels, "channels", 1024); !problem.empty()) return problem;
  if (std::string problem = validate_widths(c.dense, "dense widths", 8192, true); !problem.empty()) return problem;
  if (c.architecture == "conv")
    if (std::string problem = validate_conv(c); !problem.empty()) return problem;
  if (std::string problem = check_prior(c.prior, c.prior_components); !problem.empty()) return problem;
  if (std::string problem = check_classes(c.classes); !problem.empty()) return problem;
  return check_gaussian_sigma(c.gaussian_sigma);
}

std::string validate(const TrainConfig& c) {
  for (const std::string& problem : {check_batch_size(c.batch_size), check_learning_rate(c.learning_rate), check_beta(c.beta), check_warmup_epochs(c.warmup_epochs),
                                     check_corruption(c.corrupt)})
    if (!problem.empty()) return problem;
  if (c.epochs < 0) return "epochs must be >= 0";
  if (c.limit < 0) return "limit must be >= 0";
  if (c.threads < 1 || c.threads > 1024) return "threads must be in 1..1024";
  if (c.device != "cpu" && c.device != "cuda" && c.device != "auto")
    return "unknown device '" + c.device + "' (expected cpu, cuda or auto)";
  return "";
}

std::string format_widths(const std::vector<int>& widths) {
  std::string out;
  for (size_t i = 0; i < widths.size(); ++i) out += (i ? "," : "") + std::to_string(widths[i]);
  return out;
}

std::vector<int> parse_widths(const std::string& text, const std::string& what, int most) {
  std::vector<int> widths;
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
    if (item.empty() || used != item.size() || value < 1 || value > most)
      throw Error(what + " '" + text + "': '" + item + "' is not a width in 1.." + std::to_string(most));
    widths.push_back(int(value));
  }
  if (widths.empty() || text.back() == ',') throw Error(what + " '" + text + "': expected comma-separated widths, e.g. 32,64");
  if (widths.size() > 8) throw Error(what + " '" + text + "': at most 8 layers");
  return widths;
}

std::vector<int> parse_dense(const std::string& text) {
  if (text.empty() || text == "none") return {};
  return parse_widths(text, "dense widths", 8192);
}

}  // namespace latent
