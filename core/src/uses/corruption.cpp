#include "latent/corruption.h"

#include "latent/error.h"
#include "objective/objective.h"
#include "uses/corruption_math.h"

namespace latent {

torch::Tensor corruption_noise(int64_t rows, int channels, int64_t plane, const Corruption& corruption,
                               torch::Generator& gen) {
  if (corruption.kind == Corruption::Kind::Gaussian)
    return torch::empty({rows, int64_t(channels) * plane}, torch::kFloat32).normal_(0, 1, gen);
  return torch::empty({rows, plane}, torch::kFloat32).uniform_(0, 1, gen);
}

torch::Tensor apply_corruption(const torch::Tensor& x, const torch::Tensor& noise, const Corruption& corruption,
                               int channels) {
  torch::NoGradGuard no_grad;
  const double a = corruption.amount;
  switch (corruption.kind) {
    case Corruption::Kind::None:
      return x;
    case Corruption::Kind::Gaussian:
      return (x + noise.to(x.device()) * a).clamp_(0.0, 1.0);
    case Corruption::Kind::Mask:
    case Corruption::Kind::SaltPepper: {
      // One draw per pixel, shared by its channels.
      const int64_t rows = x.size(0);
      const torch::Tensor u = noise.to(x.device()).unsqueeze(1).expand({rows, channels, noise.size(1)}).reshape({rows, -1});
      if (corruption.kind == Corruption::Kind::Mask) return x.masked_fill(u < a, 0.0);
      return x.masked_fill(u < a / 2, 0.0).masked_fill_((u >= a / 2) & (u < a), 1.0);
    }
  }
  return x;
}

ImageBatch corrupt_images(const ImageBatch& images, const Corruption& corruption, uint64_t seed) {
  if (std::string problem = check_corruption(corruption); !problem.empty()) throw Error(problem);
  if (int64_t(images.pixels.size()) != images.count * images.pixels_per_image())
    throw Error("corrupt_images: the pixels do not match count x C x H x W");
  if (!corruption.active() || images.count == 0) return images;
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(images.pixels.data()), {images.count, images.pixels_per_image()}, torch::kFloat32);
  auto gen = make_generator(seed);
  const torch::Tensor noise =
      corruption_noise(images.count, images.channels, int64_t(images.height) * images.width, corruption, gen);
  const torch::Tensor out = apply_corruption(x, noise, corruption, images.channels).contiguous();
  ImageBatch result = images;
  std::copy(out.data_ptr<float>(), out.data_ptr<float>() + out.numel(), result.pixels.begin());
  return result;
}

}  // namespace latent
