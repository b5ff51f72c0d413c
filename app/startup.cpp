#include "startup.h"

#include <glad/gl.h>
// glad must come before GLFW.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <utility>

#include "install_dirs.h"
#include "latent/data_sources.h"
#include "shell.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/torchscript.h"
#include "views/view.h"

namespace latent::app {
namespace {

std::atomic<bool> g_quit{false};
void on_signal(int) { g_quit = true; }  // Ctrl-C or SIGTERM: close like the window's close button

// The state an emergency exit saves (the X server gone, an uncaught exception): set while the
// frame loop runs, on the main thread, which is where both of those happen.
AppState* g_state = nullptr;

void glfw_error(int code, const char* text) { std::fprintf(stderr, "glfw error %d: %s\n", code, text); }

std::string autosave_path(const AppState& state) {
  if (!state.options.autosave.empty()) return state.options.autosave;
  return state.options.frames == 0 ? data_home() + "/autosave.ckpt" : "";
}

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

int start_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", printable(message).c_str());
  return 2;
}

}  // namespace

int read_start_options(int argc, char** argv, AppOptions& options, std::vector<bool>& open_views) {
  try {
    options = parse_app_options(argc, argv);
    open_views = views_to_open(options.views);  // before any window opens: a bad name is one error line
  } catch (const Error& e) {
    return start_error(e.what());
  }
  if (!options.record.view.empty()) {
    try {
      views_to_open({options.record.view});
    } catch (const Error&) {
      return start_error("--record-view: unknown view '" + options.record.view + "' (a --views name, or window)");
    }
  }
  if (!options.compare.empty() || options.compare_beta >= 0) {  // B given: the view that shows it opens
    const std::vector<bool> compare = views_to_open({"compare"});
    for (size_t i = 0; i < open_views.size(); ++i) open_views[i] = open_views[i] || compare[i];
  }
  if (options.lesson >= lesson_count())
    return start_error("--lesson: " + std::to_string(options.lesson + 1) + " is not a lesson (1 to " + std::to_string(lesson_count()) + ")");
  if (options.run.help) {
    std::printf("usage: latent-explorer [flags]\nWatch a VAE learn, and explore its latent space.\n\n%s%s", run_options_help().c_str(),
                app_options_help().c_str());
    return 0;
  }
  return -1;
}

GLFWwindow* open_main_window() {
  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr, "error: cannot initialise GLFW (is there a display? try xvfb-run)\n");
    return nullptr;
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
    return nullptr;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(0);  // the loop paces itself; vsync would hide frame-time measurements
  if (!gladLoadGL(glfwGetProcAddress)) {
    std::fprintf(stderr, "error: cannot load OpenGL functions\n");
    return nullptr;
  }
  return window;
}

float start_imgui(GLFWwindow* window, const LayoutFile& layout) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = layout.usable ? layout.path.c_str() : nullptr;
  float xscale = 1, yscale = 1;
  glfwGetWindowContentScale(window, &xscale, &yscale);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  queue_keyboard_input(window);  // between GLFW and the backend's callbacks
  const float scale = std::max(1.0f, xscale);
  build_fonts(scale);
  return scale;
}

void close_main_window(GLFWwindow* window) {
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
}

LayoutFile layout_file(const std::string& option, bool from_scene) {
  LayoutFile f;
  f.path = option.empty() ? config_directory() + "/layout.ini" : option;
  // A bare file name has no parent to make; an unwritable place is said once, and the app runs on.
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(f.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) f.problem = "cannot make " + parent.string() + " for the window layout (" + ec.message() + "); it will not be remembered";
  // ImGui opens the layout file itself: anything but a regular file (a directory, a FIFO, which would
  // block the open) is not used, and said so.
  const std::string kind = describe_path(f.path);
  f.usable = kind.empty() || kind == "missing";
  if (f.problem.empty())
    if (const std::string problem = write_problem(f.path); !problem.empty())
      f.problem = "cannot use " + f.path + " for the window layout (" + problem + "); it will not be remembered";
  f.first_start = !kind.empty() || from_scene;
  return f;
}

void build_fonts(float scale, bool high_contrast) {
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

void announce_start(AppState& state, const std::vector<std::string>& problems) {
  for (const std::string& problem : problems)
    if (!problem.empty()) state.notify(problem, true, 15);
  if (const std::string problem = autosave_problem(state); !problem.empty()) state.notify(problem, true, 0);
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
  if (const AppOptions& o = state.options; !o.scene.empty())
    state.notify((o.scene_title.empty() ? "scene " + o.scene : o.scene_title) + (o.scene_watch.empty() ? "" : ". Watch: " + o.scene_watch),
                 false, 30);
  for (const std::string& refused : state.options.scene_refused) state.notify("scene " + state.options.scene + ": left out " + refused, true, 0);
}

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

void autosave_before_exit() {
  AppState* state = std::exchange(g_state, nullptr);  // once, even if saving fails the same way
  if (!state) return;
  try {
    autosave(*state);
  } catch (...) {
  }
}

void begin_exit_guard(AppState& state) {
  g_state = &state;
  std::set_terminate([] {
    std::fprintf(stderr, "error: unexpected failure; saving the model before exiting\n");
    autosave_before_exit();
    std::abort();
  });
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

void end_exit_guard() { g_state = nullptr; }

bool quit_signalled() { return g_quit; }

int restart_with_scene(int argc, char** argv, const std::string& scene, bool presenting) {
  std::vector<std::string> args = {argv[0], "--scene", scene};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    for (const char* place : {"--layout", "--autosave", "--checkpoint", "--frames", "--stats", "--screenshot", "--frame-log"})
      if (a == place && i + 1 < argc) args.push_back(a), args.push_back(argv[i + 1]);
      else if (a.rfind(std::string(place) + "=", 0) == 0) args.push_back(a);
  }
  if (presenting) args.push_back("--present");
  std::vector<char*> exec_argv;
  for (std::string& a : args) exec_argv.push_back(a.data());
  exec_argv.push_back(nullptr);
  std::fflush(nullptr);
  execv("/proc/self/exe", exec_argv.data());
  std::fprintf(stderr, "error: cannot start again with the scene %s: %s\n", scene.c_str(), std::strerror(errno));
  return 1;
}

}  // namespace latent::app
