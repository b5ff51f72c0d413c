// Kept apart from the GL code, like window_present.cpp: Xlib's headers clash with glad's.
#include "gl/window_capture.h"

#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#include <GLFW/glfw3native.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <atomic>
#include <cstring>

#include "gl/window_present.h"

namespace latent::app {

// The reader's own connection, used on its thread only.
struct WindowCapture::Reader {
  Display* display = nullptr;
  ::Window window = 0;
  Visual* visual = nullptr;
  int depth = 0;
  std::atomic<int> errors{0};  // the X errors of this connection (routed here, not reported)
  bool shm = false;
  XShmSegmentInfo segment{};
  XImage* image = nullptr;  // the shared-memory image, of the last size read

  ~Reader() {
    free_image();
    if (display) XCloseDisplay(display), route_x_errors(nullptr, nullptr);
  }

  void free_image() {
    if (!image) return;
    XShmDetach(display, &segment);
    XSync(display, False);
    XDestroyImage(image);  // frees the XImage, not the data, which is the segment's
    shmdt(segment.shmaddr);
    image = nullptr;
    segment = XShmSegmentInfo{};
  }

  // A shared-memory image of width x height, or false (the server cannot attach it: a remote display).
  bool shared_image(int width, int height) {
    if (image && image->width == width && image->height == height) return true;
    free_image();
    image = XShmCreateImage(display, visual, unsigned(depth), ZPixmap, nullptr, &segment, unsigned(width), unsigned(height));
    if (!image) return false;
    segment.shmid = shmget(IPC_PRIVATE, size_t(image->bytes_per_line) * size_t(image->height), IPC_CREAT | 0600);
    if (segment.shmid < 0) return XDestroyImage(image), image = nullptr, false;
    segment.shmaddr = image->data = static_cast<char*>(shmat(segment.shmid, nullptr, 0));
    shmctl(segment.shmid, IPC_RMID, nullptr);  // goes when both sides have detached, whatever happens to us
    if (segment.shmaddr == reinterpret_cast<char*>(-1)) {
      image->data = nullptr;
      XDestroyImage(image);
      image = nullptr;
      return false;
    }
    segment.readOnly = False;
    const int before = errors.load();
    if (!XShmAttach(display, &segment) || (XSync(display, False), errors.load() != before)) {
      shmdt(segment.shmaddr);
      image->data = nullptr;
      XDestroyImage(image);
      image = nullptr;
      return false;
    }
    return true;
  }

  // Whether `r` of the window lies on the screen (what is off it cannot be read).
  bool on_screen(const ui::PixelRect& r) {
    int x = 0, y = 0, rx = 0, ry = 0;
    unsigned rw = 0, rh = 0, border = 0, depth = 0;
    ::Window child = 0, root_back = 0;
    const ::Window root = DefaultRootWindow(display);
    if (!XTranslateCoordinates(display, window, root, 0, 0, &x, &y, &child)) return false;
    if (!XGetGeometry(display, root, &root_back, &rx, &ry, &rw, &rh, &border, &depth)) return false;
    return x + r.x0 >= 0 && y + r.y0 >= 0 && x + r.x1 <= int(rw) && y + r.y1 <= int(rh);
  }

  // Reads `r` of the window into `pixels` (BGRA, bottom row first). False if the server refused.
  bool read(const ui::PixelRect& r, std::vector<uint8_t>& pixels) {
    const int width = r.width(), height = r.height();
    XImage* got = nullptr;
    const int before = errors.load();
    if (shm && shared_image(width, height)) {
      if (XShmGetImage(display, window, image, r.x0, r.y0, AllPlanes) && errors.load() == before) got = image;
    } else {
      shm = false;  // once refused, plain requests from then on
      got = XGetImage(display, window, r.x0, r.y0, unsigned(width), unsigned(height), AllPlanes, ZPixmap);
      if (got && errors.load() != before) XDestroyImage(got), got = nullptr;
    }
    if (!got) return false;
    pixels.resize(size_t(width) * size_t(height) * 4);
    for (int y = 0; y < height; ++y) {
      const auto* in = reinterpret_cast<const uint8_t*>(got->data) + size_t(y) * size_t(got->bytes_per_line);
      uint8_t* out = pixels.data() + size_t(height - 1 - y) * size_t(width) * 4;
      std::memcpy(out, in, size_t(width) * 4);  // B, G, R, and a byte the recording does not read
    }
    if (got != image) XDestroyImage(got);
    return true;
  }
};

WindowCapture::WindowCapture(GLFWwindow* window) : window_(window) {
  Display* own = glfwGetX11Display();
  const ::Window xwindow = own ? glfwGetX11Window(window) : 0;
  if (!own || !xwindow) return;
  display_ = own;
  auto reader = std::make_unique<Reader>();
  reader->display = XOpenDisplay(DisplayString(own));
  if (!reader->display) return;
  route_x_errors(reader->display, &reader->errors);
  reader->window = xwindow;
  XWindowAttributes attributes;
  if (!XGetWindowAttributes(reader->display, xwindow, &attributes) || !attributes.visual) return;
  // The rows are copied as they come: 32-bit pixels, blue in the lowest byte, least significant first.
  int bits_per_pixel = 0, formats = 0;
  if (XPixmapFormatValues* list = XListPixmapFormats(reader->display, &formats)) {
    for (int i = 0; i < formats; ++i)
      if (list[i].depth == attributes.depth) bits_per_pixel = list[i].bits_per_pixel;
    XFree(list);
  }
  const Visual* v = attributes.visual;
  if (bits_per_pixel != 32 || ImageByteOrder(reader->display) != LSBFirst || v->red_mask != 0xff0000 ||
      v->green_mask != 0xff00 || v->blue_mask != 0xff)
    return;
  reader->visual = attributes.visual;
  reader->depth = attributes.depth;
  reader->shm = XShmQueryExtension(reader->display);
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
  if (!reader_ || busy_ || waiting_) return false;
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
    const bool on_screen = reader_->on_screen(job.region);
    const bool ok = on_screen && reader_->read(job.region, frame.pixels);
    lock.lock();
    if (ok) result_ = std::move(frame);
    else ++failures_, off_screen_ = true;  // the next frames are read through GL until it is on the screen again
    busy_ = false;
    done_.notify_all();
  }
}

std::optional<CapturedFrame> WindowCapture::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<CapturedFrame> frame = std::move(result_);
  result_.reset();
  return frame;
}

std::optional<CapturedFrame> WindowCapture::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  waiting_.reset();  // asked for and never shown
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
