#pragma once
// Internal: one training step's forward and backward pass of the MLP VAE, written out by hand.
//
// Autograd would record every operation, allocate every intermediate and differentiate the
// closed forms again. Here the gradient of each term is the closed form itself:
//   Bernoulli:  ∂/∂l  Σ BCE(l, x)           = sigmoid(l) − x
//   Gaussian:   ∂/∂o  Σ (x − s)²/(2σ²)       = (s − x)·s(1 − s)/σ²,  s = sigmoid(o)
//               ∂/∂logσ                      = P − Σ (x − s)²/σ²   (per image)
//   KL:         ∂/∂μ KL = μ,  ∂/∂logσ² KL = ½(σ² − 1)
//   z = μ + σ·ε: ∂z/∂μ = 1,   ∂z/∂logσ² = ½ σ ε
// and each Linear/activation pair backpropagates with BLAS calls into buffers kept between
// steps, so a step allocates nothing once a batch that large has been seen (tests/test_vae_step.cpp
// checks every gradient against autograd). Smaller batches (an epoch's last) use the buffers' first
// rows.
#include <torch/torch.h>

#include <atomic>
#include <vector>

#include "latent/evaluation.h"

#include "vae_net.h"

namespace latent {

// Per-image means of the step's terms: loss = recon + β·kl.
struct StepTerms {
  double loss = 0, recon = 0, kl = 0;
};

class VaeStep {
 public:
  // Where run() writes ∂loss/∂θ: into the parameters' own grad(), or into gradient tensors of this
  // object's own (gradients(), in named_trainables() order), for a shard of a batch split across
  // threads whose parts are summed afterwards.
  enum class Gradients { IntoParameters, Own };
  explicit VaeStep(VaeNetImpl& net, Gradients where = Gradients::IntoParameters);
  // storage_ points at this object's own members.
  VaeStep(const VaeStep&) = delete;
  VaeStep& operator=(const VaeStep&) = delete;

  // Forward and backward over the batch `x` [B, P] with noise `eps` [B, D]. Writes ∂loss/∂θ into
  // the gradients (overwritten, not accumulated) and returns the terms. The loss is a mean over
  // `images` (0: B); a shard of a larger batch passes the whole batch's size, so that the shards'
  // terms and gradients add up to the batch's.
  StepTerms run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images = 0);
  // The tensors run() writes the gradients into, in named_trainables() order.
  const std::vector<torch::Tensor>& gradients() const { return gradients_; }

  // The bound over images `x` [N, P] without gradients, in the same kept buffers, `chunk` rows at a
  // time, with ε ~ N(0, I) drawn as evaluate_images() draws it (blocks of kEvalNoiseRows from a
  // generator seeded by `seed`); recon and KL are means over images (KL per dimension too). Returns
  // early, with images < N, when `stop` becomes true. No batch-sized tensor is allocated once a
  // chunk that large has been seen: the trainer's evaluation after every epoch through LibTorch's
  // modules made ~200 MB of temporaries (51k page faults, ~1.4 s of the default model's epoch).
  Evaluation evaluate(const torch::Tensor& x, int64_t chunk, uint64_t seed, const std::atomic<bool>* stop = nullptr);

  // The same in parts, for a test set split across threads: evaluation_noise() draws the ε that
  // evaluate() would for `images` rows (into `out`, kept between calls), each thread's VaeStep sums
  // its rows with sum_rows(), and finish() turns the added-up sums into the means evaluate() returns.
  struct EvaluationSums {
    int64_t images = 0;
    double recon = 0;                // Σ over images of the reconstruction term
    std::vector<double> kl_terms;    // per dimension, Σ over images of μ² + σ² − log σ²
    void add(const EvaluationSums& other);
  };
  static void evaluation_noise(int64_t images, int64_t latent_dim, uint64_t seed, torch::Tensor& out);
  // Rows of `x` with their rows of noise `eps` (on x's device), `chunk` at a time; stops early when
  // `stop` becomes true.
  EvaluationSums sum_rows(const torch::Tensor& x, const torch::Tensor& eps, int64_t chunk,
                          const std::atomic<bool>* stop = nullptr);
  static Evaluation finish(const EvaluationSums& sums);

 private:
  struct Layer {
    torch::nn::LinearImpl* linear;
    torch::Tensor weight_grad, bias_grad;  // where run() writes this layer's gradients
    bool activated;     // followed by the model's activation
    torch::Tensor out;  // [B, out] after the activation (when there is one)
    torch::Tensor grad_in;  // [B, in] ∂loss/∂input, for all but the encoder's first layer
  };

  // Sizes the buffers for `batch` rows: reallocated only when larger than ever (or on another
  // device); otherwise views of their first rows.
  void prepare(int64_t batch, const torch::TensorOptions& options);
  // x → μ, log σ², σ, z = μ + σ·ε → the decoder's output (decoder_.back().out).
  void encode_decode(const torch::Tensor& x, const torch::Tensor& eps);
  void forward(std::vector<Layer>& layers, const torch::Tensor& input);
  // Backpropagates `grad` (∂loss/∂ the last layer's activated output, overwritten) through the
  // layers in reverse, filling their parameters' grad(). Returns ∂loss/∂input, or an undefined
  // tensor when `need_input_grad` is false (the encoder's input is the data).
  torch::Tensor backward(std::vector<Layer>& layers, const torch::Tensor& input, torch::Tensor grad,
                         bool need_input_grad);
  void activation_backward(torch::Tensor& grad, const torch::Tensor& activated_out) const;
  // The summed reconstruction term, and with `gradients` ∂loss/∂(decoder output) into grad_out_
  // (and a learned σ's gradient), for a loss that is a mean over `images`.
  torch::Tensor reconstruction(const torch::Tensor& out, const torch::Tensor& x, int64_t images, bool gradients);
  // The gradient tensor for parameter `p` (a handle sharing its storage): p's grad() or our own.
  torch::Tensor gradient_for(const torch::Tensor& p) const;
  // ½(σ² + μ² − log σ² − 1) per image and dimension, into grad_mu_ (its scratch until the backward).
  void kl_terms();

  VaeNetImpl& net_;
  std::vector<Layer> encoder_, decoder_;  // encoder body; decoder body including its output layer
  torch::nn::LinearImpl* mu_head_;
  torch::nn::LinearImpl* logvar_head_;
  torch::Tensor mu_weight_grad_, mu_bias_grad_, logvar_weight_grad_, logvar_bias_grad_, log_sigma_grad_;
  std::vector<torch::Tensor> trainables_, gradients_;  // parallel, named_trainables() order
  int64_t batch_ = -1, capacity_ = 0;
  torch::Tensor mu_, logvar_, std_, z_;
  torch::Tensor grad_mu_, grad_logvar_, grad_h_;
  torch::Tensor mean_, scratch_, grad_out_;
  // Each buffer above (and each layer's out and grad_in) at full capacity; they are views of these.
  std::vector<std::pair<torch::Tensor*, torch::Tensor>> storage_;
  // evaluate(): ε for a block, and float64 sums of KL per dimension (all chunks, one chunk) and recon.
  torch::Tensor eval_eps_, eval_kl_, eval_kl_chunk_, eval_recon_;
};

}  // namespace latent
