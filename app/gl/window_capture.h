#pragma once
// Reads a recording's frames from the X server's copy of the window, on a thread of its own, instead
// of from GL. Under a software rasteriser (llvmpipe) the frame shown is already in the X server, put
// there by the present; reading it back through GL instead costs 18-35 ms on the thread that draws,
// whatever the size read. Here the thread that draws only says "now", after its present, and the
// reader fetches the rectangle over its own connection (through shared memory where the server
// offers it). On a GPU the recording reads through GL pixel buffers instead (FrameGrabber): a
// composited GPU window's pixels need not be in the X server at all.
//
// Only the part of the window that is on the screen can be read this way; the caller asks
// usable() first and reads through GL otherwise. A window covered by another one, on a desktop
// without a compositor, would show the cover: this is meant for software rasterisers, where the
// window holds what was drawn.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "latent/recording.h"
#include "ui/damage.h"

struct GLFWwindow;

namespace latent::app {

class WindowCapture {
 public:
  // Opens a second connection to the window's X display. available() is false when there is none
  // (not X11, or a pixel format other than 24-bit true colour): the caller reads through GL then.
  explicit WindowCapture(GLFWwindow* window);
  ~WindowCapture();
  WindowCapture(const WindowCapture&) = delete;
  WindowCapture& operator=(const WindowCapture&) = delete;
  bool available() const { return reader_ != nullptr; }
  // Whether `region` (window pixels, top-left origin) can be read here: the reader found it on the
  // screen last time, or (after it did not) it is on the screen now. Main thread; it asks the X
  // server only while the window is partly off the screen.
  bool usable(const ui::PixelRect& region);
  // Takes a rectangle to read once the frame is shown (start()). False, and nothing is taken, while
  // the reader is still busy with the one before: the caller counts a dropped frame. Main thread.
  bool request(const ui::PixelRect& region, double seconds, std::string caption);
  // After the frame is shown: the request waiting is read now. Main thread.
  void start();
  // Before the next frame is shown: waits (at most 20 ms) for a read under way, so that it reads
  // one whole frame, not parts of two. Main thread.
  void wait_idle();
  // A frame read, if one is done (BGRA, bottom row first, as FrameGrabber hands them out).
  std::optional<CapturedFrame> take();
  // Waits for a read under way, and returns what it read (when the recording stops).
  std::optional<CapturedFrame> finish();
  // Reads that failed (the window moved off the screen meanwhile): each is a dropped frame.
  int64_t failures() const;

 private:
  struct Reader;
  struct Job {
    ui::PixelRect region;
    double seconds = 0;
    std::string caption;
  };
  void run();
  bool on_screen(const ui::PixelRect& region) const;  // asks the X server over GLFW's connection

  GLFWwindow* window_ = nullptr;
  void* display_ = nullptr;  // the window's own connection (GLFW's), main thread only
  std::unique_ptr<Reader> reader_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::optional<Job> waiting_;  // requested, not yet started
  std::optional<Job> started_;  // handed to the reader
  bool busy_ = false, quit_ = false;
  std::optional<CapturedFrame> result_;
  int64_t failures_ = 0;
  bool off_screen_ = false;  // the reader could not read the last region asked (off the screen)
  bool lost_ = false;        // the reader's connection to the X server is gone: GL from now on
  std::thread thread_;
};

}  // namespace latent::app
