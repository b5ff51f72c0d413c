#pragma once
// Draws ImGui's frames with our own program (shaders/ui.*), in place of ImGui's OpenGL3 backend,
// into a framebuffer kept from frame to frame: only the rectangles where the draw data changed
// (ui::DamageTracker) are cleared and drawn again, and a frame where nothing changed is not drawn or
// presented at all. Draw callbacks (ImageRenderer's program switch) and ImDrawCallback_ResetRenderState
// work as in the backend. Main thread only.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ui/damage.h"

namespace latent::app {

class UiRenderer {
 public:
  // After ImGui's context and fonts exist: builds the program, the font texture and the buffers.
  // Returns "" or what failed (the app then has nothing to draw with).
  std::string init(const std::string& shader_dir, const float clear_rgb[3]);
  void shutdown();
  // (Re)uploads ImGui's font atlas after it was built again (a new UI scale), between frames.
  void upload_fonts();
  // Whether init() built the program (without it nothing can be drawn).
  bool ready() const { return program_ != 0; }

  // Keep the frame in the window's back buffer instead of a framebuffer of our own: for when the
  // back buffer is never swapped (WindowPresenter copies rectangles out of it).
  void keep_frame_in_back_buffer(bool on) { in_back_buffer_ = on; }
  // Draws what changed in `frame` into the kept framebuffer. True if anything was drawn: the
  // window then needs showing it (present() and a swap, or WindowPresenter's drawn_rects()).
  bool render(const ImDrawData& frame);
  // The rectangles the last render() drew, in framebuffer pixels (top-left origin).
  const std::vector<ui::PixelRect>& drawn_rects() const { return rects_; }
  // Copies the kept framebuffer to the window's back buffer (unless the frame is kept there).
  void present();
  // The next render() draws everything (after an expose, or when asked to).
  void invalidate() { damage_.invalidate(); }
  // Draws the whole of `frame` again from scratch over the kept frame and counts the pixels that
  // changed: 0 when the damage tracking missed nothing. Slow; for tests.
  int64_t count_pixels_unlike_full_redraw(const ImDrawData& frame);
  // The framebuffer the frame is kept in (0: the window's back buffer), for reading it back.
  unsigned frame_framebuffer() const { return kept().framebuffer; }
  // The kept framebuffer's pixels, RGBA, bottom row first, and its size.
  std::vector<unsigned char> read_pixels(int& width, int& height) const;

  double damaged_fraction() const { return damage_.damaged_fraction(); }

 private:
  struct Target {
    unsigned framebuffer = 0, texture = 0;
    int width = 0, height = 0;
  };
  void ensure_target(Target& target, int width, int height);
  void release(Target& target);
  void setup_state(const ImDrawData& frame, int fb_width, int fb_height) const;
  // Builds ops_ and indices_ for drawing `rects` of `frame`, and uploads the frame's vertices and
  // those indices.
  void plan(const ImDrawData& frame, const std::vector<ui::PixelRect>& rects, int fb_width, int fb_height);
  void draw(const ImDrawData& frame, const std::vector<ui::PixelRect>& rects, const Target& target);
  Target kept() const;  // where the frame is kept: kept_, or the window's framebuffer (0)

  unsigned program_ = 0, vao_ = 0, vbo_ = 0, ebo_ = 0, font_texture_ = 0;
  // The buffers' storage in bytes: grown, never re-specified per frame (see plan()).
  int64_t vbo_bytes_ = 0, ebo_bytes_ = 0;
  int u_projection_ = -1, u_texture_ = -1;
  float clear_[3] = {0, 0, 0};
  Target kept_;
  ui::DamageTracker damage_;
  struct Op {
    enum Kind { Begin, Callback, Draw } kind;
    ui::PixelRect rect;  // Begin: the rectangle to clear; Draw: the scissor
    const ImDrawList* list;
    const ImDrawCmd* cmd;
    size_t first, count;  // Draw: a range of indices_
  };
  std::vector<Op> ops_;
  std::vector<uint32_t> indices_;
  std::vector<ui::PixelRect> rects_;
  bool in_back_buffer_ = false;
};

}  // namespace latent::app
