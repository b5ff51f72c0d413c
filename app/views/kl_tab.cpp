// KL per latent dimension on the test sample, active units, and posterior collapse, with β and the
// KL warm-up right here so that collapse and its cure can be shown live.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "latent/latent_ops.h"
#include "ui/plot_math.h"
#include "views/view.h"

namespace latent::app {

void kl_tab(AppState& state, KlTabState& tab) {
  ElboViews& e = state.elbo;
  e.test_views_visible = true;
  if (e.have_test && e.test_bounds.elbo.kl_estimated) {
    // A learned prior does not factor over dimensions: there is one KL, estimated by sampling.
    const Evaluation& t = e.test_bounds.elbo;
    ImGui::Text("KL = %.2f +- %.2f nats (estimated)", t.kl, t.kl_stderr);
    help_marker("Under a learned prior KL(q(z|x) || p(z)) has no closed form: it is the mean over test images of "
                "log q(z|x) - log p(z) at one sampled z each, with its standard error. Nor does it split into one "
                "term per latent dimension, as it does under N(0, I): switch the prior to normal (Reset) to see "
                "KL per dimension and which units are active.");
    if (t.kl < 0.1)
      ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "posterior collapse: q(z|x) = p(z) for every image, the decoder ignores z.");
    return;
  }
  if (!e.have_test || e.test_bounds.elbo.kl_per_dim.empty()) {
    ImGui::TextDisabled("computing KL per dimension...");
    return;
  }
  const std::vector<double>& kl = e.test_bounds.elbo.kl_per_dim;
  // Active units (Burda et al.): Cov_x(E_q[z_d]) > 0.01, the variance of μ_d over the encoded test set.
  // Computed once per encoded set, not every frame.
  std::vector<double>& activity = tab.activity;
  int64_t& activity_generation = tab.activity_generation;
  const LatentMatrix& mu = state.scatter.posterior.mu;
  if (activity_generation != state.scatter_generation || activity.size() != kl.size()) {
    activity_generation = state.scatter_generation;
    activity = mu.cols == int64_t(kl.size()) ? latent_activity(mu) : std::vector<double>(kl.size(), 0.0);
  }
  int active = 0;
  for (double a : activity) active += a > kActiveUnitVariance;
  double total = 0;
  for (double v : kl) total += v;
  ImGui::Text("KL = %.2f nats over %zu dims; active units: %d of %zu", total, kl.size(), active, kl.size());
  help_marker("A unit (latent dim) is active when its code moves with the input: Cov_x(E_q[z_d]) > 0.01. An inactive "
              "unit has q(z_d|x) = p(z_d) for every x: KL 0, and the decoder ignores it.");
  if (total < 0.1 || active == 0)
    ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "posterior collapse: q(z|x) = p(z) for every image, the decoder ignores z. "
                                                  "Lower beta or add a KL warm-up.");

  // Bars, one per dim, height = KL_d in nats on a scale that only grows during a run (1, 2, 5, 10,
  // 20, ... nats): after beta goes up, the bars are seen to fall instead of being scaled back up.
  // Below them, Var_x(mu_d) on a log scale with the active-unit threshold, 0.01.
  ImGui::Checkbox("scale to the tallest bar", &tab.relative);
  help_marker("Off (the default): the bars share one scale in nats for the whole run, so raising beta shows as "
              "falling bars. On: the tallest bar fills the height, to compare the dims' shares.");
  double peak = 0;
  for (double v : kl) peak = std::max(peak, v);
  tab.scale_nats = std::max(tab.scale_nats, ui::nice_ceiling(std::max(peak, 0.5)));
  const double scale = tab.relative ? std::max(peak, 1e-9) : tab.scale_nats;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float font = ImGui::GetFontSize();
  const float left = font * 2.6f;  // room for the axis labels
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float width = ImGui::GetContentRegionAvail().x;
  const float height = std::max(90.0f, ImGui::GetContentRegionAvail().y - font * 5.5f);
  ImGui::InvisibleButton("bars", ImVec2(width, height));
  const float var_h = std::max(24.0f, height * 0.22f);  // the Var(mu) strip
  const ImVec2 p0(origin.x + left, origin.y + font * 1.2f);
  const float plot_w = width - left, bars_h = height - var_h - font * 2.4f;
  const float bar = plot_w / float(kl.size());
  dl->AddRectFilled(p0, ImVec2(p0.x + plot_w, p0.y + bars_h), IM_COL32(20, 22, 28, 255));
  const ImU32 axis_text = IM_COL32(200, 200, 200, 220);
  for (double tick : {0.0, 0.5, 1.0}) {
    const float y = p0.y + bars_h - float(tick) * bars_h;
    dl->AddLine(ImVec2(p0.x, y), ImVec2(p0.x + plot_w, y), IM_COL32(255, 255, 255, 30));
    char label[32];
    std::snprintf(label, sizeof label, "%.3g", tick * scale);
    dl->AddText(ImVec2(origin.x, y - font / 2), axis_text, label);
  }
  dl->AddText(ImVec2(origin.x, origin.y), axis_text, "KL nats");
  const bool values = bar > ImGui::CalcTextSize("00.00").x;
  for (size_t d = 0; d < kl.size(); ++d) {
    const float h = float(std::min(1.0, kl[d] / scale)) * bars_h;
    const bool on = activity[d] > kActiveUnitVariance;
    const ImU32 colour = on ? IM_COL32(255, 150, 60, 255) : IM_COL32(120, 120, 120, 255);
    const float x0 = p0.x + bar * float(d) + 1, x1 = p0.x + bar * float(d + 1) - 1;
    dl->AddRectFilled(ImVec2(x0, p0.y + bars_h - h), ImVec2(x1, p0.y + bars_h), colour);
    if (values) {
      char label[16];
      std::snprintf(label, sizeof label, "%.2f", kl[d]);
      const float tw = ImGui::CalcTextSize(label).x;
      dl->AddText(ImVec2((x0 + x1 - tw) / 2, std::max(p0.y, p0.y + bars_h - h - font)), IM_COL32(230, 230, 230, 230), label);
    }
    if (bar > font * 1.2f) {
      char label[16];
      std::snprintf(label, sizeof label, "z%zu", d);
      const float tw = ImGui::CalcTextSize(label).x;
      dl->AddText(ImVec2((x0 + x1 - tw) / 2, p0.y + bars_h + 1), IM_COL32(200, 200, 200, 200), label);
    }
  }
  // Var_x(mu_d), log10 from 1e-4 to 10, and the threshold.
  const ImVec2 v0(p0.x, p0.y + bars_h + font * 1.2f);
  dl->AddRectFilled(v0, ImVec2(v0.x + plot_w, v0.y + var_h), IM_COL32(20, 22, 28, 255));
  const auto var_y = [&](double v) {
    const double t = (std::log10(std::clamp(v, 1e-4, 10.0)) + 4.0) / 5.0;
    return v0.y + var_h - float(t) * var_h;
  };
  for (size_t d = 0; d < kl.size(); ++d) {
    const float x0 = v0.x + bar * float(d) + 1, x1 = v0.x + bar * float(d + 1) - 1;
    dl->AddRectFilled(ImVec2(x0, var_y(activity[d])), ImVec2(x1, v0.y + var_h),
                      activity[d] > kActiveUnitVariance ? IM_COL32(120, 200, 255, 220) : IM_COL32(100, 100, 100, 220));
  }
  const float threshold_y = var_y(kActiveUnitVariance);
  for (float x = v0.x; x < v0.x + plot_w; x += 8)  // dashed
    dl->AddLine(ImVec2(x, threshold_y), ImVec2(std::min(x + 4, v0.x + plot_w), threshold_y), IM_COL32(255, 90, 90, 255), 1.5f);
  dl->AddText(ImVec2(origin.x, v0.y), axis_text, "Var mu");
  dl->AddText(ImVec2(origin.x, threshold_y - font / 2), IM_COL32(255, 120, 120, 255), "0.01");
  if (ImGui::IsItemHovered()) {
    const size_t d = std::min(kl.size() - 1, size_t(std::max(0.0f, ImGui::GetIO().MousePos.x - p0.x) / bar));
    ImGui::SetTooltip("z%zu: KL %.3f nats, Var_x(mu) %.4f%s", d, kl[d], activity[d], activity[d] > kActiveUnitVariance ? "" : " (inactive)");
  }
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("bars: KL of each dim in nats (grey: inactive unit); below: Var_x(mu_d), active above the red line");
  ImGui::PopStyleColor();

  // β and the warm-up, right where their effect shows.
  TrainingForm& f = state.form;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  ImGui::SliderFloat("beta##kl", &f.beta, 0.0f, 10.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
  if (ImGui::IsItemDeactivatedAfterEdit()) state.set_beta(f.beta);  // on release, not every drag tick
  help_marker("Raise beta past ~3 on a 2-D model and watch the bars fall and units switch off: posterior collapse. "
              "Then lower it, or reset with a KL warm-up.");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::InputFloat("warm-up epochs##kl", &f.warmup, 0, 0, "%.1f", ImGuiInputTextFlags_EnterReturnsTrue))
    state.set_warmup_epochs(f.warmup);
}

}  // namespace latent::app
