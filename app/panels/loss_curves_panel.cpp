// Loss curves: reconstruction, KL, β·KL and −ELBO per step (smoothed) and on the test set per epoch.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "panels/panels.h"
#include "ui/plot_math.h"
#include "ui/plot_widget.h"

namespace latent::app {
namespace {

constexpr ImU32 kRecon = IM_COL32(90, 160, 255, 255);
constexpr ImU32 kKl = IM_COL32(255, 150, 60, 255);
constexpr ImU32 kBetaKl = IM_COL32(255, 210, 140, 200);
constexpr ImU32 kElbo = IM_COL32(120, 230, 140, 255);

// Series derived from the logs: new steps are appended (the smoothing is causal, so earlier points
// never change); everything is rebuilt only when the view options change or the logs restart.
struct Curves {
  size_t steps = size_t(-1), epochs = size_t(-1);
  double smoothing = -1;
  bool in_epochs = false;
  std::vector<double> x, recon, kl, beta_kl, loss, stacked_total;
  std::vector<double> ex, test_recon, test_kl, test_loss;
  ui::Smoother smooth_recon, smooth_kl, smooth_beta_kl, smooth_loss;
  int64_t first_step = -1;  // the log's first step: another value means another run's log
  uint64_t generation = 0;  // bumped when the step series are rebuilt rather than appended to
};

void rebuild(Curves& c, const AppState& s, double smoothing, bool in_epochs) {
  const int64_t first_step = s.steps.empty() ? -1 : int64_t(s.steps.front().step);
  const bool append = c.smoothing == smoothing && c.in_epochs == in_epochs && c.steps <= s.steps.size() &&
                      (c.x.empty() || c.first_step == first_step);
  c.first_step = first_step;
  if (!append) {
    ++c.generation;
    c.x.clear(), c.recon.clear(), c.kl.clear(), c.beta_kl.clear(), c.loss.clear(), c.stacked_total.clear();
    c.smooth_recon = c.smooth_kl = c.smooth_beta_kl = c.smooth_loss = ui::Smoother(smoothing);
  }
  for (size_t i = c.x.size(); i < s.steps.size(); ++i) {
    const auto& r = s.steps[i];
    c.x.push_back(in_epochs ? r.epoch : double(r.step));
    c.recon.push_back(c.smooth_recon.push(r.recon));
    c.kl.push_back(c.smooth_kl.push(r.kl));
    c.beta_kl.push_back(c.smooth_beta_kl.push(r.beta * r.kl));
    c.loss.push_back(c.smooth_loss.push(r.loss));
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

void export_csv(AppState& state) {
  try {
    std::filesystem::create_directories("exports");
    std::ofstream out("exports/curves.csv");
    out << "kind,step,epoch,recon,kl,beta,loss,learning_rate,test_recon,test_kl,test_loss\n";
    for (const auto& r : state.steps)
      out << "step," << r.step << ',' << r.epoch << ',' << r.recon << ',' << r.kl << ',' << r.beta << ',' << r.loss << ','
          << r.learning_rate << ",,,\n";
    for (const auto& e : state.epochs)
      out << "epoch," << e.step << ',' << e.epoch << ",,,," << e.train_loss << ",," << e.test_recon << ',' << e.test_kl << ','
          << e.test_loss << '\n';
    if (!out) throw std::runtime_error("write failed");
    state.notify("exported exports/curves.csv", false, 4);
  } catch (const std::exception& e) {
    state.notify(std::string("CSV export failed: ") + e.what(), true, 0);
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

void loss_curves_panel(AppState& state, Gfx& gfx) {
  static Curves curves;
  static float smoothing = 0.9f;
  static int x_axis = 0;  // 0 steps, 1 epochs
  ImGui::SetNextWindowPos(ImVec2(390, 0), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(620, 430), ImGuiCond_FirstUseEver);
  if (!begin_panel("Loss curves")) return ImGui::End();
  AppOptions& o = state.options;
  timeline_row(state);
  // --tab and the lessons ask for a tab by setting options.tab; a click on a tab sets it too.
  static std::string shown;  // the tab open last frame
  const bool select = o.tab != shown;
  std::string current;
  if (!ImGui::BeginTabBar("loss tabs")) return ImGui::End();
  const auto flags = [&](const char* tab) { return select && o.tab == tab ? ImGuiTabItemFlags_SetSelected : 0; };
  if (ImGui::BeginTabItem("ELBO", nullptr, flags("elbo"))) {
    elbo_tab(state, gfx);
    ImGui::EndTabItem();
    current = "elbo";
  }
  if (ImGui::BeginTabItem("KL per dim", nullptr, flags("kl"))) {
    kl_tab(state);
    ImGui::EndTabItem();
    current = "kl";
  }
  const bool curves_open = ImGui::BeginTabItem("Curves", nullptr, flags("curves"));
  if (curves_open) current = "curves";
  // A request takes a frame to open its tab; until then keep asking. Otherwise adopt the user's click.
  if (!select || current == o.tab) o.tab = current;
  shown = current;
  if (!curves_open) {
    ImGui::EndTabBar();
    return ImGui::End();
  }
  int layout = o.curve_layout == CurveLayout::Stacked ? 1 : 0;
  ImGui::RadioButton("separate", &layout, 0);
  ImGui::SameLine();
  ImGui::RadioButton("stacked", &layout, 1);
  help_marker("Stacked: the reconstruction term (blue) with the KL term (orange) on top; together they are -ELBO "
              "(beta = 1), the bound on -log p(x).");
  o.curve_layout = layout ? CurveLayout::Stacked : CurveLayout::Separate;
  ImGui::SameLine();
  ImGui::Checkbox("log y", &o.log_y);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
  const char* axes[] = {"steps", "epochs"};
  ImGui::Combo("x", &x_axis, axes, 2);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::SliderFloat("smoothing", &smoothing, 0.0f, 0.99f, "%.2f");
  ImGui::SameLine();
  if (ImGui::Button("CSV")) export_csv(state);

  if (curves.steps != state.steps.size() || curves.epochs != state.epochs.size() || curves.smoothing != smoothing ||
      curves.in_epochs != (x_axis == 1))
    rebuild(curves, state, smoothing, x_axis == 1);

  std::vector<ui::PlotMarker> markers;
  for (const auto& m : state.markers) {
    double x = m.step;
    if (x_axis == 1 && !state.steps.empty())
      x = state.steps[size_t(std::clamp<double>(m.step - 1, 0, double(state.steps.size() - 1)))].epoch;
    markers.push_back({x, m.label});
  }
  ui::PlotStyle style;
  style.log_y = o.log_y;
  style.x_label = axes[x_axis];
  style.generation = curves.generation;
  const float avail = ImGui::GetContentRegionAvail().y;
  if (o.curve_layout == CurveLayout::Separate) {
    style.size = ImVec2(-1, avail * 0.6f);
    style.y_label = "nats per image";
    ui::plot("elbo",
             {{"train -ELBO", &curves.x, &curves.loss, kElbo, 1.5f},
              {"train recon", &curves.x, &curves.recon, kRecon, 1.5f},
              {"test -ELBO", &curves.ex, &curves.test_loss, IM_COL32(200, 255, 200, 255), 2.0f, true},
              {"test recon", &curves.ex, &curves.test_recon, IM_COL32(170, 210, 255, 255), 2.0f, true}},
             markers, style);
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

}  // namespace latent::app
