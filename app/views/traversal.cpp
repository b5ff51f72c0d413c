// Traversals: one row per latent dimension, in order of the information it carries, each sweeping
// that dimension from −r to r with the others held at a chosen point; collapsed dimensions marked.
// On a dataset with known factors (shapes), the dimension × factor mutual information and the MIG.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "latent/disentanglement.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/latent_ops.h"
#include "views/view.h"
#include "views/view_job.h"

namespace latent::app {
namespace {

constexpr int64_t kSampleImages = 2000;  // test images the dimensions' KL and activity average over

struct Traversal {
  std::vector<int> order;                // dimensions, most informative first
  std::vector<double> kl, activity;      // per dimension (kl empty under a learned prior)
  ImageBatch images;                     // order.size() rows of `steps`
  int steps = 0;
  std::optional<FactorInformation> factors;
  std::string problem;                   // why there is no factor matrix, when the data has factors
};

}  // namespace

class TraversalView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override { job_.restart(); }

 private:
  void refresh(AppState& state);
  void factor_matrix(const Traversal& t);

  ViewJob<Traversal> job_;
  int64_t textures_from_ = -1;
  int around_ = 0;  // 0: the pad's z, 1: a test image's μ, 2: zero
  int image_ = 0;
  float radius_ = 3.0f;
  int steps_ = 11;
  std::vector<float> asked_base_;
  ImageTexture texture_;
};

void TraversalView::refresh(AppState& state) {
  auto vae = state.weights();
  if (!vae || state.data.test_size() == 0) return;
  std::vector<float> base(size_t(vae->config().latent_dim), 0.0f);
  if (around_ == 0 && state.z.size() == base.size()) base = state.z;
  if (base != asked_base_) job_.invalidate();  // the pad's point moved
  if (!job_.due(state, 1.0) || state.busy("traversal")) return;
  asked_base_ = base;
  image_ = std::clamp(image_, 0, int(state.data.test_size()) - 1);
  const Dataset data = state.data;
  const int around = around_, image = image_, steps = steps_;
  const float radius = radius_;
  const std::vector<int32_t> under = state.condition_labels();
  job_.run(state, "traversal", [vae, data, base, around, image, steps, radius, under] {
    Traversal t;
    const Evaluation e = evaluate_test_set(*vae, data, kSampleImages);
    const EncodedSet encoded = encode_test_set(*vae, data, kSampleImages);
    t.kl = e.kl_per_dim;
    t.activity = latent_activity(encoded.posterior.mu);
    t.order = dims_by_information(t.kl.empty() ? t.activity : t.kl);
    std::vector<float> centre = base;
    if (around == 1) centre = vae->encode(data.test_images({int64_t(image)})).mu.row(0);
    t.steps = steps;
    t.images = vae->decode(traversal_latents(centre, t.order, radius, steps), under);
    if (!data.factors().empty()) {
      try {
        t.factors = mutual_information_gap(*vae, data, kSampleImages);
      } catch (const Error& problem) {
        t.problem = problem.what();
      }
    }
    return t;
  });
}

// Rows: the dimensions in the traversal's order; columns: the factors. Each cell is I(z_d; v_k) as a
// share of H(v_k) (how much of the factor that one dimension gives away), brightest = all of it.
void TraversalView::factor_matrix(const Traversal& t) {
  const FactorInformation& f = *t.factors;
  ImGui::Text("MIG %.3f", f.mig);
  help_marker("Mutual Information Gap (Chen et al. 2018): for each known factor of the generated images, the "
              "information the best dimension has about it minus the second best's, as a share of the factor's "
              "entropy; averaged over factors. 1: each factor lives in one dimension of its own (disentangled); 0: "
              "no dimension knows a factor better than another. Raising beta (a beta-VAE) usually raises it, at the "
              "cost of blurrier reconstructions.");
  ImDrawList* list = ImGui::GetWindowDrawList();
  const float label_w = ImGui::CalcTextSize("z00 ").x, cell_h = ImGui::GetTextLineHeight() + 2;
  const float cell_w = std::max(cell_h * 2.2f, (ImGui::GetContentRegionAvail().x - label_w) / float(f.factors));
  ImVec2 p = ImGui::GetCursorScreenPos();
  for (int k = 0; k < f.factors; ++k) {
    char head[64];
    std::snprintf(head, sizeof head, "%s %.2f", f.factor_names[size_t(k)].c_str(), f.gap[size_t(k)]);
    list->PushClipRect(ImVec2(p.x + label_w + k * cell_w, p.y), ImVec2(p.x + label_w + (k + 1) * cell_w - 2, p.y + cell_h), true);
    list->AddText(ImVec2(p.x + label_w + k * cell_w + 2, p.y), IM_COL32(200, 200, 200, 255), head);
    list->PopClipRect();
  }
  p.y += cell_h;
  for (size_t r = 0; r < t.order.size() && int(r) < f.dims; ++r) {
    const int d = t.order[r];
    char name[16];
    std::snprintf(name, sizeof name, "z%d", d);
    list->AddText(ImVec2(p.x, p.y + r * cell_h), IM_COL32(200, 200, 200, 255), name);
    for (int k = 0; k < f.factors; ++k) {
      const double h = f.factor_entropy[size_t(k)];
      const double share = h > 0 ? std::clamp(f.mi(d, k) / h, 0.0, 1.0) : 0.0;
      const ImVec2 a(p.x + label_w + k * cell_w, p.y + r * cell_h), b(a.x + cell_w - 2, a.y + cell_h - 2);
      const int v = int(30 + 225 * share);
      list->AddRectFilled(a, b, IM_COL32(v / 3, v / 2, v, 255));
      if (f.top_dim[size_t(k)] == d) list->AddRect(a, b, IM_COL32(255, 210, 80, 255), 0, 0, 1.5f);
      char text[16];
      std::snprintf(text, sizeof text, "%.2f", share);
      list->AddText(ImVec2(a.x + 3, a.y + 1), share > 0.5 ? IM_COL32(20, 20, 20, 255) : IM_COL32(220, 220, 220, 255), text);
    }
  }
  ImGui::Dummy(ImVec2(label_w + cell_w * float(f.factors), cell_h * float(std::min<size_t>(t.order.size(), size_t(f.dims)))));
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("I(z_d; factor) / H(factor), from the mu of %lld test images (20 bins per dimension).\n"
                      "Outlined: the dimension that knows the factor best. Column heads: each factor's gap.",
                      (long long)kSampleImages);
}

void TraversalView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Traversals", open)) return ImGui::End();
  job_.take();
  refresh(state);
  const float field = ImGui::CalcTextSize("000000").x + ImGui::GetFrameHeight() * 2;
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("a test image's mu").x + ImGui::GetFrameHeight() * 2);
  if (ImGui::Combo("around", &around_, "the pad's z\0a test image's mu\0zero\0")) job_.invalidate();
  help_marker("Each row changes one latent dimension from -r to r and holds the others here. A dimension that "
              "changes one thing (thickness, slant, position) is interpretable; a collapsed one changes nothing.");
  if (around_ == 1) {
    same_line_if_fits(field + ImGui::CalcTextSize("image").x);
    ImGui::SetNextItemWidth(field);
    if (ImGui::InputInt("image", &image_, 1, 10)) job_.invalidate();
  }
  same_line_if_fits(field * 2);
  ImGui::SetNextItemWidth(field * 1.5f);
  if (ImGui::SliderFloat("r", &radius_, 0.5f, 6.0f, "%.1f")) job_.invalidate();
  same_line_if_fits(field * 2);
  ImGui::SetNextItemWidth(field * 1.5f);
  if (ImGui::SliderInt("steps", &steps_, 3, 21)) job_.invalidate();
  class_picker(state);

  if (!job_.result() || job_.result()->images.count == 0) {
    ImGui::TextDisabled(state.weights() ? "decoding..." : "no model yet");
    return ImGui::End();
  }
  const Traversal& t = *job_.result();
  if (textures_from_ != job_.results() && gfx.take_refresh_turn()) {
    textures_from_ = job_.results();
    texture_.upload_tiled(t.images, int(t.order.size()), t.steps);
  }
  ImGui::TextDisabled("rows by %s, most first; z from -%.1f to %.1f", t.kl.empty() ? "Var(mu_d)" : "KL per dim", radius_, radius_);
  const float matrix_h = t.factors ? (ImGui::GetTextLineHeight() + 2) * float(t.order.size() + 3) : 0;
  // The rows get at least half of a short window; the matrix scrolls in what is left.
  const float avail = ImGui::GetContentRegionAvail().y;
  const float rows_h = std::max(60.0f, std::max(avail * 0.5f, avail - matrix_h));
  ImGui::BeginChild("rows", ImVec2(0, rows_h));
  if (texture_.valid()) {
    const float label_w = ImGui::CalcTextSize("z00 KL 00.00 collapsed").x + 8;
    const float width = std::max(40.0f, ImGui::GetContentRegionAvail().x - label_w);
    const float aspect = float(texture_.width()) / float(texture_.height());
    const float row_h = width / aspect / float(t.order.size());
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImDrawList* list = ImGui::GetWindowDrawList();
    for (size_t r = 0; r < t.order.size(); ++r) {
      const int d = t.order[r];
      const bool active = size_t(d) < t.activity.size() && t.activity[size_t(d)] > kActiveUnitVariance;
      char label[48];
      if (!t.kl.empty()) std::snprintf(label, sizeof label, "z%d KL %.2f%s", d, t.kl[size_t(d)], active ? "" : " collapsed");
      else std::snprintf(label, sizeof label, "z%d%s", d, active ? "" : " collapsed");
      list->AddText(ImVec2(p.x, p.y + r * row_h + row_h / 2 - ImGui::GetTextLineHeight() / 2),
                    active ? IM_COL32(220, 220, 220, 255) : IM_COL32(255, 110, 100, 255), label);
    }
    ImGui::SetCursorScreenPos(ImVec2(p.x + label_w, p.y));
    gfx.renderer.image(texture_, ImVec2(width, width / aspect), gfx.colormap);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Collapsed: Var_x(mu_d) < %.2f over %lld test images - q(z_d|x) = p(z_d) for every image, so "
                        "the decoder learned to ignore z_d.", kActiveUnitVariance, (long long)kSampleImages);
  }
  ImGui::EndChild();
  if (t.factors) {
    ImGui::BeginChild("factors", ImVec2(0, 0));
    factor_matrix(t);
    ImGui::EndChild();
  }
  else if (!t.problem.empty()) ImGui::TextDisabled("%s", t.problem.c_str());
  ImGui::End();
}

std::unique_ptr<View> make_traversal_view() { return make_view<TraversalView>(); }

}  // namespace latent::app
