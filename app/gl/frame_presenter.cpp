#include "gl/frame_presenter.h"

#include <glad/gl.h>
// glad must come before GLFW.
#include <GLFW/glfw3.h>

#include <cstdlib>

#include "gl/ui_renderer.h"
#include "ui/damage.h"

namespace latent::app {

FramePresenter::FramePresenter(GLFWwindow* window, UiRenderer& renderer, Redraw asked)
    : window_(window), renderer_(renderer), window_presenter_(window) {
  software_ = ui::is_software_rasterizer(reinterpret_cast<const char*>(glGetString(GL_RENDERER)));
  redraw_ = asked == Redraw::Auto ? (software_ ? Redraw::Damaged : Redraw::Full) : asked;
  const char* present_env = std::getenv("LATENT_PRESENT");
  copy_rects_ = redraw_ != Redraw::Full && window_presenter_.copies_sub_buffers() && !(present_env && std::string(present_env) == "swap");
  renderer_.keep_frame_in_back_buffer(copy_rects_);
  // Uncovered or resized: what the window shows may be gone, so the next frame draws it all.
  glfwSetWindowUserPointer(window_, &renderer_);
  glfwSetWindowRefreshCallback(window_, [](GLFWwindow* w) { static_cast<UiRenderer*>(glfwGetWindowUserPointer(w))->invalidate(); });
  x_errors_seen_ = x_errors();
}

std::string FramePresenter::prepare(int fb_width, int fb_height) {
  std::string message;
  if (copy_rects_ && x_errors() != x_errors_seen_) {
    // The server refused a copy of rectangles: present whole frames from now on.
    copy_rects_ = false;
    renderer_.keep_frame_in_back_buffer(false);
    renderer_.invalidate();
    message = "the X server refused a partial update of the window; it is now drawn whole each frame";
  }
  x_errors_seen_ = x_errors();
  if (fb_width != shown_width_ || fb_height != shown_height_) {
    // A new size: everything is drawn again. A back buffer that is never swapped keeps the size it
    // was made at (Mesa resizes it on a swap), so copying rectangles of the new size out of it would
    // show a shifted frame, or fail in the X server when the window grew: one swap first.
    if (copy_rects_ && shown_width_ > 0) glfwSwapBuffers(window_);
    shown_width_ = fb_width, shown_height_ = fb_height;
    renderer_.invalidate();
  }
  if (redraw_ == Redraw::Full) renderer_.invalidate();
  return message;
}

void FramePresenter::present(int fb_height) {
  if (copy_rects_) {
    window_presenter_.present_rects(renderer_.drawn_rects(), fb_height);
  } else {
    renderer_.present();
    glfwSwapBuffers(window_);
  }
}

}  // namespace latent::app
