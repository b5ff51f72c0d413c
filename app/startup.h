#pragma once
// The explorer's start and end, around its frame loop (main.cpp): the options checked before any
// window opens, the window and ImGui, where the layout is kept, the fonts, what the first frame
// says, the autosave that keeps the work however the app ends, and starting again with a scene.
#include <string>
#include <vector>

#include "app_state.h"

struct GLFWwindow;

namespace latent::app {

// Parses and checks the command line. Returns the exit code when the program ends here (a bad flag or
// view name: one error line and 2; --help: 0), or -1 to go on with `options` and the views to open.
int read_start_options(int argc, char** argv, AppOptions& options, std::vector<bool>& open_views);

// GLFW and a 1600 x 1000 OpenGL 3.3 core window (less on a smaller screen), its functions loaded.
// nullptr, having said why, when there is no display or no such context.
GLFWwindow* open_main_window();

// ImGui over the window, its layout kept in `layout`, keyboard input queued (shell.h) and the
// fonts built; returns the display's content scale. close_main_window undoes it and the window.
struct LayoutFile;
float start_imgui(GLFWwindow* window, const LayoutFile& layout);
void close_main_window(GLFWwindow* window);

// Where ImGui keeps the window layout: --layout, else the config directory's layout.ini. `problem`
// says why it will not be remembered (an unusable place); a path that is not a regular file is not
// given to ImGui at all. A scene's views are laid out afresh, as at a first start.
struct LayoutFile {
  std::string path, problem;
  bool usable = true;
  bool first_start = false;
};
LayoutFile layout_file(const std::string& option, bool from_scene);

// The font atlas and the style for a UI scale (the display's content scale times the user's), in
// presentation mode's high contrast or not.
void build_fonts(float scale, bool high_contrast = false);

// What the first frame says: the scene and what it left out, the lesson the command line chose (its
// own flags winning over the lesson's picks), and the problems found while starting.
void announce_start(AppState& state, const std::vector<std::string>& problems);

// Closing the app mid-run keeps the work: the model is saved where the next start can resume it
// (--autosave, else <data home>/autosave.ckpt; a --frames run only with --autosave). The place is
// checked at the start, while there is time to choose another: "" or what will go wrong.
std::string autosave_problem(const AppState& state);
void autosave(AppState& state);
// From here until end_exit_guard: an uncaught exception or a lost X server saves `state` before the
// process ends, and SIGINT or SIGTERM closes the window as its close button does.
void begin_exit_guard(AppState& state);
void end_exit_guard();
bool quit_signalled();
// What install_x_error_handlers runs when the display is gone.
void autosave_before_exit();

// File -> Demos and Open scene: runs this program again with --scene `scene`, keeping the places
// this run was given (layout, autosave, checkpoint), what a script asked of it (frames, stats,
// screenshot, frame log) and presentation mode. Returns only when that fails (exit code 1).
int restart_with_scene(int argc, char** argv, const std::string& scene, bool presenting);

}  // namespace latent::app
