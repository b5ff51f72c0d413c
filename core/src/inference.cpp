#include "latent/inference.h"

#include <cmath>

#include "latent/checkpoint.h"
#include "latent/error.h"
#include "latent/trainer.h"
#include "objective.h"
#include "vae_impl.h"

namespace latent {
namespace {

torch::Tensor to_tensor(const std::vector<float>& values, int64_t rows, int64_t cols, torch::Device device) {
  return torch::from_blob(const_cast<float*>(values.data()), {rows, cols}, torch::kFloat32).to(device).clone();
}

}  // namespace

LatentMatrix to_matrix(const torch::Tensor& t) {
  auto cpu = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  LatentMatrix m;
  m.rows = cpu.size(0);
  m.cols = cpu.size(1);
  m.values.assign(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
  return m;
}

namespace {

ImageBatch to_images(const torch::Tensor& t, const ModelConfig& c) {
  LatentMatrix m = to_matrix(t);
  ImageBatch out;
  out.count = m.rows;
  out.height = c.image_height;
  out.width = c.image_width;
  out.pixels = std::move(m.values);
  return out;
}

}  // namespace

torch::Tensor images_tensor(const ImageBatch& images, const VaeImpl& v) {
  if (images.height != v.config.image_height || images.width != v.config.image_width)
    throw Error("images are " + std::to_string(images.height) + "x" + std::to_string(images.width) +
                " but the model expects " + std::to_string(v.config.image_height) + "x" +
                std::to_string(v.config.image_width));
  if (int64_t(images.pixels.size()) != images.count * images.pixels_per_image())
    throw Error("image batch holds " + std::to_string(images.pixels.size()) + " values, expected " +
                std::to_string(images.count * images.pixels_per_image()));
  return to_tensor(images.pixels, images.count, images.pixels_per_image(), v.device);
}

void copy_weights(VaeNetImpl& from, VaeNetImpl& to) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters(), dst = to.named_parameters();
  for (const auto& item : src) dst[item.key()].copy_(item.value());
  auto src_buffers = from.named_buffers(), dst_buffers = to.named_buffers();
  for (const auto& item : src_buffers) dst_buffers[item.key()].copy_(item.value());
}

Vae::Vae(std::shared_ptr<const VaeImpl> impl) : impl_(std::move(impl)) {}

std::shared_ptr<const Vae> Vae::from_checkpoint(const Checkpoint& checkpoint, const std::string& device) {
  // Before building the model the metadata describes: a damaged file must not make us allocate a
  // network far larger than the weights it holds.
  int64_t stored = 0;
  for (const auto& a : checkpoint.arrays)
    if (a.name.rfind("vae.", 0) == 0) stored += int64_t(a.values.size());
  const int64_t needed = parameter_count(checkpoint.model);
  if (stored != needed)
    throw Error("checkpoint: its weights (" + std::to_string(stored) + " values) do not fit the model its metadata describes (" +
                std::to_string(needed) + " parameters; another architecture?)");
  torch::Device dev = to_torch_device(resolve_device(device));
  VaeNet net(checkpoint.model);
  load_arrays(named_trainables(*net), "vae.", checkpoint, "checkpoint");
  net->to(dev);
  net->eval();
  return std::make_shared<const Vae>(std::make_shared<const VaeImpl>(net, dev));
}

const ModelConfig& Vae::config() const { return impl_->config; }
std::string Vae::device() const { return impl_->device.is_cuda() ? "cuda" : "cpu"; }

Posterior Vae::encode(const ImageBatch& images) const {
  torch::NoGradGuard no_grad;
  auto [mu, logvar] = impl_->module().encoder->forward(images_tensor(images, *impl_));
  return {to_matrix(mu), to_matrix(logvar)};
}

ImageBatch Vae::decode(const LatentMatrix& z) const {
  torch::NoGradGuard no_grad;
  if (z.cols != impl_->config.latent_dim)
    throw Error("z has " + std::to_string(z.cols) + " dims, the model's latent dim is " +
                std::to_string(impl_->config.latent_dim));
  if (int64_t(z.values.size()) != z.rows * z.cols) throw Error("latent matrix size does not match its shape");
  auto out = impl_->module().decoder->forward(to_tensor(z.values, z.rows, z.cols, impl_->device));
  return to_images(decoder_mean(out), impl_->config);
}

ImageBatch Vae::reconstruct(const ImageBatch& images) const {
  torch::NoGradGuard no_grad;
  auto [mu, logvar] = impl_->module().encoder->forward(images_tensor(images, *impl_));
  return to_images(decoder_mean(impl_->module().decoder->forward(mu)), impl_->config);
}

ImageBatch Vae::sample_prior(int count, uint64_t seed) const {
  if (count < 0) throw Error("sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto gen = make_generator(seed);
  auto z = torch::randn({count, impl_->config.latent_dim}, gen, torch::kFloat32).to(impl_->device);
  return to_images(decoder_mean(impl_->module().decoder->forward(z)), impl_->config);
}

LatentMatrix interpolate(const std::vector<float>& a, const std::vector<float>& b, int steps, Interpolation kind) {
  if (a.size() != b.size() || a.empty()) throw Error("interpolate: endpoints must have the same, nonzero size");
  if (steps < 2) throw Error("interpolate: need at least 2 steps");
  const size_t d = a.size();
  double na = 0, nb = 0, dot = 0;
  for (size_t i = 0; i < d; ++i) {
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
    dot += double(a[i]) * b[i];
  }
  na = std::sqrt(na);
  nb = std::sqrt(nb);
  double omega = 0;
  if (kind == Interpolation::Spherical && na > 1e-8 && nb > 1e-8)
    omega = std::acos(std::clamp(dot / (na * nb), -1.0, 1.0));
  LatentMatrix out;
  out.rows = steps;
  out.cols = int64_t(d);
  out.values.resize(size_t(steps) * d);
  for (int s = 0; s < steps; ++s) {
    double t = double(s) / (steps - 1);
    double wa = 1 - t, wb = t;
    if (omega > 1e-4 && std::sin(omega) > 1e-6) {
      // slerp of the directions, with the norm interpolated linearly: stays in the shell p(z) favours.
      double norm = (1 - t) * na + t * nb;
      wa = std::sin((1 - t) * omega) / std::sin(omega) * norm / na;
      wb = std::sin(t * omega) / std::sin(omega) * norm / nb;
    }
    for (size_t i = 0; i < d; ++i) out.values[s * d + i] = float(wa * a[i] + wb * b[i]);
  }
  return out;
}

LatentMatrix grid_latents(const GridSpec& spec, int latent_dim) {
  if (spec.k < 1 || spec.k > 200) throw Error("grid size k must be in 1..200");
  if (spec.dim_x < 0 || spec.dim_x >= latent_dim || spec.dim_y < 0 || spec.dim_y >= latent_dim)
    throw Error("grid dims must be in 0.." + std::to_string(latent_dim - 1));
  if (latent_dim > 1 && spec.dim_x == spec.dim_y) throw Error("grid dims must differ");
  if (!spec.base.empty() && int(spec.base.size()) != latent_dim)
    throw Error("grid base has " + std::to_string(spec.base.size()) + " values, latent dim is " + std::to_string(latent_dim));
  if (!std::isfinite(spec.extent) || spec.extent <= 0) throw Error("grid extent must be > 0");
  LatentMatrix z;
  z.rows = int64_t(spec.k) * spec.k;
  z.cols = latent_dim;
  z.values.resize(size_t(z.rows * z.cols));
  auto coord = [&](int i) { return spec.k == 1 ? 0.0f : -spec.extent + 2 * spec.extent * float(i) / float(spec.k - 1); };
  for (int r = 0; r < spec.k; ++r)
    for (int c = 0; c < spec.k; ++c) {
      float* row = z.values.data() + (int64_t(r) * spec.k + c) * latent_dim;
      for (int d = 0; d < latent_dim; ++d) row[d] = spec.base.empty() ? 0.0f : spec.base[d];
      row[spec.dim_x] = coord(c);
      if (latent_dim > 1) row[spec.dim_y] = coord(spec.k - 1 - r);
    }
  return z;
}

ImageBatch decode_grid(const Vae& vae, const GridSpec& spec) {
  return vae.decode(grid_latents(spec, vae.config().latent_dim));
}

}  // namespace latent
