#pragma once
// Which parts of the window changed since the last frame, worked out from ImGui's draw data alone,
// so that only those parts are drawn again. On a software rasteriser (Mesa llvmpipe under Xvfb) the
// pixels are most of a frame's cost, and while a model trains most of the window does not change
// from one frame to the next.
//
// The framebuffer is cut into square tiles. Each tile keeps a hash of every triangle that touches
// it, in draw order, together with what decides the triangle's pixels: its vertices, its clip
// rectangle, its texture and that texture's content version, and the render state set by draw
// callbacks. A tile whose hash did not change shows the same pixels as last frame. (rxi's "cached
// software rendering" hashes draw commands into a cell grid in the same way.)
#include <imgui.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace latent::ui {

// [x0, x1) × [y0, y1) in framebuffer pixels, origin at the top left.
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  int64_t area() const { return int64_t(width()) * height(); }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  bool operator==(const PixelRect& o) const { return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1; }
};

PixelRect intersect(const PixelRect& a, const PixelRect& b);

// Whether GL_RENDERER names a rasteriser that runs on the CPU (Mesa's llvmpipe, softpipe, swrast,
// SWR, Microsoft's GDI renderer). Only there does drawing just the damaged tiles pay: on a GPU a
// whole frame costs about nothing, and a plain swap is what every driver does best.
bool is_software_rasterizer(const char* gl_renderer);

// The scissor rectangle a draw command's ClipRect gives, in framebuffer pixels, as ImGui's OpenGL3
// backend computes it (truncated toward zero), clamped to the framebuffer.
PixelRect clip_to_pixels(const ImVec4& clip, const ImDrawData& frame, int fb_width, int fb_height);

// The pixels a triangle can reach (those whose centres it may cover, with one to spare), not yet
// clipped to anything.
PixelRect triangle_pixels(const ImDrawVert& a, const ImDrawVert& b, const ImDrawVert& c, const ImDrawData& frame);

class DamageTracker {
 public:
  // The content version of a texture: whatever changes when its pixels or sampling change.
  using TextureVersion = std::function<uint64_t(ImTextureID)>;

  explicit DamageTracker(int tile_size = 32, int max_rects = 12);

  // The rectangles to draw again for `frame` (empty: nothing changed): at most `max_rects`, covering
  // every changed tile; the whole framebuffer after invalidate() or a resize. They may overlap, which
  // costs pixels but not correctness: each is cleared before it is drawn.
  std::vector<PixelRect> update(const ImDrawData& frame, const TextureVersion& texture_version);
  // The next update() reports the whole framebuffer (e.g. the window was exposed).
  void invalidate() { valid_ = false; }
  // For the last update()'s frame, the pixels each triangle can reach within its command's clip
  // rectangle (empty if none), in draw order: lists, their commands whose clip rectangle is not
  // empty (callbacks have no triangles), then triangles. The renderer uses them to pick the
  // triangles that reach a rectangle it redraws.
  const std::vector<PixelRect>& triangle_bounds() const { return bounds_; }
  // Share of the framebuffer's pixels in the last update()'s rectangles, in [0, 1].
  double damaged_fraction() const { return damaged_fraction_; }

 private:
  std::vector<PixelRect> merge_tiles(const std::vector<uint8_t>& dirty) const;
  int tile_, max_rects_;
  int fb_width_ = 0, fb_height_ = 0, cols_ = 0, rows_ = 0;
  bool valid_ = false;
  std::vector<uint64_t> hashes_, previous_;
  std::vector<PixelRect> bounds_;
  double damaged_fraction_ = 1;
};

// Merges rectangles, each time the pair whose union adds the fewest pixels, while more than
// `max_rects` remain or a merge adds fewer than `pass_cost` pixels (a pass over the draw commands
// costs about as much as shading that many). The result covers every input rectangle.
std::vector<PixelRect> merge_rects(std::vector<PixelRect> rects, int max_rects, int64_t pass_cost);

}  // namespace latent::ui
