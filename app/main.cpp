// latent-explorer: the GLFW/OpenGL/ImGui front end over latent_core.
// The frame loop follows Dear ImGui's example_glfw_opengl3 (poll, NewFrame, panels, Render, draw,
// show), with our own renderer in place of ImGui's OpenGL3 backend: it draws only what changed and
// shows only that where pixels cost CPU time (UiRenderer, FramePresenter). It sleeps while nothing
// trains and caps the frame rate while something does. What comes before and after the loop is in
// startup.h, what it measures in frame_stats.h.
#include <glad/gl.h>
// glad must come before GLFW.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "app_state.h"
#include "frame_stats.h"
#include "gfx.h"
#include "gl/frame_presenter.h"
#include "gl/ui_renderer.h"
#include "gl/window_present.h"
#include "install_dirs.h"
#include "latent/files.h"
#include "latent/startup_heap.h"
#include "latent/torchscript.h"
#include "recording_session.h"
#include "shell.h"
#include "startup.h"
#include "views/view.h"

using namespace latent;
using namespace latent::app;

namespace {

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

}  // namespace

int main(int argc, char** argv) {
  const auto launched = Clock::now();
  end_startup_heap(kExplorerHeap);  // LibTorch started on huge pages; now malloc's run-time policy (startup_heap.h)
  FrameStats stats(launched, ms_since_process_start());
  // A missing MNIST is not fetched behind the user's back while the window waits: the first start
  // offers the download instead (Shell, AppState::download_mnist). LATENT_NO_DOWNLOAD=0 fetches it.
  setenv("LATENT_NO_DOWNLOAD", "1", 0);
  refuse_user_code_on_this_thread();  // a user's TorchScript model runs on the trainer and the worker, never here
  AppOptions options;
  std::vector<bool> open_views;
  if (const int code = read_start_options(argc, argv, options, open_views); code >= 0) return code;
  const LayoutFile layout = layout_file(options.layout, !options.scene.empty());
  const ui::Colormap colormap = options.colormap;
  const Redraw redraw = options.redraw;
  // The dataset and the model load on another thread while GLFW opens the window and ImGui builds
  // its font atlas (measured: ~50 ms off the first frame; bench/explorer prints the breakdown).
  auto pending_state = std::async(std::launch::async, [opts = std::move(options)]() mutable {
    const auto begin = Clock::now();
    auto state = std::make_unique<AppState>(std::move(opts));
    return std::make_pair(std::move(state), ms_since(begin));
  });
  GLFWwindow* window = open_main_window();
  if (!window) return 1;
  const float display_scale = start_imgui(window, layout);
  UiRenderer renderer;
  const std::string ui_problem = renderer.init(shader_dir(), kPanelBackground);
  if (!renderer.ready()) return std::fprintf(stderr, "error: %s\n", ui_problem.c_str()), 1;
  install_x_error_handlers(autosave_before_exit);
  FramePresenter presenter(window, renderer, redraw);
  stats.set_gl_init_done();
  std::string restart_scene;  // File -> Demos / Open scene: the scene the next start opens
  bool restart_presenting = false;
  {
    Gfx gfx;
    gfx.colormap = colormap;
    const std::string shader_problem = gfx.renderer.init(shader_dir());
    auto [state_owner, state_ms] = pending_state.get();
    AppState& state = *state_owner;
    stats.set_model_ready_ms(state_ms);
    announce_start(state, {shader_problem, layout.problem, ui_problem, stats.open_frame_log(state.options.frame_log)});
    Shell shell(std::move(open_views), config_directory() + "/settings.ini", layout.first_start, state);
    FrameRecorder recorder(window, presenter.software(), state);
    begin_exit_guard(state);
    while (!glfwWindowShouldClose(window) && !quit_signalled()) {
      if (state.training() || state.options.frames > 0 || keyboard_input_pending()) glfwPollEvents();
      else glfwWaitEventsTimeout(0.1);  // idle: sleep until input, or 10 times a second
      FrameTimes t;
      t.start = Clock::now();
      stats.begin_frame();
      if (glfwGetWindowAttrib(window, GLFW_ICONIFIED)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      state.update(glfwGetTime());
      recorder.prepare_frame(glfwGetTime());
      t.updated = Clock::now();
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
      t.textures_ms = ms_since(textures_start);
      shell.build(state, gfx, window, t.view_ms);
      if (shell.quit_requested()) glfwSetWindowShouldClose(window, GLFW_TRUE);
      ImGui::Render();
      t.built = Clock::now();
      install_x_error_handlers(autosave_before_exit);  // GLFW may have put Xlib's fatal default back
      const ImDrawData& draw = *ImGui::GetDrawData();
      const int fb_width = int(draw.DisplaySize.x * draw.FramebufferScale.x), fb_height = int(draw.DisplaySize.y * draw.FramebufferScale.y);
      if (const std::string message = presenter.prepare(fb_width, fb_height); !message.empty()) state.notify(message, true, 10);
      t.presented = renderer.render(draw);
      // Recording: the frame as drawn, before it is shown (the window's back buffer is swapped away).
      recorder.after_draw(state, [&](const std::string& view) { return shell.view_rect(view); }, renderer, fb_width, fb_height,
                          draw.FramebufferScale.x, draw.FramebufferScale.y, glfwGetTime());
      if (presenter.redraw() == Redraw::Check) stats.add_redraw_check(renderer.count_pixels_unlike_full_redraw(draw));
      t.damaged_share = renderer.damaged_fraction(), t.triangles = draw.TotalIdxCount / 3;
      t.drawn = Clock::now();
      // A scripted run (--frames) ends after its frames, and after its timeline replay.
      const bool last = state.options.frames > 0 && stats.frames() + 1 >= state.options.frames && !recorder.holds_the_run(state);
      if (t.presented) recorder.before_present(), presenter.present(fb_height);
      recorder.presented();
      t.clock = glfwGetTime();
      stats.end_frame(t, state);
      if (last) break;
      // Cap at 60 frames a second while training: the trainer needs the CPU more than we do.
      if (const double ms = ms_since(t.start); state.training() && ms < 1000.0 / 60)
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(1000.0 / 60 - ms));
    }
    recorder.stop(state);
    recorder.release();
    interrupt_user_code();  // a user's module looping on the trainer or the worker stops at once: closing never waits on it
    // The last frame, however the app was closed: it is still whole in the kept framebuffer.
    if (!state.options.screenshot.empty() && stats.frames() > 0 && !write_screenshot(state.options.screenshot, renderer))
      std::fprintf(stderr, "error: cannot write screenshot %s\n", state.options.screenshot.c_str());
    stats.take_training_totals(state, glfwGetTime());
    autosave(state);
    end_exit_guard();
    stats.write_json(state.options.stats, state, shell, gfx, recorder.session(), recorder.dropped());
    shell.save_settings(state);
    gfx.renderer.shutdown();
    restart_scene = state.restart_scene;
    restart_presenting = shell.presenting();
  }
  renderer.shutdown();
  close_main_window(window);
  return restart_scene.empty() ? 0 : restart_with_scene(argc, argv, restart_scene, restart_presenting);
}
