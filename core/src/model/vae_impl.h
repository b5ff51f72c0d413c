#pragma once
// Internal: what a latent::Vae holds, and the conversions between the public plain types and
// tensors that inference, evaluation and the bounds share.
#include "latent/arrays.h"
#include "model/model.h"

namespace latent {

class Vae;
class Dataset;

struct VaeImpl {
  VaeImpl(ModelPtr model, torch::Device device) : config(model->config()), device(device), model_(std::move(model)) {}
  ModelConfig config;
  torch::Device device;

  // Never trained; only run under NoGradGuard. Forward passes are not const in LibTorch's API
  // although they change nothing here.
  Model& model() const { return *model_; }

 private:
  ModelPtr model_;
};

// The inference the explorer repeats every second or so (the test set's encoding for the latent map,
// the manifold grid, the decoded images), kInferenceChunkRows rows at a time through the model's
// encode_into()/decode_into(), into the result's own storage.
// q(z|x)'s μ and log σ² for rows x [n, C·H·W] (and, for a conditional model, their one-hot
// classes y [n, classes]: Model::condition).
Posterior encode_rows(const VaeImpl& vae, const torch::Tensor& x, const torch::Tensor& y = {});
// The decoder's mean, sigmoid(logits), for latents z [n, d] (and y, as above) on the model's device.
ImageBatch decode_rows(const VaeImpl& vae, const torch::Tensor& z, const torch::Tensor& y = {});
// A conditional model's y for `rows` rows from public labels: one per row, or one for all rows;
// undefined for a plain model. Throws latent::Error for missing or out-of-range labels.
torch::Tensor condition_rows(const VaeImpl& vae, const std::vector<int32_t>& labels, int64_t rows);

LatentMatrix to_matrix(const torch::Tensor& t);
// Images as rows [count, C·H·W] on the model's device; throws latent::Error on a size mismatch.
torch::Tensor images_tensor(const ImageBatch& images, const VaeImpl& vae);
// The first `limit` test images (0 = all) as x = byte / 255 on the model's device; throws when they
// do not fit it.
torch::Tensor test_rows(const Vae& vae, const Dataset& data, int64_t limit);
// Their one-hot classes for a conditional model (undefined for a plain one); throws when the data's
// classes do not fit the model.
torch::Tensor test_condition(const Vae& vae, const Dataset& data, int64_t rows);

}  // namespace latent
