#include "train/adam.h"

#include <algorithm>
#include <cmath>

#include "train/kernels.h"
#include "train/shard_pool.h"

namespace latent {

Adam::Adam(std::vector<std::pair<std::string, torch::Tensor>> params_in, double lr, double beta1, double beta2,
           double eps)
    : learning_rate(lr), params(std::move(params_in)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& [name, p] : params) {
    exp_avg.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    exp_avg_sq.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    denom_.push_back(torch::empty_like(p, torch::MemoryFormat::Contiguous));
  }
}

void Adam::zero_grad() {
  for (auto& [name, p] : params)
    if (p.mutable_grad().defined()) p.mutable_grad().zero_();
}

namespace {

bool fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v) {
  for (const torch::Tensor* t : {&p, &g, &m, &v})
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat32 || !t->is_contiguous()) return false;
  return true;
}

}  // namespace

bool Adam::all_fusable() const {
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& g = params[i].second.grad();
    if (g.defined() && !fusable(params[i].second, g, exp_avg[i], exp_avg_sq[i])) return false;
  }
  return true;
}

AdamScalars Adam::next_scalars() {
  ++steps;
  const double bias1 = 1.0 - std::pow(beta1_, double(steps));
  const double bias2 = 1.0 - std::pow(beta2_, double(steps));
  const double step_size = learning_rate / bias1;
  const double inv_sqrt_bias2 = 1.0 / std::sqrt(bias2);
  step_size_ = step_size;
  inv_sqrt_bias2_ = inv_sqrt_bias2;
  return {float(beta1_),    float(beta2_),          float(1.0 - beta1_), float(1.0 - beta2_),
          float(step_size), float(inv_sqrt_bias2), float(eps_)};
}

bool Adam::step() {
  torch::NoGradGuard no_grad;
  const bool fused = all_fusable();
  const AdamScalars scalars = next_scalars();
  bool finite = true;
  // Unfused (on a GPU): Σ v over every parameter, summed on the device and read once at the end: one
  // host sync per step, not two per parameter. A non-finite g leaves v so, as in the kernel.
  torch::Tensor v_total;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i].second;
    const auto& g = p.grad();
    if (!g.defined()) continue;
    if (fused) {
      finite &= adam_update(p.data_ptr<float>(), g.data_ptr<float>(), exp_avg[i].data_ptr<float>(),
                            exp_avg_sq[i].data_ptr<float>(), p.numel(), scalars);
      continue;
    }
    exp_avg[i].mul_(beta1_).add_(g, 1.0 - beta1_);
    exp_avg_sq[i].mul_(beta2_).addcmul_(g, g, 1.0 - beta2_);
    at::sqrt_out(denom_[i], exp_avg_sq[i]);
    denom_[i].mul_(inv_sqrt_bias2_).add_(eps_);
    p.addcdiv_(exp_avg[i], denom_[i], -step_size_);
    torch::Tensor v_sum = exp_avg_sq[i].sum(torch::kFloat64);
    v_total = v_total.defined() ? v_total.add_(v_sum) : v_sum;
  }
  if (v_total.defined() && !std::isfinite(v_total.item<double>())) finite = false;
  return finite;
}

bool Adam::step(ShardPool& pool, const std::vector<const std::vector<torch::Tensor>*>& other_parts) {
  torch::NoGradGuard no_grad;
  bool fused = all_fusable();
  for (const auto* parts : other_parts)
    for (size_t i = 0; i < params.size() && fused; ++i)
      fused = !(*parts)[i].defined() || ((*parts)[i].device().is_cpu() &&
                                         (*parts)[i].scalar_type() == torch::kFloat32 && (*parts)[i].is_contiguous());
  if (!fused) {
    for (const auto* parts : other_parts)
      for (size_t i = 0; i < params.size(); ++i)
        if ((*parts)[i].defined()) params[i].second.mutable_grad().add_((*parts)[i]);
    return step();
  }
  const AdamScalars scalars = next_scalars();
  std::vector<char> finite(size_t(pool.shards()), 1);
  pool.run([&](int shard) {
    // Blocks of 4,096 values: the parts are added while the block is still in cache for the update.
    constexpr int64_t kBlock = 4096;
    for (size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i].second;
      const auto& g = p.grad();
      if (!g.defined()) continue;
      const auto [begin, end] = ShardPool::slice(p.numel(), shard, pool.shards());
      float* pp = p.data_ptr<float>();
      float* gp = g.data_ptr<float>();
      for (int64_t a = begin; a < end; a += kBlock) {
        const int64_t n = std::min(kBlock, end - a);
        for (const auto* parts : other_parts)
          if ((*parts)[i].defined()) add_into(gp + a, (*parts)[i].data_ptr<float>() + a, n);
        finite[size_t(shard)] &= adam_update(pp + a, gp + a, exp_avg[i].data_ptr<float>() + a,
                                             exp_avg_sq[i].data_ptr<float>() + a, n, scalars);
      }
    }
  });
  for (char f : finite)
    if (!f) return false;
  return true;
}

void Adam::keep_backup() {
  torch::NoGradGuard no_grad;
  if (backup_params_.empty())
    for (size_t i = 0; i < params.size(); ++i) {
      backup_params_.push_back(torch::empty_like(params[i].second));
      backup_avg_.push_back(torch::empty_like(exp_avg[i]));
      backup_avg_sq_.push_back(torch::empty_like(exp_avg_sq[i]));
    }
  for (size_t i = 0; i < params.size(); ++i) {
    backup_params_[i].copy_(params[i].second);
    backup_avg_[i].copy_(exp_avg[i]);
    backup_avg_sq_[i].copy_(exp_avg_sq[i]);
  }
  backup_steps_ = steps;
}

int64_t Adam::restore_backup() {
  if (!has_backup()) return -1;  // no step had a finite loss yet: the weights are the ones training began with
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < backup_params_.size(); ++i) {
    params[i].second.copy_(backup_params_[i]);
    exp_avg[i].copy_(backup_avg_[i]);
    exp_avg_sq[i].copy_(backup_avg_sq_[i]);
  }
  steps = backup_steps_;
  return backup_steps_;
}

}  // namespace latent
