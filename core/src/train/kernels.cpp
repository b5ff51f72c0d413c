#include "train/kernels.h"

#include <cstring>

namespace latent {
namespace {

#define LATENT_INLINE inline __attribute__((always_inline))

LATENT_INLINE float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

// e^−a for a ≥ 0 (a is clamped to 87, below which e^−a is still a normal float). Range reduction
// −a = n·ln 2 + r with |r| ≤ ½ ln 2 (ln 2 split in two for exactness), a degree-6 polynomial for
// e^r (Cephes expf's coefficients, rel. error < 2e-7), and 2^n through the exponent bits.
LATENT_INLINE float exp_neg(float a) {
  a = a < 87.0f ? a : 87.0f;
  const float t = -a * 1.44269504088896341f;
  const float n = static_cast<float>(static_cast<int32_t>(t - 0.5f));  // floor(t + 0.5) for t ≤ 0
  float r = -a - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * bits_to_float((static_cast<int32_t>(n) + 127) << 23);
}

// log(1 + e) for e in [0, 1]: 2·atanh(t) with t = e/(2 + e) ∈ [0, ⅓], by its odd series to t¹⁵
// (truncation < 1e-8 relative). Accurate for tiny e, where it tends to e.
LATENT_INLINE float log1p_unit(float e) {
  const float t = e / (2.0f + e);
  const float t2 = t * t;
  float s = 1.0f / 15;
  s = s * t2 + 1.0f / 13;
  s = s * t2 + 1.0f / 11;
  s = s * t2 + 1.0f / 9;
  s = s * t2 + 1.0f / 7;
  s = s * t2 + 1.0f / 5;
  s = s * t2 + 1.0f / 3;
  s = s * t2 + 1.0f;
  return 2.0f * t * s;
}

LATENT_INLINE double bce_body(const float* __restrict logits, const float* __restrict x, float* __restrict grad,
                              float scale, int64_t n) {
  // Blocks of 256: the elementwise loop has no reduction (so it vectorizes without reassociating
  // anything), then eight float partial sums per block, and a double total across blocks.
  constexpr int64_t kBlock = 256;
  float terms[kBlock];
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t m = n - start < kBlock ? n - start : kBlock;
    const float* l = logits + start;
    const float* xs = x + start;
    float* g = grad + start;
    for (int64_t i = 0; i < m; ++i) {
      const float li = l[i];
      const float e = exp_neg(li < 0 ? -li : li);
      const float inv = 1.0f / (1.0f + e);
      const float sigmoid = li >= 0 ? inv : e * inv;
      g[i] = (sigmoid - xs[i]) * scale;
      terms[i] = (li > 0 ? li : 0.0f) + log1p_unit(e) - li * xs[i];
    }
    float acc[8] = {};
    int64_t i = 0;
    for (; i + 8 <= m; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] += terms[i + k];
    for (; i < m; ++i) acc[0] += terms[i];
    total += double((acc[0] + acc[4]) + (acc[1] + acc[5])) + double((acc[2] + acc[6]) + (acc[3] + acc[7]));
  }
  return total;
}

// One pass of Adam over a float parameter: reads p, g, m, v once and writes p, m, v once (the
// unfused torch ops make six passes). Returns 0, or nonzero when a gradient element is not finite.
LATENT_INLINE int adam_body(float* __restrict p, const float* __restrict g, float* __restrict m,
                            float* __restrict v, int64_t n, const AdamScalars& s) {
  const float beta1 = s.beta1, beta2 = s.beta2, one_minus_beta1 = s.one_minus_beta1,
              one_minus_beta2 = s.one_minus_beta2, step_size = s.step_size, inv_sqrt_bias2 = s.inv_sqrt_bias2,
              eps = s.eps;
  int nonfinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + one_minus_beta1 * gi;
    const float vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
    // v, not g: (1−β2)·g² overflows to inf for a large finite g (|g| > ~6e20), and an infinite v
    // would end up in checkpoints (found by tests/test_trainer_stress). A non-finite g makes v so too.
    nonfinite |= !(vi <= 3.40282347e38f);  // false for inf and NaN
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (__builtin_sqrtf(vi) * inv_sqrt_bias2 + eps);
  }
  return nonfinite;
}

// Each kernel twice: built for AVX2+FMA, and for the x86-64 baseline (SSE2); chosen per call by
// what the CPU has.
__attribute__((target("avx2,fma"))) double bce_avx2(const float* logits, const float* x, float* grad, float scale,
                                                     int64_t n) {
  return bce_body(logits, x, grad, scale, n);
}
double bce_baseline(const float* logits, const float* x, float* grad, float scale, int64_t n) {
  return bce_body(logits, x, grad, scale, n);
}
__attribute__((target("avx2,fma"))) int adam_avx2(float* p, const float* g, float* m, float* v, int64_t n,
                                                   const AdamScalars& s) {
  return adam_body(p, g, m, v, n, s);
}
int adam_baseline(float* p, const float* g, float* m, float* v, int64_t n, const AdamScalars& s) {
  return adam_body(p, g, m, v, n, s);
}

LATENT_INLINE void add_body(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}
__attribute__((target("avx2,fma"))) void add_avx2(float* dst, const float* src, int64_t n) { add_body(dst, src, n); }
void add_baseline(float* dst, const float* src, int64_t n) { add_body(dst, src, n); }

bool has_avx2_fma() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}

}  // namespace

void gather_unit_floats(const uint8_t* rows, int64_t row_size, const int64_t* indices, int64_t count, float* out) {
  for (int64_t r = 0; r < count; ++r) {
    const uint8_t* __restrict row = rows + indices[r] * row_size;
    float* __restrict dst = out + r * row_size;
    for (int64_t j = 0; j < row_size; ++j) dst[j] = float(row[j]) / 255.0f;
  }
}

// Measured on the 128x784 batch: 0.14 ms with AVX2+FMA, 0.47 ms with SSE2, 2 ms before the loop
// vectorized (tests/test_kernels.cpp checks both against double precision).
double bce_with_logits(const float* logits, const float* x, float* grad, float scale, int64_t n) {
  return has_avx2_fma() ? bce_avx2(logits, x, grad, scale, n) : bce_baseline(logits, x, grad, scale, n);
}

void add_into(float* dst, const float* src, int64_t n) {
  has_avx2_fma() ? add_avx2(dst, src, n) : add_baseline(dst, src, n);
}

bool adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                 const AdamScalars& s) {
  return (has_avx2_fma() ? adam_avx2(param, grad, exp_avg, exp_avg_sq, n, s)
                         : adam_baseline(param, grad, exp_avg, exp_avg_sq, n, s)) == 0;
}

}  // namespace latent
