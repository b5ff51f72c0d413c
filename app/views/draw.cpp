// Your own drawing: a canvas at the data's size, encoded live. Its q(z|x) is drawn on the pad, its
// reconstruction shown, and its ELBO terms and IW bound say how likely the model finds it, against
// the test images.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "latent/scores.h"
#include "ui/canvas.h"
#include "views/view.h"
#include "views/view_job.h"

namespace latent::app {
namespace {

constexpr int64_t kReferenceImages = 1000;  // test images the drawing's score is ranked among

struct Scored {
  int64_t canvas_version = 0;
  ui::DrawingScore score;
  std::shared_ptr<const std::vector<float>> reference;  // sorted −ELBO of test images, for these weights
};

}  // namespace

class DrawView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override {
    job_.restart();
    reference_.reset();
  }

 private:
  void refresh(AppState& state);
  void paint(AppState& state, Gfx& gfx, float side);

  ui::Canvas canvas_;
  ViewJob<Scored> job_;
  std::shared_ptr<const std::vector<float>> reference_;  // kept while the weights stay
  int64_t reference_generation_ = -1;
  int64_t asked_version_ = -1, uploaded_version_ = -1, recon_from_ = -1;
  float radius_ = 1.3f;
  float colour_[3] = {1, 1, 1};
  int start_image_ = 0;
  bool have_last_ = false;
  ImVec2 last_;
  ImageTexture canvas_texture_, recon_texture_;
};

void DrawView::refresh(AppState& state) {
  auto vae = state.weights();
  // A stroke is scored at once; new weights at most once a second.
  if (asked_version_ != canvas_.version()) job_.invalidate();
  if (!vae || state.busy("draw") || !job_.due(state, 1.0)) return;
  asked_version_ = canvas_.version();
  ImageBatch image = canvas_.image();
  if (state.conditional()) image.labels = {int32_t(state.condition_class)};
  const Dataset data = state.data;
  const std::shared_ptr<const std::vector<float>> reference = reference_generation_ == state.weights_generation ? reference_ : nullptr;
  const int64_t version = canvas_.version();
  job_.run(state, "draw", [vae, image, data, reference, version] {
    Scored out;
    out.canvas_version = version;
    out.score = ui::score_drawing(*vae, image);
    out.reference = reference;
    if (!out.reference && data.test_size() > 0) {
      std::vector<float> scores = score_test_set(*vae, data, kReferenceImages).neg_elbo;
      std::sort(scores.begin(), scores.end());
      out.reference = std::make_shared<const std::vector<float>>(std::move(scores));
    }
    return out;
  });
}

// The canvas, as large as `side`: left button draws, right button erases.
void DrawView::paint(AppState& state, Gfx& gfx, float side) {
  if (canvas_texture_.valid() == false || uploaded_version_ != canvas_.version()) {
    uploaded_version_ = canvas_.version();
    const ImageBatch image = canvas_.image();
    canvas_texture_.upload_tiled(image, 1, 1);
  }
  const float aspect = float(canvas_.width()) / float(std::max(1, canvas_.height()));
  const ImVec2 size = aspect >= 1 ? ImVec2(side, side / aspect) : ImVec2(side * aspect, side);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  gfx.renderer.image(canvas_texture_, size, gfx.colormap);
  ImGui::SetCursorScreenPos(p);
  ImGui::InvisibleButton("canvas", size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  ImGui::GetWindowDrawList()->AddRect(p, ImVec2(p.x + size.x, p.y + size.y), IM_COL32(120, 120, 120, 255));
  const bool drawing = ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left);
  const bool erasing = ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Right);
  if (drawing || erasing) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const ImVec2 at((m.x - p.x) / size.x * float(canvas_.width()), (m.y - p.y) / size.y * float(canvas_.height()));
    const ImVec2 from = have_last_ ? last_ : at;
    std::vector<float> colour(colour_, colour_ + 3);
    if (erasing) colour.assign(3, 0.0f);
    canvas_.stroke(from.x, from.y, at.x, at.y, erasing ? radius_ * 1.5f : radius_, colour);
    last_ = at;
    have_last_ = true;
  } else {
    have_last_ = false;
  }
  if (ImGui::IsItemHovered() && !drawing && !erasing) ImGui::SetTooltip("left button: draw   right button: erase");
}

void DrawView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Draw", open)) return ImGui::End();
  if (state.data.empty()) {
    ImGui::TextDisabled("no dataset");
    return ImGui::End();
  }
  canvas_.resize(state.data.channels(), state.data.height(), state.data.width());
  if (job_.take() && job_.result()->reference)
    reference_ = job_.result()->reference, reference_generation_ = job_.asked_generation();
  if (ImGui::SmallButton("clear")) canvas_.clear();
  ImGui::SameLine();
  if (ImGui::SmallButton("start from test image")) {
    start_image_ = std::clamp(start_image_, 0, std::max(0, int(state.data.test_size()) - 1));
    if (state.data.test_size() > 0) canvas_.set(state.data.test_images({int64_t(start_image_)}));
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("000000").x + ImGui::GetFrameHeight() * 2);
  ImGui::InputInt("##start", &start_image_, 1, 10);
  same_line_if_fits(ImGui::CalcTextSize("brush 0.0").x + 120);
  ImGui::SetNextItemWidth(110);
  ImGui::SliderFloat("brush", &radius_, 0.5f, std::max(2.0f, float(state.data.width()) / 8), "%.1f px");
  if (state.data.channels() == 3) {
    same_line_if_fits(ImGui::GetFrameHeight() * 2 + ImGui::CalcTextSize("colour").x);
    ImGui::ColorEdit3("colour", colour_, ImGuiColorEditFlags_NoInputs);
  }
  help_marker("Draw with the mouse (right button erases) and the model encodes it as you go: q(z|x) shows on the pad "
              "as an ellipse (1 and 2 sigma), the reconstruction decode(mu) beside the canvas, and the bound says how "
              "likely the model finds your drawing, ranked among the test images.");
  class_picker(state, "drawn as class");
  refresh(state);

  const float avail_w = ImGui::GetContentRegionAvail().x, avail_h = ImGui::GetContentRegionAvail().y;
  const float side = std::max(48.0f, std::min(avail_w * 0.48f, avail_h - ImGui::GetTextLineHeightWithSpacing() * 5));
  ImGui::BeginGroup();
  paint(state, gfx, side);
  ImGui::TextDisabled("drawing (%dx%d)", canvas_.width(), canvas_.height());
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  if (job_.result() && job_.result()->score.reconstruction.count == 1) {
    if (recon_from_ != job_.results()) {
      recon_from_ = job_.results();
      recon_texture_.upload_tiled(job_.result()->score.reconstruction, 1, 1);
    }
    const float aspect = float(canvas_.width()) / float(std::max(1, canvas_.height()));
    gfx.renderer.image(recon_texture_, aspect >= 1 ? ImVec2(side, side / aspect) : ImVec2(side * aspect, side), gfx.colormap);
    ImGui::TextDisabled("reconstruction%s", job_.result()->canvas_version != canvas_.version() ? " ..." : "");
  }
  ImGui::EndGroup();
  if (const Scored* shown = job_.result()) {
    const ui::DrawingScore& s = shown->score;
    ImGui::Text("-ELBO %.1f nats = recon %.1f + KL %.1f", s.neg_elbo, s.recon, s.kl);
    ImGui::Text("-IW_%d %.1f nats (a tighter bound on -log p(x))", s.iw_samples, s.neg_iw);
    if (shown->reference && !shown->reference->empty()) {
      const auto& ref = *shown->reference;
      const double above = double(ref.end() - std::upper_bound(ref.begin(), ref.end(), float(s.neg_elbo))) / double(ref.size());
      ImGui::TextWrapped("the model finds it more likely than %.0f%% of the test images (their median -ELBO: %.1f)",
                         100.0 * above, ref[ref.size() / 2]);
    }
    std::string mu;
    for (size_t d = 0; d < std::min<size_t>(s.mu.size(), 6); ++d) {
      char part[48];
      std::snprintf(part, sizeof part, "%s%.2f+-%.2f", d ? ", " : "", s.mu[d], s.sigma[d]);
      mu += part;
    }
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
    ImGui::TextWrapped("q(z|x): mu +- sigma = (%s%s)", mu.c_str(), s.mu.size() > 6 ? ", ..." : "");
    ImGui::PopStyleColor();
    state.mark_on_pad("draw", {{"drawing", s.mu, s.sigma, IM_COL32(255, 100, 220, 255)}});
  }
  ImGui::End();
}

std::unique_ptr<View> make_draw_view() { return make_view<DrawView>(); }

}  // namespace latent::app
