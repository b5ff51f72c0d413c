#include "model/model.h"

#include <cmath>

#include "latent/error.h"

namespace latent {

void Model::register_common() {
  auto value = torch::full({1}, std::log(config_.gaussian_sigma));
  if (config_.learn_sigma && config_.likelihood == ReconstructionLikelihood::Gaussian)
    log_sigma_ = register_parameter("log_sigma", value);
  else
    log_sigma_ = register_buffer("log_sigma", value);
  prior_ = register_module("prior", make_prior(config_));
}

torch::Tensor Model::condition(const torch::Tensor& labels) const {
  if (!config_.conditional() || !labels.defined()) return {};
  const auto cpu = labels.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* v = cpu.data_ptr<int64_t>();
  for (int64_t i = 0; i < cpu.numel(); ++i)
    if (v[i] < 0 || v[i] >= config_.classes)
      throw Error("class " + std::to_string(v[i]) + " is outside the conditional model's classes 0.." +
                  std::to_string(config_.classes - 1));
  return torch::one_hot(cpu.view({-1}), config_.classes).to(log_sigma_.device(), torch::kFloat32);
}

torch::Tensor Model::with_condition(const torch::Tensor& h, const torch::Tensor& y) const {
  if (!config_.conditional()) return h;
  if (!y.defined()) throw Error("a conditional model needs the class of each image (or of each z it decodes)");
  if (y.dim() != 2 || y.size(0) != h.size(0) || y.size(1) != config_.classes)
    throw Error("the condition is " + c10::str(y.sizes()) + ", the model expects [" + std::to_string(h.size(0)) + ", " +
                std::to_string(config_.classes) + "]");
  return torch::cat({h, y.to(h.dtype())}, 1);
}

void Model::encode_into(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor& mu, torch::Tensor& logvar) {
  torch::NoGradGuard no_grad;
  auto [m, l] = encode(x, y);
  mu.copy_(m);
  logvar.copy_(l);
}

void Model::decode_into(const torch::Tensor& z, const torch::Tensor& y, torch::Tensor& out) {
  torch::NoGradGuard no_grad;
  out.copy_(decode(z, y));
}

torch::Tensor mean_image_logits(const torch::Tensor& pixel_mean) {
  auto p = pixel_mean.to(torch::kFloat32).clamp(1e-3, 1 - 1e-3);
  return torch::log(p) - torch::log1p(-p);
}

torch::nn::AnyModule make_activation(Activation a) {
  namespace nn = torch::nn;
  if (a == Activation::Elu) return nn::AnyModule(nn::ELU(nn::ELUOptions().inplace(true)));
  return nn::AnyModule(nn::ReLU(nn::ReLUOptions().inplace(true)));
}

int64_t append_dense(torch::nn::Sequential& body, int64_t in, const std::vector<int>& widths, Activation activation) {
  for (int w : widths) {
    body->push_back(torch::nn::Linear(in, w));
    body->push_back(make_activation(activation));
    in = w;
  }
  return in;
}

void fill_uniform(torch::Tensor& t, double bound, torch::Generator& gen) {
  torch::NoGradGuard no_grad;
  auto u = torch::rand(t.sizes(), gen, torch::kFloat32);
  t.copy_(u.mul_(2 * bound).sub_(bound));
}

std::vector<std::pair<std::string, torch::Tensor>> named_trainables(Model& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

void copy_weights(Model& from, Model& to) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters(), dst = to.named_parameters();
  for (const auto& item : src) dst[item.key()].copy_(item.value());
  auto src_buffers = from.named_buffers(), dst_buffers = to.named_buffers();
  for (const auto& item : src_buffers) dst_buffers[item.key()].copy_(item.value());
}

void append_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::string& prefix,
                   std::vector<NamedArray>& out) {
  for (const auto& [name, tensor] : tensors) {
    auto cpu = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    NamedArray a;
    a.name = prefix + name;
    a.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    a.values.assign(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
    out.push_back(std::move(a));
  }
}

void load_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::string& prefix,
                 const Checkpoint& checkpoint, const std::string& what) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : tensors) {
    const NamedArray* a = checkpoint.find(prefix + name);
    if (!a) throw Error(what + ": checkpoint lacks '" + prefix + name + "' (another architecture?)");
    std::vector<int64_t> expected(tensor.sizes().begin(), tensor.sizes().end());
    if (a->shape != expected)
      throw Error(what + ": '" + prefix + name + "' has shape " + c10::str(c10::IntArrayRef(a->shape)) +
                  ", the model expects " + c10::str(tensor.sizes()) + " (another architecture or image size?)");
    for (float v : a->values)
      if (!std::isfinite(v)) throw Error(what + ": '" + prefix + name + "' holds non-finite values");
    auto cpu = torch::from_blob(const_cast<float*>(a->values.data()), tensor.sizes(), torch::kFloat32);
    tensor.copy_(cpu);
  }
}

std::string script_linear(const std::string& prefix, const std::string& var, const std::string& into) {
  return "    " + into + " = torch.linear(" + var + ", self." + prefix + "_weight, self." + prefix + "_bias)\n";
}

std::string script_layers(torch::nn::Sequential& body, const std::string& prefix, const std::string& var) {
  namespace nn = torch::nn;
  std::string out;
  for (size_t i = 0; i < body->size(); ++i) {
    const std::string p = "self." + prefix + "_" + std::to_string(i) + "_";
    const std::string bias = p + "bias";
    if (body[i]->as<nn::LinearImpl>()) {
      out += "    " + var + " = torch.linear(" + var + ", " + p + "weight, " + bias + ")\n";
    } else if (auto* conv = body[i]->as<nn::Conv2dImpl>()) {
      out += "    " + var + " = torch.conv2d(" + var + ", " + p + "weight, " + bias + ", [2, 2], [1, 1])\n";
      (void)conv;
    } else if (auto* up = body[i]->as<nn::ConvTranspose2dImpl>()) {
      const auto pad = up->options.output_padding();
      out += "    " + var + " = torch.conv_transpose2d(" + var + ", " + p + "weight, " + (up->options.bias() ? bias : "None") +
             ", [2, 2], [1, 1], [" + std::to_string((*pad)[0]) + ", " + std::to_string((*pad)[1]) + "])\n";
    } else if (body[i]->as<nn::ELUImpl>()) {
      out += "    " + var + " = torch.elu(" + var + ")\n";
    } else if (body[i]->as<nn::ReLUImpl>()) {
      out += "    " + var + " = torch.relu(" + var + ")\n";
    } else {
      throw Error("no TorchScript form for layer " + prefix + "." + std::to_string(i));
    }
  }
  return out;
}

}  // namespace latent
