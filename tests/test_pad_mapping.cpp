// The latent pad's screen <-> z mapping.
#include <gtest/gtest.h>

#include "ui/pad_mapping.h"

namespace latent::ui {
namespace {

TEST(PadMapping, CentreIsTheOriginAndYPointsUp) {
  PadMapping m{100, 50, 600, 3};
  auto [cx, cy] = m.to_screen(0, 0);
  EXPECT_FLOAT_EQ(cx, 400);
  EXPECT_FLOAT_EQ(cy, 350);
  auto [tx, ty] = m.to_screen(3, 3);  // top right
  EXPECT_FLOAT_EQ(tx, 700);
  EXPECT_FLOAT_EQ(ty, 50);
  auto [zx, zy] = m.to_latent(100, 650);  // bottom left
  EXPECT_FLOAT_EQ(zx, -3);
  EXPECT_FLOAT_EQ(zy, -3);
}

TEST(PadMapping, RoundTripsAndClamps) {
  PadMapping m{10, 20, 300, 2.5f};
  for (float zx : {-2.5f, -1.0f, 0.3f, 2.4f})
    for (float zy : {-2.0f, 0.0f, 1.7f}) {
      auto [sx, sy] = m.to_screen(zx, zy);
      auto [bx, by] = m.to_latent(sx, sy);
      EXPECT_NEAR(bx, zx, 1e-5);
      EXPECT_NEAR(by, zy, 1e-5);
    }
  auto [cx, cy] = m.to_latent_clamped(-1000, 5000);
  EXPECT_FLOAT_EQ(cx, -2.5f);
  EXPECT_FLOAT_EQ(cy, -2.5f);
  EXPECT_TRUE(m.contains(160, 170));
  EXPECT_FALSE(m.contains(9, 170));
}

}  // namespace
}  // namespace latent::ui
