#pragma once
// Showing only the parts of a frame that changed. With GLX_MESA_copy_sub_buffer (Mesa's GLX, which
// is what runs llvmpipe under Xvfb or any X server) the back buffer is never swapped: it keeps the
// whole frame from one frame to the next, the renderer draws the changed rectangles into it, and
// just those rectangles are copied to the window. Without the extension the caller keeps the frame
// in its own framebuffer and presents it whole with a swap.
#include <vector>

#include "ui/damage.h"

struct GLFWwindow;

namespace latent::app {

// X errors are reported, not fatal: Xlib's default handler exits the process, which under a
// software rasteriser a resize could trigger (a copy from a back buffer of the old size), and the
// training would be lost. Each error is printed and counted; x_errors() says how many so far.
// `on_lost_display` runs when the connection to the X server is gone (nothing can be drawn any
// more): the app saves what it can there, and the process then exits.
void install_x_error_handlers(void (*on_lost_display)());
int x_errors();

class WindowPresenter {
 public:
  explicit WindowPresenter(GLFWwindow* window);
  // Whether present_rects() can be used: an X11 window with a GLX context that has the extension.
  bool copies_sub_buffers() const { return copy_ != nullptr; }
  // Copies `rects` (framebuffer pixels, top-left origin) of the back buffer to the window, then flushes.
  void present_rects(const std::vector<ui::PixelRect>& rects, int fb_height) const;

 private:
  void* display_ = nullptr;      // Display*
  unsigned long drawable_ = 0;   // GLXWindow
  void (*copy_)() = nullptr;     // glXCopySubBufferMESA
};

}  // namespace latent::app
