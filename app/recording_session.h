#pragma once
// The explorer's side of a recording: which rectangle of the frame (the window or one view), read
// back without stalling (FrameGrabber), and turned on the recorder's worker into the file's frames:
// flipped, scaled to the size the recording started at, and captioned. Main thread only.
#include <memory>
#include <string>

#include "app_state.h"
#include "gl/frame_grabber.h"
#include "latent/recording.h"
#include "ui/damage.h"

namespace latent::app {

class RecordingSession {
 public:
  ~RecordingSession();
  // Starts a recording of a region now `width` x `height` framebuffer pixels. Returns "" or why
  // it cannot (the format, the place); nothing is recording then.
  std::string start(const RecordSettings& settings, int width, int height, double now);
  bool active() const { return recorder_ != nullptr; }
  // Read frames straight into memory (a software rasteriser) instead of through pixel buffers.
  void set_direct_readback(bool direct) { grabber_.set_direct(direct); }
  const RecordSettings& settings() const { return settings_; }
  // After the frame is drawn, before it is shown: takes the frame read back last time to the
  // recorder, and reads this one's `region` (top-left origin) back if the recording's rate wants
  // a frame now. `framebuffer` holds the drawn frame (0: the window's back buffer).
  void capture(unsigned framebuffer, const ui::PixelRect& region, int framebuffer_height, double now, const std::string& caption);
  // Whether --record-seconds has passed, or the encoder failed.
  bool should_stop(double now) const;
  // Finishes the file; returns what it holds, for a message ("" if nothing was recording).
  std::string stop(bool& failed);
  int64_t dropped() const;
  // "REC 12 s, 3 dropped" for the menu bar.
  std::string status(double now) const;
  // Frees the GL buffers (before the context goes).
  void release();

 private:
  RecordSettings settings_;
  std::unique_ptr<Recorder> recorder_;
  FrameGrabber grabber_;
  double started_ = 0;
};

}  // namespace latent::app
