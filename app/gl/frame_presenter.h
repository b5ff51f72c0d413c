#pragma once
// How the explorer's frames reach the screen, decided once at start-up from the GL renderer and
// --redraw. Under a software rasteriser pixels cost CPU time: only what changed is drawn (damage
// tracking) and only those rectangles are shown, copied out of a back buffer that is never swapped
// (GLX_MESA_copy_sub_buffer; without it, or with LATENT_PRESENT=swap so that this path is tested
// too, the frame is kept in a framebuffer object and swapped whole). On a GPU every frame is drawn
// whole and swapped, the path every driver does best.
#include <string>

#include "app_state.h"
#include "gl/window_present.h"

struct GLFWwindow;

namespace latent::app {

class UiRenderer;

class FramePresenter {
 public:
  // `renderer` must outlive it; the window's refresh callback is set to invalidate it.
  FramePresenter(GLFWwindow* window, UiRenderer& renderer, Redraw asked);
  bool software() const { return software_; }  // a software rasteriser: llvmpipe, softpipe, swrast
  Redraw redraw() const { return redraw_; }      // Damaged, Full or Check (never Auto)
  // Before a frame of this framebuffer size is drawn: what makes the window's pixels unknown (a new
  // size, a redraw that is always full) has the renderer draw everything. Returns a message when the
  // X server refused a copy of rectangles, after which whole frames are shown.
  std::string prepare(int fb_width, int fb_height);
  // Shows what the renderer drew.
  void present(int fb_height);

 private:
  GLFWwindow* window_;
  UiRenderer& renderer_;
  WindowPresenter window_presenter_;
  bool software_ = false;
  Redraw redraw_ = Redraw::Full;
  bool copy_rects_ = false;
  int shown_width_ = 0, shown_height_ = 0;  // the framebuffer size the last frame was presented at
  int x_errors_seen_ = 0;
};

}  // namespace latent::app
