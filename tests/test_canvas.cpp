// The Draw view's path without a display: mouse strokes painted into a canvas at the data's size,
// and the canvas encoded and scored by a model (q(z|x), reconstruction, the ELBO's terms, IW).
#include <gtest/gtest.h>

#include <cmath>

#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "test_support.h"
#include "ui/canvas.h"

namespace latent::ui {
namespace {

float at(const ImageBatch& b, int c, int y, int x) { return b.pixels[size_t((c * b.height + y) * b.width + x)]; }

TEST(Canvas, StrokesPaintWithinTheBrushAndEraseWithBlack) {
  Canvas canvas;
  canvas.resize(1, 12, 10);
  EXPECT_TRUE(canvas.blank());
  const int64_t v0 = canvas.version();
  // A vertical line through pixel column 5 (centres at x = 5.5), rows 2..9, radius 1.
  canvas.stroke(5.5f, 2.5f, 5.5f, 9.5f, 1.0f, {1.0f});
  EXPECT_GT(canvas.version(), v0);
  ImageBatch img = canvas.image();
  ASSERT_EQ(img.count, 1);
  EXPECT_EQ(img.height, 12);
  EXPECT_EQ(img.width, 10);
  for (int y = 2; y <= 9; ++y) {
    // Cover = radius + ½ − distance, within [0, 1]: the one-pixel anti-aliased edge.
    EXPECT_EQ(at(img, 0, y, 5), 1.0f) << y;           // on the line
    EXPECT_NEAR(at(img, 0, y, 4), 0.5f, 1e-6) << y;   // 1 pixel away, on the edge
    EXPECT_NEAR(at(img, 0, y, 6), 0.5f, 1e-6) << y;
    EXPECT_EQ(at(img, 0, y, 3), 0.0f) << y;           // beyond it
  }
  EXPECT_EQ(at(img, 0, 0, 5), 0.0f);
  EXPECT_NEAR(at(img, 0, 1, 5), 0.5f, 1e-6);  // the round end, one pixel past it
  // Black erases; off-canvas and non-finite strokes change nothing and do not crash.
  canvas.stroke(5.5f, 5.5f, 5.5f, 5.5f, 0.6f, {0.0f});
  EXPECT_EQ(at(canvas.image(), 0, 5, 5), 0.0f);
  const ImageBatch before = canvas.image();
  canvas.stroke(-50, -50, -40, -45, 2, {1.0f});
  canvas.stroke(NAN, 1, 2, 3, 1, {1.0f});
  EXPECT_EQ(canvas.image().pixels, before.pixels);
  canvas.stroke(9.9f, 11.9f, 30, 30, 3, {1.0f});  // runs off the corner: clipped
  EXPECT_GT(at(canvas.image(), 0, 11, 9), 0.0f);
  canvas.clear();
  EXPECT_TRUE(canvas.blank());
}

TEST(Canvas, ColourGoesIntoEachChannelAndTheSizeFollowsTheData) {
  Canvas canvas;
  canvas.resize(3, 6, 6);
  canvas.stroke(2.5f, 2.5f, 2.5f, 2.5f, 1.0f, {1.0f, 0.5f, 0.0f});  // a dot on pixel (2, 2)
  const ImageBatch img = canvas.image();
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(at(img, 0, 2, 2), 1.0f);
  EXPECT_EQ(at(img, 1, 2, 2), 0.5f);
  EXPECT_EQ(at(img, 2, 2, 2), 0.0f);
  canvas.resize(3, 6, 6);  // the same size keeps the drawing
  EXPECT_FALSE(canvas.blank());
  canvas.resize(1, 8, 8);  // another size starts blank
  EXPECT_TRUE(canvas.blank());
  EXPECT_EQ(canvas.image().pixels.size(), 64u);
}

// The canvas's pixels go to the model as any image does: its q(z|x) is the encoder's, its
// reconstruction decode(μ), and the terms add up, with −IW_K no looser than −ELBO.
TEST(Canvas, ADrawingIsEncodedAndScoredByTheModel) {
  const std::string dir = test::temp_dir();
  test::write_dataset(dir, 64, 16, 6, 6);
  const Dataset data = Dataset::load(dir);
  ModelConfig m;
  m.image_height = m.image_width = 6;
  m.latent_dim = 2;
  m.hidden = {16};
  TrainConfig t;
  t.epochs = 3;
  t.batch_size = 16;
  Trainer trainer(data, m, t);
  trainer.start();
  ASSERT_TRUE(trainer.wait_until_settled(60));
  const auto vae = trainer.snapshot()->weights;

  Canvas canvas;
  canvas.resize(1, 6, 6);
  canvas.stroke(1, 1, 5, 5, 0.8f, {1.0f});
  const ImageBatch drawing = canvas.image();
  const DrawingScore s = score_drawing(*vae, drawing, 200, 64);
  const Posterior q = vae->encode(drawing);
  ASSERT_EQ(s.mu.size(), 2u);
  for (int d = 0; d < 2; ++d) {
    EXPECT_FLOAT_EQ(s.mu[size_t(d)], q.mu.at(0, d));
    EXPECT_NEAR(s.sigma[size_t(d)], std::exp(0.5f * q.logvar.at(0, d)), 1e-6);
  }
  EXPECT_EQ(s.reconstruction.pixels, vae->reconstruct(drawing).pixels);
  EXPECT_NEAR(s.neg_elbo, s.recon + s.kl, 1e-6);
  EXPECT_GT(s.kl, 0.0);
  EXPECT_EQ(s.iw_samples, 200);
  EXPECT_LE(s.neg_iw, s.neg_elbo + 0.05);
  EXPECT_THROW(score_drawing(*vae, data.test_images({0, 1})), Error);  // one image at a time
  Canvas wrong;
  wrong.resize(1, 5, 5);
  EXPECT_THROW(score_drawing(*vae, wrong.image()), Error);  // not the model's size
}

}  // namespace
}  // namespace latent::ui
