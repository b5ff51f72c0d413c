#pragma once
// Reads a rectangle of the drawn frame back for a recording without waiting for the GPU: the pixels
// go into one of two pixel buffers, and are taken from it a frame later, when the copy is done.
// Under a software rasteriser there is no copy to overlap: mapping the pixel buffer does the whole
// read then (27 ms for 1600x1024 under llvmpipe, against 18-22 ms for reading straight into memory),
// so there the pixels are read into memory at once (direct), and still handed out a frame later.
// Main thread only (GL).
#include <optional>
#include <string>
#include <vector>

#include "latent/recording.h"

namespace latent::app {

class FrameGrabber {
 public:
  explicit FrameGrabber(bool direct = false) : direct_(direct) {}
  void set_direct(bool direct) { direct_ = direct; }
  ~FrameGrabber();
  FrameGrabber(const FrameGrabber&) = delete;
  FrameGrabber& operator=(const FrameGrabber&) = delete;

  // Starts copying the rectangle (framebuffer pixels, bottom-left origin) of `framebuffer` (0: the
  // window's back buffer), to be taken by the next take(). `seconds` and `caption` travel with it.
  void request(unsigned framebuffer, int x, int y, int width, int height, double seconds, std::string caption);
  // The pixels of the request before the last one (BGRA, bottom row first), if there is one.
  std::optional<CapturedFrame> take();
  // Every request not yet taken, oldest first (when the recording stops).
  std::vector<CapturedFrame> take_all();
  // Frees the buffers (before the GL context goes).
  void release();

 private:
  struct Slot {
    unsigned buffer = 0;
    size_t bytes = 0;
    bool pending = false;
    int width = 0, height = 0;
    double seconds = 0;
    std::string caption;
    std::vector<uint8_t> pixels;  // direct: the pixels themselves
  };
  bool direct_ = false;
  Slot slots_[2];
  int next_ = 0;  // the slot the next request uses; the other holds the request before
};

}  // namespace latent::app
