#pragma once
// The explorer's window around its views: the main menu bar (File, Run, View, Help), the keys,
// the dialogs those open, the layout of the views from the window's size, the UI scale, and the
// settings remembered between runs. The views themselves come from the registry (views/view.h).
#include <memory>
#include <string>
#include <vector>

#include "app_state.h"
#include "gfx.h"
#include "ui/layout.h"
#include "views/view.h"

struct GLFWwindow;

namespace latent::app {

// Keys pressed in this frame's input, with their modifiers (the shell's shortcuts read them).
struct KeyPress {
  int key = 0, mods = 0;
};
// Puts a queue between GLFW's key and character callbacks and ImGui's (ui/input_trickle.h), so that
// a tap shorter than a frame and text typed after Enter or Ctrl+A reach ImGui whole and in order.
// Call after ImGui's GLFW backend has installed its callbacks.
void queue_keyboard_input(GLFWwindow* window);
// Hands ImGui this frame's share of the queued input; call after polling, before ImGui's NewFrame.
void deliver_keyboard_input(GLFWwindow* window);
// Queued input is waiting: the next frame must not sleep until new events.
bool keyboard_input_pending();

class Shell {
 public:
  // `open`: which registry views start open. `settings_path`: the remembered UI scale and export
  // settings (read now, written by save_settings). `lay_out`: arrange the views from the window's
  // size in the first frame (no remembered layout yet).
  Shell(std::vector<bool> open, std::string settings_path, bool lay_out, AppState& state);

  // The UI scale changed since the last call (main then builds the font atlas again, between frames).
  bool take_scale_change();
  float ui_scale() const { return scale_; }
  // Presentation mode (F5, --present): fullscreen, the presentation's UI scale, high contrast, and
  // the lesson's views laid out large around the bound; leaving it restores the window, the scale,
  // the open views and their places.
  void set_presenting(AppState& state, GLFWwindow* window, bool on);
  bool presenting() const { return presenting_; }

  // Within a frame (after ImGui::NewFrame): keys, the menu bar, every open view (its time in
  // view_ms[i], registry order), the dialogs and the message banners on top of it all.
  void build(AppState& state, Gfx& gfx, GLFWwindow* window, std::vector<double>& view_ms);
  bool quit_requested() const { return quit_; }
  // Where the view named `name` (registry) is on screen, in ImGui's coordinates; empty when it is
  // not open or not drawn yet.
  ui::WindowRect view_rect(const std::string& name) const;

  // Writes the settings; an unwritable place becomes a message, and the app goes on.
  void save_settings(AppState& state);

 private:
  void keys(AppState& state, GLFWwindow* window);
  void menu_bar(AppState& state, Gfx& gfx, GLFWwindow* window);
  void dialogs(AppState& state);
  void lay_out_views(float width, float height, float top);
  void lay_out_presentation(float width, float height, float top);
  void toggle_fullscreen(GLFWwindow* window);
  void set_scale(float scale);
  void export_view(AppState& state, Gfx& gfx, const std::string& name);

  std::vector<std::unique_ptr<View>> views_;
  std::vector<bool> open_;  // std::vector<bool> has no bool*: copied in and out around each view
  std::vector<bool> was_open_;  // open_ at the end of the last frame: what opened since
  std::string settings_path_;
  bool settings_usable_ = true;  // a regular file, or none yet
  bool relayout_ = false;     // arrange the views in the next frame
  bool layout_auto_ = false;  // the views follow the window's size (until the user moves one)
  std::vector<ui::WindowRect> assigned_;  // where the layout put each view last
  float last_width_ = 0, last_height_ = 0, last_top_ = 0;
  float scale_ = 1;
  bool scale_changed_ = false;
  int64_t run_generation_ = -1;
  bool quit_ = false;
  // Dialogs.
  bool open_dataset_ = false, open_checkpoint_ = false, save_checkpoint_ = false, export_settings_ = false;
  bool open_model_ = false, watch_model_ = false;
  bool open_scene_ = false, save_scene_ = false;
  bool fashion_here_ = false;  // the first start's offer: Fashion-MNIST is installed
  char scene_title_[256] = "", scene_watch_[512] = "";  // File -> Save scene's lines
  std::vector<std::string> open_view_names() const;
  // The demos' paths and titles, read when the File menu first opens.
  std::vector<std::pair<std::string, std::string>> demos_;
  std::vector<std::string> demo_hints_;
  bool demos_read_ = false;
  void start_scene(AppState& state, const std::string& path);
  bool record_ = false;  // File -> Record...
  RecordSettings record_settings_;
  char record_path_[512] = "";  // File -> Open PyTorch model, and its "watch" box
  bool show_keys_ = false, show_about_ = false;
  char path_[512] = "";
  char export_dir_[512] = "";
  // Presentation mode, and what leaving it restores.
  bool presenting_ = false;
  bool present_fullscreened_ = false;  // it made the window fullscreen (and undoes that)
  float present_scale_ = 0, windowed_scale_ = 1;  // 0: from the screen's height until the user sets one
  std::vector<bool> open_before_present_;
  std::vector<ui::WindowRect> rects_before_present_;
  bool layout_auto_before_present_ = false;
  bool restore_rects_ = false;  // the next frame puts the views back where they were
  int presented_lesson_ = -1;
  const char* layout_file_ = nullptr;  // ImGui's layout file, set aside while presenting
  // Fullscreen: where the window was before it.
  int windowed_[4] = {0, 0, 0, 0};
};

}  // namespace latent::app
