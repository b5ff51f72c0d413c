// Kept apart from the GL code, like window_present.cpp: the X headers clash with glad's.
// The reader talks XCB, not Xlib: an X error comes back with the request that caused it, not through
// Xlib's one handler for the whole process (which GLFW and Mesa swap out at times, and whose default
// ends the process), and a lost connection is a state to check, not an exit.
#include "gl/window_capture.h"

#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#include <GLFW/glfw3native.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace latent::app {

// The reader's own connection, used on its thread only (and by the constructor before it starts).
struct WindowCapture::Reader {
  xcb_connection_t* connection = nullptr;
  xcb_window_t window = 0, root = 0;
  bool shm = false;
  xcb_shm_seg_t segment = 0;
  int shm_id = -1;
  uint8_t* shm_data = nullptr;
  size_t shm_bytes = 0;

  ~Reader() {
    free_segment();
    if (connection) xcb_disconnect(connection);
  }

  void free_segment() {
    if (!shm_data) return;
    if (!xcb_connection_has_error(connection)) xcb_request_check(connection, xcb_shm_detach_checked(connection, segment));
    shmdt(shm_data);
    shm_data = nullptr;
    shm_bytes = 0;
  }

  // A segment of at least `bytes` the server has attached, or false (a remote display: no sharing).
  bool shared(size_t bytes) {
    if (shm_data && shm_bytes >= bytes) return true;
    free_segment();
    shm_id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (shm_id < 0) return false;
    void* data = shmat(shm_id, nullptr, 0);
    if (data == reinterpret_cast<void*>(-1)) return shmctl(shm_id, IPC_RMID, nullptr), false;
    segment = xcb_generate_id(connection);
    xcb_generic_error_t* error = xcb_request_check(connection, xcb_shm_attach_checked(connection, segment, uint32_t(shm_id), 0));
    shmctl(shm_id, IPC_RMID, nullptr);  // goes once both sides have detached, whatever happens to us
    if (error) {
      std::free(error);
      shmdt(data);
      return false;
    }
    shm_data = static_cast<uint8_t*>(data);
    shm_bytes = bytes;
    return true;
  }

  // Whether `r` lies inside the window as it is now, the window is shown, and all of it is on the
  // screen (what is off it cannot be read).
  bool readable(const ui::PixelRect& r) {
    auto attributes_cookie = xcb_get_window_attributes(connection, window);
    auto geometry_cookie = xcb_get_geometry(connection, window);
    auto root_cookie = xcb_get_geometry(connection, root);
    auto place_cookie = xcb_translate_coordinates(connection, window, root, 0, 0);
    xcb_get_window_attributes_reply_t* attributes = xcb_get_window_attributes_reply(connection, attributes_cookie, nullptr);
    xcb_get_geometry_reply_t* geometry = xcb_get_geometry_reply(connection, geometry_cookie, nullptr);
    xcb_get_geometry_reply_t* screen = xcb_get_geometry_reply(connection, root_cookie, nullptr);
    xcb_translate_coordinates_reply_t* place = xcb_translate_coordinates_reply(connection, place_cookie, nullptr);
    const bool ok = attributes && geometry && screen && place && attributes->map_state == XCB_MAP_STATE_VIEWABLE &&
                    r.x0 >= 0 && r.y0 >= 0 && r.x1 <= int(geometry->width) && r.y1 <= int(geometry->height) &&
                    place->dst_x + r.x0 >= 0 && place->dst_y + r.y0 >= 0 && place->dst_x + r.x1 <= int(screen->width) &&
                    place->dst_y + r.y1 <= int(screen->height);
    std::free(attributes), std::free(geometry), std::free(screen), std::free(place);
    return ok;
  }

  // Reads `r` of the window into `pixels` (BGRA, bottom row first). False if it cannot be read.
  bool read(const ui::PixelRect& r, std::vector<uint8_t>& pixels) {
    if (xcb_connection_has_error(connection) || !readable(r)) return false;
    const int width = r.width(), height = r.height();
    const size_t row = size_t(width) * 4, bytes = row * size_t(height);  // 32-bit pixels: no padding
    const uint8_t* data = nullptr;
    xcb_get_image_reply_t* plain = nullptr;
    if (shm && shared(bytes)) {
      xcb_generic_error_t* error = nullptr;
      auto* reply = xcb_shm_get_image_reply(
          connection,
          xcb_shm_get_image(connection, window, int16_t(r.x0), int16_t(r.y0), uint16_t(width), uint16_t(height), ~0u,
                            XCB_IMAGE_FORMAT_Z_PIXMAP, segment, 0),
          &error);
      std::free(error);
      if (!reply) return false;
      std::free(reply);
      data = shm_data;
    } else {
      shm = false;  // once refused, plain requests from then on
      plain = xcb_get_image_reply(connection,
                                  xcb_get_image(connection, XCB_IMAGE_FORMAT_Z_PIXMAP, window, int16_t(r.x0), int16_t(r.y0),
                                                uint16_t(width), uint16_t(height), ~0u),
                                  nullptr);
      if (!plain || size_t(xcb_get_image_data_length(plain)) < bytes) return std::free(plain), false;
      data = xcb_get_image_data(plain);
    }
    pixels.resize(bytes);
    for (int y = 0; y < height; ++y)  // B, G, R, and a byte the recording does not read
      std::memcpy(pixels.data() + size_t(height - 1 - y) * row, data + size_t(y) * row, row);
    std::free(plain);
    return true;
  }
};

WindowCapture::WindowCapture(GLFWwindow* window) : window_(window) {
  Display* own = glfwGetX11Display();
  const ::Window xwindow = own ? glfwGetX11Window(window) : 0;
  if (!own || !xwindow) return;
  display_ = own;
  auto reader = std::make_unique<Reader>();
  reader->connection = xcb_connect(DisplayString(own), nullptr);
  if (xcb_connection_has_error(reader->connection)) return;
  reader->window = xcb_window_t(xwindow);
  // The rows are copied as they come: 32-bit pixels, blue in the lowest byte, least significant first.
  xcb_get_window_attributes_reply_t* attributes =
      xcb_get_window_attributes_reply(reader->connection, xcb_get_window_attributes(reader->connection, reader->window), nullptr);
  xcb_get_geometry_reply_t* geometry =
      xcb_get_geometry_reply(reader->connection, xcb_get_geometry(reader->connection, reader->window), nullptr);
  bool usable = false;
  if (attributes && geometry) {
    reader->root = geometry->root;
    const xcb_setup_t* setup = xcb_get_setup(reader->connection);
    int bits_per_pixel = 0;
    for (auto f = xcb_setup_pixmap_formats_iterator(setup); f.rem; xcb_format_next(&f))
      if (f.data->depth == geometry->depth) bits_per_pixel = f.data->bits_per_pixel;
    const xcb_visualtype_t* visual = nullptr;
    for (auto s = xcb_setup_roots_iterator(setup); s.rem && !visual; xcb_screen_next(&s))
      for (auto d = xcb_screen_allowed_depths_iterator(s.data); d.rem && !visual; xcb_depth_next(&d))
        for (auto v = xcb_depth_visuals_iterator(d.data); v.rem; xcb_visualtype_next(&v))
          if (v.data->visual_id == attributes->visual) visual = v.data;
    usable = visual && bits_per_pixel == 32 && setup->image_byte_order == XCB_IMAGE_ORDER_LSB_FIRST &&
             visual->red_mask == 0xff0000 && visual->green_mask == 0xff00 && visual->blue_mask == 0xff;
  }
  std::free(attributes), std::free(geometry);
  if (!usable) return;
  const xcb_query_extension_reply_t* extension = xcb_get_extension_data(reader->connection, &xcb_shm_id);
  reader->shm = extension && extension->present;
  reader_ = std::move(reader);
  thread_ = std::thread([this] { run(); });
}

WindowCapture::~WindowCapture() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WindowCapture::usable(const ui::PixelRect& region) {
  if (!reader_ || region.width() <= 0 || region.height() <= 0) return false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (lost_) return false;
    if (!off_screen_) return true;
  }
  if (!on_screen(region)) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  off_screen_ = false;
  return true;
}

bool WindowCapture::on_screen(const ui::PixelRect& region) const {
  if (!glfwGetWindowAttrib(window_, GLFW_VISIBLE) || glfwGetWindowAttrib(window_, GLFW_ICONIFIED)) return false;
  int width = 0, height = 0, fb_width = 0, fb_height = 0;
  glfwGetWindowSize(window_, &width, &height);
  glfwGetFramebufferSize(window_, &fb_width, &fb_height);
  if (width != fb_width || height != fb_height) return false;  // X11 has no scaled framebuffers; not X then
  auto* display = static_cast<Display*>(display_);
  int x = 0, y = 0;
  ::Window child = 0;
  const ::Window root = DefaultRootWindow(display);
  if (!XTranslateCoordinates(display, glfwGetX11Window(window_), root, 0, 0, &x, &y, &child)) return false;
  ::Window root_back = 0;
  int rx = 0, ry = 0;
  unsigned rw = 0, rh = 0, border = 0, depth = 0;
  if (!XGetGeometry(display, root, &root_back, &rx, &ry, &rw, &rh, &border, &depth)) return false;
  return x + region.x0 >= 0 && y + region.y0 >= 0 && x + region.x1 <= int(rw) && y + region.y1 <= int(rh);
}

bool WindowCapture::request(const ui::PixelRect& region, double seconds, std::string caption) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Busy, or the last frame read not yet taken (it finished after the caller's take()): no room.
  if (!reader_ || busy_ || waiting_ || result_) return false;
  waiting_ = Job{region, seconds, std::move(caption)};
  return true;
}

void WindowCapture::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!waiting_) return;
  }
  // What the present sent is in the server before the reader's request arrives on its connection.
  XSync(static_cast<Display*>(display_), False);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    started_ = std::move(waiting_);
    waiting_.reset();
    busy_ = true;
  }
  wake_.notify_all();
}

void WindowCapture::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return quit_ || started_.has_value(); });
    if (quit_) return;
    Job job = std::move(*started_);
    started_.reset();
    lock.unlock();
    CapturedFrame frame;
    frame.width = job.region.width(), frame.height = job.region.height();
    frame.seconds = job.seconds;
    frame.caption = std::move(job.caption);
    const bool ok = reader_->read(job.region, frame.pixels);
    const bool lost = !ok && xcb_connection_has_error(reader_->connection);
    lock.lock();
    if (ok) result_ = std::move(frame);
    else ++failures_, off_screen_ = true;  // the next frames are read through GL until it is on the screen again
    if (lost) lost_ = true;                // and all of them, once the reader's connection is gone
    busy_ = false;
    done_.notify_all();
  }
}

void WindowCapture::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait_for(lock, std::chrono::milliseconds(20), [this] { return !busy_; });
}

std::optional<CapturedFrame> WindowCapture::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<CapturedFrame> frame = std::move(result_);
  result_.reset();
  return frame;
}

std::optional<CapturedFrame> WindowCapture::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (waiting_) ++failures_, waiting_.reset();  // asked for and never shown: a dropped frame
  done_.wait(lock, [this] { return !busy_; });
  std::optional<CapturedFrame> frame = std::move(result_);
  result_.reset();
  return frame;
}

int64_t WindowCapture::failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_;
}

}  // namespace latent::app
