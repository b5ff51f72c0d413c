// Colormaps against matplotlib's published endpoint colours, and the label palette.
#include <gtest/gtest.h>

#include <set>

#include "ui/colormap.h"

namespace latent::ui {
namespace {

void expect_rgb(std::array<float, 3> got, std::array<float, 3> want, float tolerance) {
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[size_t(i)], want[size_t(i)], tolerance) << "channel " << i;
}

TEST(Colormap, EndpointsMatchMatplotlib) {
  // matplotlib: viridis(0) = #440154, viridis(1) = #fde725, viridis(0.5) = #21918c;
  // magma(0) = #000004, magma(1) = #fcfdbf. The polynomial fits agree within ~2 %.
  expect_rgb(colormap(Colormap::Viridis, 0), {0x44 / 255.f, 0x01 / 255.f, 0x54 / 255.f}, 0.03f);
  expect_rgb(colormap(Colormap::Viridis, 1), {0xfd / 255.f, 0xe7 / 255.f, 0x25 / 255.f}, 0.03f);
  expect_rgb(colormap(Colormap::Viridis, 0.5f), {0x21 / 255.f, 0x91 / 255.f, 0x8c / 255.f}, 0.03f);
  expect_rgb(colormap(Colormap::Magma, 0), {0, 0, 0x04 / 255.f}, 0.03f);
  expect_rgb(colormap(Colormap::Magma, 1), {0xfc / 255.f, 0xfd / 255.f, 0xbf / 255.f}, 0.03f);
  expect_rgb(colormap(Colormap::Gray, 0.25f), {0.25f, 0.25f, 0.25f}, 0);
  expect_rgb(colormap(Colormap::Gray, 7), {1, 1, 1}, 0);  // clamped
}

TEST(Colormap, ViridisBrightensMonotonically) {
  float last = -1;
  for (int i = 0; i <= 20; ++i) {
    auto c = colormap(Colormap::Viridis, float(i) / 20);
    float luma = 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
    EXPECT_GT(luma, last - 1e-3f) << i;
    last = luma;
  }
}

TEST(Colormap, LabelsGetTwentyDistinctOpaqueColoursThenStableHashedOnes) {
  std::set<uint32_t> colours;
  for (int label = 0; label < 20; ++label) {
    uint32_t c = label_color(label);
    EXPECT_EQ(c >> 24, 255u);
    colours.insert(c);
  }
  EXPECT_EQ(colours.size(), 20u);
  EXPECT_NE(label_color(13), label_color(3)) << "labels above 9 are not taken modulo 10";
  // Beyond 20: the same label gets the same colour every time, and 1000 labels get many colours.
  EXPECT_EQ(label_color(517), label_color(517));
  std::set<uint32_t> many;
  for (int label = 20; label < 1000; ++label) many.insert(label_color(label));
  EXPECT_GT(many.size(), 900u);
  EXPECT_NE(label_color(-1), label_color(7)) << "unlabeled has its own gray";
  EXPECT_EQ(label_color(-1), label_color(-5));
  EXPECT_EQ(label_color(0, 100) >> 24, 100u);
  EXPECT_EQ(label_color(0) & 0xFF, 0x1fu);  // ImGui packs red in the low byte: #1f77b4
}

}  // namespace
}  // namespace latent::ui
