// KL per latent dimension on the test sample, active units, and posterior collapse, with β and the
// KL warm-up right here so that collapse and its cure can be shown live.
#include <cmath>

#include "panels/panels.h"

namespace latent::app {

void kl_tab(AppState& state) {
  ElboViews& e = state.elbo;
  e.test_views_visible = true;
  if (!e.have_test || e.test_bounds.elbo.kl_per_dim.empty()) {
    ImGui::TextDisabled("computing KL per dimension...");
    return;
  }
  const std::vector<double>& kl = e.test_bounds.elbo.kl_per_dim;
  // Active units (Burda et al.): Cov_x(E_q[z_d]) > 0.01, the variance of μ_d over the encoded test set.
  // Computed once per encoded set, not every frame.
  static std::vector<double> activity;
  static int64_t activity_generation = -1;
  const LatentMatrix& mu = state.scatter.posterior.mu;
  if (activity_generation != state.scatter_generation || activity.size() != kl.size()) {
    activity.assign(kl.size(), 0.0);
    activity_generation = state.scatter_generation;
    if (mu.rows > 1 && mu.cols == int64_t(kl.size()))
      for (int64_t d = 0; d < mu.cols; ++d) {
        double mean = 0, sq = 0;
        for (int64_t i = 0; i < mu.rows; ++i) mean += mu.at(i, d);
        mean /= double(mu.rows);
        for (int64_t i = 0; i < mu.rows; ++i) sq += (mu.at(i, d) - mean) * (mu.at(i, d) - mean);
        activity[size_t(d)] = sq / double(mu.rows - 1);
      }
  }
  int active = 0;
  for (double a : activity) active += a > 0.01;
  double total = 0;
  for (double v : kl) total += v;
  ImGui::Text("KL = %.2f nats over %zu dims; active units: %d of %zu", total, kl.size(), active, kl.size());
  help_marker("A unit (latent dim) is active when its code moves with the input: Cov_x(E_q[z_d]) > 0.01. An inactive "
              "unit has q(z_d|x) = p(z_d) for every x: KL 0, and the decoder ignores it.");
  if (total < 0.1 || active == 0)
    ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "posterior collapse: q(z|x) = p(z) for every digit, the decoder ignores z. "
                                                  "Lower beta or add a KL warm-up.");

  // Bars, one per dim, height = KL_d; grey when inactive.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float width = ImGui::GetContentRegionAvail().x, height = std::max(60.0f, ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 6.5f);
  ImGui::InvisibleButton("bars", ImVec2(width, height));
  double peak = 0.5;
  for (double v : kl) peak = std::max(peak, v);
  const float bar = width / float(kl.size());
  dl->AddRectFilled(p0, ImVec2(p0.x + width, p0.y + height), IM_COL32(20, 22, 28, 255));
  for (size_t d = 0; d < kl.size(); ++d) {
    const float h = float(kl[d] / peak) * (height - ImGui::GetFontSize() * 1.4f);
    const ImU32 colour = activity[d] > 0.01 ? IM_COL32(255, 150, 60, 255) : IM_COL32(120, 120, 120, 255);
    const float x0 = p0.x + bar * float(d) + 1, x1 = p0.x + bar * float(d + 1) - 1;
    dl->AddRectFilled(ImVec2(x0, p0.y + height - h), ImVec2(x1, p0.y + height), colour);
    if (bar > ImGui::GetFontSize() * 1.2f) {
      char label[16];
      std::snprintf(label, sizeof label, "%zu", d);
      dl->AddText(ImVec2(x0 + 2, p0.y + 2), IM_COL32(200, 200, 200, 200), label);
    }
  }
  // The line marks the scale: the height of `peak` nats, named below the bars.
  dl->AddLine(ImVec2(p0.x, p0.y + ImGui::GetFontSize() * 1.4f), ImVec2(p0.x + width, p0.y + ImGui::GetFontSize() * 1.4f),
              IM_COL32(255, 255, 255, 40));
  if (ImGui::IsItemHovered()) {
    const size_t d = std::min(kl.size() - 1, size_t((ImGui::GetIO().MousePos.x - p0.x) / bar));
    ImGui::SetTooltip("z%zu: KL %.3f nats, Var(mu) %.3f%s", d, kl[d], activity[d], activity[d] > 0.01 ? "" : " (inactive)");
  }
  ImGui::TextDisabled("bar height: KL of each dim; the line is %.2f nats", peak);

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
