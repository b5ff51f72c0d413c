// The bound itself: log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) with live numbers for one test
// digit and for a test-set sample, each term in its curve's colour and explained on hover; the
// importance-weighted bound beside it, with its curve over training; and the reparameterization.
#include <cmath>

#include "views/view.h"
#include "ui/colormap.h"
#include "ui/pad_mapping.h"
#include "ui/plot_widget.h"

namespace latent::app {

// q(z|x)'s colour on the pad, its ellipses and the samples the reparameterization draws from it: green,
// apart from the prior's contours (white for N(0, I), cyan for a learned prior) and the heatmap's magma.
constexpr ImU32 kPosteriorColour = IM_COL32(130, 255, 150, 235);
namespace {

const ImVec4 kLogPx = kTermLogPx, kRecon = kTermRecon, kKl = kTermKl,
    kElbo(0.47f, 0.9f, 0.55f, 1), kIw(1.0f, 0.86f, 0.31f, 1);

void term(const char* text, ImVec4 colour, const char* explanation) {
  ImGui::TextColored(colour, "%s", text);
  hover_explanation(explanation);
}

constexpr const char* kExplainLogPx =
    "log p(x) = log of the integral of p(x|z) p(z) over z: how probable the model finds this image. The integral "
    "is intractable in general; for a 2-D latent we compute it on a grid, otherwise the importance-weighted "
    "bound with many samples stands in for it.";
constexpr const char* kExplainRecon =
    "E_q[log p(x|z)]: draw z = mu + sigma * eps from the encoder's q(z|x) and score the image under the decoder. "
    "The reconstruction term; it alone would let q collapse to a point.";
constexpr const char* kExplainKl =
    "KL(q(z|x) || p(z)) = 1/2 sum(mu^2 + sigma^2 - log sigma^2 - 1), in closed form: how far the code is from "
    "the prior N(0, I). It keeps codes overlapping, which makes the latent space smooth.";
constexpr const char* kExplainKlEstimated =
    "KL(q(z|x) || p(z)) under a learned prior has no closed form: it is estimated as log q(z|x) - log p(z) at "
    "sampled z (the same draws as the reconstruction term), with its standard error. How far the code is from "
    "the prior, which itself moves towards where the data is encoded.";
constexpr const char* kExplainInequality =
    "Jensen's inequality: log p(x) = log E_q[p(x, z)/q(z|x)] >= E_q[log p(x, z)/q(z|x)] = ELBO, because log is "
    "concave. Splitting log p(x, z) = log p(x|z) + log p(z) gives the two terms on the right.";
constexpr const char* kExplainGap =
    "log p(x) - ELBO = KL(q(z|x) || p(z|x)) >= 0: the bound is tight exactly when the encoder's q equals the true "
    "posterior. Watch it shrink as the encoder learns, and compare the heatmap with the ellipses on the pad.";
constexpr const char* kExplainIw =
    "The importance-weighted bound: log of the mean of K weights p(x, z_k)/q(z_k|x), z_k ~ q. K = 1 is the ELBO; "
    "it rises towards log p(x) as K grows (Burda et al.).";

// One line of the inequality: log p(x) ≥ E_q[log p(x|z)] − KL, then ELBO, gap and IW.
void inequality(const char* label, double log_px, bool log_px_known, double recon, double kl, double iw, int k,
                bool kl_estimated = false, double kl_stderr = 0) {
  const double elbo = -recon - kl;
  ImGui::TextDisabled("%s", label);
  char buf[64];
  // Each piece continues the line where it fits, else starts the next one (a narrow window).
  const auto next = [](const char* text) { same_line_if_fits(ImGui::CalcTextSize(text).x); };
  std::snprintf(buf, sizeof buf, "log p(x) %s %.2f", log_px_known ? "=" : "~", log_px);
  term(buf, kLogPx, kExplainLogPx);
  next(" >= ");
  term(" >= ", ImVec4(1, 1, 1, 1), kExplainInequality);
  std::snprintf(buf, sizeof buf, "E_q[log p(x|z)] %.2f", -recon);
  next(buf);
  term(buf, kRecon, kExplainRecon);
  next(" - ");
  ImGui::TextUnformatted(" - ");
  if (kl_estimated) std::snprintf(buf, sizeof buf, "KL(q||p) %.2f +- %.2f (estimated)", kl, kl_stderr);
  else std::snprintf(buf, sizeof buf, "KL(q||p) %.2f (closed form)", kl);
  next(buf);
  term(buf, kKl, kl_estimated ? kExplainKlEstimated : kExplainKl);
  std::snprintf(buf, sizeof buf, "ELBO = %.2f", elbo);
  term(buf, kElbo, kExplainInequality);
  std::snprintf(buf, sizeof buf, "   gap = KL(q(z|x)||p(z|x)) = %.2f nats", log_px - elbo);
  next(buf);
  term(buf, log_px - elbo >= -0.05 ? ImVec4(0.8f, 0.8f, 0.8f, 1) : ImVec4(1, 0.4f, 0.4f, 1), kExplainGap);
  if (k > 0) {
    std::snprintf(buf, sizeof buf, "IW bound (K = %d) = %.2f", k, iw);
    term(buf, kIw, kExplainIw);
  }
}

// The close-up's colour bar.
constexpr const char* kCloseUpCaption = "per unit area";

}  // namespace

void elbo_tab(AppState& state, Gfx& gfx, ElboTabState& tab) {
  ElboViews& e = state.elbo;
  e.digit_views_visible = e.test_views_visible = true;
  if (state.data.empty() || !state.weights()) {
    ImGui::TextDisabled("no model yet");
    return;
  }
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::InputInt("test image", &e.digit)) e.digit_dirty = true;
  e.digit = std::clamp(e.digit, 0, int(state.data.test_size()) - 1);
  ImGui::SameLine();
  ImGui::TextDisabled("(test #%d, %s)", e.digit, state.data.class_name(state.data.test_labels()[size_t(e.digit)]).c_str());
  same_line_if_fits(button_width("= interpolation A"));
  if (ImGui::SmallButton("= interpolation A")) e.digit = state.interp_a, e.digit_dirty = true;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
  if (ImGui::SliderInt("K", &e.iw_samples, 1, 2000, "%d", ImGuiSliderFlags_Logarithmic)) e.digit_dirty = e.test_dirty = true;
  help_marker("Samples of the importance-weighted bound; computed off the UI thread.");
  const bool two_d = state.latent_dim() == 2;
  if (two_d) {
    same_line_if_fits(checkbox_width("posterior on pad"));
    ImGui::Checkbox("posterior on pad", &e.show_posterior);
    help_marker("Shows the true posterior p(z|x) of this image as a heatmap on the latent pad (log p(x|z) + log p(z) "
                "on a grid, normalised), with q(z|x)'s 1 and 2 sigma ellipses on top. Its colour bar gives the density per "
                "unit area of z, on a square-root scale so that the tails stay visible.");
  }

  float close_up_bottom = 0;  // where the close-up ends, so that what follows the numbers starts below it
  if (e.have_digit && e.close_up.resolution > 0) {
    // A close-up of the true posterior around q, to the right of the numbers, its colour bar beside it.
    const float side = ImGui::GetFontSize() * 8, room = density_colour_bar_room(kCloseUpCaption);
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const ImVec2 at(right - room - side, ImGui::GetCursorScreenPos().y);
    close_up_bottom = at.y + side;
    const PosteriorGrid& c = e.close_up;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(at, ImVec2(at.x + side, at.y + side), IM_COL32(16, 18, 24, 255));
    const double peak = draw_posterior(dl, gfx.close_up, gfx.close_up_generation, e.posterior_generation, c, at,
                                       ImVec2(at.x + side, at.y + side), c.x0, c.x1, c.y0, c.y1);
    density_colour_bar(dl, ImVec2(right, at.y), side * 0.5f, peak, kCloseUpCaption);
    char caption[64];
    std::snprintf(caption, sizeof caption, "p(z|x) vs q, +-%.2f", (c.x1 - c.x0) / 2);
    dl->AddText(ImVec2(at.x + 3, at.y + side - ImGui::GetFontSize() - 2), IM_COL32(220, 220, 220, 220), caption);
    ImGui::PushTextWrapPos(ImGui::GetWindowContentRegionMax().x - room - side - 8);
  } else {
    ImGui::PushTextWrapPos(0);
  }
  if (e.have_digit) {
    const auto& b = e.digit_bounds;
    const bool exact = two_d && e.posterior.resolution > 0;
    const double log_px = exact ? e.posterior.log_px : -b.iw_loss;
    inequality(exact ? "this image (log p(x) by grid integration over z)" : "this image (log p(x) estimated by the IW bound)",
               log_px, exact, b.elbo.recon, b.elbo.kl, -b.iw_loss, b.iw_samples, b.elbo.kl_estimated, b.elbo.kl_stderr);
  } else {
    ImGui::TextDisabled("computing the bound for this image...");
  }
  if (const float short_by = close_up_bottom - ImGui::GetCursorScreenPos().y; short_by > 0) ImGui::Dummy(ImVec2(0, short_by));
  ImGui::Separator();
  if (e.have_test) {
    const auto& b = e.test_bounds;
    char label[96];
    std::snprintf(label, sizeof label, "test-set average (first %lld test images; log p(x) by the IW bound)",
                  (long long)b.elbo.images);
    inequality(label, -b.iw_loss, false, b.elbo.recon, b.elbo.kl, -b.iw_loss, b.iw_samples, b.elbo.kl_estimated, b.elbo.kl_stderr);
  }
  ImGui::PopTextWrapPos();

  // −ELBO and −IW over training, as losses like the other curves.
  std::vector<double>& xs = tab.xs, &elbo_loss = tab.elbo_loss, &iw_loss = tab.iw_loss;
  xs.clear(), elbo_loss.clear(), iw_loss.clear();
  for (const auto& p : e.history) xs.push_back(double(p.step)), elbo_loss.push_back(p.elbo_loss), iw_loss.push_back(p.iw_loss);
  ui::PlotStyle style;
  // The rest of the tab below it: the "sample eps" row, as tall as its images once there are some.
  const float font = ImGui::GetFontSize();
  const float below = (gfx.reparam.valid() && e.reparam_images.count > 0 ? font * 3.5f : ImGui::GetFrameHeight()) +
                      ImGui::GetStyle().ItemSpacing.y * 2;
  // At least tall enough for its axes, labels, legend and a readable curve; the tab scrolls beyond.
  style.size = ImVec2(-1, std::max(font * 10, ImGui::GetContentRegionAvail().y - below));
  style.x_label = "steps";
  style.y_label = "test-set nats per image";
  ui::plot("bounds", {{"-ELBO", &xs, &elbo_loss, ImColor(kElbo), 2.0f, true}, {"-IW bound", &xs, &iw_loss, ImColor(kIw), 2.0f, true}},
           {}, style);

  if (ImGui::Button("sample eps")) state.sample_reparameterization();
  help_marker("Reparameterization: z = mu + sigma * eps with eps ~ N(0, I). The points appear on the pad around this "
              "image's code; below are their decodings, the stochastic reconstructions whose average log-likelihood "
              "is the reconstruction term. Gradients flow through mu and sigma because eps is the only random part.");
  if (gfx.reparam.valid() && e.reparam_images.count > 0) {
    ImGui::SameLine();
    const float h = ImGui::GetFontSize() * 3.5f;
    gfx.renderer.image(gfx.reparam, ImVec2(h * float(gfx.reparam.width()) / float(gfx.reparam.height()), h), gfx.colormap);
  }
}

double draw_posterior(ImDrawList* dl, RgbaTexture& texture, int64_t& texture_generation, int64_t generation,
                      const PosteriorGrid& p, ImVec2 min, ImVec2 max, float zx0, float zx1, float zy0, float zy1) {
  if (p.resolution == 0) return 0;
  auto to_screen = [&](float zx, float zy) {
    return ImVec2(min.x + (zx - zx0) / (zx1 - zx0) * (max.x - min.x), min.y + (zy1 - zy) / (zy1 - zy0) * (max.y - min.y));
  };
  float peak = 0;
  for (float d : p.density) peak = std::max(peak, d);
  if (texture_generation != generation) {
    // Density → magma, alpha rising with density so that what lies under it stays visible.
    std::vector<uint32_t> rgba(p.density.size());
    for (size_t i = 0; i < rgba.size(); ++i) {
      const float t = peak > 0 ? std::sqrt(p.density[i] / peak) : 0;
      auto c = ui::colormap(ui::Colormap::Magma, t);
      rgba[i] = (uint32_t(t * 230) << 24) | (uint32_t(c[2] * 255) << 16) | (uint32_t(c[1] * 255) << 8) | uint32_t(c[0] * 255);
    }
    texture.upload(rgba.data(), p.resolution, p.resolution);
    texture_generation = generation;
  }
  dl->PushClipRect(min, max, true);
  dl->AddImage(texture.id(), to_screen(p.x0, p.y1), to_screen(p.x1, p.y0));
  // q(z|x) = N(μ, diag σ²): its 1σ and 2σ ellipses.
  for (float k : {1.0f, 2.0f}) {
    std::vector<ImVec2> ring;
    for (int i = 0; i < 64; ++i) {
      const float a = float(i) / 64 * 2 * float(M_PI);
      ring.push_back(to_screen(p.mu[0] + k * p.sigma[0] * std::cos(a), p.mu[1] + k * p.sigma[1] * std::sin(a)));
    }
    dl->AddPolyline(ring.data(), int(ring.size()), kPosteriorColour, ImDrawFlags_Closed, 1.5f);
  }
  dl->PopClipRect();
  return peak;
}

void draw_posterior_overlay(AppState& state, Gfx& gfx, ImDrawList* dl, float left, float top, float size, float bar_length,
                            float bar_right) {
  ElboViews& e = state.elbo;
  const float extent = state.pad_extent;
  if (e.show_posterior && state.latent_dim() == 2) {
    const double peak = draw_posterior(dl, gfx.posterior, gfx.posterior_generation, e.posterior_generation, e.posterior,
                                       ImVec2(left, top), ImVec2(left + size, top + size), -extent, extent, -extent, extent);
    density_colour_bar(dl, ImVec2(bar_right, top), bar_length, peak, kPosteriorBarCaption);
  }
  const LatentMatrix& z = e.reparam_z;
  const ui::PadMapping map{left, top, size, extent};
  if (z.rows > 0 && z.cols == state.latent_dim())
    for (int64_t i = 0; i < z.rows; ++i) {
      auto [sx, sy] = map.to_screen(z.at(i, state.pad_dim_x), z.cols > 1 ? z.at(i, state.pad_dim_y) : 0.0f);
      dl->AddCircleFilled(ImVec2(sx, sy), 3.5f, kPosteriorColour);
    }
}

}  // namespace latent::app
