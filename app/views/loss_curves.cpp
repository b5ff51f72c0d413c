// Loss curves: reconstruction, KL, β·KL and −ELBO per step (smoothed) and on the test set per epoch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "views/view.h"
#include "ui/plot_math.h"
#include "ui/plot_widget.h"

namespace latent::app {
namespace {

constexpr ImU32 kRecon = IM_COL32(90, 160, 255, 255);
constexpr ImU32 kKl = IM_COL32(255, 150, 60, 255);
constexpr ImU32 kBetaKl = IM_COL32(255, 210, 140, 200);
constexpr ImU32 kElbo = IM_COL32(120, 230, 140, 255);
constexpr ImU32 kTrainElbo = IM_COL32(230, 230, 230, 255);

// Series derived from the logs: new steps are appended (the smoothing is causal, so earlier points
// never change); everything is rebuilt only when the view options change or the logs restart.
struct Curves {
  size_t steps = size_t(-1), epochs = size_t(-1);
  double smoothing = -1;
  bool in_epochs = false;
  std::vector<double> x, recon, kl, beta_kl, loss, elbo, stacked_total;
  bool beta_not_one = false;  // some step had β ≠ 1 (a set β or the warm-up): −ELBO differs from the loss
  std::vector<double> ex, test_recon, test_kl, test_loss;
  ui::Smoother smooth_recon, smooth_kl, smooth_beta_kl, smooth_loss, smooth_elbo;
  int64_t run_generation = -1;  // AppState::run_generation of the run the series were built from
  uint64_t steps_generation = ~uint64_t(0);  // and AppState::steps_generation
  uint64_t generation = 0;  // bumped when the step series are rebuilt rather than appended to
};

void rebuild(Curves& c, const AppState& s, double smoothing, bool in_epochs) {
  const bool append = c.smoothing == smoothing && c.in_epochs == in_epochs && c.steps <= s.steps.size() &&
                      c.run_generation == s.run_generation && c.steps_generation == s.steps_generation;
  c.run_generation = s.run_generation;
  c.steps_generation = s.steps_generation;
  if (!append) {
    ++c.generation;
    c.x.clear(), c.recon.clear(), c.kl.clear(), c.beta_kl.clear(), c.loss.clear(), c.elbo.clear(), c.stacked_total.clear();
    c.smooth_recon = c.smooth_kl = c.smooth_beta_kl = c.smooth_loss = c.smooth_elbo = ui::Smoother(smoothing);
    c.beta_not_one = false;
  }
  for (size_t i = c.x.size(); i < s.steps.size(); ++i) {
    const auto& r = s.steps[i];
    c.x.push_back(in_epochs ? r.epoch : double(r.step));
    c.recon.push_back(c.smooth_recon.push(r.recon));
    c.kl.push_back(c.smooth_kl.push(r.kl));
    c.beta_kl.push_back(c.smooth_beta_kl.push(r.beta * r.kl));
    c.loss.push_back(c.smooth_loss.push(r.loss));
    c.elbo.push_back(c.smooth_elbo.push(r.recon + r.kl));  // −ELBO at β = 1, comparable with the test set's
    c.beta_not_one = c.beta_not_one || r.beta != 1.0;
    c.stacked_total.push_back(c.recon.back() + c.kl.back());
  }
  c.steps = s.steps.size();
  c.epochs = s.epochs.size();
  c.smoothing = smoothing;
  c.in_epochs = in_epochs;
  c.ex.clear();
  c.test_recon.clear();
  c.test_kl.clear();
  c.test_loss.clear();
  for (const auto& e : s.epochs) {
    c.ex.push_back(in_epochs ? double(e.epoch) : double(e.step));
    c.test_recon.push_back(e.test_recon);
    c.test_kl.push_back(e.test_kl);
    c.test_loss.push_back(e.test_loss);
  }
}

// The weights kept during training, replayed by every view (see AppState::timeline).
void timeline_row(AppState& state) {
  if (state.timeline.empty()) return;
  int view = state.timeline_view < 0 ? int(state.timeline.size()) : state.timeline_view;
  char label[64];
  if (view == int(state.timeline.size())) std::snprintf(label, sizeof label, "live");
  else std::snprintf(label, sizeof label, "step %lld (epoch %.2f)", (long long)state.timeline[size_t(view)].step,
                     state.timeline[size_t(view)].epoch);
  ImGui::TextUnformatted("timeline");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 5.5f);
  if (ImGui::SliderInt("##timeline", &view, 0, int(state.timeline.size()), label))
    state.view_timeline(view == int(state.timeline.size()) ? -1 : view);
  ImGui::SameLine();
  if (ImGui::SmallButton("live")) state.view_timeline(-1);
  help_marker("Weights kept during training: at steps 1, 2, 4, 8, ... and at the end of every epoch. Drag to replay "
              "the latent map, the manifold, the reconstructions and the bound as they were; training goes on.");
}

}  // namespace

class LossCurvesView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override {
    curves_ = Curves{};
    elbo_tab_ = ElboTabState{};
    kl_tab_ = KlTabState{};
  }

 private:
  Curves curves_;
  float smoothing_ = 0.9f;
  int x_axis_ = 0;      // 0 steps, 1 epochs
  std::string shown_;   // the tab open last frame
  ElboTabState elbo_tab_;
  KlTabState kl_tab_;
};

void LossCurvesView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Loss curves", open)) return ImGui::End();
  AppOptions& o = state.options;
  timeline_row(state);
  // --tab and the lessons ask for a tab by setting options.tab; a click on a tab sets it too.
  const bool select = o.tab != shown_;
  std::string current;
  if (!ImGui::BeginTabBar("loss tabs")) return ImGui::End();
  const auto flags = [&](const char* tab) { return select && o.tab == tab ? ImGuiTabItemFlags_SetSelected : 0; };
  if (ImGui::BeginTabItem("ELBO", nullptr, flags("elbo"))) {
    elbo_tab(state, gfx, elbo_tab_);
    ImGui::EndTabItem();
    current = "elbo";
  }
  if (ImGui::BeginTabItem("KL per dim", nullptr, flags("kl"))) {
    kl_tab(state, kl_tab_);
    ImGui::EndTabItem();
    current = "kl";
  }
  const bool curves_open = ImGui::BeginTabItem("Curves", nullptr, flags("curves"));
  if (curves_open) current = "curves";
  // A request takes a frame to open its tab; until then keep asking. Otherwise adopt the user's click.
  if (!select || current == o.tab) o.tab = current;
  shown_ = current;
  if (!curves_open) {
    ImGui::EndTabBar();
    return ImGui::End();
  }
  Curves& curves = curves_;
  int layout = o.curve_layout == CurveLayout::Stacked ? 1 : 0;
  ImGui::RadioButton("separate", &layout, 0);
  ImGui::SameLine();
  ImGui::RadioButton("stacked", &layout, 1);
  help_marker("Stacked: the reconstruction term (blue) with the KL term (orange) on top; together they are -ELBO "
              "(beta = 1), the bound on -log p(x).");
  o.curve_layout = layout ? CurveLayout::Stacked : CurveLayout::Separate;
  const float inner = ImGui::GetStyle().ItemInnerSpacing.x;
  same_line_if_fits(checkbox_width("log y"));
  ImGui::Checkbox("log y", &o.log_y);
  same_line_if_fits(ImGui::GetFontSize() * 5 + inner + ImGui::CalcTextSize("x").x);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
  const char* axes[] = {"steps", "epochs"};
  ImGui::Combo("x", &x_axis_, axes, 2);
  same_line_if_fits(ImGui::GetFontSize() * 6 + inner + ImGui::CalcTextSize("smoothing").x);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::SliderFloat("smoothing", &smoothing_, 0.0f, 0.99f, "%.2f");
  same_line_if_fits(button_width("CSV"));
  if (ImGui::Button("CSV")) state.export_curves_csv();
  if (state.snapshot && state.snapshot->model.likelihood == ReconstructionLikelihood::Gaussian) {
    same_line_if_fits(ImGui::CalcTextSize("(negative?)").x);
    ImGui::TextDisabled("(negative?)");
    hover_explanation(kNegativeNatsHelp);
  }

  if (curves.steps != state.steps.size() || curves.epochs != state.epochs.size() || curves.smoothing != smoothing_ ||
      curves.in_epochs != (x_axis_ == 1) || curves.run_generation != state.run_generation ||
      curves.steps_generation != state.steps_generation)
    rebuild(curves, state, smoothing_, x_axis_ == 1);

  std::vector<ui::PlotMarker> markers;
  for (const auto& m : state.markers) {
    double x = m.step;
    if (x_axis_ == 1 && !state.steps.empty()) {
      // The first record at or after the marker's step: a resumed run's log may start late, or be
      // thinned, so a record's index is not its step.
      auto at = std::lower_bound(state.steps.begin(), state.steps.end(), m.step,
                                 [](const StepRecord& r, double step) { return double(r.step) < step; });
      x = (at == state.steps.end() ? state.steps.back() : *at).epoch;
    }
    markers.push_back({x, m.label});
  }
  ui::PlotStyle style;
  style.log_y = o.log_y;
  style.x_label = axes[x_axis_];
  style.generation = curves.generation;
  const float avail = ImGui::GetContentRegionAvail().y;
  if (o.curve_layout == CurveLayout::Separate) {
    style.size = ImVec2(-1, avail * 0.6f);
    style.y_label = "nats per image";
    // What training minimises is recon + beta * KL; only at beta = 1 is that -ELBO. When beta is
    // not 1 (set, or during the warm-up), train -ELBO at beta = 1 is drawn as well: it is the
    // curve to compare with test -ELBO.
    std::vector<ui::PlotSeries> series = {{"train loss (recon + b*KL)", &curves.x, &curves.loss, kElbo, 1.5f}};
    if (curves.beta_not_one) series.push_back({"train -ELBO (b = 1)", &curves.x, &curves.elbo, kTrainElbo, 1.5f});
    series.push_back({"train recon", &curves.x, &curves.recon, kRecon, 1.5f});
    series.push_back({"test -ELBO", &curves.ex, &curves.test_loss, IM_COL32(200, 255, 200, 255), 2.0f, true});
    series.push_back({"test recon", &curves.ex, &curves.test_recon, IM_COL32(170, 210, 255, 255), 2.0f, true});
    ui::plot("elbo", series, markers, style);
    style.size = ImVec2(-1, -1);
    style.y_label = "KL nats";
    ui::plot("kl",
             {{"KL", &curves.x, &curves.kl, kKl, 1.5f},
              {"beta*KL", &curves.x, &curves.beta_kl, kBetaKl, 1.0f},
              {"test KL", &curves.ex, &curves.test_kl, IM_COL32(255, 200, 150, 255), 2.0f, true}},
             markers, style);
  } else {
    style.size = ImVec2(-1, -1);
    style.y_label = "-ELBO = recon + KL (nats per image)";
    ui::PlotSeries recon{"recon", &curves.x, &curves.recon, kRecon, 1.5f};
    recon.fill_to_zero = true;
    ui::PlotSeries kl{"+ KL = -ELBO", &curves.x, &curves.stacked_total, kKl, 1.5f};
    kl.fill_from = &curves.recon;
    ui::plot("stacked", {recon, kl, {"test -ELBO", &curves.ex, &curves.test_loss, kElbo, 2.0f, true}}, markers, style);
  }
  ImGui::EndTabItem();
  ImGui::EndTabBar();
  ImGui::End();
}

std::unique_ptr<View> make_loss_curves_view() { return make_view<LossCurvesView>(); }

}  // namespace latent::app
