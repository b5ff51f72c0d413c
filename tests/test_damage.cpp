// ui::DamageTracker on real ImGui frames (a context without a backend: draw data only, no GL):
// what changed must be covered, what did not change must not be. The pixels themselves are
// checked under Xvfb by Explorer.DamagedRedrawDrawsTheSamePixelsAsAFullRedraw.
#include <gtest/gtest.h>
#include <imgui.h>

#include <cstdint>
#include <map>
#include <vector>

#include "ui/damage.h"

namespace {

using latent::ui::DamageTracker;
using latent::ui::PixelRect;

class Frames {
 public:
  Frames() {
    context_ = ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(800, 600);
    io.IniFilename = nullptr;
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(intptr_t(1)));
  }
  ~Frames() { ImGui::DestroyContext(context_); }

  // One frame built by `build`, then the tracker's rectangles for it.
  template <class Build>
  std::vector<PixelRect> next(Build&& build) {
    ImGui::GetIO().DeltaTime = 1.0f / 60;
    ImGui::NewFrame();
    build();
    ImGui::Render();
    return tracker.update(*ImGui::GetDrawData(), [&](ImTextureID id) { return versions[id]; });
  }

  DamageTracker tracker;
  std::map<ImTextureID, uint64_t> versions;

 private:
  ImGuiContext* context_;
};

void window(const char* name, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
  ImGui::SetNextWindowSize(size, ImGuiCond_Always);
  ImGui::Begin(name);
}

bool covers(const std::vector<PixelRect>& rects, const PixelRect& area) {
  // Every pixel of `area` lies in some rectangle (checked per pixel: the areas here are small).
  for (int y = area.y0; y < area.y1; ++y)
    for (int x = area.x0; x < area.x1; ++x) {
      bool in = false;
      for (const PixelRect& r : rects) in = in || (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1);
      if (!in) return false;
    }
  return true;
}

int64_t area(const std::vector<PixelRect>& rects) {
  int64_t a = 0;
  for (const PixelRect& r : rects) a += r.area();
  return a;
}

PixelRect item_rect() {  // the last item's rectangle
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {int(a.x), int(a.y), int(b.x), int(b.y)};
}

// Two windows; the first shows a counter, as text and as a swatch whose colour follows it (every
// pixel of the swatch changes with the counter, so all of it must be redrawn).
struct TwoWindows {
  int counter = 0;
  ImVec2 second_pos{420, 40};
  PixelRect swatch, first_rect, second_rect;
  void operator()() {
    window("first", ImVec2(20, 40), ImVec2(360, 300));
    ImGui::Text("a line that never changes");
    ImGui::Text("step %d", counter);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + 40, p.y + 20), IM_COL32(counter % 256, 90, 200, 255));
    swatch = {int(p.x), int(p.y), int(p.x) + 40, int(p.y) + 20};
    ImGui::Dummy(ImVec2(40, 20));
    ImGui::Text("another line that never changes");
    first_rect = window_rect();
    ImGui::End();
    window("second", second_pos, ImVec2(300, 200));
    ImGui::Text("the second window");
    second_rect = window_rect();
    ImGui::End();
  }
  static PixelRect window_rect() {
    const ImVec2 a = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
    return {int(a.x), int(a.y), int(a.x + s.x), int(a.y + s.y)};
  }
};

TEST(Damage, TheFirstFrameIsDrawnWholeAndAnUnchangedOneNotAtAll) {
  Frames frames;
  TwoWindows ui;
  auto first = frames.next(ui);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0], (PixelRect{0, 0, 800, 600}));
  EXPECT_DOUBLE_EQ(frames.tracker.damaged_fraction(), 1.0);
  frames.next(ui);  // ImGui settles its windows over the first frames
  frames.next(ui);
  EXPECT_TRUE(frames.next(ui).empty());
  EXPECT_TRUE(frames.next(ui).empty());
  EXPECT_EQ(frames.tracker.damaged_fraction(), 0.0);
}

TEST(Damage, ChangedContentIsCoveredAndLittleElse) {
  Frames frames;
  TwoWindows ui;
  for (int i = 0; i < 3; ++i) frames.next(ui);
  ui.counter = 123;
  auto rects = frames.next(ui);
  ASSERT_FALSE(rects.empty());
  EXPECT_TRUE(covers(rects, ui.swatch));
  // The counter's line and the swatch: a small part of the first window, nothing of the second.
  EXPECT_LT(area(rects), 360 * 300 / 4);
  // (Rectangles are whole tiles, 32 pixels by default, so they may reach past the window's edge.)
  const PixelRect f = ui.first_rect;
  const PixelRect first_tiles{f.x0 / 32 * 32, f.y0 / 32 * 32, (f.x1 + 31) / 32 * 32, (f.y1 + 31) / 32 * 32};
  for (const PixelRect& r : rects) {
    EXPECT_EQ(latent::ui::intersect(r, first_tiles), r);
    EXPECT_TRUE(latent::ui::intersect(r, ui.second_rect).empty());
  }
  EXPECT_TRUE(frames.next(ui).empty());
}

TEST(Damage, AMovedWindowCoversWhereItWasAndWhereItIs) {
  Frames frames;
  TwoWindows ui;
  for (int i = 0; i < 3; ++i) frames.next(ui);
  const PixelRect old_place = ui.second_rect;
  ui.second_pos = ImVec2(440, 300);
  auto rects = frames.next(ui);
  EXPECT_TRUE(covers(rects, old_place));
  EXPECT_TRUE(covers(rects, ui.second_rect));
}

TEST(Damage, AClosedWindowLeavesItsAreaToRedraw) {
  Frames frames;
  TwoWindows ui;
  bool popup = true;
  auto build = [&] {
    ui();
    if (popup) {
      window("popup", ImVec2(100, 100), ImVec2(200, 120));
      ImGui::Text("over the first window");
      ImGui::End();
    }
  };
  for (int i = 0; i < 3; ++i) frames.next(build);
  popup = false;
  auto rects = frames.next(build);
  EXPECT_TRUE(covers(rects, PixelRect{100, 100, 300, 220}));
}

TEST(Damage, ANewTextureVersionRedrawsTheImageOnly) {
  Frames frames;
  const auto texture = reinterpret_cast<ImTextureID>(intptr_t(7));
  PixelRect image;
  auto build = [&] {
    window("images", ImVec2(20, 20), ImVec2(400, 400));
    ImGui::Text("a caption");
    ImGui::Image(texture, ImVec2(128, 128));
    image = item_rect();
    ImGui::End();
  };
  for (int i = 0; i < 3; ++i) frames.next(build);
  ASSERT_TRUE(frames.next(build).empty());
  frames.versions[texture] = 2;  // new pixels uploaded, same vertices
  auto rects = frames.next(build);
  EXPECT_TRUE(covers(rects, image));
  EXPECT_LT(area(rects), 2 * (128 + 64) * (128 + 64));
}

TEST(Damage, ACallbackThatChangesRenderStateCountsAsAChange) {
  Frames frames;
  const auto texture = reinterpret_cast<ImTextureID>(intptr_t(7));
  intptr_t colormap = 0;
  PixelRect image;
  auto build = [&] {
    window("images", ImVec2(20, 20), ImVec2(400, 400));
    ImDrawList* list = ImGui::GetWindowDrawList();
    list->AddCallback([](const ImDrawList*, const ImDrawCmd*) {}, reinterpret_cast<void*>(colormap));
    ImGui::Image(texture, ImVec2(100, 100));
    image = item_rect();
    list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
    ImGui::End();
  };
  for (int i = 0; i < 3; ++i) frames.next(build);
  ASSERT_TRUE(frames.next(build).empty());
  colormap = 2;
  EXPECT_TRUE(covers(frames.next(build), image));
}

TEST(Damage, AResizedDisplayIsDrawnWhole) {
  Frames frames;
  TwoWindows ui;
  for (int i = 0; i < 3; ++i) frames.next(ui);
  ImGui::GetIO().DisplaySize = ImVec2(640, 480);
  auto rects = frames.next(ui);
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0], (PixelRect{0, 0, 640, 480}));
}

TEST(Damage, InvalidateDrawsTheNextFrameWhole) {
  Frames frames;
  TwoWindows ui;
  for (int i = 0; i < 3; ++i) frames.next(ui);
  frames.tracker.invalidate();
  auto rects = frames.next(ui);
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0], (PixelRect{0, 0, 800, 600}));
}

TEST(Damage, TriangleBoundsFollowTheDrawOrderWithinTheirClip) {
  Frames frames;
  TwoWindows ui;
  frames.next(ui);
  const ImDrawData& data = *ImGui::GetDrawData();
  size_t triangles = 0;
  for (int n = 0; n < data.CmdListsCount; ++n)
    for (const ImDrawCmd& cmd : data.CmdLists[n]->CmdBuffer)
      if (!cmd.UserCallback && !latent::ui::clip_to_pixels(cmd.ClipRect, data, 800, 600).empty()) triangles += cmd.ElemCount / 3;
  const auto& bounds = frames.tracker.triangle_bounds();
  ASSERT_EQ(bounds.size(), triangles);
  for (const PixelRect& b : bounds)
    if (!b.empty()) EXPECT_TRUE(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= 800 && b.y1 <= 600);
}

TEST(Damage, ClipRectanglesBecomeTheBackendsScissor) {
  ImDrawData data;
  data.DisplayPos = ImVec2(0, 0);
  data.DisplaySize = ImVec2(800, 600);
  data.FramebufferScale = ImVec2(2, 2);
  // glScissor(int(20), int(1200 - 90), int(180 - 20), int(90 - 30)) in the backend.
  EXPECT_EQ(latent::ui::clip_to_pixels(ImVec4(10, 15, 90, 45), data, 1600, 1200), (PixelRect{20, 30, 180, 90}));
  EXPECT_TRUE(latent::ui::clip_to_pixels(ImVec4(10, 15, 10, 45), data, 1600, 1200).empty());
  // Clamped to the framebuffer.
  EXPECT_EQ(latent::ui::clip_to_pixels(ImVec4(-10, -10, 900, 700), data, 1600, 1200), (PixelRect{0, 0, 1600, 1200}));
}

TEST(MergeRects, CoversEveryInputWithAtMostTheLimit) {
  std::vector<PixelRect> in;
  for (int i = 0; i < 40; ++i) in.push_back({i * 37 % 700, i * 53 % 500, i * 37 % 700 + 32, i * 53 % 500 + 32});
  auto out = latent::ui::merge_rects(in, 6, 0);
  EXPECT_LE(out.size(), 6u);
  for (const PixelRect& r : in) EXPECT_TRUE(covers(out, r));
}

TEST(MergeRects, OverlappingAndNearbyRectanglesMergeFarOnesStayApart) {
  // Two overlapping squares become one; one far away stays separate.
  auto out = latent::ui::merge_rects({{0, 0, 64, 64}, {32, 0, 96, 64}, {600, 400, 632, 432}}, 12, 64 * 64);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(covers(out, {0, 0, 96, 64}));
  EXPECT_TRUE(covers(out, {600, 400, 632, 432}));
  EXPECT_LE(area(out), 96 * 64 + 32 * 32);
}

}  // namespace
