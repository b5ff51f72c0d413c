#pragma once
// The Draw view's canvas: an image at the data's size painted with a round brush, and what the
// model makes of it. No GL or ImGui here: the view feeds it mouse positions in image pixels.
#include <cstdint>
#include <vector>

#include "latent/arrays.h"

namespace latent {
class Vae;
}

namespace latent::ui {

class Canvas {
 public:
  // A black canvas of `channels` planes of height × width (its size changes with the data's).
  void resize(int channels, int height, int width);
  void clear();
  // Paints the segment from (x0, y0) to (x1, y1), in pixels (x right, y down, pixel centres at
  // i + 0.5), with a round brush of `radius` pixels whose edge is anti-aliased over one pixel:
  // value = old·(1 − cover) + colour·cover. `colour` has one value per channel, in [0, 1]; black
  // erases.
  void stroke(float x0, float y0, float x1, float y1, float radius, const std::vector<float>& colour);
  // Copies an image of the canvas's size (e.g. a test image to start from).
  void set(const ImageBatch& image);
  ImageBatch image() const;  // count 1, the canvas's pixels
  int channels() const { return channels_; }
  int height() const { return height_; }
  int width() const { return width_; }
  bool blank() const;
  int64_t version() const { return version_; }  // bumped by every change

 private:
  int channels_ = 1, height_ = 0, width_ = 0;
  std::vector<float> pixels_;
  int64_t version_ = 0;
};

// What the model makes of one drawn image: q(z|x), the reconstruction decode(μ), the ELBO's terms
// (averaged over `draws` samples of z) and the importance-weighted bound with `iw_samples` draws.
struct DrawingScore {
  std::vector<float> mu, sigma;
  ImageBatch reconstruction;
  double recon = 0, kl = 0, neg_elbo = 0, neg_iw = 0;
  int iw_samples = 0;
};
// `image.labels`: a conditional model's class for it. Throws latent::Error when the image does not
// fit the model.
DrawingScore score_drawing(const Vae& vae, const ImageBatch& image, int iw_samples = 100, int draws = 64);

}  // namespace latent::ui
