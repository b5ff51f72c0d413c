// latent-explorer as a person (or a script) runs it: under Xvfb, training on, a few hundred frames,
// then its screenshot and stats are checked; bad input shows a banner and the app keeps running.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <stb_image.h>
#ifdef LATENT_HAVE_GIF
#include "gif_reader.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "latent/checkpoint.h"
#include "test_support.h"

namespace latent {
namespace {

namespace fs = std::filesystem;

test::ProcessResult explorer(const std::string& dir, std::vector<std::string> args, double timeout_s = 240,
                             const std::string& present = "") {
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1",
                                  "LATENT_PRESENT=" + present, "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", LATENT_EXPLORER_BIN};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return test::run_process(cmd, timeout_s);
}

double json_number(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\": ([-0-9.e+]+)"))) return NAN;
  return std::stod(m[1]);
}

struct Png {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  int count_near(unsigned r, unsigned g, unsigned b, int tolerance = 12) const {
    int n = 0;
    for (size_t i = 0; i + 2 < rgb.size(); i += 3)
      n += std::abs(rgb[i] - int(r)) <= tolerance && std::abs(rgb[i + 1] - int(g)) <= tolerance && std::abs(rgb[i + 2] - int(b)) <= tolerance;
    return n;
  }
};

Png load_png(const std::string& path) {
  Png png;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &png.width, &png.height, &channels, 3);
  if (!data) return png;
  png.rgb.assign(data, data + size_t(png.width) * png.height * 3);
  stbi_image_free(data);
  return png;
}

// 900 frames (15 s at the 60 fps cap while training): time for the worker, which yields the CPU to the
// frame and to training, to fill every view even when other tests load the machine.
TEST(Explorer, TrainsForHundredsOfFramesAndDrawsEveryView) {
  std::string dir = test::temp_dir();
  auto r = explorer(dir, {"--train", "--frames", "900", "--screenshot", dir + "/shot.png", "--stats", dir + "/stats.json",
                          "--frame-log", dir + "/frames.csv", "--pad", "1.5,-0.5", "--interpolate", "3,7", "--autosave",
                          dir + "/auto.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Closing saved the model where it was told, and the file is a checkpoint the next start can resume.
  Checkpoint saved = read_checkpoint(dir + "/auto.ckpt");
  EXPECT_GT(saved.progress.step, 0);
  EXPECT_NE(r.err.find("autosaved to " + dir + "/auto.ckpt"), std::string::npos) << r.err;
  std::ifstream in(dir + "/stats.json");
  std::stringstream json;
  json << in.rdbuf();
  const std::string stats = json.str();
  EXPECT_EQ(json_number(stats, "frames"), 900) << stats;
  for (const char* key : {"frame_ms_p50", "frame_ms_p99", "frame_ms_max", "train_samples_per_s"})
    EXPECT_GT(json_number(stats, key), 0) << key << "\n" << stats;
  EXPECT_GT(json_number(stats, "train_steps"), 5) << stats;
  EXPECT_LE(json_number(stats, "frame_ms_p50"), json_number(stats, "frame_ms_p99"));

  // --frame-log: a header, then one row per frame whose parts fit inside its time, the trainer's
  // step never going back, and the curves view timed once training has logged steps.
  std::ifstream log(dir + "/frames.csv");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  const std::vector<std::string> parts_columns = {"update_ms", "textures_ms", "training_ms", "curves_ms", "pad_ms",
                                                  "image_ms", "interpolation_ms", "gallery_ms", "grid_ms", "lessons_ms", "messages_ms",
                                                  "anomaly_ms", "traversal_ms", "arithmetic_ms", "draw_ms", "denoise_ms", "equation_ms", "compare_ms",
                                                  "render_ms", "present_ms"};
  std::string expected_header = "frame,seconds,frame_ms";
  for (const auto& c : parts_columns) expected_header += "," + c;
  expected_header += ",damaged_share,triangles,trainer_step,cpu_ms,waiting_ms,page_faults";
  ASSERT_EQ(line, expected_header);
  std::map<std::string, size_t> column;
  {
    std::stringstream names(line);
    for (std::string name; std::getline(names, name, ',');) column.emplace(name, column.size());
  }
  int rows = 0, counted_rows = 0;
  double curves_ms = 0, last_step = -1, faults = 0;
  while (std::getline(log, line)) {
    std::vector<double> v;
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) v.push_back(std::stod(f));
    ASSERT_EQ(v.size(), column.size()) << line;
    const auto at = [&](const char* name) { return v[column.at(name)]; };
    EXPECT_EQ(at("frame"), ++rows) << line;
    double parts = 0;
    for (const auto& c : parts_columns) {
      parts += at(c.c_str());
      EXPECT_GE(at(c.c_str()), 0) << c << ": " << line;
    }
    EXPECT_LE(parts, at("frame_ms") + 0.01) << line;  // the parts are inside the frame's time
    EXPECT_GE(at("damaged_share"), 0) << line;
    EXPECT_LE(at("damaged_share"), 1) << line;
    EXPECT_GT(at("triangles"), 0) << line;
    EXPECT_GE(at("trainer_step"), last_step) << line;
    last_step = at("trainer_step");
    curves_ms += at("curves_ms");
    // Time on a CPU and waiting for one: none or more, or -1 where the kernel keeps no schedstat.
    for (const char* c : {"cpu_ms", "waiting_ms"}) EXPECT_TRUE(at(c) >= 0 || at(c) == -1) << c << ": " << line;
    EXPECT_EQ(at("cpu_ms") == -1, at("waiting_ms") == -1) << line;
    counted_rows += at("cpu_ms") >= 0;
    EXPECT_GE(at("page_faults"), 0) << line;
    faults += at("page_faults");
  }
  EXPECT_EQ(rows, 900);
  EXPECT_TRUE(counted_rows == 0 || counted_rows == rows) << "schedstat read in some frames only";
  EXPECT_GT(faults, 0) << "the first frame alone faults in GL's buffers";
  EXPECT_GT(curves_ms, 0);
  EXPECT_GT(last_step, 5);

  Png shot = load_png(dir + "/shot.png");
  ASSERT_EQ(shot.width, 1600);
  ASSERT_EQ(shot.height, 1000);
  std::set<uint32_t> colours;
  for (size_t i = 0; i + 2 < shot.rgb.size(); i += 3) colours.insert(shot.rgb[i] << 16 | shot.rgb[i + 1] << 8 | shot.rgb[i + 2]);
  EXPECT_GT(colours.size(), 500u) << "the screenshot looks empty";
  // The menu bar shows from the first frame, above the views: its background (ImGui's dark
  // MenuBarBg, 36,36,36) along the top row, not the views' title bars laid out over it.
  int menu_background = 0;
  for (int x = 200; x < 1400; ++x) {
    const unsigned char* p = &shot.rgb[(size_t(3) * 1600 + size_t(x)) * 3];
    menu_background += std::abs(p[0] - 36) < 4 && std::abs(p[1] - 36) < 4 && std::abs(p[2] - 36) < 4;
  }
  EXPECT_GT(menu_background, 1000) << "the views cover the menu bar";
  // The scatter's label colours (Tableau 10 blue and orange) and the curves' recon blue are on screen.
  EXPECT_GT(shot.count_near(0x1f, 0x77, 0xb4, 30), 50);
  EXPECT_GT(shot.count_near(0xff, 0x7f, 0x0e, 30), 50);
  EXPECT_GT(shot.count_near(90, 160, 255, 20), 50);
}

// Issue 6, item 4: a user closes the app (SIGTERM, as Ctrl-C or the window manager sends) in the
// middle of training; it autosaves to the documented place, <data home>/autosave.ckpt, and the next
// start resumes from there and trains on.
TEST(Explorer, ClosingWhileTrainingAutosavesAndTheNextStartResumes) {
  const std::string dir = test::temp_dir();
  const std::string home = dir + "/home";
  fs::create_directories(home);
  fs::create_symlink(test::mnist_dir(), home + "/mnist");
  const std::string autosave = home + "/autosave.ckpt";
  // The explorer in the background; SIGTERM after 12 s of training; its exit status is the script's.
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_DATA_HOME=" + home,
                                  "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "sh", "-c",
                                  "\"$0\" \"$@\" & pid=$!; sleep 12; kill -TERM $pid; wait $pid", LATENT_EXPLORER_BIN,
                                  "--train", "--hidden", "64"};
  auto r = test::run_process(cmd, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("autosaved to " + autosave + " (resume with --resume " + autosave + ")"), std::string::npos) << r.err;
  const Checkpoint saved = read_checkpoint(autosave);
  ASSERT_GT(saved.progress.step, 0);
  EXPECT_EQ(saved.model.hidden, std::vector<int>{64});

  r = explorer(dir, {"--resume", autosave, "--train", "--frames", "60", "--autosave", dir + "/again.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("load failed"), std::string::npos) << r.err;
  const Checkpoint again = read_checkpoint(dir + "/again.ckpt");
  EXPECT_GT(again.progress.step, saved.progress.step) << "the second run did not continue the first";
  EXPECT_EQ(again.model.hidden, std::vector<int>{64});
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Frames are drawn only where the draw data changed (ui::DamageTracker, UiRenderer). --redraw check
// draws every frame that way, then draws it again whole over the result and counts the pixels that
// changed: any pixel the damage tracking missed would show up. Training, with every view, and with
// the ELBO tab's heat maps, colormaps and the aggregate-posterior background; the last setup again
// with the frame kept in a framebuffer object and swapped whole (LATENT_PRESENT=swap: the path of
// drivers without GLX_MESA_copy_sub_buffer).
TEST(Explorer, DamagedRedrawDrawsTheSamePixelsAsAFullRedraw) {
  const std::string dir = test::temp_dir();
  const std::vector<std::vector<std::string>> setups = {
      {"--views", "all"},
      {"--views", "all", "--tab", "elbo", "--colormap", "viridis", "--pad-background", "aggregate", "--digit", "3"},
      {"--views", "curves,pad,image", "--tab", "kl", "--curves", "stacked", "--log-y", "--colormap", "magma",
       "--pad-background", "manifold"}};
  for (size_t i = 0; i <= setups.size(); ++i) {
    const std::vector<std::string>& setup = setups[std::min(i, setups.size() - 1)];
    const std::string present = i == setups.size() ? "swap" : "";
    const std::string stats_path = dir + "/stats" + std::to_string(i) + ".json";
    std::vector<std::string> args = {"--train", "--frames", "150", "--redraw", "check", "--stats", stats_path,
                                     "--autosave", dir + "/auto.ckpt"};
    args.insert(args.end(), setup.begin(), setup.end());
    auto r = explorer(dir, args, 240, present);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string stats = read_text(stats_path);
    EXPECT_EQ(json_number(stats, "redraw_check_pixels"), 0) << "setup " << i << "\n" << stats;
    EXPECT_EQ(json_number(stats, "redraw_check_frames"), 0) << "setup " << i;
    EXPECT_GT(json_number(stats, "presented_frames"), 20) << "setup " << i;
    // And it saves work: while training, most of the window stays as it was.
    EXPECT_LT(json_number(stats, "damaged_share_mean"), 0.5) << "setup " << i << "\n" << stats;
  }
}

// What the X server shows (the frame's changed rectangles copied out of the back buffer, or the
// whole frame swapped in) is the frame: a capture of the screen once it has settled equals the
// app's own screenshot of its last frame, pixel for pixel.
//
// "Settled" is two captures a second apart that agree, but on a loaded machine the niced inference
// worker can still be computing a view then, and a frame presented after the capture makes the
// comparison meaningless. So the app reports when it last presented (--stats last_present_unix_ms),
// and a run whose last present did not come before the capture began is tried again, with captures
// further apart, rather than judged.
TEST(Explorer, TheScreenShowsTheWholeFrame) {
  for (const std::string present : {"", "swap"}) {
    bool judged = false;
    for (int attempt = 1; attempt <= 4 && !judged; ++attempt) {
      const std::string dir = test::temp_dir();
      // Capture the screen every `attempt` seconds until two captures of the window (not the black
      // root before it maps) agree, note when the later one began, then close.
      const std::string gap = std::to_string(attempt);
      const std::string script =
          "\"$0\" \"$@\" & pid=$!; prev=''; for i in $(seq 1 " + std::to_string(60 / attempt) + "); do sleep " + gap + "; t=$(date +%s%3N); "
          "import -window root " + dir + "/screen$i.png || continue; "
          "[ \"$(convert " + dir + "/screen$i.png -format '%[max]' info:)\" = 0 ] && continue; "
          "convert " + dir + "/screen$i.png rgb:" + dir + "/screen$i.rgb; "
          "if [ -n \"$prev\" ] && cmp -s \"$prev\" " + dir + "/screen$i.rgb; then cp " + dir + "/screen$i.png " + dir +
          "/screen.png; echo $t > " + dir + "/captured_at; break; fi; prev=" + dir + "/screen$i.rgb; done; "
          "kill -TERM $pid; wait $pid";
      std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1",
                                      "LATENT_PRESENT=" + present, "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "sh",
                                      "-c", script, LATENT_EXPLORER_BIN,
                                      "--views", "training,curves,pad,image,gallery,grid",  // not the animated interpolation
                                      "--screenshot", dir + "/app.png", "--stats", dir + "/stats.json"};
      auto r = test::run_process(cmd, 180);
      const std::string stats = read_text(dir + "/stats.json");
      const std::string captured_at = read_text(dir + "/captured_at");
      // SIGTERM before the app installed its handler, or before its first frame: try again.
      if (r.exit_code == 128 + 15 && stats.empty()) continue;
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ASSERT_FALSE(captured_at.empty()) << "the screen never settled (LATENT_PRESENT=" << present << ")\n" << r.err;
      // The X server takes the last copy well within 100 ms of the app handing it over.
      const double last_present = json_number(stats, "last_present_unix_ms");
      if (!(last_present > 0) || last_present + 100 > std::stod(captured_at)) {
        std::fprintf(stderr, "attempt %d: the app's last present (%.0f) came after the capture began (%s); again\n",
                     attempt, last_present, captured_at.c_str());
        continue;
      }
      judged = true;
      const Png screen = load_png(dir + "/screen.png"), app = load_png(dir + "/app.png");
      ASSERT_EQ(screen.width, 1600);
      ASSERT_EQ(app.width, 1600);
      ASSERT_EQ(screen.rgb.size(), app.rgb.size());
      size_t differing = 0;
      for (size_t i = 0; i < app.rgb.size(); i += 3)
        differing += screen.rgb[i] != app.rgb[i] || screen.rgb[i + 1] != app.rgb[i + 1] || screen.rgb[i + 2] != app.rgb[i + 2];
      EXPECT_EQ(differing, 0u) << "LATENT_PRESENT=" << present;
    }
    EXPECT_TRUE(judged) << "LATENT_PRESENT=" << present << ": in every run the app presented after the settled capture (or before none)";
  }
}

// Bad flags and values on the command line: exit 2 and one "error:" line naming the flag, before
// any window opens (so no display is needed).
struct ViewRect {
  std::string name;
  double x = 0, y = 0, width = 0, height = 0;
};

// The "views" of --stats: each open view's window at the end.
std::vector<ViewRect> view_rects(const std::string& stats) {
  std::vector<ViewRect> rects;
  const std::regex entry(R"re(\{"name": "(\w+)", "x": ([-0-9.e+]+), "y": ([-0-9.e+]+), "width": ([-0-9.e+]+), "height": ([-0-9.e+]+)\})re");
  for (auto it = std::sregex_iterator(stats.begin(), stats.end(), entry); it != std::sregex_iterator(); ++it)
    rects.push_back({(*it)[1], std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[4]), std::stod((*it)[5])});
  return rects;
}

TEST(Explorer, PresentationFitsEachLessonsViewsOnAProjectorScreen) {
  // At projector sizes, --present shows the bound, the lesson and the views the lesson names, each
  // wholly on screen, none over another, and none too small to read from the back.
  struct Case {
    std::string screen, lesson;
    std::set<std::string> views;
  };
  const std::vector<Case> cases = {
      {"1024x768", "3", {"equation", "pad", "curves", "lessons"}},
      {"1280x720", "10", {"equation", "traversal", "gallery", "lessons"}},
      {"1024x768", "1", {"equation", "pad", "image", "lessons"}},
  };
  const std::string dir = test::temp_dir();
  for (const Case& c : cases) {
    const std::string stats_path = dir + "/stats_" + c.lesson + ".json";
    std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s",
                                    "-screen 0 " + c.screen + "x24", LATENT_EXPLORER_BIN, "--present", "--lesson", c.lesson,
                                    "--frames", "40", "--layout", dir + "/layout.ini", "--autosave", dir + "/autosave.ckpt",
                                    "--stats", stats_path, "--screenshot", dir + "/present_" + c.lesson + ".png"};
    const auto r = test::run_process(cmd, 240);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string stats = read_text(stats_path);
    EXPECT_NE(stats.find("\"presenting\": true"), std::string::npos) << stats;
    const double width = json_number(stats, "display_width"), height = json_number(stats, "display_height");
    EXPECT_EQ(std::to_string(int(width)) + "x" + std::to_string(int(height)), c.screen) << "fullscreen on the projector";
    const std::vector<ViewRect> rects = view_rects(stats);
    std::set<std::string> shown;
    for (const ViewRect& v : rects) {
      shown.insert(v.name);
      EXPECT_GE(v.x, 0) << v.name;
      EXPECT_GE(v.y, 0) << v.name;
      EXPECT_LE(v.x + v.width, width + 0.5) << v.name << " runs off the right edge";
      EXPECT_LE(v.y + v.height, height + 0.5) << v.name << " runs off the bottom";
      EXPECT_GE(v.width * v.height, 0.08 * width * height) << v.name << " is too small to read";
      for (const ViewRect& o : rects)
        if (&o != &v) {
          const double overlap_x = std::min(v.x + v.width, o.x + o.width) - std::max(v.x, o.x);
          const double overlap_y = std::min(v.y + v.height, o.y + o.height) - std::max(v.y, o.y);
          EXPECT_FALSE(overlap_x > 1 && overlap_y > 1) << v.name << " covers " << o.name;
        }
    }
    EXPECT_EQ(shown, c.views) << "lesson " << c.lesson;
  }
  // The presentation's places are not kept as the user's layout: a plain start after those has the
  // windows where a first start has them.
  const auto plain = [&](const std::string& config) {
    const std::string stats_path = dir + "/stats_plain.json";
    const auto r = test::run_process({"/usr/bin/env", "XDG_CONFIG_HOME=" + config, "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s",
                                      "-screen 0 1024x768x24", LATENT_EXPLORER_BIN, "--frames", "20", "--layout", dir + "/layout.ini",
                                      "--autosave", dir + "/autosave.ckpt", "--stats", stats_path},
                                     240);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::vector<double>> places;
    for (const ViewRect& v : view_rects(read_text(stats_path))) places[v.name] = {v.x, v.y, v.width, v.height};
    return places;
  };
  const auto after_presenting = plain(dir + "/config");
  fs::remove(dir + "/layout.ini");
  EXPECT_EQ(after_presenting, plain(dir + "/fresh_config"));
}

TEST(Explorer, LeavingPresentationPutsTheViewsBack) {
  // F5 in and out again while training: the same views in the same places as a run without it.
  const std::string dir = test::temp_dir();
  const auto run = [&](const std::string& name, const std::string& keys) {
    const std::string stats = dir + "/" + name + ".json";
    std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config_" + name, "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a",
                                    "-s", "-screen 0 1600x1000x24", "sh", "-c",
                                    "\"$0\" \"$@\" & pid=$!; win=$(xdotool search --sync --onlyvisible --name 'Latent Explorer' | head -n1); "
                                    "sleep 4; " + keys + " sleep 2; kill -TERM $pid; wait $pid",
                                    LATENT_EXPLORER_BIN, "--train", "--stats", stats, "--autosave", dir + "/" + name + ".ckpt"};
    const auto r = test::run_process(cmd, 180);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_text(stats);
  };
  const std::string plain = run("plain", "");
  const std::string toggled = run("toggled", "xdotool key --window $win F5; sleep 3; xdotool key --window $win F5; sleep 2;");
  EXPECT_NE(toggled.find("\"presenting\": false"), std::string::npos) << toggled;
  std::map<std::string, std::vector<double>> before, after;
  for (const ViewRect& v : view_rects(plain)) before[v.name] = {v.x, v.y, v.width, v.height};
  for (const ViewRect& v : view_rects(toggled)) after[v.name] = {v.x, v.y, v.width, v.height};
  EXPECT_EQ(after, before) << plain << "\n" << toggled;
  EXPECT_EQ(json_number(toggled, "display_width"), json_number(plain, "display_width"));
  EXPECT_EQ(json_number(toggled, "display_height"), json_number(plain, "display_height"));
}

TEST(Explorer, OpeningASceneStartsAgainWithItsSetup) {
  // File > Open scene..., a path typed and Enter: the explorer autosaves, closes and starts again
  // with the scene's views, tab and lesson (and the frames and stats it was given).
  const std::string dir = test::temp_dir();
  const std::string scene = std::string(LATENT_SCENE_DIR) + "/02-the-gap.scene";
  const std::string stats = dir + "/stats.json";
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s",
                                  "-screen 0 1600x1000x24", "sh", "-c",
                                  "\"$0\" \"$@\" & pid=$!; win=$(xdotool search --sync --onlyvisible --name 'Latent Explorer' | head -n1); "
                                  "sleep 4; xdotool mousemove --window $win 22 9 click 1; sleep 1; "
                                  "xdotool mousemove --window $win 50 154 click 1; sleep 1; xdotool type --delay 20 '" + scene + "'; "
                                  "xdotool key Return; wait $pid",
                                  LATENT_EXPLORER_BIN, "--train", "--frames", "700", "--stats", stats, "--autosave", dir + "/auto.ckpt"};
  const auto r = test::run_process(cmd, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("autosaved to " + dir + "/auto.ckpt"), std::string::npos) << r.err;
  const std::string after = read_text(stats);
  std::set<std::string> shown;
  for (const ViewRect& v : view_rects(after)) shown.insert(v.name);
  EXPECT_EQ(shown, (std::set<std::string>{"training", "curves", "pad", "image"})) << r.err << "\n" << after;
}

TEST(Explorer, WithoutAnyDatasetEveryViewSaysWhatToDo) {
  // No MNIST where it looks and no download: every view open, presenting too, and the app runs.
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/empty_home");
  for (const std::vector<std::string>& extra : {std::vector<std::string>{"--views", "all"}, {"--present", "--lesson", "9"}}) {
    std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_DATA_HOME=" + dir + "/empty_home",
                                    "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", LATENT_EXPLORER_BIN,
                                    "--frames", "40", "--autosave", dir + "/auto.ckpt"};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    const auto r = test::run_process(cmd, 120);
    EXPECT_EQ(r.exit_code, 0) << extra[0] << "\n" << r.err;
    EXPECT_EQ(r.err.find("error"), std::string::npos) << "a first start without data is not an error:\n" << r.err;
    EXPECT_FALSE(fs::exists(dir + "/empty_home/mnist")) << "nothing is downloaded unasked";
  }
}

// --lesson shows its step as Next does (lesson 1 puts the decoded manifold on the pad), but a
// setting given with it (on the command line, or in a scene) wins.
TEST(Explorer, ALessonsChoicesGiveWayToTheFlagsGivenWithIt) {
  const std::string dir = test::temp_dir();
  auto r = explorer(dir, {"--lesson", "1", "--frames", "5", "--stats", dir + "/lesson.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_text(dir + "/lesson.json").find("\"pad_background\": \"manifold\""), std::string::npos);
  r = explorer(dir, {"--lesson", "1", "--pad-background", "scatter", "--frames", "5", "--stats", dir + "/given.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string given = read_text(dir + "/given.json");
  EXPECT_NE(given.find("\"pad_background\": \"scatter\""), std::string::npos) << given;
  // Lesson 5 shows the curves tab; a tab given with it wins, from the command line or from a scene.
  r = explorer(dir, {"--lesson", "5", "--frames", "5", "--stats", dir + "/lesson5.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_text(dir + "/lesson5.json").find("\"tab\": \"curves\""), std::string::npos);
  {
    std::ofstream scene(dir + "/kl.scene");
    scene << "latent-explorer scene 1\n--lesson 5 --tab kl\n";
  }
  r = explorer(dir, {"--scene", dir + "/kl.scene", "--frames", "5", "--stats", dir + "/scene.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_text(dir + "/scene.json").find("\"tab\": \"kl\""), std::string::npos) << read_text(dir + "/scene.json");
}

// A scene's title stays up as a banner for half a minute, over the top of the views. With the mouse
// over its text the banner fades and lets clicks through to the control beneath; its x still closes
// it. The coordinates are those of the pad alone at 1280x720 (a fixed font): the banner lies over
// the "decoded manifold" choice's label and the x at the right of its first line.
TEST(Explorer, ABannersTextLetsTheMouseThroughAndItsCloseButtonCloses) {
  const std::string dir = test::temp_dir();
  {
    std::ofstream scene(dir + "/banner.scene");
    scene << "latent-explorer scene 1\ntitle: A banner over the pad's controls\n"
             "watch: the pad's controls stay in reach under this banner while it is up: the mouse over its text lets "
             "clicks through, and its x still closes it\n--views pad\n";
  }
  const std::string stats = dir + "/stats.json";
  const std::string shot = "import -window root -crop 1280x100+0+0 " + dir + "/";
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s",
                                  "-screen 0 1600x1000x24", "sh", "-c",
                                  "\"$0\" \"$@\" & pid=$!; win=$(xdotool search --sync --onlyvisible --name 'Latent Explorer' | head -n1); "
                                  "sleep 3; xdotool windowmove $win 0 0 windowsize $win 1280 720; sleep 2; "
                                  "xdotool mousemove --window $win 1270 710; sleep 1; " + shot + "away.png; "
                                  "xdotool mousemove --window $win 285 60; sleep 1; " + shot + "over.png; xdotool click 1; sleep 1; "
                                  "xdotool mousemove --window $win 1000 44; sleep 1; " + shot + "on_x.png; xdotool click 1; sleep 1; "
                                  "kill -TERM $pid; wait $pid",
                                  LATENT_EXPLORER_BIN, "--scene", dir + "/banner.scene", "--stats", stats, "--autosave", dir + "/auto.ckpt"};
  const auto r = test::run_process(cmd, 180);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string after = read_text(stats);
  // The click on the faded banner reached the pad's choice beneath it; the x closed the banner.
  EXPECT_NE(after.find("\"pad_background\": \"manifold\""), std::string::npos) << after;
  EXPECT_EQ(json_number(after, "banners"), 0) << after;
  // The banner's green text, counted where it lies: drawn in full with the mouse away and on its
  // x, faded with the mouse over its text.
  const auto green = [&](const std::string& name) {
    const Png png = load_png(dir + "/" + name + ".png");
    int count = 0;
    for (int y = 30; y < 75 && y < png.height; ++y)
      for (int x = 265; x < 1010 && x < png.width; ++x) {
        const unsigned char* p = &png.rgb[(size_t(y) * size_t(png.width) + size_t(x)) * 3];
        count += p[1] > 180 && p[0] < 190 && p[2] < 190 && p[1] > p[0] + 40;
      }
    return count;
  };
  const int away = green("away"), over = green("over"), on_x = green("on_x");
  EXPECT_GT(away, 300) << "no banner text with the mouse away";
  EXPECT_LT(over, away / 10) << "the banner did not fade under the mouse: " << over << " of " << away;
  EXPECT_GT(on_x, away / 2) << "the banner faded with the mouse on its close button";
}

TEST(Explorer, EveryBadFlagIsOneErrorLine) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--lr", "0"}, "--lr"},        {{"--lr", "-1"}, "--lr"},          {{"--lr", "nan"}, "--lr: 'nan' is not a finite number"},
      {{"--batch", "0"}, "--batch"},  {{"--latent", "0"}, "--latent"},   {{"--latent", "65"}, "--latent: 65 is out of range"},
      {{"--epochs", "x"}, "--epochs: 'x' is not an integer"},            {{"--bogus"}, "--bogus: unknown flag"},
      {{"--frames", "0"}, "--frames"}, {{"--grid", "many"}, "--grid"},   {{"--pad", "1"}, "--pad"},
      {{"--views", "pad,nonsense"}, "unknown view 'nonsense'"},
      {{"--lesson", "0"}, "--lesson"}, {{"--lesson", "99"}, "--lesson: 99 is not a lesson"},
      {{"--compare-beta", "-1"}, "--compare-beta"},
      {{"--compare-warmup", "2"}, "--compare-warmup: needs --compare-beta X"},
      {{"--compare-beta", "4", "--compare-arch", "transformer"}, "--compare-arch: unknown architecture 'transformer'"},
      {{"--compare-beta", "4", "--compare-latent", "0"}, "--compare-latent: a latent size from 1 to 64"},
      {{"--compare-latent", "5"}, "--compare-latent: needs --compare-beta X"},
      {{"--compare", "b.ckpt", "--compare-beta", "4"}, "--compare-beta: B is a second run or --compare's checkpoint, not both"},
  };
  for (const auto& c : cases) {
    auto r = test::run_process(
        [&] {
          std::vector<std::string> cmd = {LATENT_EXPLORER_BIN};
          cmd.insert(cmd.end(), c.args.begin(), c.args.end());
          return cmd;
        }(),
        30);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
}

TEST(Explorer, BadInputShowsABannerAndTheAppKeepsRunning) {
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/garbage.ckpt", std::vector<uint8_t>(64, 7));
  auto r = explorer(dir, {"--data", dir + "/no-such-dir", "--frames", "20", "--screenshot", dir + "/shot.png"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no-such-dir: no such file or directory"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/shot.png"));
  r = explorer(dir, {"--resume", dir + "/garbage.ckpt", "--frames", "20"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("garbage.ckpt: not a latent-explorer checkpoint"), std::string::npos) << r.err;
  r = explorer(dir, {"--lr", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: --lr"), std::string::npos) << r.err;
  r = explorer(dir, {"--views", "pad,nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown view 'nonsense'"), std::string::npos) << r.err;
}

#ifdef LATENT_HAVE_GIF
// A GIF's size, frame count and total delay, read with giflib's decoder.
struct GifSummary {
  int width = 0, height = 0, frames = 0, delay_cs = 0;
};
GifSummary read_gif_summary(const std::string& path) {
  GifSummary summary;
  int error = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &error);
  if (!gif) return summary;
  if (DGifSlurp(gif) == GIF_OK) {
    summary.width = gif->SWidth, summary.height = gif->SHeight, summary.frames = gif->ImageCount;
    for (int i = 0; i < gif->ImageCount; ++i) {
      GraphicsControlBlock control{};
      if (DGifSavedExtensionToGCB(gif, i, &control) == GIF_OK) summary.delay_cs += control.DelayTime;
    }
  }
  DGifCloseFile(gif, &error);
  return summary;
}

// --record while training: the pad view, scaled, captioned, at 10 frames a second; the GIF read
// back has the size and the frames the app reported. Bad recording flags and places.
TEST(Explorer, RecordsAViewAsAGifWhileTraining) {
  const std::string dir = test::temp_dir();
  const std::string gif = dir + "/pad.gif";
  auto r = explorer(dir, {"--train", "--hidden", "64", "--frames", "300", "--record", gif, "--record-view", "pad", "--record-fps", "10",
                          "--record-scale", "0.5", "--stats", dir + "/stats.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex said("recorded " + gif + R"(: (\d+)x(\d+), ([0-9.]+) s, (\d+) frames captured \((\d+) stored\), (\d+) dropped)");
  ASSERT_TRUE(std::regex_search(r.err, m, said)) << r.err;
  const int width = std::stoi(m[1]), height = std::stoi(m[2]), captured = std::stoi(m[4]), stored = std::stoi(m[5]);
  const double seconds = std::stod(m[3]);
  const GifSummary summary = read_gif_summary(gif);
  EXPECT_EQ(summary.width, width);
  EXPECT_EQ(summary.height, height);
  EXPECT_EQ(summary.frames, stored);
  EXPECT_GE(captured, 5) << r.err;
  EXPECT_GE(stored, 2) << "training changes the pad";
  EXPECT_NEAR(summary.delay_cs / 100.0, seconds, 0.05);
  // Half the pad's window (at least 200 pixels wide at 1600x1000), with the caption's strip below.
  EXPECT_GT(width, 100);
  EXPECT_LT(width, 800);
  EXPECT_GT(height, width / 2);

  r = explorer(dir, {"--frames", "10", "--record", dir + "/no/such/dir/a.gif"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cannot write the recording " + dir + "/no/such/dir/a.gif"), std::string::npos) << r.err;
  r = explorer(dir, {"--frames", "10", "--record", dir + "/a.avi"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("'.avi' is not a recording format"), std::string::npos) << r.err;
  r = explorer(dir, {"--record-fps", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-fps: needs --record FILE"), std::string::npos) << r.err;
  r = explorer(dir, {"--record", gif, "--record-fps", "90"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-fps: frames a second, 1 to 50"), std::string::npos) << r.err;
  r = explorer(dir, {"--record", gif, "--record-view", "nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-view: unknown view 'nonsense'"), std::string::npos) << r.err;
}

// A recording holds what the window shows, whether it reads the frames from the X server (the
// default under a software rasteriser) or through GL: the last frame of a still window's GIF against
// the app's own screenshot of its last frame, for the whole window and for one view at its place
// (the stats say where). The GIF's palette of 256 colours a frame bounds how close they can be. The
// window is still once the views' background work has landed (the manifold's 400 decodes last):
// 4000 idle frames, some 5 s, leave a loaded machine time for it. At 5 frames a second the GIF
// encoder (about 120 ms a frame here) keeps up, so the last frames are not the ones dropped.
TEST(Explorer, ARecordingHoldsWhatTheWindowShows) {
  const std::string dir = test::temp_dir();
  for (const std::string read : {"window", "gl"})
    for (const std::string view : {"", "pad"}) {
      const std::string name = dir + "/" + read + (view.empty() ? "" : "-" + view);
      std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1",
                                      "LATENT_RECORD_READ=" + read, "xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                                      LATENT_EXPLORER_BIN, "--frames", "4000", "--record", name + ".gif", "--record-fps", "5",
                                      "--screenshot", name + ".png", "--stats", name + ".json"};
      if (!view.empty()) cmd.insert(cmd.end(), {"--record-view", view});
      const auto r = test::run_process(cmd, 240);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const Png shot = load_png(name + ".png");
      ASSERT_GT(shot.width, 0) << name;
      const std::string stats = read_text(name + ".json");
      const double from_window = json_number(stats, "record_read_from_window"), through_gl = json_number(stats, "record_read_through_gl");
      EXPECT_GT(read == "window" ? from_window : through_gl, 2) << stats;
      EXPECT_EQ(read == "window" ? through_gl : from_window, 0) << stats;
      int x0 = 0, y0 = 0, width = shot.width, height = shot.height;
      if (!view.empty()) {
        std::smatch m;
        ASSERT_TRUE(std::regex_search(stats, m, std::regex("\"name\": \"" + view + R"(", "x": ([0-9.]+), "y": ([0-9.]+), "width": ([0-9.]+), "height": ([0-9.]+))")))
            << stats;
        x0 = int(std::lround(std::stod(m[1]))), y0 = int(std::lround(std::stod(m[2])));
        width = std::min(shot.width, x0 + int(std::lround(std::stod(m[3])))) - x0;
        height = std::min(shot.height, y0 + int(std::lround(std::stod(m[4])))) - y0;
      }
      const test::DecodedGif gif = test::read_gif(name + ".gif");
      ASSERT_FALSE(gif.frames.empty()) << r.err;
      const RgbImage& last = gif.frames.back();
      ASSERT_EQ(last.width, width) << name << "\n" << r.err;
      ASSERT_GT(last.height, height) << "the frame, and the caption's strip below it";
      // The mean over pixels of the largest channel difference, and the share more than 48 apart, with
      // the recording's rows `dy` below the screenshot's (0: in place; 1: the check sees a shift).
      const auto compare = [&](int dy, double& mean, double& far) {
        int64_t n_far = 0, total = 0;
        double sum = 0;
        for (int y = 0; y + dy < height; ++y)
          for (int x = 0; x < width; ++x) {
            const uint8_t* a = last.rgb.data() + (size_t(y + dy) * width + x) * 3;
            const unsigned char* b = shot.rgb.data() + (size_t(y0 + y) * shot.width + x0 + x) * 3;
            int worst = 0;
            for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(int(a[c]) - int(b[c])));
            n_far += worst > 48;
            sum += worst;
            ++total;
          }
        mean = sum / double(total), far = double(n_far) / double(total);
      };
      double mean = 0, far = 0, shifted_mean = 0, shifted_far = 0;
      compare(0, mean, far);
      compare(1, shifted_mean, shifted_far);
      std::printf("%s: %dx%d, mean largest difference %.2f, %.3f%% of pixels more than 48 apart (a row off: %.2f, %.3f%%)\n",
                  name.c_str(), width, height, mean, 100 * far, shifted_mean, 100 * shifted_far);
      EXPECT_LT(mean, 8.0) << name;
      EXPECT_LT(far, 0.001) << name;
      EXPECT_GT(shifted_far, 10 * far + 0.005) << name << ": the comparison would not see a frame a row off";
    }
}

// --record-timeline: a run trained to its end, then replayed into a GIF from its first kept moment
// to its last, one frame a moment at the recording's rate; a scripted run waits for the replay.
TEST(Explorer, ReplaysAFinishedRunsTimelineIntoAGif) {
  const std::string dir = test::temp_dir();
  const std::string gif = dir + "/replay.gif";
  auto r = explorer(dir, {"--train", "--epochs", "2", "--limit", "3000", "--hidden", "64", "--latent", "2", "--views", "pad,curves",
                          "--frames", "5", "--record", gif, "--record-timeline", "--record-view", "pad", "--record-fps", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex said("recorded " + gif + R"(: (\d+)x(\d+), ([0-9.]+) s, (\d+) frames captured \((\d+) stored\), (\d+) dropped.*)" +
                        R"(the timeline replayed, (\d+) of (\d+) moments, steps (\d+) to (\d+))");
  ASSERT_TRUE(std::regex_search(r.err, m, said)) << r.err;
  const int captured = std::stoi(m[4]), stored = std::stoi(m[5]), dropped = std::stoi(m[6]);
  const int shown = std::stoi(m[7]), moments = std::stoi(m[8]), last_step = std::stoi(m[10]);
  EXPECT_EQ(shown, moments);
  EXPECT_GE(moments, 2) << "at least a moment early in the run and its end";
  EXPECT_EQ(captured, moments) << "one frame a moment, none dropped";
  EXPECT_EQ(dropped, 0);
  EXPECT_GT(last_step, std::stoi(m[9]));
  EXPECT_NEAR(std::stod(m[3]), moments / 4.0, 0.051) << "each moment a quarter of a second (the message rounds to 0.1 s)";
  const GifSummary summary = read_gif_summary(gif);
  EXPECT_EQ(summary.frames, stored);
  EXPECT_GE(stored, 2) << "the encoded test set moves as the model learns";
  EXPECT_NEAR(summary.delay_cs / 100.0, moments / 4.0, 0.05);

  // No run yet: nothing to replay, a message, and no empty file left behind.
  r = explorer(dir, {"--frames", "10", "--record", dir + "/none.gif", "--record-timeline"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no timeline to replay yet"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/none.gif"));
  r = explorer(dir, {"--train", "--record", gif, "--record-timeline"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-timeline: with --train, give --epochs N"), std::string::npos) << r.err;
  r = explorer(dir, {"--record-timeline"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-timeline: needs --record FILE"), std::string::npos) << r.err;
  r = explorer(dir, {"--record", gif, "--record-timeline", "--record-seconds", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--record-seconds: a timeline replay ends with its last moment"), std::string::npos) << r.err;
}
#endif

// Places the app writes to (the layout, the settings, the autosave, HOME itself) that cannot be
// used: each is one message, and the app starts, runs and closes (exit 0) instead of aborting or
// blocking on a FIFO.
TEST(Explorer, UnusablePlacesGiveAMessageAndTheAppRuns) {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/a-directory");
  ASSERT_EQ(::mkfifo((dir + "/a-fifo").c_str(), 0644), 0);
  fs::create_directories(dir + "/config-fifo/latent-explorer");
  ASSERT_EQ(::mkfifo((dir + "/config-fifo/latent-explorer/settings.ini").c_str(), 0644), 0);
  const std::string data = test::mnist_dir();
  struct Case {
    std::vector<std::string> env, args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, {"--layout", dir + "/a-directory"}, "cannot use " + dir + "/a-directory for the window layout (it is a directory)"},
      {{}, {"--layout", dir + "/a-fifo"}, "cannot use " + dir + "/a-fifo for the window layout (it is a FIFO)"},
      {{}, {"--layout", "/proc/layout.ini"}, "cannot use /proc/layout.ini for the window layout (cannot write in /proc"},
      {{}, {"--layout", "layout.ini"}, ""},  // a bare file name: beside the app's working directory
      {{}, {"--train", "--autosave", dir + "/a-directory"}, "closing will not autosave to " + dir + "/a-directory (it is a directory)"},
      {{}, {"--train", "--autosave", "/proc/auto.ckpt"}, "closing will not autosave to /proc/auto.ckpt (cannot write in /proc"},
      {{"XDG_CONFIG_HOME=" + dir + "/config-fifo"}, {}, "for the settings (it is a FIFO)"},
      {{"XDG_CONFIG_HOME=", "HOME=/proc/self"}, {}, "cannot make /proc/self/.config/latent-explorer for the window layout"},
      {{"XDG_CONFIG_HOME=", "HOME="}, {}, ""},
      {{"-u", "HOME", "XDG_CONFIG_HOME="}, {}, ""},
  };
  for (const Case& c : cases) {
    std::vector<std::string> cmd = {"/usr/bin/env"};
    if (!c.env.empty() && c.env[0] == "-u") cmd.insert(cmd.end(), c.env.begin(), c.env.begin() + 2);  // options first
    cmd.insert(cmd.end(), {"XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1"});
    cmd.insert(cmd.end(), c.env.begin() + (!c.env.empty() && c.env[0] == "-u" ? 2 : 0), c.env.end());
    for (const std::string& a : {"xvfb-run", "-a", "-s", "-screen 0 1280x720x24", LATENT_EXPLORER_BIN, "--data", data.c_str(), "--frames", "20"})
      cmd.push_back(a);
    cmd.insert(cmd.end(), c.args.begin(), c.args.end());
    if (std::find(c.args.begin(), c.args.end(), "--autosave") == c.args.end()) cmd.insert(cmd.end(), {"--autosave", dir + "/auto.ckpt"});
    const std::string label = (c.env.empty() ? "" : c.env.back() + " ") + (c.args.empty() ? "" : c.args.back());
    const auto r = test::run_process(cmd, 120);
    EXPECT_EQ(r.exit_code, 0) << label << "\n" << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << label << "\n" << r.err;
    if (!c.expected.empty()) EXPECT_NE(r.err.find(c.expected), std::string::npos) << label << "\n" << r.err;
  }
  fs::remove("layout.ini");  // the bare name's file, in the working directory
}

// The dataset chooser's recent paths outlive the run: those in the settings file come back, the one
// loaded now goes first, a repeat is not listed twice, and names (mnist) are not listed at all.
TEST(Explorer, RecentDatasetsAreKeptAcrossRuns) {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/config/latent-explorer");
  const std::string data = test::mnist_dir();
  {
    std::ofstream settings(dir + "/config/latent-explorer/settings.ini");
    settings << "ui_scale=1\nrecent_dataset=/old/faces\nrecent_dataset=" << data << "\nrecent_dataset=/old/faces\nrecent_dataset=\n";
  }
  auto r = explorer(dir, {"--data", data, "--frames", "10", "--autosave", dir + "/auto.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string settings = read_text(dir + "/config/latent-explorer/settings.ini");
  EXPECT_NE(settings.find("recent_dataset=" + data + "\nrecent_dataset=/old/faces\n"), std::string::npos) << settings;
  EXPECT_EQ(settings.find("recent_dataset=/old/faces", settings.find("recent_dataset=/old/faces") + 1), std::string::npos) << settings;
  EXPECT_EQ(settings.find("recent_dataset=\n"), std::string::npos) << settings;

  r = explorer(dir, {"--data", "mnist", "--frames", "10", "--autosave", dir + "/auto.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir + "/config/latent-explorer/settings.ini"), settings) << "a name changed the recent paths";
}

// Random clicks, drags, keys, typed values, menu entries and resizes (tests/helpers/monkey.sh, seeded)
// while the app trains: no crash, no hang, no X error, and resident memory flat: the median of its
// samples (every 5 s) over the last minute within 10 % of their median over the minute after the
// baseline time. Medians, because the app's working memory comes and goes in bursts (a test-set
// evaluation, a new run); a leak moves the median, a burst does not. The default fits the suite
// (150 s, baseline from the first minute on); scripts/check-robustness runs it for
// LATENT_MONKEY_SECONDS=600 with LATENT_MONKEY_BASELINE=120.
double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

TEST(Explorer, SurvivesAMonkey) {
  const std::string dir = test::temp_dir();
  const auto env = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  const std::string seconds = env("LATENT_MONKEY_SECONDS", "150"), baseline = env("LATENT_MONKEY_BASELINE", "60");
  const int run_for = std::atoi(seconds.c_str()), baseline_at = std::atoi(baseline.c_str());
  // Its own data home too: a Save the monkey clicks must not land in the user's.
  const auto r = test::run_process({"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_DATA_HOME=" + dir + "/data",
                                    "XDG_PICTURES_DIR=" + dir + "/pictures", "LATENT_NO_DOWNLOAD=1", "MONKEY_SECONDS=" + seconds,
                                    "MONKEY_BASELINE_SECONDS=" + baseline, "xvfb-run", "-a", "-s", "-screen 0 1920x1080x24",
                                    LATENT_MONKEY_SCRIPT, "20261202", "1000000", dir + "/monkey",
                                    LATENT_EXPLORER_BIN, "--data", test::mnist_dir(), "--train", "--hidden", "128", "--autosave",
                                    dir + "/monkey/auto.ckpt"},
                                   run_for + 900);
  const std::string app_err = [&] {
    std::ifstream in(dir + "/monkey/app.err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::string last_events;
  {
    std::ifstream log(dir + "/monkey/monkey.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i) last_events += lines[i] + "\n";
  }
  ASSERT_EQ(r.exit_code, 0) << r.err << "\napp stderr:\n" << app_err << "\nlast events:\n" << last_events;
  EXPECT_EQ(app_err.find("X Error"), std::string::npos) << app_err;
  EXPECT_EQ(app_err.find("Assertion"), std::string::npos) << app_err;
  std::vector<std::pair<double, double>> samples;  // seconds, kB
  std::string all;
  {
    std::ifstream rss(dir + "/monkey/rss.log");
    for (double t, kb; rss >> t >> kb;)
      if (kb > 0) samples.push_back({t, kb}), all += " " + std::to_string(int(t)) + ":" + std::to_string(int(kb / 1024));
  }
  ASSERT_FALSE(samples.empty()) << "no memory figures";
  const double last = samples.back().first;
  ASSERT_GE(last, baseline_at + 60) << "the run was shorter than its baseline minute:" << all;
  std::vector<double> early, late;
  double peak = 0;
  for (const auto& [t, kb] : samples) {
    if (t >= baseline_at && t < baseline_at + 60) early.push_back(kb);
    if (t >= last - 60) late.push_back(kb);
    if (t >= baseline_at) peak = std::max(peak, kb);
  }
  const double before = median_of(early), after = median_of(late);
  EXPECT_LE(after, 1.10 * before) << "resident memory's median grew from " << before << " kB to " << after << " kB; samples (s:MiB):" << all;
  std::fprintf(stderr, "  monkey: %.0f s; resident median %.0f MiB in [%d, %d) s, %.0f MiB in the last minute, peak %.0f MiB\n", last,
               before / 1024, baseline_at, baseline_at + 60, after / 1024, peak / 1024);
}

// A person at a desktop, scripted with xdotool: the window is resized while training (grown, shrunk,
// grown), a bad learning rate is typed twice with another window clicked in between (the banner
// must be on top of it), Reset is pressed with that bad field, the latent dim is changed and R
// pressed, and the Lessons and Messages views are opened from the View menu. The coordinates are
// those of the default layout at 1280x720 (a fixed font; the Training view at the top left).
// One run of the scenario; "" when everything held, else what did not.
std::string desktop_user_attempt(const std::string& dir) {
  std::ostringstream failures;
  const auto check = [&](bool ok, const std::string& what) {
    if (!ok) failures << what << "\n";
    return ok;
  };
  const std::string steps = R"(
size 1900 1050
sleep 2
shot grown
size 1280 720
sleep 2
click 60 184
key ctrl+a
type 5
click 640 500
click 60 384
key ctrl+a
type -1
key Return
sleep 7
click 640 200
click 60 384
key ctrl+a
type -3
key Return
sleep 1
shot banner
click 60 184
key ctrl+a
type 0
click 640 500
tap r
sleep 1
click 60 184
key ctrl+a
type 5
click 640 500
key r
sleep 1
key space
sleep 4
size 1700 1000
sleep 2
click 107 10
click 107 169
click 107 10
click 107 188
sleep 3
shot final
)";
  test::write_bytes(dir + "/steps.txt", std::vector<uint8_t>(steps.begin(), steps.end()));
  // Each line: a window size, a pause, a screenshot of the window, a click at window coordinates,
  // a key, or text to type.
  const std::string script =
      "\"$0\" \"$@\" & pid=$!; win=$(xdotool search --sync --onlyvisible --name 'Latent Explorer' | head -n1); sleep 3; "
      "while read -r cmd a b; do case \"$cmd\" in "
      "size) xdotool windowsize $win $a $b;; "
      "sleep) sleep $a;; "
      "shot) import -window $win " + dir + "/$a.png;; "
      "click) xdotool mousemove --window $win $a $b; sleep 0.3; xdotool click 1; sleep 0.5;; "
      "key) xdotool key $a; sleep 0.5;; "
      "tap) xdotool keydown $a; sleep 0.1; xdotool keyup $a; sleep 0.5;; "
      "type) xdotool type --delay 60 -- \"$a\"; sleep 0.5;; "
      "esac; kill -0 $pid || break; done < " + dir + "/steps.txt; "
      "kill -TERM $pid; wait $pid";
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a",
                                  "-s", "-screen 0 1920x1080x24", "sh", "-c", script, LATENT_EXPLORER_BIN, "--train", "--autosave",
                                  dir + "/auto.ckpt", "--frame-log", dir + "/frames.csv"};
  auto r = test::run_process(cmd, 300);
  if (!check(r.exit_code == 0, "exit " + std::to_string(r.exit_code))) return failures.str() + r.err;
  check(r.err.find("X Error") == std::string::npos && r.err.find("X error") == std::string::npos, "an X error");

  // Each size was drawn whole: the window's capture has the new size and is not one flat colour.
  for (const auto& [name, width, height] : std::vector<std::tuple<std::string, int, int>>{{"grown", 1900, 1050}, {"final", 1700, 1000}}) {
    const Png shot = load_png(dir + "/" + name + ".png");
    if (!check(shot.width == width && shot.height == height, name + ": not drawn at its size")) continue;
    std::set<uint32_t> colours;
    for (size_t i = 0; i + 2 < shot.rgb.size(); i += 3) colours.insert(shot.rgb[i] << 16 | shot.rgb[i + 1] << 8 | shot.rgb[i + 2]);
    check(colours.size() > 500u, name + ": looks empty");
    // The views reach the right and bottom edges (laid out for this size, no empty part): the last
    // 15 % of the width and of the height hold text and images, not just the background.
    std::set<uint32_t> right, bottom;
    for (int y = 0; y < shot.height; ++y)
      for (int x = 0; x < shot.width; ++x) {
        const unsigned char* p = &shot.rgb[(size_t(y) * size_t(shot.width) + size_t(x)) * 3];
        const uint32_t c = p[0] << 16 | p[1] << 8 | p[2];
        if (x > shot.width * 85 / 100) right.insert(c);
        if (y > shot.height * 85 / 100) bottom.insert(c);
      }
    check(right.size() > 50u, name + ": nothing drawn near the right edge");
    check(bottom.size() > 50u, name + ": nothing drawn near the bottom edge");
  }
  // The second bad value's banner is drawn over the Loss curves window just clicked: its red text
  // in the banner's place at the top centre.
  const Png banner = load_png(dir + "/banner.png");
  if (!check(banner.width == 1280, "the banner shot is not 1280 wide")) return failures.str();
  int red = 0;
  for (int y = 20; y < 90; ++y)
    for (int x = 340; x < 940; ++x) {
      const unsigned char* p = &banner.rgb[(size_t(y) * 1280 + size_t(x)) * 3];
      red += p[0] > 200 && p[1] > 80 && p[1] < 150 && p[2] > 70 && p[2] < 140;
    }
  check(red > 40, "no banner text on top at the top centre");
  check(r.err.find("learning rate must be in (0, 10], not -1; the run keeps 0.003") != std::string::npos, "no message for the bad lr");
  // The refused lr went back to the run's in its field: the same bad value typed again is refused again.
  check(r.err.find("learning rate must be in (0, 10], not -3; the run keeps 0.003") != std::string::npos,
        "no message for the second bad lr");
  // R with a bad field that applies on Reset still in the form is refused with a message naming it,
  // like the button.
  check(r.err.find("reset refused: latent dim 0") != std::string::npos, "R with a bad latent dim was not refused by name");

  // R made the model the form describes, and it trained: the autosave has 5 latent dims.
  const Checkpoint saved = read_checkpoint(dir + "/auto.ckpt");
  check(saved.model.latent_dim == 5, "the model after R has " + std::to_string(saved.model.latent_dim) + " latent dims, not 5");
  check(saved.model.hidden == std::vector<int>{512, 256}, "a click landed on another field");
  check(saved.progress.step > 0, "the new model did not train");

  // The View menu opened Lessons and Messages: their columns in the frame log were timed.
  std::ifstream log(dir + "/frames.csv");
  std::string line;
  if (!check(bool(std::getline(log, line)), "no frame log")) return failures.str();
  std::map<std::string, size_t> column;
  {
    std::stringstream names(line);
    for (std::string name; std::getline(names, name, ',');) column.emplace(name, column.size());
  }
  if (!check(column.count("lessons_ms") && column.count("messages_ms"), "frame log columns: " + line)) return failures.str();
  double lessons = 0, messages = 0;
  while (std::getline(log, line)) {
    std::vector<double> v;
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) v.push_back(std::stod(f));
    if (v.size() != column.size()) continue;
    lessons += v[column["lessons_ms"]];
    messages += v[column["messages_ms"]];
  }
  check(lessons > 0, "the Lessons view never showed");
  check(messages > 0, "the Messages view never showed");
  const std::string failed = failures.str();
  return failed.empty() ? "" : failed + "stderr:\n" + r.err;
}

// Keys tapped between two frames once went missing (ImGui 1.86 samples keys per frame; the input
// queue, ui/input_trickle.h, fixed that and has its own tests). The script's pauses still assume a
// frame within about half a second, which a heavily loaded machine can miss, so the scenario runs
// up to three times and must hold completely in one; each failed run is printed.
TEST(Explorer, ADesktopUserResizesTypesResetsAndOpensViews) {
  std::string all;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const std::string dir = test::temp_dir() + "/attempt" + std::to_string(attempt);
    std::filesystem::create_directories(dir);
    const std::string failed = desktop_user_attempt(dir);
    if (failed.empty()) return;
    std::fprintf(stderr, "attempt %d:\n%s\n", attempt, failed.c_str());
    all += "attempt " + std::to_string(attempt) + ":\n" + failed;
  }
  FAIL() << all;
}

}  // namespace
}  // namespace latent

namespace latent {
namespace {

TEST(Explorer, AHostileSceneWritesNothingOutsideItsFolderAndSaysWhatItLeftOut) {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/shared");
  {
    std::ofstream scene(dir + "/shared/demo.scene");
    scene << "latent-explorer scene 1\ntitle: a colleague's demo\n"
          << "--autosave " << dir << "/victim.ckpt --screenshot " << dir << "/victim.png --stats " << dir << "/victim.json\n"
          << "--frame-log " << dir << "/victim.csv --layout " << dir << "/victim.ini --record " << dir << "/victim.gif\n"
          << "--model " << dir << "/elsewhere.pt --beta 3 --views pad,messages\n";
  }
  const std::string stats = dir + "/mine.json";
  const auto r = explorer(dir, {"--scene", dir + "/shared/demo.scene", "--frames", "40", "--stats", stats, "--autosave", dir + "/auto.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* victim : {"victim.ckpt", "victim.png", "victim.json", "victim.csv", "victim.ini", "victim.gif"})
    EXPECT_FALSE(fs::exists(dir + "/" + victim)) << victim << "\n" << r.err;
  for (const char* flag : {"left out --autosave", "left out --screenshot", "left out --stats", "left out --frame-log", "left out --layout",
                           "left out --record", "left out --model"})
    EXPECT_NE(r.err.find(flag), std::string::npos) << flag << "\n" << r.err;
  EXPECT_TRUE(fs::exists(stats)) << r.err;  // the user's own outputs are written
  EXPECT_GE(json_number(read_text(stats), "banners"), 5) << read_text(stats);  // the refusals are up as banners
}

}  // namespace
}  // namespace latent

namespace latent {
namespace {

TEST(Explorer, AUsersModelThatHangsNeverFreezesTheWindowAndTheModelBeforeItComesBack) {
  // The module passes its probe, then loops forever on a training batch. The window keeps drawing
  // (the UI thread never calls a user's module), the limit stops the call, a banner names the
  // method, and the explorer goes back to its own model.
  const std::string models = LATENT_TORCHSCRIPT_MODELS;
  if (models.empty() || !fs::exists(models + "/hostile_loop_later.pt")) GTEST_SKIP() << "no TorchScript test models";
  const std::string dir = test::temp_dir();
  const std::string stats = dir + "/stats.json";
  const auto r = explorer(dir, {"--model", models + "/hostile_loop_later.pt", "--model-time-limit", "4", "--train", "--frames", "900",
                                "--views", "all", "--stats", stats, "--autosave", dir + "/auto.ckpt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("encode ran past the time limit of 4 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the one before it is back"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("thread that draws the window"), std::string::npos) << r.err;
  const std::string json = read_text(stats);
  EXPECT_NE(json.find("\"architecture\": \"mlp\""), std::string::npos) << json;  // ours again
  EXPECT_EQ(json_number(json, "frames"), 900) << json;
  // A frame that had waited on the module would take the whole limit (4,000 ms); the bound leaves
  // room for a loaded test machine (the 50 ms figure is bench/explorer's, not a test's).
  EXPECT_LT(json_number(json, "frame_ms_p99"), 500) << json;
}

TEST(Explorer, AWatchedFileThatLoopsIsGivenUpAndTheVersionBeforeStays) {
  const std::string models = LATENT_TORCHSCRIPT_MODELS;
  if (models.empty() || !fs::exists(models + "/hostile_loop_on_probe.pt")) GTEST_SKIP() << "no TorchScript test models";
  const std::string dir = test::temp_dir();
  fs::copy_file(models + "/bad_good.pt", dir + "/watched.pt");
  std::vector<std::string> cmd = {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir + "/config", "LATENT_NO_DOWNLOAD=1", "xvfb-run", "-a", "-s",
                                  "-screen 0 1600x1000x24", "sh", "-c",
                                  "\"$0\" \"$@\" & pid=$!; sleep 5; cp '" + models + "/hostile_loop_on_probe.pt' '" + dir +
                                      "/next.pt'; mv '" + dir + "/next.pt' '" + dir + "/watched.pt'; sleep 9; kill -TERM $pid; wait $pid",
                                  LATENT_EXPLORER_BIN, "--model", dir + "/watched.pt", "--watch", "--model-time-limit", "2",
                                  "--stats", dir + "/stats.json", "--autosave", dir + "/auto.pt"};
  const auto r = test::run_process(cmd, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("changed but cannot be used; still showing the version before"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("encode ran past the time limit of 2 s"), std::string::npos) << r.err;
  EXPECT_NE(read_text(dir + "/stats.json").find("\"architecture\": \"torchscript\""), std::string::npos);  // the version before
}

}  // namespace
}  // namespace latent
