#pragma once
// Internal: fused elementwise kernels on plain float arrays, for the hot loop of a training step.
// No LibTorch here. Each has a baseline (SSE2) and an AVX2+FMA version picked at load time.
#include <cstdint>

namespace latent {

// Bernoulli reconstruction from logits, in one pass over n = B·P values:
//   grad[i] = (sigmoid(l[i]) − x[i])·scale      (∂/∂l of Σ BCE, times scale)
//   returns Σ BCE(l, x) = Σ softplus(l) − l·x   (accumulated in double)
// with softplus(l) = max(l, 0) + log1p(e^−|l|), so no term overflows for any finite l.
double bce_with_logits(const float* logits, const float* x, float* grad, float scale, int64_t n);

// A batch of rows from a byte image set, as the model takes them, in one pass (instead of LibTorch's
// three: index_select, byte→float, division):
//   out[r·row_size + j] = rows[indices[r]·row_size + j] / 255   (float division: the value LibTorch's
// conversion then div_(255.0f) gives). The indices must be in range; the caller checks them.
void gather_unit_floats(const uint8_t* rows, int64_t row_size, const int64_t* indices, int64_t count, float* out);

// dst[i] += src[i] for i < n: one gradient part added into another.
void add_into(float* dst, const float* src, int64_t n);

struct AdamScalars {
  float beta1, beta2;
  float one_minus_beta1, one_minus_beta2;  // from double: 1.0f − 0.999f is 5e-5 off 0.001
  float step_size;       // lr / (1 − β1ᵗ)
  float inv_sqrt_bias2;  // 1 / √(1 − β2ᵗ)
  float eps;
};

// Adam on one float parameter of n values, in one pass:
//   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − step_size · m / (√v · inv_sqrt_bias2 + ε)
// Returns false when a gradient value was not finite (the pass still ran: p, m, v are then garbage
// and the caller restores them).
bool adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                 const AdamScalars& scalars);

}  // namespace latent
