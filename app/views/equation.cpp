// The bound, large enough for the back row: log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), with
// each term's live value on the test-set sample underneath it, in the colours of the loss curves;
// then the ELBO, the gap and what it is. Presentation mode puts it across the top of the screen.
#include <algorithm>
#include <cstdio>

#include "views/view.h"

namespace latent::app {
namespace {

const ImVec4 kPlain(1, 1, 1, 1);

struct Column {
  const char* symbol;  // the term as written
  std::string value;   // its number, or "" (the operators)
  ImVec4 colour;
};

// Draws the columns centred on one another, the symbols on one line and the values below them, at
// the largest font scale that fits the window (the big font's size at most).
void draw_columns(const std::vector<Column>& columns) {
  // A line of the UI's font stays free below for the sentence under the equation.
  const float reserved = 1.3f * ImGui::GetTextLineHeightWithSpacing();
  const float available_height = ImGui::GetContentRegionAvail().y - reserved;
  ImFont* font = big_font();
  ImGui::PushFont(font);
  float total = 0;
  std::vector<float> widths;
  const float gap = ImGui::CalcTextSize(" ").x;
  for (const Column& c : columns) {
    widths.push_back(std::max(ImGui::CalcTextSize(c.symbol).x, ImGui::CalcTextSize(c.value.c_str()).x) + gap);
    total += widths.back();
  }
  const float available = ImGui::GetContentRegionAvail().x;
  const float rows_height = 2 * ImGui::GetTextLineHeightWithSpacing();
  float shrink = total > available && total > 0 ? available / total : 1.0f;
  if (rows_height > available_height && rows_height > 0) shrink = std::min(shrink, std::max(available_height, 0.0f) / rows_height);
  shrink = std::max(shrink, 0.4f);  // below that it is unreadable anyway: the window scrolls instead
  ImGui::SetWindowFontScale(shrink);
  const float left = ImGui::GetCursorPosX() + std::max(0.0f, (available - total * shrink) / 2);
  for (int row = 0; row < 2; ++row) {
    float x = left;
    for (size_t i = 0; i < columns.size(); ++i) {
      const char* text = row == 0 ? columns[i].symbol : columns[i].value.c_str();
      const float w = ImGui::CalcTextSize(text).x;
      if (i > 0) ImGui::SameLine();
      ImGui::SetCursorPosX(x + (widths[i] * shrink - w) / 2);
      ImGui::TextColored(row == 0 ? columns[i].colour : ImVec4(columns[i].colour.x, columns[i].colour.y, columns[i].colour.z, 0.95f),
                         "%s", text);
      x += widths[i] * shrink;
    }
  }
  ImGui::SetWindowFontScale(1.0f);
  ImGui::PopFont();
}

std::string nats(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

}  // namespace

class EquationView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override {
    if (!begin_panel("The bound", open)) {
      ImGui::End();
      return;
    }
    ElboViews& e = state.elbo;
    e.test_views_visible = true;  // the test-set numbers are computed while a view shows them
    const bool ready = e.have_test && state.weights();
    const BoundEvaluation& b = e.test_bounds;
    const double recon = -b.elbo.recon, kl = b.elbo.kl, elbo = recon - kl;
    // log p(x): by grid integration for a 2-D model, else the importance-weighted bound stands in.
    const bool exact = ready && b.exact;
    const double log_px = exact ? -b.exact_nll : -b.iw_loss;
    const bool have_log_px = ready && (exact || b.iw_samples > 0);
    const std::string kl_value = ready ? (b.elbo.kl_estimated ? nats(kl) + " (est.)" : nats(kl)) : "";
    draw_columns({{"log p(x)", have_log_px ? (exact ? "" : "\xE2\x89\x88 ") + nats(log_px) : "", kTermLogPx},
                  {"\xE2\x89\xA5", ready ? "\xE2\x89\xA5" : "", kPlain},
                  {"E_q[log p(x|z)]", ready ? nats(recon) : "", kTermRecon},
                  {"\xE2\x88\x92", ready ? "\xE2\x88\x92" : "", kPlain},
                  {"KL(q(z|x) \xE2\x80\x96 p(z))", kl_value, kTermKl}});
    if (!ready) {
      ImGui::TextDisabled(state.weights() ? "Computing the bound on the test images..."
                                          : "The numbers appear once there is a model: nats per test image.");
    } else {
      char gap[96] = "";
      if (have_log_px) std::snprintf(gap, sizeof gap, ", gap %.1f = KL(q(z|x) \xE2\x80\x96 p(z|x))", log_px - elbo);
      ImGui::TextWrapped("ELBO %.1f%s. Nats per image, first %lld test images, step %lld.", elbo, gap, (long long)b.elbo.images,
                         (long long)(state.snapshot ? state.snapshot->step : 0));
      hover_explanation(exact ? "log p(x) by integrating p(x|z) p(z) on a grid over the 2-D latent space."
                              : "log p(x) is estimated (\xE2\x89\x88) by the importance-weighted bound; a 2-D model integrates it exactly on a grid.");
    }
    ImGui::End();
  }
};

std::unique_ptr<View> make_equation_view() { return make_view<EquationView>(); }

}  // namespace latent::app
