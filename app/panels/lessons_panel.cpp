// Lessons: a short guided walk through the derivation, each step opening the views it talks about,
// with one sentence and one thing to try.
#include "panels/panels.h"

namespace latent::app {
namespace {

struct Lesson {
  const char* title;
  const char* text;
  const char* try_this;
  void (*show)(AppState&);
};

const Lesson kLessons[] = {
    {"1. A latent variable model",
     "Each image x comes from a code z: first z ~ p(z) = N(0, I), then x ~ p(x|z), the decoder.",
     "Drag the point on the pad over the decoded manifold: every z decodes to an image.",
     [](AppState& s) { s.options.pad_background = PadBackground::Manifold, s.grid_dirty = true; }},
    {"2. log p(x) is intractable",
     "p(x) = integral of p(x|z) p(z) over every z. In 2-D we can still sum it on a grid; in 20-D we cannot.",
     "In the ELBO tab, read log p(x) for a digit; then pick another digit.",
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
     "In 'KL per dim', set beta to 5 and watch the clusters pack and units switch off; then back to 1.",
     [](AppState& s) { s.options.tab = "kl", s.options.pad_background = PadBackground::Aggregate, s.scatter_dirty = true; }},
    {"7. The gap",
     "log p(x) - ELBO = KL(q(z|x) || p(z|x)): the bound is tight when the encoder's Gaussian matches the true posterior.",
     "Train and watch the gap for one digit shrink; scrub the timeline back to see it wide.",
     [](AppState& s) { s.options.tab = "elbo", s.elbo.show_posterior = true; }},
};
constexpr int kLessonCount = int(sizeof kLessons / sizeof kLessons[0]);

}  // namespace

void lessons_panel(AppState& state) {
  // Over the manifold, the view the lessons need least.
  ImGui::SetNextWindowPos(ImVec2(1010, 660), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(590, 230), ImGuiCond_FirstUseEver);
  if (!begin_panel("Lessons", &state.options.views.lessons)) return ImGui::End();
  int& step = state.lesson;
  step = std::clamp(step, 0, kLessonCount - 1);
  const Lesson& lesson = kLessons[step];
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "%s", lesson.title);
  ImGui::PushTextWrapPos(0);
  ImGui::TextUnformatted(lesson.text);
  ImGui::Spacing();
  ImGui::TextColored(ImVec4(1.0f, 0.86f, 0.31f, 1), "Try: %s", lesson.try_this);
  ImGui::PopTextWrapPos();
  ImGui::Spacing();
  if (ImGui::Button("< Back") && step > 0) kLessons[--step].show(state);
  ImGui::SameLine();
  if (ImGui::Button("Show me")) lesson.show(state);
  ImGui::SameLine();
  if (ImGui::Button("Next >") && step + 1 < kLessonCount) kLessons[++step].show(state);
  ImGui::SameLine();
  ImGui::TextDisabled("%d / %d", step + 1, kLessonCount);
  ImGui::End();
}

}  // namespace latent::app
