// Kept apart from the GL code: GLX's header brings its own GL declarations, which clash with glad's.
#include "gl/window_present.h"

#include <GL/glx.h>
#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#define GLFW_EXPOSE_NATIVE_GLX
#include <GLFW/glfw3native.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace latent::app {
namespace {

std::atomic<int> g_x_errors{0};
void (*g_on_lost_display)() = nullptr;

int report_x_error(Display* display, XErrorEvent* event) {
  char text[256] = "";
  XGetErrorText(display, event->error_code, text, sizeof text);
  if (g_x_errors.fetch_add(1) < 5)
    std::fprintf(stderr, "X error (request %d.%d): %s; the app goes on\n", int(event->request_code), int(event->minor_code), text);
  return 0;
}

int lost_display(Display*) {
  std::fprintf(stderr, "error: the connection to the X server was lost\n");
  if (g_on_lost_display) g_on_lost_display();
  return 0;  // Xlib exits after this returns
}

}  // namespace

void install_x_error_handlers(void (*on_lost_display)()) {
  g_on_lost_display = on_lost_display;
  XSetErrorHandler(report_x_error);
  XSetIOErrorHandler(lost_display);
}

int x_errors() { return g_x_errors.load(); }

WindowPresenter::WindowPresenter(GLFWwindow* window) {
  Display* display = glfwGetX11Display();
  const GLXWindow drawable = display ? glfwGetGLXWindow(window) : 0;
  if (!display || !drawable) return;
  const char* extensions = glXQueryExtensionsString(display, DefaultScreen(display));
  if (!extensions || !std::strstr(extensions, "GLX_MESA_copy_sub_buffer")) return;
  auto copy = glXGetProcAddressARB(reinterpret_cast<const GLubyte*>("glXCopySubBufferMESA"));
  if (!copy) return;
  display_ = display;
  drawable_ = drawable;
  copy_ = copy;
}

void WindowPresenter::present_rects(const std::vector<ui::PixelRect>& rects, int fb_height) const {
  if (!copy_) return;
  // GLX counts y from the bottom, like GL.
  const auto copy = reinterpret_cast<PFNGLXCOPYSUBBUFFERMESAPROC>(copy_);
  for (const ui::PixelRect& r : rects)
    copy(static_cast<Display*>(display_), drawable_, r.x0, fb_height - r.y1, r.width(), r.height());
  XFlush(static_cast<Display*>(display_));
}

}  // namespace latent::app
