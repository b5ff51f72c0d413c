#pragma once
// The explorer's side of a recording: which rectangle of the frame (the window or one view), read
// back without stalling (FrameGrabber), and turned on the recorder's worker into the file's frames:
// flipped, scaled to the size the recording started at, and captioned. Main thread only.
#include <functional>
#include <memory>
#include <string>

#include "app_state.h"
#include "gl/frame_grabber.h"
#include "gl/window_capture.h"
#include "latent/recording.h"
#include "ui/damage.h"
#include "ui/layout.h"

namespace latent::app {

class UiRenderer;

class RecordingSession {
 public:
  ~RecordingSession();
  // Starts a recording of a region now `width` x `height` framebuffer pixels. Returns "" or why
  // it cannot (the format, the place); nothing is recording then.
  std::string start(const RecordSettings& settings, int width, int height, double now);
  bool active() const { return recorder_ != nullptr; }
  // Read frames straight into memory (a software rasteriser) instead of through pixel buffers.
  void set_direct_readback(bool direct) { grabber_.set_direct(direct); }
  // Under a software rasteriser: a live recording reads its frames from the X server's copy of
  // `window` on a thread of its own (WindowCapture) while the region is on the screen, and through
  // GL otherwise. nullptr: always through GL.
  void set_window(GLFWwindow* window) { window_ = window; }
  const RecordSettings& settings() const { return settings_; }
  // A replay of the weight timeline (RecordSettings::timeline), started right after start(): the
  // state shows each kept moment in turn, and the live weights last when they are newer. Returns ""
  // or why not (no timeline yet); nothing is recording then.
  std::string start_replay(AppState& state);
  bool replaying() const { return replay_state_ != nullptr; }
  // Before the frame's views are built: whether this frame is to be a replay's frame. A moment is
  // taken once the views have caught up with it (AppState::views_settled) and the encoder has room,
  // so that a replay drops nothing and shows every moment whole; after 20 s it is taken as it is.
  void prepare_frame(double now);
  // After the frame is drawn, before it is shown: takes the frame read back last time to the
  // recorder, and reads this one's `region` (top-left origin) back if the recording's rate wants
  // a frame now (a replay: when prepare_frame chose this frame; then it moves to the next moment).
  // `framebuffer` holds the drawn frame (0: the window's back buffer). The caption is the state's.
  void capture(unsigned framebuffer, const ui::PixelRect& region, int framebuffer_height, double now, AppState& state);
  // Just before the frame is shown: a read of the window under way finishes first.
  void before_present();
  // After the frame is shown (or not, when nothing changed): a frame asked of the window is read now.
  void presented();
  // Whether --record-seconds has passed, a replay has shown its last moment, or the encoder failed.
  bool should_stop(double now) const;
  // Finishes the file; returns what it holds, for a message ("" if nothing was recording). A
  // replay's state goes back to the weights it showed before.
  std::string stop(bool& failed);
  int64_t dropped() const;
  // Frames asked for so far in this session's recordings, read from the window's X server and
  // through GL (--stats).
  int64_t frames_read_from_window() const { return read_window_; }
  int64_t frames_read_through_gl() const { return read_gl_; }
  // "REC 12 s, 3 dropped" for the menu bar.
  std::string status(double now) const;
  // Frees the GL buffers (before the context goes).
  void release();

 private:
  // Hands the frame the window reader finished to the recorder, and counts its failed reads as dropped.
  void count_window_frames();

  RecordSettings settings_;
  std::unique_ptr<Recorder> recorder_;
  FrameGrabber grabber_;
  GLFWwindow* window_ = nullptr;
  std::unique_ptr<WindowCapture> window_capture_;  // made at the first recording that can use it
  int64_t capture_failures_ = 0;  // the reader's failures already counted as dropped
  int64_t read_window_ = 0, read_gl_ = 0;
  double started_ = 0;
  // The timeline replay: its moments (a copy, so that training on meanwhile changes nothing), the
  // one shown, and how long it has been shown.
  AppState* replay_state_ = nullptr;
  std::vector<TimelineEntry> moments_;
  size_t moment_ = 0;
  int frames_on_moment_ = 0;
  double moment_since_ = -1;
  bool take_ = false, replay_done_ = false;
  int64_t replay_run_ = -1;      // the run replayed: a new one (Reset, another dataset) ends the replay
  std::string replay_stopped_;   // why the replay ended before its last moment, or ""

};

// The frame loop's side: starts what the state asks for (--record, File -> Record) once the dialog
// that asked has closed (a request waits one frame), with --record-timeline and --train not before
// the run is over; reads each drawn frame's region (the window, or the view being recorded); stops
// at --record-seconds, at the end of a replay, or when asked.
class FrameRecorder {
 public:
  // `software`: a software rasteriser, whose frames are read straight into memory, and from the
  // X server's copy of `window` (LATENT_RECORD_READ=gl reads through GL instead, for comparison).
  FrameRecorder(GLFWwindow* window, bool software, AppState& state);
  void prepare_frame(double now) { session_.prepare_frame(now); }
  // After the frame is drawn, before it is shown. `view_rect` gives a view's place in the window.
  void after_draw(AppState& state, const std::function<ui::WindowRect(const std::string&)>& view_rect, const UiRenderer& renderer,
                  int fb_width, int fb_height, float scale_x, float scale_y, double now);
  void before_present() { session_.before_present(); }
  void presented() { session_.presented(); }
  // Whether a --frames run must go on for it: a replay to come or under way.
  bool holds_the_run(const AppState& state) const { return (after_run_ && state.record_requested) || session_.replaying(); }
  void stop(AppState& state);  // the recording under way, with its message
  void release() { session_.release(); }
  const RecordingSession& session() const { return session_; }
  int64_t dropped() const { return dropped_; }

 private:
  RecordingSession session_;
  bool after_run_ = false;      // --record-timeline with --train: the replay starts when the run ends
  bool request_seen_ = false;   // state.record_requested was there in the last frame
  int64_t dropped_ = 0;
};

}  // namespace latent::app
