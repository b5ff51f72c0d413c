#include "latent/inference.h"

#include <cmath>

#include "latent/checkpoint.h"
#include "latent/error.h"
#include "latent/platform.h"
#include "model/vae_impl.h"
#include "objective/objective.h"
#include "platform/platform.h"
#include "io/run_history.h"

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

torch::Tensor condition_rows(const VaeImpl& vae, const std::vector<int32_t>& labels, int64_t rows) {
  const ModelConfig& c = vae.config;
  if (!c.conditional()) return {};
  if (labels.empty())
    throw Error("this conditional model needs a class for each image or z (0.." + std::to_string(c.classes - 1) + ")");
  if (int64_t(labels.size()) != rows && labels.size() != 1)
    throw Error("got " + std::to_string(labels.size()) + " classes for " + std::to_string(rows) +
                " rows: give one per row, or one for all");
  torch::Tensor t = torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()), torch::kLong);
  if (labels.size() == 1 && rows != 1) t = t.expand({rows}).contiguous();
  return vae.model().condition(t);
}

Posterior encode_rows(const VaeImpl& vae, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const int64_t n = x.size(0), d = vae.config.latent_dim;
  Posterior out;
  out.mu.rows = out.logvar.rows = n;
  out.mu.cols = out.logvar.cols = d;
  torch::Tensor mu = result_rows(out.mu.values, n, d, vae.device), logvar = result_rows(out.logvar.values, n, d, vae.device);
  for (int64_t first = 0; first < n; first += kInferenceChunkRows) {
    const int64_t rows = std::min(kInferenceChunkRows, n - first);
    torch::Tensor mu_rows = mu.narrow(0, first, rows), logvar_rows = logvar.narrow(0, first, rows);
    vae.model().encode_into(x.narrow(0, first, rows), y.defined() ? y.narrow(0, first, rows) : y, mu_rows, logvar_rows);
  }
  copy_back(mu, out.mu.values);
  copy_back(logvar, out.logvar.values);
  return out;
}

ImageBatch decode_rows(const VaeImpl& vae, const torch::Tensor& z, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const int64_t n = z.size(0), pixels = vae.config.pixels();
  ImageBatch out;
  out.count = n;
  out.channels = vae.config.image_channels;
  out.height = vae.config.image_height;
  out.width = vae.config.image_width;
  torch::Tensor mean = result_rows(out.pixels, n, pixels, vae.device);
  for (int64_t first = 0; first < n; first += kInferenceChunkRows) {
    const int64_t rows = std::min(kInferenceChunkRows, n - first);
    torch::Tensor mean_rows = mean.narrow(0, first, rows);
    // The decoder's outputs into the result's rows, then decoder_mean()'s sigmoid over them in place
    // (a module that decodes Gaussian means gives them: clamped to the images' range for display).
    vae.model().decode_into(z.narrow(0, first, rows), y.defined() ? y.narrow(0, first, rows) : y, mean_rows);
    if (vae.model().decodes_means() && vae.config.likelihood == ReconstructionLikelihood::Gaussian)
      mean_rows.clamp_(0, 1);
    else
      mean_rows.sigmoid_();
  }
  copy_back(mean, out.pixels);
  return out;
}

torch::Tensor images_tensor(const ImageBatch& images, const VaeImpl& v) {
  if (std::string problem = image_mismatch(v.config, images.channels, images.height, images.width, "the image batch");
      !problem.empty())
    throw Error(problem);
  if (int64_t(images.pixels.size()) != images.count * images.pixels_per_image())
    throw Error("image batch holds " + std::to_string(images.pixels.size()) + " values, expected " +
                std::to_string(images.count * images.pixels_per_image()));
  return to_tensor(images.pixels, images.count, images.pixels_per_image(), v.device);
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
  ModelPtr model = make_model(checkpoint.model, 0, /*initialize=*/false);
  load_arrays(named_trainables(*model), "vae.", checkpoint, "checkpoint");
  model->to(dev);
  model->eval();
  return std::make_shared<const Vae>(std::make_shared<const VaeImpl>(std::move(model), dev));
}

void write_weights(const Vae& vae, const std::string& path, const std::string& dataset, int64_t step) {
  if (vae.config().script) throw Error("a PyTorch model's weights are not written as a checkpoint");
  Checkpoint c;
  c.model = vae.config();
  c.dataset = dataset;
  c.progress.step = step;
  torch::NoGradGuard no_grad;
  append_arrays(named_trainables(vae.impl().model()), "vae.", c.arrays);
  write_checkpoint(path, c);
}

Checkpoint read_usable_checkpoint(const std::string& path) {
  Checkpoint c = read_checkpoint(path);
  try {
    Vae::from_checkpoint(c, "cpu");
    read_history(c);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return c;
}

void check_checkpoint_fits(const Checkpoint& c, const std::string& path, int channels, int height, int width,
                           const std::string& dataset, int classes) {
  if (std::string problem = image_mismatch(c.model, channels, height, width, dataset, "the checkpoint"); !problem.empty())
    throw Error(path + ": " + problem);
  if (c.model.conditional() && classes != c.model.classes)
    throw Error(path + ": the checkpoint is a conditional model for " + std::to_string(c.model.classes) + " classes but " +
                (dataset.empty() ? std::string("the data") : dataset) +
                (classes == 0 ? std::string(" has no labels") : " has " + std::to_string(classes) + " classes"));
}

const ModelConfig& Vae::config() const { return impl_->config; }
std::string Vae::device() const { return impl_->device.is_cuda() ? "cuda" : "cpu"; }

Posterior Vae::encode(const ImageBatch& images) const {
  return encode_rows(*impl_, images_tensor(images, *impl_), condition_rows(*impl_, images.labels, images.count));
}

ImageBatch Vae::decode(const LatentMatrix& z, const std::vector<int32_t>& labels) const {
  torch::NoGradGuard no_grad;
  if (z.cols != impl_->config.latent_dim)
    throw Error("z has " + std::to_string(z.cols) + " dims, the model's latent dim is " +
                std::to_string(impl_->config.latent_dim));
  if (int64_t(z.values.size()) != z.rows * z.cols) throw Error("latent matrix size does not match its shape");
  return decode_rows(*impl_, to_tensor(z.values, z.rows, z.cols, impl_->device), condition_rows(*impl_, labels, z.rows));
}

ImageBatch Vae::decode_under_classes(const LatentMatrix& z, const std::vector<int32_t>& classes) const {
  LatentMatrix all{z.rows * int64_t(classes.size()), z.cols, {}};
  std::vector<int32_t> labels;
  for (int32_t c : classes) {
    all.values.insert(all.values.end(), z.values.begin(), z.values.end());
    labels.insert(labels.end(), size_t(z.rows), c);
  }
  return decode(all, labels);
}

ImageBatch Vae::reconstruct(const ImageBatch& images) const { return decode(encode(images).mu, images.labels); }

ImageBatch Vae::sample_prior(int count, uint64_t seed, const std::vector<int32_t>& labels) const {
  if (count < 0) throw Error("sample count must be >= 0");
  torch::NoGradGuard no_grad;
  const torch::Tensor y = condition_rows(*impl_, labels, count);
  auto gen = make_generator(seed);
  return decode_rows(*impl_, impl_->model().sample_prior(count, gen), y);
}

LatentMatrix Vae::sample_latents(int count, uint64_t seed) const {
  if (count < 0) throw Error("sample count must be >= 0");
  torch::NoGradGuard no_grad;
  auto gen = make_generator(seed);
  return to_matrix(impl_->model().sample_prior(count, gen));
}

std::vector<float> Vae::log_prior(const LatentMatrix& z) const {
  if (z.cols != impl_->config.latent_dim) throw Error("log_prior: z has " + std::to_string(z.cols) + " dims, the model " +
                                                      std::to_string(impl_->config.latent_dim));
  torch::NoGradGuard no_grad;
  std::vector<float> out;
  out.reserve(size_t(z.rows));
  auto all = torch::from_blob(const_cast<float*>(z.values.data()), {z.rows, z.cols}, torch::kFloat32);
  for (int64_t first = 0; first < z.rows; first += 4096) {
    auto part = impl_->model().log_prior(all.narrow(0, first, std::min<int64_t>(4096, z.rows - first)).to(impl_->device));
    part = part.to(torch::kCPU, torch::kFloat32).contiguous();
    out.insert(out.end(), part.data_ptr<float>(), part.data_ptr<float>() + part.numel());
  }
  return out;
}

std::vector<float> Vae::prior_marginal_grid(int dim_x, int dim_y, int resolution, float extent, int samples,
                                             uint64_t seed) const {
  const int d = impl_->config.latent_dim;
  if (dim_x < 0 || dim_x >= d || dim_y < 0 || dim_y >= d || (d > 1 && dim_x == dim_y))
    throw Error("prior_marginal_grid: dims " + std::to_string(dim_x) + ", " + std::to_string(dim_y) + " of a " +
                std::to_string(d) + "-D latent");
  if (resolution < 2 || resolution > 2048 || !(extent > 0)) throw Error("prior_marginal_grid: bad grid");
  const size_t cells = size_t(resolution) * size_t(resolution);
  const float h = 2 * extent / float(resolution);
  auto centre_x = [&](int c) { return -extent + (float(c) + 0.5f) * h; };
  auto centre_y = [&](int r) { return extent - (float(r) + 0.5f) * h; };
  std::vector<float> out(cells, 0.0f);
  const bool normal = impl_->model().prior().closed_form_kl();
  if (normal || d <= 2) {
    LatentMatrix z;
    z.rows = int64_t(cells), z.cols = d;
    z.values.assign(cells * size_t(d), 0.0f);
    for (int r = 0; r < resolution; ++r)
      for (int c = 0; c < resolution; ++c) {
        float* row = &z.values[(size_t(r) * resolution + c) * size_t(d)];
        row[dim_x] = centre_x(c);
        if (d > 1) row[dim_y] = centre_y(r);
      }
    if (normal) {
      // N(0, I)'s marginal over two dims is N(0, I₂) (over one, N(0, 1) along x).
      for (size_t i = 0; i < cells; ++i) {
        const float x = z.values[i * size_t(d) + size_t(dim_x)], y = d > 1 ? z.values[i * size_t(d) + size_t(dim_y)] : 0.0f;
        out[i] = std::exp(-0.5f * (x * x + y * y)) / float(d > 1 ? 2 * M_PI : std::sqrt(2 * M_PI));
      }
      return out;
    }
    const std::vector<float> log_p = log_prior(z);
    for (size_t i = 0; i < cells; ++i) out[i] = std::exp(log_p[i]);
    return out;
  }
  // A learned prior over more than two dims: its marginal is an integral over the others, so it
  // is estimated from draws.
  const LatentMatrix z = sample_latents(samples, seed);
  std::vector<double> counts(cells, 0.0);
  for (int64_t i = 0; i < z.rows; ++i) {
    const int c = int(std::floor((z.at(i, dim_x) + extent) / h)), r = int(std::floor((extent - z.at(i, dim_y)) / h));
    if (c >= 0 && c < resolution && r >= 0 && r < resolution) counts[size_t(r) * resolution + c] += 1;
  }
  const double norm = 1.0 / (double(samples) * double(h) * double(h) * 9.0);
  for (int r = 0; r < resolution; ++r)
    for (int c = 0; c < resolution; ++c) {
      double sum = 0;
      for (int rr = std::max(0, r - 1); rr <= std::min(resolution - 1, r + 1); ++rr)
        for (int cc = std::max(0, c - 1); cc <= std::min(resolution - 1, c + 1); ++cc) sum += counts[size_t(rr) * resolution + cc];
      out[size_t(r) * resolution + c] = float(sum * norm);
    }
  return out;
}

ImageBatch Vae::pseudo_inputs() const {
  torch::NoGradGuard no_grad;
  torch::Tensor u = impl_->model().prior().pseudo_inputs();
  if (!u.defined()) return {};
  const ModelConfig& c = impl_->config;
  u = u.to(torch::kCPU, torch::kFloat32).contiguous();
  ImageBatch out;
  out.count = u.size(0);
  out.channels = c.image_channels;
  out.height = c.image_height;
  out.width = c.image_width;
  out.pixels.assign(u.data_ptr<float>(), u.data_ptr<float>() + u.numel());
  for (int64_t k = 0; k < out.count && c.conditional(); ++k) out.labels.push_back(int32_t(k % c.classes));
  return out;
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
  return vae.decode(grid_latents(spec, vae.config().latent_dim),
                    vae.config().conditional() ? std::vector<int32_t>{spec.label} : std::vector<int32_t>{});
}

}  // namespace latent
