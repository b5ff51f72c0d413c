#include "frame_stats.h"

#include <imgui.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <numeric>
#include <sstream>

#include "app_state.h"
#include "gfx.h"
#include "recording_session.h"
#include "scene.h"
#include "shell.h"
#include "latent/startup_heap.h"
#include "views/view.h"

namespace latent::app {
namespace {

double mean(const std::vector<double>& v) { return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[size_t(std::min<double>(double(v.size() - 1), p * double(v.size() - 1) + 0.5))];
}

// This thread's time on a CPU and runnable but waiting for one, in milliseconds (the kernel's
// schedstat; -1 where it is not kept). In --frame-log they split a frame into our own work, time
// other threads and processes had our core (the trainer, the inference worker, Mesa's rasterizer
// threads, the X server), and the rest: asleep, waiting on the rasterizer or the X server.
// With them the thread's page faults (getrusage): a fresh mapping's pages cost 10-15 µs each here.
template <typename Counters>
Counters thread_counters() {
  Counters t;
  struct rusage usage {};
  if (getrusage(RUSAGE_THREAD, &usage) == 0) t.page_faults = usage.ru_minflt + usage.ru_majflt;
  std::ifstream schedstat("/proc/thread-self/schedstat");
  unsigned long long on_cpu = 0, waiting = 0;
  if (schedstat >> on_cpu >> waiting) t.on_cpu = double(on_cpu) / 1e6, t.waiting = double(waiting) / 1e6;
  return t;
}

// Resident set now, and its peak so far, in MiB.
double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
double peak_rss_mib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

// The weight copies the timeline holds (by design: up to AppState::kTimelineMax of them), so that
// RSS growth over a long run can be told apart from a leak.
double timeline_mib(const AppState& state) {
  double bytes = 0;
  for (const auto& entry : state.timeline)
    if (entry.weights) bytes += 4.0 * double(parameter_count(entry.weights->config()));
  return bytes / (1024.0 * 1024.0);
}

// The loss history (bounded: latent/history.h): the trainer's log and the app's copy (a StepRecord
// each) and the curves' six derived series (a double each), counted by their length.
double step_logs_mib(const AppState& state) {
  const double per_step = 2.0 * sizeof(StepRecord) + 6.0 * sizeof(double);
  return per_step * double(state.steps.size()) / (1024.0 * 1024.0);
}

void write_list(std::ostream& out, const char* name, const std::vector<double>& values) {
  out << ",\n  \"" << name << "\": [";
  for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
  out << "]";
}

std::string json_escaped(std::string s) {
  for (size_t i = s.find_first_of("\"\\"); i != std::string::npos; i = s.find_first_of("\"\\", i + 2)) s.insert(i, 1, '\\');
  return s;
}

}  // namespace

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double ms_since_process_start() {
  std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  double up = 0;
  if (paren == std::string::npos || !(uptime >> up)) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  unsigned long long start_ticks = 0;
  if (!(fields >> start_ticks)) return 0;
  return 1000.0 * (up - double(start_ticks) / double(sysconf(_SC_CLK_TCK)));
}

FrameStats::FrameStats(Clock::time_point launched, double before_main_ms) : launched_(launched), before_main_ms_(before_main_ms) {}

std::string FrameStats::open_frame_log(const std::string& path) {
  if (path.empty()) return "";
  frame_log_ = std::make_unique<std::ofstream>(path);
  if (!*frame_log_) {
    frame_log_.reset();
    return "cannot write the frame log " + path;
  }
  *frame_log_ << "frame,seconds,frame_ms,update_ms,textures_ms";
  for (const ViewInfo& view : view_registry()) *frame_log_ << ',' << view.name << "_ms";
  *frame_log_ << ",render_ms,present_ms,damaged_share,triangles,trainer_step,cpu_ms,waiting_ms,page_faults\n";
  return "";
}

void FrameStats::begin_frame() {
  if (frame_log_) before_ = thread_counters<Counters>();
}

void FrameStats::end_frame(const FrameTimes& t, const AppState& state) {
  using Ms = std::chrono::duration<double, std::milli>;
  ++frame_;
  const double ms = ms_since(t.start);
  damaged_.push_back(t.presented ? t.damaged_share : 0.0);
  frame_triangles_.push_back(double(t.triangles));
  if (t.presented)
    last_present_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (frame_ > 1) {
    build_ms_.push_back(Ms(t.built - t.start).count());
    render_ms_.push_back(Ms(t.drawn - t.built).count());
    present_ms_.push_back(ms_since(t.drawn));
    if (t.presented) presented_ms_.push_back(ms);
  }
  if (frame_log_) {
    *frame_log_ << frame_ << ',' << t.clock << ',' << ms << ',' << Ms(t.updated - t.start).count() << ',' << t.textures_ms;
    for (double v : t.view_ms) *frame_log_ << ',' << v;
    *frame_log_ << ',' << Ms(t.drawn - t.built).count() << ',' << ms - Ms(t.drawn - t.start).count() << ','
                << (t.presented ? t.damaged_share : 0.0) << ',' << t.triangles << ',' << (state.snapshot ? state.snapshot->step : 0) << ',';
    const Counters now = thread_counters<Counters>();
    const bool kept = now.on_cpu >= 0 && before_.on_cpu >= 0;
    *frame_log_ << (kept ? now.on_cpu - before_.on_cpu : -1.0) << ',' << (kept ? now.waiting - before_.waiting : -1.0) << ','
                << now.page_faults - before_.page_faults << '\n';
  }
  if (frame_ == 1) first_frame_ms_ = before_main_ms_ + ms_since(launched_), rss_first_frame_ = rss_mib();
  else frame_ms_.push_back(ms);
  // Once a minute: warm-up against growth, and malloc's share of it (in use, and freed but kept).
  if (ms_since(launched_) >= 60000.0 * double(rss_by_minute_.size() + 1)) {
    rss_by_minute_.push_back(rss_mib());
    timeline_by_minute_.push_back(timeline_mib(state));
    logs_by_minute_.push_back(step_logs_mib(state));
    const struct mallinfo2 m = mallinfo2();
    heap_in_use_by_minute_.push_back(double(m.uordblks + m.hblkhd) / (1024.0 * 1024.0));
    heap_free_by_minute_.push_back(double(m.fordblks) / (1024.0 * 1024.0));
  }
}

void FrameStats::take_training_totals(const AppState& state, double now) {
  if (!state.trainer) return;
  auto s = state.trainer->snapshot();
  steps_at_end_ = s->step - state.train_steps_at_start;
  batch_ = s->train.batch_size;
  train_seconds_ = state.train_started >= 0 ? now - state.train_started : 0;
  step_samples_per_s_ = s->step_seconds > 0 ? double(s->stepped_samples) / s->step_seconds : 0;
}

void FrameStats::write_json(const std::string& path, const AppState& state, const Shell& shell, const Gfx& gfx,
                            const RecordingSession& recording, int64_t record_dropped) const {
  if (path.empty()) return;
  std::ofstream out(path);
  const char* background = state.options.pad_background == PadBackground::Manifold    ? "manifold"
                           : state.options.pad_background == PadBackground::Aggregate ? "aggregate"
                                                                                      : "scatter";
  out << "{\n  \"frames\": " << frame_ << ",\n  \"frame_ms_p50\": " << percentile(frame_ms_, 0.5)
      << ",\n  \"frame_ms_p99\": " << percentile(frame_ms_, 0.99)
      << ",\n  \"frame_ms_max\": " << (frame_ms_.empty() ? 0 : *std::max_element(frame_ms_.begin(), frame_ms_.end()))
      << ",\n  \"build_ms_p50\": " << percentile(build_ms_, 0.5) << ",\n  \"render_ms_p50\": " << percentile(render_ms_, 0.5)
      << ",\n  \"present_ms_p50\": " << percentile(present_ms_, 0.5) << ",\n  \"build_ms_p99\": " << percentile(build_ms_, 0.99)
      << ",\n  \"render_ms_p99\": " << percentile(render_ms_, 0.99) << ",\n  \"present_ms_p99\": " << percentile(present_ms_, 0.99)
      << ",\n  \"presented_frames\": " << presented_ms_.size() << ",\n  \"presented_ms_p50\": " << percentile(presented_ms_, 0.5)
      << ",\n  \"presented_ms_p99\": " << percentile(presented_ms_, 0.99) << ",\n  \"last_present_unix_ms\": " << last_present_unix_ms_
      << ",\n  \"damaged_share_mean\": " << mean(damaged_) << ",\n  \"damaged_share_p99\": " << percentile(damaged_, 0.99)
      << ",\n  \"redraw_check_pixels\": " << pixels_unlike_full_ << ",\n  \"redraw_check_frames\": " << frames_unlike_full_
      << ",\n  \"train_samples_per_s\": " << (train_seconds_ > 0 ? double(steps_at_end_ * batch_) / train_seconds_ : 0)
      << ",\n  \"train_step_samples_per_s\": " << step_samples_per_s_ << ",\n  \"train_steps\": " << steps_at_end_
      << ",\n  \"first_frame_ms\": " << first_frame_ms_ << ",\n  \"gl_init_ms\": " << gl_init_ms_
      << ",\n  \"model_ready_ms\": " << model_ready_ms_ << ",\n  \"before_main_ms\": " << before_main_ms_
      << ",\n  \"startup_heap_advised_mib\": " << double(startup_heap().advised_bytes) / (1 << 20) << ",\n  \"startup_heap\": \""
      << startup_heap().why << "\"" << ",\n  \"dataset_load_ms\": " << state.dataset_load_ms
      << ",\n  \"rss_first_frame_mib\": " << rss_first_frame_ << ",\n  \"rss_end_mib\": " << rss_mib();
  write_list(out, "rss_by_minute_mib", rss_by_minute_);
  write_list(out, "timeline_by_minute_mib", timeline_by_minute_);
  write_list(out, "step_logs_by_minute_mib", logs_by_minute_);
  write_list(out, "heap_in_use_by_minute_mib", heap_in_use_by_minute_);
  write_list(out, "heap_free_kept_by_minute_mib", heap_free_by_minute_);
  out << ",\n  \"peak_rss_mib\": " << peak_rss_mib() << ",\n  \"timeline_entries\": " << state.timeline.size()
      << ",\n  \"timeline_mib\": " << timeline_mib(state) << ",\n  \"grid_decode_ms\": " << state.grid_decode_ms
      << ",\n  \"pad_decode_ms\": " << state.decode_ms << ",\n  \"record_dropped\": " << record_dropped
      << ",\n  \"record_read_from_window\": " << recording.frames_read_from_window()
      << ",\n  \"record_read_through_gl\": " << recording.frames_read_through_gl()
      << ",\n  \"triangles_p50\": " << percentile(frame_triangles_, 0.5)
      // Where the shaders came from (a folder, or "embedded") and how many demos were found.
      << ",\n  \"shaders\": \"" << json_escaped(gfx.renderer.source()) << "\",\n  \"demo_scenes\": " << demo_scene_paths().size()
      // Where each open view is at the end, in the window's coordinates (presentation tests check them).
      << ",\n  \"display_width\": " << ImGui::GetIO().DisplaySize.x << ",\n  \"display_height\": " << ImGui::GetIO().DisplaySize.y
      << ",\n  \"presenting\": " << (shell.presenting() ? "true" : "false") << ",\n  \"tab\": \"" << state.options.tab
      << "\",\n  \"pad_background\": \"" << background << "\",\n  \"banners\": " << state.banners.size()
      << ",\n  \"architecture\": \"" << (state.snapshot ? state.snapshot->model.architecture : std::string()) << "\",\n  \"views\": [";
  bool first_view = true;
  for (const ViewInfo& info : view_registry())
    if (const ui::WindowRect r = shell.view_rect(info.name); r.width > 0) {
      out << (first_view ? "" : ",") << "\n    {\"name\": \"" << info.name << "\", \"x\": " << r.x << ", \"y\": " << r.y
          << ", \"width\": " << r.width << ", \"height\": " << r.height << "}";
      first_view = false;
    }
  out << "\n  ]\n}\n";
  if (!out) std::fprintf(stderr, "error: cannot write stats %s\n", path.c_str());
}

}  // namespace latent::app
