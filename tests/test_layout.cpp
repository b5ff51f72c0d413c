// The explorer's display-free pieces that issue-level defects came from: the default layout at
// projector and desktop sizes, the marker and tick labels that ran together, the KL scale, and
// exports written in the screen's colours.
#include <gtest/gtest.h>

#include <cmath>

#include "latent/error.h"
#include "ui/export_image.h"
#include "ui/layout.h"
#include "ui/plot_math.h"

namespace latent::ui {
namespace {

// The registry's slots (app/views/registry.cpp), all open but lessons and messages.
std::vector<LayoutEntry> default_views() {
  return {{0, 0.58f, true},  {1, 0.44f, true},  {1, 0.56f, true},  {0, 0.42f, true}, {2, 0.33f, true},
          {2, 0.33f, true},  {2, 0.34f, true},  {2, 0.30f, false}, {0, 0.22f, false}};
}

TEST(Layout, TheViewsFillTheWindowAndNothingIsOffScreen) {
  for (auto [w, h] : std::vector<std::pair<float, float>>{{800, 600}, {1024, 768}, {1280, 720}, {1920, 1080}, {3840, 2160}}) {
    const auto rects = column_layout(w, h, 22, default_views());
    double area = 0;
    for (size_t i = 0; i < rects.size(); ++i) {
      const WindowRect& r = rects[i];
      if (!default_views()[i].open) {
        EXPECT_EQ(r.width, 0);
        continue;
      }
      EXPECT_GE(r.x, 0) << w << "x" << h;
      EXPECT_GE(r.y, 22) << w << "x" << h;
      EXPECT_LE(r.x + r.width, w) << w << "x" << h;
      EXPECT_LE(r.y + r.height, h) << w << "x" << h;
      EXPECT_GT(r.width, 100);
      EXPECT_GT(r.height, 80);
      area += double(r.width) * r.height;
    }
    // No empty part: the open views cover the window below the menu bar (to rounding).
    EXPECT_NEAR(area, double(w) * (h - 22), double(w + h) * 4) << w << "x" << h;
  }
  // The controls keep 300 px where there is room; opening the lessons shares the right column.
  auto views = default_views();
  EXPECT_EQ(column_layout(1024, 768, 22, views)[0].width, 300);
  views[7].open = true;
  const auto rects = column_layout(1920, 1080, 22, views);
  EXPECT_EQ(rects[7].x, rects[4].x);
  EXPECT_LT(rects[6].height, column_layout(1920, 1080, 22, default_views())[6].height);
}

TEST(PlotLabels, MarkerLabelsTakeRowsAndNeverOverlap) {
  // "beta 0.1" and "lr 0.0003" three pixels apart: once drawn over each other.
  const std::vector<float> lefts = {100, 103, 400, 160}, widths = {60, 70, 50, 40};
  const std::vector<int> rows = label_rows(lefts, widths, 5, 3);
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = i + 1; j < rows.size(); ++j)
      if (rows[i] == rows[j] && rows[i] >= 0)
        EXPECT_TRUE(lefts[i] + widths[i] + 5 <= lefts[j] || lefts[j] + widths[j] + 5 <= lefts[i]) << i << " and " << j;
  EXPECT_EQ(rows[0], 0);
  EXPECT_EQ(rows[1], 1);
  EXPECT_EQ(rows[2], 0);
  // With one row, the one that does not fit is left out (-1), not drawn over another.
  EXPECT_EQ(label_rows(lefts, widths, 5, 1)[1], -1);
}

TEST(PlotLabels, TickLabelsThatRunTogetherDoNotFit) {
  // "20183.0", "20183.2", ... 40 px wide, 30 px apart: the case that ran together.
  EXPECT_FALSE(labels_fit({0, 30, 60}, {40, 40, 40}, 6));
  EXPECT_TRUE(labels_fit({0, 60, 120}, {40, 40, 40}, 6));
  EXPECT_TRUE(labels_fit({5}, {400}, 6));
}

TEST(PlotLabels, TheKlScaleReadsWell) {
  EXPECT_DOUBLE_EQ(nice_ceiling(0.5), 0.5);
  EXPECT_DOUBLE_EQ(nice_ceiling(3.2), 5);
  EXPECT_DOUBLE_EQ(nice_ceiling(7), 10);
  EXPECT_DOUBLE_EQ(nice_ceiling(10), 10);
  EXPECT_DOUBLE_EQ(nice_ceiling(12), 20);
  EXPECT_DOUBLE_EQ(nice_ceiling(0.011), 0.02);
  EXPECT_DOUBLE_EQ(nice_ceiling(-1), 1);
}

TEST(Export, ImagesAreWrittenInTheScreensColoursAndScale) {
  Picture image;
  image.width = 2, image.height = 1;
  image.pixels = {0.0f, 1.0f};
  for (Colormap map : {Colormap::Gray, Colormap::Viridis, Colormap::Magma}) {
    const RgbImage out = colorize(image, map, 3);
    ASSERT_EQ(out.width, 6);
    ASSERT_EQ(out.height, 3);
    for (int x = 0; x < 6; ++x) {
      const auto c = colormap(map, x < 3 ? 0.0f : 1.0f);
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(out.rgb[size_t(2 * 6 + x) * 3 + size_t(k)], c[size_t(k)] * 255, 0.6) << colormap_name(map) << " x " << x;
    }
  }
  // Viridis is not gray: its low end is dark purple.
  const RgbImage v = colorize(image, Colormap::Viridis, 1);
  EXPECT_NE(v.rgb[0], v.rgb[2]);
  EXPECT_EQ(colorize(image, Colormap::Gray, 99).width, 16) << "the scale is at most x8";
}

TEST(Export, TheCaptionIsAStripOfTextBelowTheImage) {
  Picture image;
  image.width = 200, image.height = 40;
  image.pixels.assign(size_t(200 * 40), 0.0f);
  const RgbImage plain = colorize(image, Colormap::Gray, 1);
  const RgbImage captioned = with_caption(plain, "step 1200, epoch 2.00, test -ELBO 101.5 nats",
                                          "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
  ASSERT_GT(captioned.height, plain.height);
  EXPECT_EQ(captioned.width, plain.width);
  int lit = 0;
  for (size_t i = size_t(plain.width * plain.height) * 3; i < captioned.rgb.size(); ++i) lit += captioned.rgb[i] > 128;
  EXPECT_GT(lit, 100) << "no text in the caption strip";
  // No font: the image as it was, not an error.
  EXPECT_EQ(with_caption(plain, "x", "/no/such/font.ttf").height, plain.height);
}

TEST(Export, AnUnwritablePathIsAnErrorNamingIt) {
  Picture image;
  image.width = image.height = 1;
  image.pixels = {0.5f};
  try {
    write_rgb_png("/proc/no-such-dir/x.png", colorize(image, Colormap::Gray, 1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/no-such-dir/x.png"), std::string::npos);
  }
}

TEST(Export, TheDefaultFolderIsInThePicturesDirectory) {
  setenv("XDG_PICTURES_DIR", "/tmp/pictures-here", 1);
  EXPECT_EQ(default_export_dir(), "/tmp/pictures-here/latent-explorer");
  unsetenv("XDG_PICTURES_DIR");
  setenv("HOME", "/tmp/some-home", 1);
  setenv("XDG_CONFIG_HOME", "/tmp/no-such-config", 1);
  EXPECT_EQ(default_export_dir(), "/tmp/some-home/Pictures/latent-explorer");
}

}  // namespace
}  // namespace latent::ui
