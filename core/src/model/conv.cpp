// The convolutional VAE. q(z|x): stride-2 3×3 convolutions (padding 1, so each halves the image,
// rounding up: 28 → 14 → 7), then the `dense` fully connected layers on the flattened features, then
// linear heads for μ and log σ². p(x|z): the dense layers mirrored and a linear layer back to those
// features, then transposed convolutions that double them, each with the output padding that lands
// exactly on the encoder's size at that depth (14 → 28, 4 → 7), so any H×W comes back as H×W, odd
// sizes included. The last transposed convolution has no bias; the decoder adds a bias per output
// value instead, which starts at logit(mean image) as the MLP's output bias does. A conditional
// model's one-hot class joins the flattened features (encoder) and z (decoder).
#include <vector>

#include "model/model.h"

namespace latent {
namespace nn = torch::nn;
namespace {

class ConvModel : public Model {
 public:
  explicit ConvModel(ModelConfig config);

  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& y = {}) override;
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& y = {}) override;
  void initialize(torch::Generator& gen) override;
  void initialize_output_bias(const torch::Tensor& pixel_mean) override;
  std::string script_source() const override;

  torch::nn::Sequential encoder_body{nullptr};   // convolutions
  torch::nn::Sequential encoder_dense{nullptr};  // fully connected layers on the flattened features
  torch::nn::Linear mu{nullptr}, logvar{nullptr};
  torch::nn::Sequential decoder_dense{nullptr};  // the dense layers mirrored, from z
  torch::nn::Linear decoder_linear{nullptr};     // to the last convolution's features
  torch::nn::Sequential decoder_body{nullptr};   // transposed convolutions
  torch::Tensor pixel_bias;  // [C·H·W], added to the last transposed convolution's output

 private:
  std::vector<int> heights_, widths_;  // the feature maps' sizes, input first (conv_sizes)
  int64_t features_ = 0;               // values after the last convolution
};

ConvModel::ConvModel(ModelConfig config) : Model(std::move(config)) {
  const ModelConfig& c = config_;
  const size_t layers = c.channels.size();
  heights_ = conv_sizes(c.image_height, layers);
  widths_ = conv_sizes(c.image_width, layers);
  features_ = int64_t(c.channels.back()) * heights_.back() * widths_.back();

  encoder_body = register_module("encoder", nn::Sequential());
  int64_t in = c.image_channels;
  for (int out : c.channels) {
    encoder_body->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1)));
    encoder_body->push_back(make_activation(c.activation));
    in = out;
  }
  encoder_dense = register_module("encoder_dense", nn::Sequential());
  // Without dense layers the class goes straight into the heads (append_dense returns its input).
  int64_t width = append_dense(encoder_dense, features_ + c.classes, c.dense, c.activation);
  mu = register_module("mu", nn::Linear(width, c.latent_dim));
  logvar = register_module("logvar", nn::Linear(width, c.latent_dim));

  decoder_dense = register_module("decoder_dense", nn::Sequential());
  width = append_dense(decoder_dense, c.latent_dim + c.classes, {c.dense.rbegin(), c.dense.rend()}, c.activation);
  // Without dense layers the names are decoder_linear.*, decoder.1.*, ..., as format-2 conv files
  // that lack the "dense" key hold them, so those load.
  decoder_linear = register_module("decoder_linear", nn::Linear(width, features_));
  decoder_body = register_module("decoder", nn::Sequential());
  decoder_body->push_back(make_activation(c.activation));
  for (size_t i = layers; i-- > 0;) {
    const int64_t out = i == 0 ? c.image_channels : c.channels[i - 1];
    // (n − 1)·2 − 2 + 3 + p = 2n − 1 + p, so p = target − 2n + 1, which is 0 or 1.
    const int64_t pad_h = heights_[i] - 2 * heights_[i + 1] + 1, pad_w = widths_[i] - 2 * widths_[i + 1] + 1;
    decoder_body->push_back(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c.channels[i], out, 3)
                                                    .stride(2)
                                                    .padding(1)
                                                    .output_padding({pad_h, pad_w})
                                                    .bias(i != 0)));
    if (i != 0) decoder_body->push_back(make_activation(c.activation));
  }
  pixel_bias = register_parameter("pixel_bias", torch::zeros({c.pixels()}));
  register_common();
}

std::pair<torch::Tensor, torch::Tensor> ConvModel::encode(const torch::Tensor& x, const torch::Tensor& y) {
  const ModelConfig& c = config_;
  torch::Tensor h = encoder_body->forward(x.reshape({x.size(0), c.image_channels, c.image_height, c.image_width}));
  h = with_condition(h.flatten(1), y);
  if (!encoder_dense->is_empty()) h = encoder_dense->forward(h);
  return {mu->forward(h), logvar->forward(h)};
}

torch::Tensor ConvModel::decode(const torch::Tensor& z, const torch::Tensor& y) {
  const torch::Tensor zy = with_condition(z, y);
  const torch::Tensor d = decoder_dense->is_empty() ? zy : decoder_dense->forward(zy);
  torch::Tensor h = decoder_linear->forward(d).view({z.size(0), config_.channels.back(), heights_.back(), widths_.back()});
  return decoder_body->forward(h).flatten(1) + pixel_bias;
}

std::string ConvModel::script_source() const {
  nn::Sequential body = encoder_body, dense = encoder_dense, up_dense = decoder_dense, up = decoder_body;
  const std::string features = std::to_string(config_.channels.back()) + ", " + std::to_string(heights_.back()) + ", " +
                               std::to_string(widths_.back());
  return "def encode(self, x):\n"
         "    h = x\n" +
         script_layers(body, "encoder", "h") + "    h = h.flatten(1)\n" + script_layers(dense, "encoder_dense", "h") +
         script_linear("mu", "h", "mu") + script_linear("logvar", "h", "logvar") +
         "    return mu, logvar\n"
         "def decode_rows(self, z):\n"
         "    h = z\n" +
         script_layers(up_dense, "decoder_dense", "h") + script_linear("decoder_linear", "h", "h") +
         "    h = h.reshape([z.size(0), " + features + "])\n" + script_layers(up, "decoder", "h") +
         "    return h.flatten(1) + self.pixel_bias\n";
}

void ConvModel::initialize(torch::Generator& gen) {
  // He-uniform before an activation, U(±1/√fan_in) for the heads and the output (model.h). A
  // transposed convolution with stride 2 sums about a quarter of its 3×3 taps into each output.
  for (size_t i = 0; i < encoder_body->size(); ++i)
    if (auto* conv = encoder_body[i]->as<nn::Conv2dImpl>()) {
      const double bound = he_bound(double(conv->options.in_channels()) * 9);
      fill_uniform(conv->weight, bound, gen);
      fill_uniform(conv->bias, bound, gen);
    }
  auto fill_linear = [&](nn::LinearImpl& linear, double bound) {
    fill_uniform(linear.weight, bound, gen);
    fill_uniform(linear.bias, bound, gen);
  };
  auto fill_dense = [&](nn::Sequential& dense) {
    for (size_t i = 0; i < dense->size(); ++i)
      if (auto* linear = dense[i]->as<nn::LinearImpl>()) fill_linear(*linear, he_bound(double(linear->options.in_features())));
  };
  fill_dense(encoder_dense);
  for (nn::Linear* head : {&mu, &logvar}) fill_linear(**head, head_bound(double((*head)->options.in_features())));
  fill_dense(decoder_dense);
  fill_linear(*decoder_linear, he_bound(double(decoder_linear->options.in_features())));
  for (size_t i = 0; i < decoder_body->size(); ++i)
    if (auto* conv = decoder_body[i]->as<nn::ConvTranspose2dImpl>()) {
      const double fan_in = double(conv->options.in_channels()) * 9 / 4;
      const bool output = !conv->options.bias();
      const double bound = output ? head_bound(fan_in) : he_bound(fan_in);
      fill_uniform(conv->weight, bound, gen);
      if (!output) fill_uniform(conv->bias, bound, gen);
    }
  torch::NoGradGuard no_grad;
  pixel_bias.zero_();
}

void ConvModel::initialize_output_bias(const torch::Tensor& pixel_mean) {
  torch::NoGradGuard no_grad;
  pixel_bias.copy_(mean_image_logits(pixel_mean));
}

}  // namespace

ModelPtr make_conv(const ModelConfig& config) { return std::make_shared<ConvModel>(config); }

}  // namespace latent
