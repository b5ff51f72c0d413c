// Lessons: a short guided walk through the derivation, each step opening the views it talks about,
// with one sentence and one thing to try.
#include <filesystem>

#include "scene.h"
#include "views/view.h"

namespace latent::app {
namespace {

struct Lesson {
  const char* title;
  const char* text;
  const char* try_this;
  void (*show)(AppState&);            // opens what the lesson talks about (Back, Next and Show me)
  void (*set_up)(AppState&) = nullptr;  // and what only Show me does: a new model, say
};

const Lesson kLessons[] = {
    {"1. A latent variable model",
     "Each image x comes from a code z: first z ~ p(z) = N(0, I), then x ~ p(x|z), the decoder.",
     "Drag the point on the pad over the decoded manifold: every z decodes to an image.",
     [](AppState& s) { s.options.pad_background = PadBackground::Manifold, s.grid_dirty = true; }},
    {"2. log p(x) is intractable",
     "p(x) = integral of p(x|z) p(z) over every z. In 2-D we can still sum it on a grid; in 20-D we cannot.",
     "In the ELBO tab, read log p(x) for a test image; then pick another.",
     [](AppState& s) { s.options.tab = "elbo"; }},
    {"3. An encoder q(z|x)",
     "The encoder guesses where the code of x lies: q(z|x) = N(mu(x), sigma(x)^2), a Gaussian per image.",
     "Watch q's ellipses against the true posterior's heatmap on the pad (2-D models).",
     [](AppState& s) { s.options.tab = "elbo", s.elbo.show_posterior = true, s.options.pad_background = PadBackground::Scatter; }},
    {"4. Jensen's inequality",
     "log p(x) = log E_q[p(x,z)/q(z|x)] >= E_q[log p(x,z)/q(z|x)] = ELBO: the log of a mean exceeds the mean of the log.",
     "Hover the '>=' in the ELBO tab, and compare the IW bound as K grows.",
     [](AppState& s) { s.options.tab = "elbo"; }},
    {"5. Reconstruction minus KL",
     "The ELBO splits into E_q[log p(x|z)] (reconstruct x from a sampled z) minus KL(q(z|x) || p(z)).",
     "Switch the curves to 'stacked': blue is the reconstruction term, orange the KL; together, -ELBO.",
     [](AppState& s) { s.options.tab = "curves", s.options.curve_layout = CurveLayout::Stacked; }},
    {"6. Why the KL term",
     "Without it, codes would drift apart and the space between them would decode to nothing. KL pulls every q(z|x) "
     "towards N(0, I), so codes overlap and the space stays smooth; too much of it and codes carry no information.",
     "Show me starts a 20-D model at beta = 4: in 'KL per dim' watch most units fall below the line and switch off. "
     "Then set beta to 1 and watch some come back.",
     [](AppState& s) { s.options.tab = "kl", s.options.pad_background = PadBackground::Aggregate, s.scatter_dirty = true; },
     [](AppState& s) {
       s.form.latent = 20, s.form.beta = 4.0f;
       s.reset_from_form();
       s.start_or_resume();
       s.notify("Lesson 6: a new 20-D model at beta = 4 is training; the KL per dim tab shows each unit", false, 8);
     }},
    {"7. The gap",
     "log p(x) - ELBO = KL(q(z|x) || p(z|x)): the bound is tight when the encoder's Gaussian matches the true posterior.",
     "Train and watch the gap for one image shrink; scrub the timeline back to see it wide.",
     [](AppState& s) { s.options.tab = "elbo", s.elbo.show_posterior = true; }},
    {"8. Why a learned prior",
     "N(0, I) is an assumption, one round blob. The codes the encoder actually uses, q(z) = the mean of q(z|x), are "
     "lumpy: the prior keeps mass in holes no image is encoded to, and samples from there decode to nothing. A prior "
     "that is learned (a mixture of Gaussians, or the VampPrior's mixture of q(z|u) over learned images) moves its "
     "mass to where the codes are, and the bound tightens.",
     "Show me starts a 2-D model with the VampPrior: in 'q(z) vs p(z)' its contours (blue) follow the clusters and "
     "the red holes shrink; the gallery shows its pseudo-inputs.",
     [](AppState& s) { s.options.pad_background = PadBackground::Aggregate, s.scatter_dirty = true, s.options.tab = "elbo"; },
     [](AppState& s) {
       s.form.latent = 2, s.form.prior = 2, s.form.components = default_prior_components("vamp");
       s.reset_from_form();
       s.start_or_resume();
       s.notify("Lesson 8: a new 2-D model with the VampPrior (500 pseudo-inputs) is training", false, 8);
     }},
    {"9. What the model does not know",
     "The bound scores any image: -ELBO is high for what the model finds unlikely, so its worst test images are "
     "candidates for anomalies. But likelihood is not 'looks like my data'. Trained on Fashion-MNIST, a VAE gives "
     "MNIST digits a HIGHER likelihood than its own clothes (Nalisnick et al. 2019): -log p(x) counts mostly how "
     "cheap the pixels are to predict, and a digit is mostly black background. Low likelihood flags an outlier; "
     "high likelihood does not clear one.",
     "Show me trains a 20-D model on Fashion-MNIST and scores MNIST in the Outliers view: the orange histogram sits "
     "to the LEFT of the test set's, and the AUROC falls below 0.5. Click the least likely images to see why they are.",
     [](AppState& s) { s.open_views_requested.push_back("anomaly"); },
     [](AppState& s) {
       s.switch_dataset("fashion-mnist", DataOptions{}, [](ModelConfig& m, TrainConfig& t) {
         m.latent_dim = 20, m.classes = 0, m.prior = "normal", m.prior_components = 0;
         t.beta = 1, t.warmup_epochs = 0, t.corrupt = Corruption{};
       });
       s.options.ood = "mnist";
       s.start_or_resume();
       s.notify("Lesson 9: a 20-D model is training on Fashion-MNIST; the Outliers view scores MNIST against it", false, 8);
     }},
    {"10. beta-VAE and disentanglement",
     "shapes is made from known factors: shape, scale, rotation, x, y and hue. With beta > 1 the KL term presses "
     "harder towards the factorised N(0, I), and dimensions tend to take one factor each: a traversal then changes "
     "one thing at a time. The Mutual Information Gap measures it: 1 when each factor lives in a dimension of its own.",
     "Show me trains a 10-D model on shapes at beta = 4; read MIG and the dimension x factor matrix under the "
     "Traversals. Then set beta to 1, press Reset, and compare MIG, the traversals and the blur.",
     [](AppState& s) { s.open_views_requested.push_back("traversal"); },
     [](AppState& s) {
       DataOptions small;
       small.height = small.width = 32;
       s.switch_dataset("shapes", small, [](ModelConfig& m, TrainConfig& t) {
         m.latent_dim = 10, m.classes = 0, m.prior = "normal", m.prior_components = 0;
         t.beta = 4, t.warmup_epochs = 0, t.corrupt = Corruption{};
       });
       s.start_or_resume();
       s.notify("Lesson 10: a 10-D model is training on shapes (32x32) at beta = 4", false, 8);
     }},
};
constexpr int kLessonCount = int(sizeof kLessons / sizeof kLessons[0]);

// What each lesson shows when presented, besides the bound and the lessons themselves.
const std::vector<std::string> kPresented[] = {
    {"pad", "image"},  {"curves", "pad"},    {"pad", "curves"},   {"curves", "pad"},       {"curves", "gallery"},
    {"curves", "pad"}, {"pad", "curves"},    {"pad", "gallery"},  {"anomaly", "gallery"}, {"traversal", "gallery"},
};
static_assert(sizeof kPresented / sizeof kPresented[0] == kLessonCount, "a presentation layout for every lesson");

// The demo scene (assets/scenes, by name) that shows each lesson at work, or "".
const char* const kDemos[] = {
    "", "", "02-the-gap", "03-iw-tightens-the-bound", "", "01-kl-keeps-the-space-smooth", "02-the-gap",
    "06-a-learned-prior", "08-outliers", "05-beta-vae-on-shapes",
};
static_assert(sizeof kDemos / sizeof kDemos[0] == kLessonCount, "a demo (or none) for every lesson");

// The demo's file, "" when the lesson has none or it is not installed.
std::string demo_path(int lesson) {
  const std::string name = kDemos[lesson];
  if (name.empty()) return "";
  static const std::vector<std::string> demos = demo_scene_paths();  // listed once, not every frame
  for (const std::string& path : demos)
    if (std::filesystem::path(path).stem() == name) return path;
  return "";
}

}  // namespace

int lesson_count() { return kLessonCount; }

void show_lesson(AppState& state, int lesson) { kLessons[std::clamp(lesson, 0, kLessonCount - 1)].show(state); }

std::vector<std::string> presentation_views(int lesson) {
  std::vector<std::string> views = {"equation"};
  const auto& own = kPresented[std::clamp(lesson, 0, kLessonCount - 1)];
  views.insert(views.end(), own.begin(), own.end());
  views.push_back("lessons");
  return views;
}

class LessonsView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void LessonsView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Lessons", open)) return ImGui::End();
  int& step = state.lesson;
  step = std::clamp(step, 0, kLessonCount - 1);
  // The buttons first, so that they stay where they are whatever the length of the text below.
  ImGui::BeginDisabled(step == 0);
  if (ImGui::Button("< Back")) kLessons[--step].show(state);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(step + 1 >= kLessonCount);
  if (ImGui::Button("Next >")) kLessons[++step].show(state);
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Show me")) {
    kLessons[step].show(state);
    if (kLessons[step].set_up) kLessons[step].set_up(state);
  }
  if (const std::string demo = demo_path(step); !demo.empty()) {
    ImGui::SameLine();
    if (ImGui::Button("Demo")) state.open_scene_requested = demo;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Opens the demo %s: the explorer starts again with its setup (the current model is autosaved)",
                        std::filesystem::path(demo).stem().c_str());
  }
  ImGui::SameLine();
  ImGui::TextDisabled("%d / %d", step + 1, kLessonCount);
  const Lesson& lesson = kLessons[step];
  ImGui::Separator();
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "%s", lesson.title);
  ImGui::PushTextWrapPos(0);
  ImGui::TextUnformatted(lesson.text);
  ImGui::Spacing();
  ImGui::TextColored(ImVec4(1.0f, 0.86f, 0.31f, 1), "Try: %s", lesson.try_this);
  ImGui::PopTextWrapPos();
  ImGui::End();
}

std::unique_ptr<View> make_lessons_view() { return make_view<LessonsView>(); }

}  // namespace latent::app
