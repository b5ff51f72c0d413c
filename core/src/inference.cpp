#include "latent/inference.h"

#include <cmath>

#include "latent/checkpoint.h"
#include "latent/error.h"
#include "latent/trainer.h"
#include "objective.h"
#include "vae_impl.h"

namespace latent {
namespace {

// A tensor of its own (never a view of `values`): cloned on the CPU; to another device, to() copies.
torch::Tensor to_tensor(const std::vector<float>& values, int64_t rows, int64_t cols, torch::Device device) {
  const torch::Tensor view = torch::from_blob(const_cast<float*>(values.data()), {rows, cols}, torch::kFloat32);
  return device.is_cpu() ? view.clone() : view.to(device);
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

// The calling thread's kept activations: one [kInferenceChunkRows, width] tensor per hidden layer
// of each chain, made on first use (or when the model's shape or device changes) and then reused.
struct KeptActivations {
  std::vector<torch::Tensor> encoder, decoder;
};
KeptActivations& kept_activations() {
  thread_local KeptActivations kept;
  return kept;
}

torch::Tensor kept_rows(torch::Tensor& kept, int64_t rows, int64_t cols, const torch::TensorOptions& options) {
  if (!kept.defined() || kept.size(1) != cols || kept.device() != options.device())
    kept = torch::empty({kInferenceChunkRows, cols}, options);
  return kept.narrow(0, 0, rows);
}

// `body`'s Linear layers and in-place activations on `in` (at most kInferenceChunkRows rows); the
// last Linear writes into `out` when one is given, else into kept storage.
torch::Tensor run_body(torch::nn::Sequential& body, const torch::Tensor& in, std::vector<torch::Tensor>& kept,
                       const torch::Tensor* out = nullptr) {
  torch::Tensor h = in;
  size_t layer = 0;
  for (size_t i = 0; i < body->size(); ++i) {
    if (auto* linear = body[i]->as<torch::nn::LinearImpl>()) {
      if (kept.size() <= layer) kept.resize(layer + 1);
      torch::Tensor next = out && i + 1 == body->size()
                               ? *out
                               : kept_rows(kept[layer], in.size(0), linear->options.out_features(), in.options());
      at::addmm_out(next, linear->bias, h, linear->weight.t());
      h = next;
      ++layer;
    } else if (auto* relu = body[i]->as<torch::nn::ReLUImpl>()) {
      h = relu->forward(h);  // in place: vae_net.cpp builds them so
    } else if (auto* elu = body[i]->as<torch::nn::ELUImpl>()) {
      h = elu->forward(h);
    } else {
      throw Error("inference: unexpected layer " + body[i]->name());
    }
  }
  return h;
}

// A CPU float tensor over `values` (resized to rows × cols), or, for a model elsewhere, one on its
// device to copy back from.
torch::Tensor result_rows(std::vector<float>& values, int64_t rows, int64_t cols, torch::Device device) {
  values.resize(size_t(rows * cols));
  if (device.is_cpu()) return torch::from_blob(values.data(), {rows, cols}, torch::kFloat32);
  return torch::empty({rows, cols}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
}

void copy_back(const torch::Tensor& result, std::vector<float>& values) {
  if (result.device().is_cpu()) return;  // written in place
  auto cpu = result.to(torch::kCPU).contiguous();
  std::copy(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel(), values.begin());
}

}  // namespace

Posterior encode_rows(const VaeImpl& vae, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto& encoder = *vae.module().encoder;
  const int64_t n = x.size(0), d = vae.config.latent_dim;
  Posterior out;
  out.mu.rows = out.logvar.rows = n;
  out.mu.cols = out.logvar.cols = d;
  torch::Tensor mu = result_rows(out.mu.values, n, d, vae.device), logvar = result_rows(out.logvar.values, n, d, vae.device);
  KeptActivations& kept = kept_activations();
  for (int64_t first = 0; first < n; first += kInferenceChunkRows) {
    const int64_t rows = std::min(kInferenceChunkRows, n - first);
    const torch::Tensor h = run_body(encoder.body, x.narrow(0, first, rows), kept.encoder);
    torch::Tensor mu_rows = mu.narrow(0, first, rows), logvar_rows = logvar.narrow(0, first, rows);
    at::addmm_out(mu_rows, encoder.mu->bias, h, encoder.mu->weight.t());
    at::addmm_out(logvar_rows, encoder.logvar->bias, h, encoder.logvar->weight.t());
  }
  copy_back(mu, out.mu.values);
  copy_back(logvar, out.logvar.values);
  return out;
}

ImageBatch decode_rows(const VaeImpl& vae, const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  const int64_t n = z.size(0), pixels = vae.config.pixels();
  ImageBatch out;
  out.count = n;
  out.height = vae.config.image_height;
  out.width = vae.config.image_width;
  torch::Tensor mean = result_rows(out.pixels, n, pixels, vae.device);
  KeptActivations& kept = kept_activations();
  for (int64_t first = 0; first < n; first += kInferenceChunkRows) {
    const int64_t rows = std::min(kInferenceChunkRows, n - first);
    torch::Tensor mean_rows = mean.narrow(0, first, rows);
    // The logits into the result's rows, then decoder_mean()'s sigmoid over them in place.
    run_body(vae.module().decoder->body, z.narrow(0, first, rows), kept.decoder, &mean_rows);
    mean_rows.sigmoid_();
  }
  copy_back(mean, out.pixels);
  return out;
}

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
  return encode_rows(*impl_, images_tensor(images, *impl_));
}

ImageBatch Vae::decode(const LatentMatrix& z) const {
  torch::NoGradGuard no_grad;
  if (z.cols != impl_->config.latent_dim)
    throw Error("z has " + std::to_string(z.cols) + " dims, the model's latent dim is " +
                std::to_string(impl_->config.latent_dim));
  if (int64_t(z.values.size()) != z.rows * z.cols) throw Error("latent matrix size does not match its shape");
  return decode_rows(*impl_, to_tensor(z.values, z.rows, z.cols, impl_->device));
}

ImageBatch Vae::reconstruct(const ImageBatch& images) const { return decode(encode(images).mu); }

ImageBatch Vae::sample_prior(int count, uint64_t seed) const {
  if (count < 0) throw Error("sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto gen = make_generator(seed);
  auto z = torch::randn({count, impl_->config.latent_dim}, gen, torch::kFloat32).to(impl_->device);
  return decode_rows(*impl_, z);
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
