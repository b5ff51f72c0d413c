#pragma once
// What the explorer's frame loop measures: frame times and where they go, the memory over the run,
// the training rate, for --stats (one JSON file when the app closes) and --frame-log (one CSV row
// per frame). bench/explorer and the tests read both.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace latent::app {

class AppState;
class RecordingSession;
class Shell;
struct Gfx;

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t);
// Milliseconds from the kernel starting this process to now: the shared libraries' loading and
// static initialisation, LibTorch's above all (10 ms resolution).
double ms_since_process_start();

// One frame's times, as the loop took them.
struct FrameTimes {
  Clock::time_point start, updated, built, drawn;  // begun, state updated, panels built, drawn
  double textures_ms = 0;
  std::vector<double> view_ms;  // each view's panel, in registry order
  bool presented = false;       // something changed on screen and was shown
  double damaged_share = 0;     // of the pixels, drawn again
  int64_t triangles = 0;
  double clock = 0;  // the window's clock (seconds, glfwGetTime) as it was shown
};

class FrameStats {
 public:
  FrameStats(Clock::time_point launched, double before_main_ms);
  // --frame-log FILE: its header is written now. "" or why it cannot be written (then no log).
  std::string open_frame_log(const std::string& path);
  void set_gl_init_done() { gl_init_ms_ = ms_since(launched_); }
  void set_model_ready_ms(double ms) { model_ready_ms_ = ms; }
  // Around each frame: begin_frame before the state updates, end_frame once it is shown.
  void begin_frame();
  void end_frame(const FrameTimes& t, const AppState& state);
  // --redraw check: pixels of a damaged frame unlike a full redraw of it.
  void add_redraw_check(int64_t pixels_unlike) { pixels_unlike_full_ += pixels_unlike, frames_unlike_full_ += pixels_unlike > 0; }
  int frames() const { return frame_; }
  // The training figures, taken before the trainer is saved and closed.
  void take_training_totals(const AppState& state, double now);
  // Writes --stats; prints an error line when it cannot.
  void write_json(const std::string& path, const AppState& state, const Shell& shell, const Gfx& gfx,
                  const RecordingSession& recording, int64_t record_dropped) const;

 private:
  Clock::time_point launched_;
  double before_main_ms_, gl_init_ms_ = 0, model_ready_ms_ = 0, first_frame_ms_ = 0, rss_first_frame_ = 0;
  int frame_ = 0;
  std::unique_ptr<std::ofstream> frame_log_;
  struct Counters {
    double on_cpu = -1, waiting = -1;
    long page_faults = 0;
  } before_;
  std::vector<double> frame_ms_, frame_triangles_, build_ms_, render_ms_, present_ms_, presented_ms_, damaged_;
  int64_t pixels_unlike_full_ = 0, frames_unlike_full_ = 0;
  int64_t last_present_unix_ms_ = 0;  // wall clock when the last changed frame was handed to the X server
  std::vector<double> rss_by_minute_, timeline_by_minute_, logs_by_minute_, heap_in_use_by_minute_, heap_free_by_minute_;
  int64_t steps_at_end_ = 0, batch_ = 0;
  double train_seconds_ = 0, step_samples_per_s_ = 0;
};

}  // namespace latent::app
