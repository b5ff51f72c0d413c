#include "model/mlp.h"

namespace latent {
namespace nn = torch::nn;

EncoderImpl::EncoderImpl(const ModelConfig& config) {
  body = register_module("body", nn::Sequential());
  const int64_t in = append_dense(body, config.pixels() + config.classes, config.hidden, config.activation);
  mu = register_module("mu", nn::Linear(in, config.latent_dim));
  logvar = register_module("logvar", nn::Linear(in, config.latent_dim));
}

DecoderImpl::DecoderImpl(const ModelConfig& config) {
  body = register_module("body", nn::Sequential());
  const int64_t in = append_dense(body, config.latent_dim + config.classes, {config.hidden.rbegin(), config.hidden.rend()}, config.activation);
  body->push_back(nn::Linear(in, config.pixels()));
}

nn::LinearImpl& DecoderImpl::output_layer() { return *body[body->size() - 1]->as<nn::LinearImpl>(); }

MlpModel::MlpModel(ModelConfig config) : Model(std::move(config)) {
  encoder = register_module("encoder", Encoder(config_));
  decoder = register_module("decoder", Decoder(config_));
  register_common();
}

std::pair<torch::Tensor, torch::Tensor> MlpModel::encode(const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor h = encoder->body->forward(with_condition(x, y));
  return {encoder->mu->forward(h), encoder->logvar->forward(h)};
}

torch::Tensor MlpModel::decode(const torch::Tensor& z, const torch::Tensor& y) {
  return decoder->body->forward(with_condition(z, y));
}

std::string MlpModel::script_source() const {
  nn::Sequential encoder_body = encoder->body, decoder_body = decoder->body;
  return "def encode(self, x):\n"
         "    h = x.reshape([x.size(0), " + std::to_string(config_.pixels()) + "])\n" +
         script_layers(encoder_body, "encoder_body", "h") + script_linear("encoder_mu", "h", "mu") +
         script_linear("encoder_logvar", "h", "logvar") +
         "    return mu, logvar\n"
         "def decode_rows(self, z):\n"
         "    h = z\n" +
         script_layers(decoder_body, "decoder_body", "h") +
         "    return h\n";
}

void MlpModel::initialize(torch::Generator& gen) {
  // Hidden layers He-uniform, heads U(±1/√fan_in) (model.h). Measured: test −ELBO after one epoch
  // 112 instead of 135 (20-D) against PyTorch's default everywhere.
  auto init = [&](nn::Sequential& body, bool last_is_output) {
    const size_t n = body->size();
    for (size_t i = 0; i < n; ++i) {
      auto* linear = body[i]->as<nn::LinearImpl>();
      if (!linear) continue;
      const double fan_in = double(linear->options.in_features());
      const double bound = last_is_output && i + 1 == n ? head_bound(fan_in) : he_bound(fan_in);
      fill_uniform(linear->weight, bound, gen);
      fill_uniform(linear->bias, bound, gen);
    }
  };
  init(encoder->body, false);
  for (nn::Linear* head : {&encoder->mu, &encoder->logvar}) {
    const double bound = head_bound(double((*head)->options.in_features()));
    fill_uniform((*head)->weight, bound, gen);
    fill_uniform((*head)->bias, bound, gen);
  }
  init(decoder->body, true);
}

void MlpModel::initialize_output_bias(const torch::Tensor& pixel_mean) {
  torch::NoGradGuard no_grad;
  decoder->output_layer().bias.copy_(mean_image_logits(pixel_mean));
}

namespace {

// The calling thread's kept activations: one [kInferenceChunkRows, width] tensor per hidden layer
// of each chain, made on first use (or when the model's shape or device changes) and then reused.
// Through the modules' forward() every layer's output was a fresh tensor: under the explorer's
// malloc policy (blocks over 256 KiB are mappings of their own) its inference thread took ~10,000
// page faults a second, each munmap also interrupting the threads on the other core.
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
torch::Tensor run_body(nn::Sequential& body, const torch::Tensor& in, std::vector<torch::Tensor>& kept,
                       const torch::Tensor* out = nullptr) {
  torch::Tensor h = in;
  size_t layer = 0;
  for (size_t i = 0; i < body->size(); ++i) {
    if (auto* linear = body[i]->as<nn::LinearImpl>()) {
      if (kept.size() <= layer) kept.resize(layer + 1);
      torch::Tensor next = out && i + 1 == body->size()
                               ? *out
                               : kept_rows(kept[layer], in.size(0), linear->options.out_features(), in.options());
      at::addmm_out(next, linear->bias, h, linear->weight.t());
      h = next;
      ++layer;
    } else if (auto* relu = body[i]->as<nn::ReLUImpl>()) {
      h = relu->forward(h);  // in place: make_activation builds them so
    } else {
      h = body[i]->as<nn::ELUImpl>()->forward(h);
    }
  }
  return h;
}

}  // namespace

void MlpModel::encode_into(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor& mu, torch::Tensor& logvar) {
  torch::NoGradGuard no_grad;
  const torch::Tensor h = run_body(encoder->body, with_condition(x, y), kept_activations().encoder);
  at::addmm_out(mu, encoder->mu->bias, h, encoder->mu->weight.t());
  at::addmm_out(logvar, encoder->logvar->bias, h, encoder->logvar->weight.t());
}

void MlpModel::decode_into(const torch::Tensor& z, const torch::Tensor& y, torch::Tensor& out) {
  torch::NoGradGuard no_grad;
  run_body(decoder->body, with_condition(z, y), kept_activations().decoder, &out);
}

ModelPtr make_mlp(const ModelConfig& config) { return std::make_shared<MlpModel>(config); }

}  // namespace latent
