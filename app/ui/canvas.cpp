#include "ui/canvas.h"

#include <algorithm>
#include <cmath>

#include "latent/bounds.h"
#include "latent/error.h"
#include "latent/inference.h"

namespace latent::ui {

void Canvas::resize(int channels, int height, int width) {
  if (channels == channels_ && height == height_ && width == width_ && !pixels_.empty()) return;
  channels_ = channels, height_ = height, width_ = width;
  pixels_.assign(size_t(channels) * size_t(height) * size_t(width), 0.0f);
  ++version_;
}

void Canvas::clear() {
  std::fill(pixels_.begin(), pixels_.end(), 0.0f);
  ++version_;
}

void Canvas::stroke(float x0, float y0, float x1, float y1, float radius, const std::vector<float>& colour) {
  if (pixels_.empty() || !(radius > 0) || !std::isfinite(x0 + y0 + x1 + y1 + radius)) return;
  const float reach = radius + 1.0f;
  const int c0 = std::max(0, int(std::floor(std::min(x0, x1) - reach))), c1 = std::min(width_ - 1, int(std::ceil(std::max(x0, x1) + reach)));
  const int r0 = std::max(0, int(std::floor(std::min(y0, y1) - reach))), r1 = std::min(height_ - 1, int(std::ceil(std::max(y0, y1) + reach)));
  const float dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  const size_t plane = size_t(height_) * size_t(width_);
  for (int r = r0; r <= r1; ++r)
    for (int c = c0; c <= c1; ++c) {
      const float px = float(c) + 0.5f, py = float(r) + 0.5f;
      // Distance from the pixel centre to the segment.
      const float t = len2 > 0 ? std::clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0.0f, 1.0f) : 0.0f;
      const float ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
      const float cover = std::clamp(radius + 0.5f - std::sqrt(ex * ex + ey * ey), 0.0f, 1.0f);
      if (cover <= 0) continue;
      for (int ch = 0; ch < channels_; ++ch) {
        float& v = pixels_[size_t(ch) * plane + size_t(r) * size_t(width_) + size_t(c)];
        const float target = colour.empty() ? 1.0f : colour[std::min(size_t(ch), colour.size() - 1)];
        v = std::clamp(v * (1 - cover) + target * cover, 0.0f, 1.0f);
      }
    }
  ++version_;
}

void Canvas::set(const ImageBatch& image) {
  if (image.count < 1 || image.channels != channels_ || image.height != height_ || image.width != width_) return;
  pixels_.assign(image.pixels.begin(), image.pixels.begin() + image.pixels_per_image());
  ++version_;
}

ImageBatch Canvas::image() const {
  ImageBatch b;
  b.count = 1;
  b.channels = channels_;
  b.height = height_;
  b.width = width_;
  b.pixels = pixels_;
  return b;
}

bool Canvas::blank() const {
  return std::all_of(pixels_.begin(), pixels_.end(), [](float v) { return v == 0.0f; });
}

DrawingScore score_drawing(const Vae& vae, const ImageBatch& image, int iw_samples, int draws) {
  if (image.count != 1) throw Error("score_drawing: one image");
  DrawingScore s;
  const Posterior q = vae.encode(image);
  s.mu = q.mu.row(0);
  for (float lv : q.logvar.row(0)) s.sigma.push_back(std::exp(0.5f * lv));
  s.reconstruction = vae.reconstruct(image);
  // The image `draws` times: the ELBO's expectation and the IW estimate averaged over many draws of q.
  ImageBatch copies = image;
  copies.count = draws;
  copies.pixels.clear();
  for (int i = 0; i < draws; ++i) copies.pixels.insert(copies.pixels.end(), image.pixels.begin(), image.pixels.end());
  copies.labels.assign(image.labels.empty() ? 0 : size_t(draws), image.labels.empty() ? 0 : image.labels[0]);
  const BoundEvaluation b = evaluate_bounds(vae, copies, iw_samples, false);
  s.recon = b.elbo.recon;
  s.kl = b.elbo.kl;
  s.neg_elbo = b.elbo.loss;
  s.neg_iw = b.iw_loss;
  s.iw_samples = b.iw_samples;
  return s;
}

}  // namespace latent::ui
