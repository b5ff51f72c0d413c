// latent-explorer: the GLFW/OpenGL/ImGui front end over latent_core.
// The frame loop follows Dear ImGui's example_glfw_opengl3 (poll, NewFrame, panels, Render, draw,
// show), with our own renderer in place of ImGui's OpenGL3 backend: it draws only what changed and
// shows only that (UiRenderer, WindowPresenter). It sleeps while nothing trains and caps the frame
// rate while something does.
#include <glad/gl.h>
// glad must come before GLFW.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <stb_image_write.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <thread>
#include <utility>

#include "app_state.h"
#include "gfx.h"
#include "gl/ui_renderer.h"
#include "gl/window_present.h"
#include "install_dirs.h"
#include "recording_session.h"
#include "scene.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/torchscript.h"
#include "views/view.h"
#include "ui/damage.h"
#include "shell.h"
#include "latent/startup_heap.h"

namespace {

using namespace latent;
using namespace latent::app;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_quit{false};
void on_signal(int) { g_quit = true; }  // Ctrl-C or SIGTERM: close like the window's close button

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// $LATENT_SHADER_DIR, else shaders/ in the source tree (a build) or the installed copy; the copy
// embedded at build time when none of them has them.
std::string shader_dir() {
  if (const char* v = std::getenv("LATENT_SHADER_DIR"); v && *v) return v;
  const std::string dir = data_dir(LATENT_SOURCE_SHADER_DIR, "shaders");
  return dir.empty() ? LATENT_SOURCE_SHADER_DIR : dir;
}

bool write_screenshot(const std::string& path, const UiRenderer& renderer) {
  int width = 0, height = 0;
  const std::vector<unsigned char> pixels = renderer.read_pixels(width, height);
  stbi_flip_vertically_on_write(1);
  return stbi_write_png(path.c_str(), width, height, 4, pixels.data(), width * 4) != 0;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / double(v.size());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[size_t(std::min<double>(double(v.size() - 1), p * double(v.size() - 1) + 0.5))];
}

// Milliseconds since the kernel started this process: what passed before main() is the loading
// and static initialisation of the shared libraries, LibTorch's above all. 10 ms resolution.
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

// This thread's time on a CPU and runnable but waiting for one, in milliseconds (the kernel's
// schedstat; -1 where it is not kept). In --frame-log they split a frame into our own work, time
// other threads and processes had our core (the trainer, the inference worker, Mesa's rasterizer
// threads, the X server), and the rest: asleep, waiting on the rasterizer or the X server.
// With them the thread's page faults (getrusage): a fresh mapping's pages cost 10-15 µs each here.
struct ThreadCounters {
  double on_cpu = -1, waiting = -1;
  long page_faults = 0;
};
ThreadCounters thread_counters() {
  ThreadCounters t;
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

// The loss history, which grows with every step by design: the trainer's log and the app's copy
// (a StepRecord each) and the curves' six derived series (a double each), counted by their length.
double step_logs_mib(const AppState& state) {
  const double per_step = 2.0 * sizeof(StepRecord) + 6.0 * sizeof(double);
  return per_step * double(state.steps.size()) / (1024.0 * 1024.0);
}

// What malloc holds, in MiB, over all arenas: in use (blocks handed out, mapped ones included), and
// freed but kept in its arenas. Beside RSS once a minute, it tells a leak or a growing structure
// (in use grows) from fragmentation (free kept grows) from memory malloc never saw (neither grows).
struct HeapMib {
  double in_use = 0, free_kept = 0;
};
HeapMib heap_mib() {
  const struct mallinfo2 m = mallinfo2();
  return {double(m.uordblks + m.hblkhd) / (1024.0 * 1024.0), double(m.fordblks) / (1024.0 * 1024.0)};
}

// Closing the app mid-run keeps the work: the model is saved where the next start can resume it
// (--autosave, else <data home>/autosave.ckpt; --frames runs only when --autosave is given).
std::string autosave_path(const AppState& state) {
  if (!state.options.autosave.empty()) return state.options.autosave;
  return state.options.frames == 0 ? data_home() + "/autosave.ckpt" : "";
}

// Said at the start, while there is still time to choose another place: not when the window closes.
std::string autosave_problem(const AppState& state) {
  const std::string path = autosave_path(state);
  if (path.empty()) return "";
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string problem = write_problem(path);
  if (problem.empty()) return "";
  return "closing will not autosave to " + path + " (" + problem + "); Save the model yourself, or start with another --autosave";
}

void autosave(AppState& state) {
  if (!state.trainer) return;
  const auto snapshot = state.trainer->snapshot();
  if (autosave_path(state).empty() || snapshot->step <= 0) return;
  // A PyTorch model (--model) is saved as TorchScript, beside where a checkpoint would go.
  const std::string path = save_path_for(snapshot->model, autosave_path(state));
  const bool scripted = snapshot->model.script != nullptr;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string problem = state.trainer->save(path).get();
  if (problem.empty())
    std::fprintf(stderr, "autosaved to %s (%s %s)\n", path.c_str(), scripted ? "open it again with --model" : "resume with --resume",
                 path.c_str());
  else
    std::fprintf(stderr, "autosave failed: %s\n", problem.c_str());
}

// The state an emergency exit saves (the X server gone, an uncaught exception): set while the
// frame loop runs, on the main thread, which is where both of those happen.
AppState* g_state = nullptr;
void autosave_before_exit() {
  AppState* state = std::exchange(g_state, nullptr);  // once, even if saving fails the same way
  if (!state) return;
  try {
    autosave(*state);
  } catch (...) {
  }
}

void glfw_error(int code, const char* text) { std::fprintf(stderr, "glfw error %d: %s\n", code, text); }

// Presentation mode's colours: white text on black, bright frames and borders, for a projector.
void apply_high_contrast(ImGuiStyle& style) {
  ImVec4* c = style.Colors;
  c[ImGuiCol_Text] = ImVec4(1, 1, 1, 1);
  c[ImGuiCol_TextDisabled] = ImVec4(0.85f, 0.85f, 0.85f, 1);
  c[ImGuiCol_Border] = ImVec4(0.9f, 0.9f, 0.9f, 0.7f);
  c[ImGuiCol_FrameBg] = ImVec4(0.16f, 0.18f, 0.24f, 1);
  c[ImGuiCol_TitleBg] = c[ImGuiCol_TitleBgActive] = ImVec4(0.1f, 0.25f, 0.55f, 1);
  c[ImGuiCol_Button] = ImVec4(0.2f, 0.45f, 0.85f, 1);
  c[ImGuiCol_Separator] = ImVec4(0.8f, 0.8f, 0.8f, 1);
  style.FrameBorderSize = 1;
  style.WindowBorderSize = 2;
}

void apply_style(float scale, bool high_contrast) {
  // From a fresh style each time: ScaleAllSizes multiplies what is there, so scaling the previous
  // style compounded every change (four Ctrl+− and a Ctrl+0 took the scrollbars to zero width, and
  // an ImGui assertion ended the app).
  ImGuiStyle& style = ImGui::GetStyle();
  style = ImGuiStyle();
  ImGui::StyleColorsDark(&style);
  style.WindowRounding = 4;
  style.FrameRounding = 3;
  style.WindowPadding = ImVec2(8, 8);
  if (high_contrast) apply_high_contrast(style);
  style.ScaleAllSizes(scale);
  // Opaque: begin_panel() draws it only where windows overlap; elsewhere the clear colour shows.
  style.Colors[ImGuiCol_WindowBg] = ImVec4(kPanelBackground[0], kPanelBackground[1], kPanelBackground[2], 1.0f);
}

// The font atlas and the style for a UI scale (the display's content scale times the user's).
void build_fonts(float scale, bool high_contrast = false) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  if (std::filesystem::exists(kUiFont)) {
    io.Fonts->AddFontFromFileTTF(kUiFont, std::round(15.0f * scale), nullptr, font_glyph_ranges());
    set_big_font(io.Fonts->AddFontFromFileTTF(kUiFont, std::round(32.0f * scale), nullptr, font_glyph_ranges()));
    io.FontGlobalScale = 1;
  } else {
    io.Fonts->AddFontDefault();
    set_big_font(nullptr);
    io.FontGlobalScale = scale;
  }
  io.Fonts->Build();
  apply_style(scale, high_contrast);
}

}  // namespace

int main(int argc, char** argv) {
  const auto launched = Clock::now();
  end_startup_heap(kExplorerHeap);  // LibTorch started on huge pages; now malloc's run-time policy (startup_heap.h)
  const double before_main_ms = ms_since_process_start();
  // A missing MNIST is not fetched behind the user's back while the window waits: the first start
  // offers the download instead (Shell, AppState::download_mnist). LATENT_NO_DOWNLOAD=0 fetches it
  // at start as latent-train does.
  setenv("LATENT_NO_DOWNLOAD", "1", 0);
  // A user's TorchScript model runs on the trainer and the views' worker, never here (latent/torchscript.h).
  refuse_user_code_on_this_thread();
  AppOptions options;
  try {
    options = parse_app_options(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", printable(e.what()).c_str());
    return 2;
  }
  std::vector<bool> open_views;
  try {
    open_views = views_to_open(options.views);  // before any window opens: a bad name is one error line
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", printable(e.what()).c_str());
    return 2;
  }
  if (!options.record.view.empty()) {
    try {
      views_to_open({options.record.view});
    } catch (const Error&) {
      std::fprintf(stderr, "error: --record-view: unknown view '%s' (a --views name, or window)\n", options.record.view.c_str());
      return 2;
    }
  }
  if (!options.compare.empty() || options.compare_beta >= 0) {  // B given: the view that shows it opens
    const std::vector<bool> compare = views_to_open({"compare"});
    for (size_t i = 0; i < open_views.size(); ++i) open_views[i] = open_views[i] || compare[i];
  }
  const bool from_scene = !options.scene.empty();  // (options moves into the state below)
  if (options.lesson >= lesson_count()) {
    std::fprintf(stderr, "error: --lesson: %d is not a lesson (1 to %d)\n", options.lesson + 1, lesson_count());
    return 2;
  }
  if (options.run.help) {
    std::printf("usage: latent-explorer [flags]\nWatch a VAE learn, and explore its latent space.\n\n%s%s",
                run_options_help().c_str(), app_options_help().c_str());
    return 0;
  }

  // The dataset and the model load on another thread while GLFW opens the window and ImGui builds
  // its font atlas (measured: ~50 ms off the first frame; bench/explorer prints the breakdown).
  const ui::Colormap colormap = options.colormap;
  const std::string layout_option = options.layout;
  const Redraw options_redraw = options.redraw;
  auto pending_state = std::async(std::launch::async, [opts = std::move(options)]() mutable {
    const auto begin = Clock::now();
    auto state = std::make_unique<AppState>(std::move(opts));
    return std::make_pair(std::move(state), ms_since(begin));
  });

  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr, "error: cannot initialise GLFW (is there a display? try xvfb-run)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  // 1600 x 1000, or less on a smaller screen: the window starts inside the monitor's work area.
  int window_width = 1600, window_height = 1000;
  if (GLFWmonitor* monitor = glfwGetPrimaryMonitor()) {
    int x = 0, y = 0, w = 0, h = 0;
    glfwGetMonitorWorkarea(monitor, &x, &y, &w, &h);
    if (w > 0 && h > 0) window_width = std::min(window_width, w), window_height = std::min(window_height, h);
  }
  GLFWwindow* window = glfwCreateWindow(std::max(800, window_width), std::max(600, window_height), "Latent Explorer", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "error: cannot create an OpenGL 3.3 core window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(0);  // the loop paces itself; vsync would hide frame-time measurements
  if (!gladLoadGL(glfwGetProcAddress)) {
    std::fprintf(stderr, "error: cannot load OpenGL functions\n");
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  const std::string layout = layout_option.empty() ? config_directory() + "/layout.ini" : layout_option;
  std::string layout_problem;
  {
    // A bare file name has no parent to make; an unwritable place is said once, and the app runs on.
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(layout).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) layout_problem = "cannot make " + parent.string() + " for the window layout (" + ec.message() + "); it will not be remembered";
  }
  // ImGui opens the layout file itself: anything but a regular file (a directory, a FIFO, which would
  // block the open) is not used, and said so.
  const std::string layout_kind = describe_path(layout);
  const bool layout_usable = layout_kind.empty() || layout_kind == "missing";
  if (layout_problem.empty())
    if (const std::string problem = write_problem(layout); !problem.empty())
      layout_problem = "cannot use " + layout + " for the window layout (" + problem + "); it will not be remembered";
  // A scene's views are laid out afresh, as at a first start; so are those of a first start.
  const bool first_start = !layout_kind.empty() || from_scene;
  io.IniFilename = layout_usable ? layout.c_str() : nullptr;
  float xscale = 1, yscale = 1;
  glfwGetWindowContentScale(window, &xscale, &yscale);
  const float display_scale = std::max(1.0f, xscale);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  queue_keyboard_input(window);  // between GLFW and the backend's callbacks
  build_fonts(display_scale);
  UiRenderer renderer;
  const std::string ui_problem = renderer.init(shader_dir(), kPanelBackground);
  if (!renderer.ready()) {
    std::fprintf(stderr, "error: %s\n", ui_problem.c_str());
    return 1;
  }
  const WindowPresenter presenter(window);
  install_x_error_handlers(autosave_before_exit);
  // Damage tracking pays only where pixels cost CPU time; on a GPU every frame is drawn whole and
  // swapped, the path every driver does best (--redraw overrides).
  const char* gl_renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  Redraw redraw = options_redraw;
  if (redraw == Redraw::Auto) redraw = ui::is_software_rasterizer(gl_renderer) ? Redraw::Damaged : Redraw::Full;
  // Damaged frames are shown by copying their rectangles out of a back buffer that is never swapped
  // (GLX_MESA_copy_sub_buffer); without the extension, or with LATENT_PRESENT=swap (so that this path
  // is tested too), the frame is kept in a framebuffer object, blitted and swapped whole.
  const char* present_env = std::getenv("LATENT_PRESENT");
  bool copy_rects = redraw != Redraw::Full && presenter.copies_sub_buffers() &&
                    !(present_env && std::string(present_env) == "swap");
  renderer.keep_frame_in_back_buffer(copy_rects);
  // Uncovered or resized: what the window shows may be gone, so the next frame draws it all.
  glfwSetWindowUserPointer(window, &renderer);
  glfwSetWindowRefreshCallback(window, [](GLFWwindow* w) { static_cast<UiRenderer*>(glfwGetWindowUserPointer(w))->invalidate(); });
  int shown_width = 0, shown_height = 0;  // the framebuffer size the last frame was presented at
  int x_errors_seen = 0;
  const double gl_init_ms = ms_since(launched);

  std::vector<double> frame_ms, frame_triangles;
  std::vector<double> build_ms, render_ms, present_ms;  // where a frame's time goes: state + panels, drawing, showing it
  std::vector<double> presented_ms, damaged;  // frames that changed something on screen; share of pixels drawn
  int64_t pixels_unlike_full = 0, frames_unlike_full = 0;  // --redraw check
  double rss_first_frame = 0;
  std::vector<double> rss_by_minute, timeline_by_minute, logs_by_minute;  // once a minute: warm-up vs growth
  std::vector<HeapMib> heap_by_minute;
  double first_frame_ms = 0, model_ready_ms = 0;
  int64_t last_present_unix_ms = 0;  // wall clock when the last changed frame was handed to the X server
  int64_t steps_at_end = 0, batch = 0;
  double train_seconds = 0, step_samples_per_s = 0;
  std::string restart_scene;  // File -> Demos / Open scene: the scene the next start opens
  bool restart_presenting = false;
  {
    Gfx gfx;
    gfx.colormap = colormap;
    const std::string shader_problem = gfx.renderer.init(shader_dir());
    auto [state_owner, state_ms] = pending_state.get();
    AppState& state = *state_owner;
    model_ready_ms = state_ms;
    if (!shader_problem.empty()) state.notify(shader_problem, true, 15);
    if (!layout_problem.empty()) state.notify(layout_problem, true, 10);
    if (const std::string problem = autosave_problem(state); !problem.empty()) state.notify(problem, true, 0);
    Shell shell(std::move(open_views), config_directory() + "/settings.ini", first_start, state);
    const auto& registry = view_registry();
    if (const int lesson = state.options.lesson; lesson >= 0) {
      const AppOptions asked = state.options;
      state.lesson = lesson, show_lesson(state, lesson);  // as Next shows it
      // A setting the command line (or a scene) gives wins over the one the lesson picks.
      const auto given = [&](const char* flag) {
        return std::find(asked.run.unparsed.begin(), asked.run.unparsed.end(), flag) != asked.run.unparsed.end();
      };
      if (given("--pad-background")) state.options.pad_background = asked.pad_background, state.scatter_dirty = state.grid_dirty = true;
      if (given("--tab")) state.options.tab = asked.tab;
      if (given("--curves")) state.options.curve_layout = asked.curve_layout;
    }
    if (const AppOptions& o = state.options; !o.scene.empty())  // `options` itself went into the state
      state.notify((o.scene_title.empty() ? "scene " + o.scene : o.scene_title) + (o.scene_watch.empty() ? "" : ". Watch: " + o.scene_watch),
                   false, 30);
    for (const std::string& refused : state.options.scene_refused)
      state.notify("scene " + state.options.scene + ": left out " + refused, true, 0);
    if (!ui_problem.empty()) state.notify(ui_problem, true, 15);

    g_state = &state;
    std::set_terminate([] {
      std::fprintf(stderr, "error: unexpected failure; saving the model before exiting\n");
      autosave_before_exit();
      std::abort();
    });
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::unique_ptr<std::ofstream> frame_log;
    if (!state.options.frame_log.empty()) {
      frame_log = std::make_unique<std::ofstream>(state.options.frame_log);
      if (!*frame_log) {
        state.notify("cannot write the frame log " + state.options.frame_log, true, 15);
        std::fprintf(stderr, "error: cannot write the frame log %s\n", state.options.frame_log.c_str());
        frame_log.reset();
      } else {
        *frame_log << "frame,seconds,frame_ms,update_ms,textures_ms";
        for (const ViewInfo& view : registry) *frame_log << ',' << view.name << "_ms";
        *frame_log << ",render_ms,present_ms,damaged_share,triangles,trainer_step,cpu_ms,waiting_ms,page_faults\n";
      }
    }
    RecordingSession recording;
    recording.set_direct_readback(ui::is_software_rasterizer(gl_renderer));
    // Under a software rasteriser the frame shown is already in the X server: a recording reads it
    // from there, off this thread (LATENT_RECORD_READ=gl reads through GL instead, for comparison).
    const char* record_read = std::getenv("LATENT_RECORD_READ");
    if (ui::is_software_rasterizer(gl_renderer) && !(record_read && std::string(record_read) == "gl"))
      recording.set_window(window);
    if (!state.options.record.path.empty()) state.record_requested = state.options.record;
    // --record-timeline with --train: the replay starts when the run ends.
    bool record_after_run = state.options.record.timeline && state.options.train;
    bool record_request_seen = false;  // state.record_requested was there in the last frame
    std::string record_summary;  // the last recording's message, for --stats
    int64_t record_dropped = 0;
    const auto stop_recording = [&] {
      if (!recording.active()) return;
      bool failed = false;
      record_summary = recording.stop(failed);
      state.notify(record_summary, failed, 12);
      std::fprintf(stderr, "%s\n", record_summary.c_str());
    };
    int frame = 0;
    while (!glfwWindowShouldClose(window) && !g_quit) {
      const bool busy = state.training() || state.options.frames > 0 || keyboard_input_pending();
      if (busy) glfwPollEvents();
      else glfwWaitEventsTimeout(0.1);  // idle: sleep until input, or 10 times a second
      const auto frame_start = Clock::now();
      const ThreadCounters cpu_before = frame_log ? thread_counters() : ThreadCounters{};
      if (glfwGetWindowAttrib(window, GLFW_ICONIFIED)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      state.update(glfwGetTime());
      recording.prepare_frame(glfwGetTime());
      const auto updated = Clock::now();
      ++gfx.frame;

      if (shell.take_scale_change()) {  // between frames: the atlas a frame draws with must not change under it
        build_fonts(display_scale * shell.ui_scale(), shell.presenting());
        renderer.upload_fonts();
      }
      deliver_keyboard_input(window);
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      const auto textures_start = Clock::now();
      sync_textures(state, gfx);
      const double textures_ms = ms_since(textures_start);
      std::vector<double> view_ms;  // each view's time, registry order (--frame-log)
      shell.build(state, gfx, window, view_ms);
      if (shell.quit_requested()) glfwSetWindowShouldClose(window, GLFW_TRUE);
      ImGui::Render();
      const auto built = Clock::now();

      install_x_error_handlers(autosave_before_exit);  // GLFW may have put Xlib's fatal default back
      if (copy_rects && x_errors() != x_errors_seen) {
        // The server refused a copy of rectangles: present whole frames from now on.
        copy_rects = false;
        renderer.keep_frame_in_back_buffer(false);
        renderer.invalidate();
        state.notify("the X server refused a partial update of the window; it is now drawn whole each frame", true, 10);
      }
      x_errors_seen = x_errors();
      const ImDrawData& draw_data = *ImGui::GetDrawData();
      const int fb_width = int(draw_data.DisplaySize.x * draw_data.FramebufferScale.x);
      const int fb_height = int(draw_data.DisplaySize.y * draw_data.FramebufferScale.y);
      if (fb_width != shown_width || fb_height != shown_height) {
        // A new size: everything is drawn again. A back buffer that is never swapped keeps the size
        // it was made at (Mesa resizes it on a swap), so copying rectangles of the new size out of it
        // would show a shifted frame, or fail in the X server when the window grew: one swap first.
        if (copy_rects && shown_width > 0) glfwSwapBuffers(window);
        shown_width = fb_width, shown_height = fb_height;
        renderer.invalidate();
      }
      if (redraw == Redraw::Full) renderer.invalidate();
      const bool drawn = renderer.render(draw_data);
      // Recording: the frame as drawn, before it is shown (the window's back buffer is swapped away).
      {
        const double now = glfwGetTime();
        if (std::exchange(state.stop_recording_requested, false) || recording.should_stop(now)) stop_recording();
        ui::PixelRect region{0, 0, fb_width, fb_height};
        const std::string& view = recording.active() ? recording.settings().view
                                  : state.record_requested             ? state.record_requested->view
                                                                       : std::string();
        if (!view.empty()) {
          const ui::WindowRect r = shell.view_rect(view);
          const float sx = draw_data.FramebufferScale.x, sy = draw_data.FramebufferScale.y;
          // Clipped to the framebuffer: a view partly off screen records what is on it.
          region = {std::max(0, int(std::lround(r.x * sx))), std::max(0, int(std::lround(r.y * sy))),
                    std::min(fb_width, int(std::lround((r.x + r.width) * sx))), std::min(fb_height, int(std::lround((r.y + r.height) * sy)))};
        }
        // Over: no model to train, or it stopped (its epochs done, an error, a divergence) after starting.
        const bool run_over = !state.trainer || (state.snapshot && !state.training() &&
                                                 (state.snapshot->step > 0 || state.snapshot->state == TrainerState::Error ||
                                                  state.snapshot->state == TrainerState::Diverged));
        // A request waits one frame: the dialog that asked closes in the next one, and is not recorded.
        const bool request_ready = state.record_requested && std::exchange(record_request_seen, true);
        if (request_ready && (!record_after_run || run_over)) {
          record_request_seen = false;
          record_after_run = false;
          std::string problem = recording.start(*state.record_requested, region.width(), region.height(), now);
          if (problem.empty() && state.record_requested->timeline) problem = recording.start_replay(state);
          if (!problem.empty()) state.notify(problem, true, 12), std::fprintf(stderr, "error: %s\n", problem.c_str());
          state.record_requested.reset();
        }
        recording.capture(renderer.frame_framebuffer(), region, fb_height, now, state);
        state.recording_status = recording.status(now);
        if (recording.active()) record_dropped = recording.dropped();
      }
      damaged.push_back(drawn ? renderer.damaged_fraction() : 0.0);
      if (redraw == Redraw::Check) {
        const int64_t unlike = renderer.count_pixels_unlike_full_redraw(draw_data);
        pixels_unlike_full += unlike;
        frames_unlike_full += unlike > 0;
      }
      frame_triangles.push_back(draw_data.TotalIdxCount / 3.0);
      const auto drawn_at = Clock::now();
      ++frame;
      // A scripted run (--frames) ends after its frames, and after its timeline replay.
      const bool replay_pending = (record_after_run && state.record_requested) || recording.replaying();
      const bool last = state.options.frames > 0 && frame >= state.options.frames && !replay_pending;
      if (drawn) {
        recording.before_present();
        if (copy_rects) {
          presenter.present_rects(renderer.drawn_rects(), fb_height);
        } else {
          renderer.present();
          glfwSwapBuffers(window);
        }
        last_present_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
      }
      recording.presented();
      const double ms = ms_since(frame_start);
      if (frame > 1) {
        build_ms.push_back(std::chrono::duration<double, std::milli>(built - frame_start).count());
        render_ms.push_back(std::chrono::duration<double, std::milli>(drawn_at - built).count());
        present_ms.push_back(ms_since(drawn_at));
        if (drawn) presented_ms.push_back(ms);
      }
      if (frame_log) {
        using Ms = std::chrono::duration<double, std::milli>;
        *frame_log << frame << ',' << glfwGetTime() << ',' << ms << ',' << Ms(updated - frame_start).count() << ','
                   << textures_ms;
        for (double t : view_ms) *frame_log << ',' << t;
        *frame_log << ',' << Ms(drawn_at - built).count() << ',' << ms - Ms(drawn_at - frame_start).count() << ','
                   << (drawn ? renderer.damaged_fraction() : 0.0) << ',' << draw_data.TotalIdxCount / 3 << ','
                   << (state.snapshot ? state.snapshot->step : 0) << ',';
        const ThreadCounters cpu = thread_counters();
        const bool kept = cpu.on_cpu >= 0 && cpu_before.on_cpu >= 0;
        *frame_log << (kept ? cpu.on_cpu - cpu_before.on_cpu : -1.0) << ',' << (kept ? cpu.waiting - cpu_before.waiting : -1.0)
                   << ',' << cpu.page_faults - cpu_before.page_faults << '\n';
      }
      if (frame == 1) first_frame_ms = before_main_ms + ms_since(launched), rss_first_frame = rss_mib();
      else frame_ms.push_back(ms);
      if (ms_since(launched) >= 60000.0 * double(rss_by_minute.size() + 1)) {
        rss_by_minute.push_back(rss_mib());
        timeline_by_minute.push_back(timeline_mib(state));
        logs_by_minute.push_back(step_logs_mib(state));
        heap_by_minute.push_back(heap_mib());
      }
      if (last) break;
      // Cap at 60 frames a second while training: the trainer needs the CPU more than we do.
      if (state.training() && ms < 1000.0 / 60) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(1000.0 / 60 - ms));
    }

    stop_recording();
    recording.release();
    // A user's module looping on the trainer or the worker stops at once, so that closing never waits on it.
    interrupt_user_code();
    // The last frame, however the app was closed: it is still whole in the kept framebuffer.
    if (!state.options.screenshot.empty() && frame > 0 && !write_screenshot(state.options.screenshot, renderer))
      std::fprintf(stderr, "error: cannot write screenshot %s\n", state.options.screenshot.c_str());
    if (state.trainer) {
      auto s = state.trainer->snapshot();
      steps_at_end = s->step - state.train_steps_at_start;
      batch = s->train.batch_size;
      train_seconds = state.train_started >= 0 ? glfwGetTime() - state.train_started : 0;
      step_samples_per_s = s->step_seconds > 0 ? double(s->stepped_samples) / s->step_seconds : 0;
      autosave(state);
    }
    g_state = nullptr;
    const std::string stats = state.options.stats;
    if (!stats.empty()) {
      std::ofstream out(stats);
      out << "{\n  \"frames\": " << frame << ",\n  \"frame_ms_p50\": " << percentile(frame_ms, 0.5)
          << ",\n  \"frame_ms_p99\": " << percentile(frame_ms, 0.99)
          << ",\n  \"frame_ms_max\": " << (frame_ms.empty() ? 0 : *std::max_element(frame_ms.begin(), frame_ms.end()))
          << ",\n  \"build_ms_p50\": " << percentile(build_ms, 0.5) << ",\n  \"render_ms_p50\": " << percentile(render_ms, 0.5)
          << ",\n  \"present_ms_p50\": " << percentile(present_ms, 0.5)
          << ",\n  \"build_ms_p99\": " << percentile(build_ms, 0.99) << ",\n  \"render_ms_p99\": " << percentile(render_ms, 0.99)
          << ",\n  \"present_ms_p99\": " << percentile(present_ms, 0.99) << ",\n  \"presented_frames\": " << presented_ms.size()
          << ",\n  \"presented_ms_p50\": " << percentile(presented_ms, 0.5)
          << ",\n  \"presented_ms_p99\": " << percentile(presented_ms, 0.99)
          << ",\n  \"last_present_unix_ms\": " << last_present_unix_ms
          << ",\n  \"damaged_share_mean\": " << mean(damaged) << ",\n  \"damaged_share_p99\": " << percentile(damaged, 0.99)
          << ",\n  \"redraw_check_pixels\": " << pixels_unlike_full << ",\n  \"redraw_check_frames\": " << frames_unlike_full
          << ",\n  \"train_samples_per_s\": " << (train_seconds > 0 ? double(steps_at_end * batch) / train_seconds : 0)
          << ",\n  \"train_step_samples_per_s\": " << step_samples_per_s
          << ",\n  \"train_steps\": " << steps_at_end << ",\n  \"first_frame_ms\": " << first_frame_ms
          << ",\n  \"gl_init_ms\": " << gl_init_ms << ",\n  \"model_ready_ms\": " << model_ready_ms
          << ",\n  \"before_main_ms\": " << before_main_ms
          << ",\n  \"startup_heap_advised_mib\": " << double(startup_heap().advised_bytes) / (1 << 20)
          << ",\n  \"startup_heap\": \"" << startup_heap().why << "\"" << ",\n  \"dataset_load_ms\": " << state.dataset_load_ms
          << ",\n  \"rss_first_frame_mib\": " << rss_first_frame << ",\n  \"rss_end_mib\": " << rss_mib()
          << ",\n  \"rss_by_minute_mib\": [";
      for (size_t i = 0; i < rss_by_minute.size(); ++i) out << (i ? ", " : "") << rss_by_minute[i];
      out << "],\n  \"timeline_by_minute_mib\": [";
      for (size_t i = 0; i < timeline_by_minute.size(); ++i) out << (i ? ", " : "") << timeline_by_minute[i];
      out << "],\n  \"step_logs_by_minute_mib\": [";
      for (size_t i = 0; i < logs_by_minute.size(); ++i) out << (i ? ", " : "") << logs_by_minute[i];
      out << "],\n  \"heap_in_use_by_minute_mib\": [";
      for (size_t i = 0; i < heap_by_minute.size(); ++i) out << (i ? ", " : "") << heap_by_minute[i].in_use;
      out << "],\n  \"heap_free_kept_by_minute_mib\": [";
      for (size_t i = 0; i < heap_by_minute.size(); ++i) out << (i ? ", " : "") << heap_by_minute[i].free_kept;
      out << "]" << ",\n  \"peak_rss_mib\": " << peak_rss_mib() << ",\n  \"timeline_entries\": " << state.timeline.size()
          << ",\n  \"timeline_mib\": " << timeline_mib(state) << ",\n  \"grid_decode_ms\": " << state.grid_decode_ms
          << ",\n  \"pad_decode_ms\": " << state.decode_ms << ",\n  \"record_dropped\": " << record_dropped
          << ",\n  \"record_read_from_window\": " << recording.frames_read_from_window()
          << ",\n  \"record_read_through_gl\": " << recording.frames_read_through_gl()
          << ",\n  \"triangles_p50\": " << percentile(frame_triangles, 0.5);
      // Where the shaders came from (a folder, or "embedded") and how many demos were found.
      std::string shaders = gfx.renderer.source();
      for (size_t i = shaders.find_first_of("\"\\"); i != std::string::npos; i = shaders.find_first_of("\"\\", i + 2))
        shaders.insert(i, 1, '\\');
      out << ",\n  \"shaders\": \"" << shaders << "\",\n  \"demo_scenes\": " << demo_scene_paths().size();
      // Where each open view is at the end, in the window's coordinates (presentation tests check them).
      out << ",\n  \"display_width\": " << ImGui::GetIO().DisplaySize.x << ",\n  \"display_height\": " << ImGui::GetIO().DisplaySize.y
          << ",\n  \"presenting\": " << (shell.presenting() ? "true" : "false") << ",\n  \"tab\": \"" << state.options.tab
          << "\",\n  \"pad_background\": \""
          << (state.options.pad_background == PadBackground::Manifold    ? "manifold"
              : state.options.pad_background == PadBackground::Aggregate ? "aggregate"
                                                                         : "scatter")
          << "\",\n  \"banners\": " << state.banners.size() << ",\n  \"architecture\": \""
          << (state.snapshot ? state.snapshot->model.architecture : std::string()) << "\",\n  \"views\": [";
      bool first_view = true;
      for (const ViewInfo& info : registry)
        if (const ui::WindowRect r = shell.view_rect(info.name); r.width > 0) {
          out << (first_view ? "" : ",") << "\n    {\"name\": \"" << info.name << "\", \"x\": " << r.x << ", \"y\": " << r.y
              << ", \"width\": " << r.width << ", \"height\": " << r.height << "}";
          first_view = false;
        }
      out << "\n  ]\n}\n";
      if (!out) std::fprintf(stderr, "error: cannot write stats %s\n", stats.c_str());
    }
    shell.save_settings(state);
    gfx.renderer.shutdown();
    restart_scene = state.restart_scene;
    restart_presenting = shell.presenting();
  }
  renderer.shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  if (!restart_scene.empty()) {
    // The same program again with the scene, keeping the places this run was given (layout,
    // autosave, checkpoint), what a script asked of it (frames, stats, screenshot, frame log) and
    // presentation mode; the scene sets up the rest.
    std::vector<std::string> args = {argv[0], "--scene", restart_scene};
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      for (const char* place : {"--layout", "--autosave", "--checkpoint", "--frames", "--stats", "--screenshot", "--frame-log"})
        if (a == place && i + 1 < argc) args.push_back(a), args.push_back(argv[i + 1]);
        else if (a.rfind(std::string(place) + "=", 0) == 0) args.push_back(a);
    }
    if (restart_presenting) args.push_back("--present");
    std::vector<char*> exec_argv;
    for (std::string& a : args) exec_argv.push_back(a.data());
    exec_argv.push_back(nullptr);
    std::fflush(nullptr);
    execv("/proc/self/exe", exec_argv.data());
    std::fprintf(stderr, "error: cannot start again with the scene %s: %s\n", restart_scene.c_str(), std::strerror(errno));
    return 1;
  }
  return 0;
}
