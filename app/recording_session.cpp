#include "recording_session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "gl/ui_renderer.h"
#include "latent/error.h"
#include "ui/export_image.h"
#include "inference_worker.h"
#include "views/view.h"

namespace latent::app {
namespace {

// BGRA rows bottom first (as GL reads them) to RGB rows top first.
RgbImage to_rgb(const CapturedFrame& frame) {
  RgbImage image{frame.width, frame.height, std::vector<uint8_t>(size_t(frame.width) * frame.height * 3)};
  for (int y = 0; y < frame.height; ++y) {
    const uint8_t* in = frame.pixels.data() + size_t(frame.height - 1 - y) * frame.width * 4;
    uint8_t* out = image.rgb.data() + size_t(y) * frame.width * 3;
    for (int x = 0; x < frame.width; ++x) out[3 * x] = in[4 * x + 2], out[3 * x + 1] = in[4 * x + 1], out[3 * x + 2] = in[4 * x];
  }
  return image;
}

std::string megabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
  return text;
}

}  // namespace

RecordingSession::~RecordingSession() {
  bool failed = false;
  stop(failed);
}

std::string RecordingSession::start(const RecordSettings& settings, int width, int height, double now) {
  if (recorder_) return "a recording is already running (" + settings_.path + "); stop it first";
  if (width <= 0 || height <= 0) return "cannot record " + (settings.view.empty() ? std::string("the window") : "the " + settings.view + " view") + ": it is not on screen";
  // Every frame is scaled to the size the recording started at: a GIF or a video has one size, and a
  // window resized meanwhile is fitted into it (its aspect kept, on black) rather than ending it.
  const int out_width = std::max(1, int(std::lround(width * settings.scale)));
  const int out_height = std::max(1, int(std::lround(height * settings.scale)));
  const bool caption = settings.caption;
  auto strip_height = std::make_shared<int>(-1);
  auto prepare = [out_width, out_height, caption, strip_height](const CapturedFrame& frame) {
    RgbImage image = fit_rgb(to_rgb(frame), out_width, out_height);
    if (!caption) return image;
    image = ui::with_caption(image, frame.caption, kUiFont);
    // The caption's strip keeps the first frame's height (its font shrinks to fit a longer text).
    if (*strip_height < 0) *strip_height = image.height - out_height;
    image.rgb.resize(size_t(out_width) * size_t(out_height + *strip_height) * 3, 0);
    image.height = out_height + *strip_height;
    return image;
  };
  try {
    recorder_ = std::make_unique<Recorder>(settings.path, settings.fps, prepare, 6, kWorkerNice);
  } catch (const Error& e) {
    return e.what();
  }
  settings_ = settings;
  started_ = now;
  if (window_ && !window_capture_) window_capture_ = std::make_unique<WindowCapture>(window_);
  if (window_capture_) capture_failures_ = window_capture_->failures();
  return "";
}

std::string RecordingSession::start_replay(AppState& state) {
  if (!recorder_) return "no recording to replay into";
  moments_ = state.timeline;
  const auto live = state.snapshot ? state.snapshot->weights : nullptr;
  if (live && state.snapshot->weights_step > 0 && (moments_.empty() || state.snapshot->weights_step > moments_.back().step))
    moments_.push_back({state.snapshot->weights_step, state.snapshot->step > 0 ? state.snapshot->last_step.epoch : 0.0, live});
  if (moments_.empty() || !moments_.front().weights) {
    bool failed = false;
    stop(failed);  // with no frame, nothing is written and what was at the path stays
    return "no timeline to replay yet: it keeps the weights as a run trains (train a few steps first)";
  }
  replay_state_ = &state;
  replay_run_ = state.run_generation;
  replay_stopped_.clear();
  moment_ = 0;
  frames_on_moment_ = 0;
  moment_since_ = -1;
  replay_done_ = false;
  state.show_replay_moment(moments_[0]);
  return "";
}

void RecordingSession::prepare_frame(double now) {
  take_ = false;
  if (!replay_state_ || replay_done_ || !recorder_) return;
  if (replay_state_->run_generation != replay_run_) {
    replay_done_ = true;
    replay_stopped_ = "a new run began (Reset, another dataset or a loaded model)";
    return;
  }
  if (moment_since_ < 0) moment_since_ = now;
  // The first frame after a move: the views draw the new moment and ask for their refreshes; it is
  // taken from the second frame on, when those have arrived.
  const bool shown = ++frames_on_moment_ >= 2;
  const bool settled = replay_state_->views_settled() || now - moment_since_ > 20;
  take_ = shown && settled && recorder_->has_room(2);
}

void RecordingSession::capture(unsigned framebuffer, const ui::PixelRect& region, int framebuffer_height, double now,
                               AppState& state) {
  if (!recorder_) return;
  if (auto frame = grabber_.take()) recorder_->offer(std::move(*frame));
  count_window_frames();
  if (replay_state_) {  // through GL: a replay waits for each moment's frame, and takes it whole
    if (!take_) return;
    take_ = false;
    // Each moment one period of the recording's clock, whatever it took to draw.
    const double seconds = double(moment_) / recorder_->fps();
    if (region.width() <= 0 || region.height() <= 0) {  // the recorded view was closed: no moment is skipped silently
      replay_done_ = true;
      replay_stopped_ = "the " + settings_.view + " view was closed";
      return;
    }
    ++read_gl_;
    grabber_.request(framebuffer, region.x0, framebuffer_height - region.y1, region.width(), region.height(), seconds,
                     state.export_caption_text());
    if (++moment_ >= moments_.size()) {
      replay_done_ = true;
    } else {
      frames_on_moment_ = 0;
      moment_since_ = -1;
      state.show_replay_moment(moments_[moment_]);
    }
    return;
  }
  if (!recorder_->due(now)) return;
  if (region.width() <= 0 || region.height() <= 0) return;  // the view was closed: its last frame stays
  if (window_capture_ && window_capture_->usable(region)) {
    // A frame read through GL before (the window was partly off the screen) goes first: frames in order.
    for (auto& frame : grabber_.take_all()) recorder_->offer(std::move(frame));
    if (window_capture_->request(region, now - started_, state.export_caption_text())) ++read_window_;
    else recorder_->note_dropped();
    return;
  }
  ++read_gl_;
  grabber_.request(framebuffer, region.x0, framebuffer_height - region.y1, region.width(), region.height(), now - started_,
                   state.export_caption_text());
}

void RecordingSession::count_window_frames() {
  if (!window_capture_ || !recorder_) return;
  if (auto frame = window_capture_->take()) recorder_->offer(std::move(*frame));
  for (const int64_t failures = window_capture_->failures(); capture_failures_ < failures; ++capture_failures_)
    recorder_->note_dropped();
}

void RecordingSession::before_present() {
  if (window_capture_ && recorder_) window_capture_->wait_idle();
}

void RecordingSession::presented() {
  if (window_capture_ && recorder_) window_capture_->start();
}

bool RecordingSession::should_stop(double now) const {
  if (!recorder_) return false;
  if (replay_state_) return replay_done_ || !recorder_->problem().empty();
  return (settings_.seconds > 0 && now - started_ >= settings_.seconds) || !recorder_->problem().empty();
}

std::string RecordingSession::stop(bool& failed) {
  failed = false;
  if (!recorder_) return "";
  for (auto& frame : grabber_.take_all()) recorder_->offer(std::move(frame));
  if (window_capture_) {
    if (auto frame = window_capture_->finish()) recorder_->offer(std::move(*frame));
    count_window_frames();
  }
  const RecordingStats stats = recorder_->stop();
  recorder_.reset();
  std::string replayed;
  if (replay_state_) {
    if (replay_state_->run_generation == replay_run_) replay_state_->show_replay_moment(std::nullopt);
    replay_state_ = nullptr;
    if (!replay_stopped_.empty()) replayed = "; the replay stopped early: " + replay_stopped_;
    if (!moments_.empty())
      replayed += "; the timeline replayed, " + std::to_string(std::min(moment_, moments_.size())) + " of " +
                 std::to_string(moments_.size()) + " moments, steps " + std::to_string(moments_.front().step) + " to " +
                 std::to_string(moments_[std::min(moment_, moments_.size()) - (moment_ > 0 ? 1 : 0)].step);
    moments_.clear();
  }
  if (!stats.problem.empty()) {
    failed = true;
    return "recording stopped: " + stats.problem;
  }
  std::string message = "recorded " + settings_.path + ": " + std::to_string(stats.width) + "x" + std::to_string(stats.height) + ", ";
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f s", stats.seconds);
  message += seconds + std::string(", ") + std::to_string(stats.captured) + " frames captured (" + std::to_string(stats.stored) +
             " stored), " + std::to_string(stats.dropped) + " dropped, " + megabytes(stats.bytes);
  if (stats.captured > 0) {
    char encode[64];
    std::snprintf(encode, sizeof encode, ", %.0f ms a frame to encode", 1000 * stats.encode_seconds / double(stats.captured));
    message += encode;
  }
  return message + replayed;
}

int64_t RecordingSession::dropped() const { return recorder_ ? recorder_->stats().dropped : 0; }

std::string RecordingSession::status(double now) const {
  if (!recorder_) return "";
  const RecordingStats stats = recorder_->stats();
  char text[64];
  if (replay_state_) std::snprintf(text, sizeof text, "REC replay %zu/%zu", std::min(moment_ + 1, moments_.size()), moments_.size());
  else std::snprintf(text, sizeof text, "REC %.0f s", now - started_);
  std::string s = text;
  if (stats.dropped > 0) s += ", " + std::to_string(stats.dropped) + " dropped";
  return s;
}

void RecordingSession::release() {
  bool failed = false;
  stop(failed);
  grabber_.release();
  window_capture_.reset();
}

FrameRecorder::FrameRecorder(GLFWwindow* window, bool software, AppState& state) {
  session_.set_direct_readback(software);
  const char* read = std::getenv("LATENT_RECORD_READ");
  if (software && !(read && std::string(read) == "gl")) session_.set_window(window);
  if (!state.options.record.path.empty()) state.record_requested = state.options.record;
  after_run_ = state.options.record.timeline && state.options.train;
}

void FrameRecorder::stop(AppState& state) {
  if (!session_.active()) return;
  bool failed = false;
  const std::string summary = session_.stop(failed);
  state.notify(summary, failed, 12);
  std::fprintf(stderr, "%s\n", summary.c_str());
}

void FrameRecorder::after_draw(AppState& state, const std::function<ui::WindowRect(const std::string&)>& view_rect,
                               const UiRenderer& renderer, int fb_width, int fb_height, float scale_x, float scale_y, double now) {
  if (std::exchange(state.stop_recording_requested, false) || session_.should_stop(now)) stop(state);
  ui::PixelRect region{0, 0, fb_width, fb_height};
  const std::string& view = session_.active()     ? session_.settings().view
                            : state.record_requested ? state.record_requested->view
                                                     : std::string();
  if (!view.empty()) {
    const ui::WindowRect r = view_rect(view);
    // Clipped to the framebuffer: a view partly off screen records what is on it.
    region = {std::max(0, int(std::lround(r.x * scale_x))), std::max(0, int(std::lround(r.y * scale_y))),
              std::min(fb_width, int(std::lround((r.x + r.width) * scale_x))), std::min(fb_height, int(std::lround((r.y + r.height) * scale_y)))};
  }
  // Over: no model to train, or it stopped (its epochs done, an error, a divergence) after starting.
  const bool run_over = !state.trainer || (state.snapshot && !state.training() &&
                                           (state.snapshot->step > 0 || state.snapshot->state == TrainerState::Error ||
                                            state.snapshot->state == TrainerState::Diverged));
  // A request waits one frame: the dialog that asked closes in the next one, and is not recorded.
  const bool request_ready = state.record_requested && std::exchange(request_seen_, true);
  if (request_ready && (!after_run_ || run_over)) {
    request_seen_ = false;
    after_run_ = false;
    std::string problem = session_.start(*state.record_requested, region.width(), region.height(), now);
    if (problem.empty() && state.record_requested->timeline) problem = session_.start_replay(state);
    if (!problem.empty()) state.notify(problem, true, 12), std::fprintf(stderr, "error: %s\n", problem.c_str());
    state.record_requested.reset();
  }
  session_.capture(renderer.frame_framebuffer(), region, fb_height, now, state);
  state.recording_status = session_.status(now);
  if (session_.active()) dropped_ = session_.dropped();
}

}  // namespace latent::app
