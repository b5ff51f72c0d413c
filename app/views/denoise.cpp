// Denoising: a fixed batch of test images corrupted as chosen here (live, whatever the model was
// trained with), what the model reconstructs from them, and the clean images, with the error of
// each reconstruction against the clean image.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "latent/corruption.h"
#include "views/view.h"
#include "views/view_job.h"

namespace latent::app {
namespace {

constexpr int kImages = 12;

struct Denoised {
  ImageBatch rows;                 // corrupted, reconstructed from them, reconstructed from clean, clean
  double mse_corrupted = 0, mse_clean = 0, mse_input = 0;  // per value, against the clean images
};

double mse(const ImageBatch& a, const ImageBatch& b) {
  double s = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) s += double(a.pixels[i] - b.pixels[i]) * double(a.pixels[i] - b.pixels[i]);
  return a.pixels.empty() ? 0.0 : s / double(a.pixels.size());
}

ImageBatch concat(const std::vector<const ImageBatch*>& parts) {
  ImageBatch out = *parts[0];
  out.labels.clear();
  for (size_t i = 1; i < parts.size(); ++i) {
    out.pixels.insert(out.pixels.end(), parts[i]->pixels.begin(), parts[i]->pixels.end());
    out.count += parts[i]->count;
  }
  return out;
}

}  // namespace

class DenoiseView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override {
    job_.restart();
    kind_ = -1;
  }

 private:
  void refresh(AppState& state);

  ViewJob<Denoised> job_;
  int64_t textures_from_ = -1;
  int kind_ = -1;  // 0 gaussian, 1 mask, 2 saltpepper; -1: not chosen yet (the run's own, else gaussian)
  float amount_[3] = {0.3f, 0.5f, 0.2f};
  int seed_ = 1, first_ = 0;
  ImageTexture texture_;
};

void DenoiseView::refresh(AppState& state) {
  auto vae = state.weights();
  if (!vae || state.data.test_size() == 0) return;
  // New weights at most once a second; a changed control at once.
  if (!job_.due(state, 1.0)) return;
  Corruption c;
  c.kind = kind_ == 0 ? Corruption::Kind::Gaussian : kind_ == 1 ? Corruption::Kind::Mask : Corruption::Kind::SaltPepper;
  c.amount = amount_[kind_];
  first_ = std::clamp(first_, 0, std::max(0, int(state.data.test_size()) - 1));
  std::vector<int64_t> rows;
  for (int64_t i = first_; i < std::min<int64_t>(first_ + kImages, state.data.test_size()); ++i) rows.push_back(i);
  const ImageBatch clean = state.data.test_images(rows);
  const uint64_t seed = uint64_t(seed_);
  job_.run(state, "denoise", [vae, clean, c, seed] {
    Denoised d;
    const ImageBatch noisy = corrupt_images(clean, c, seed);
    const ImageBatch from_noisy = vae->reconstruct(noisy), from_clean = vae->reconstruct(clean);
    d.mse_input = mse(noisy, clean);
    d.mse_corrupted = mse(from_noisy, clean);
    d.mse_clean = mse(from_clean, clean);
    d.rows = concat({&noisy, &from_noisy, &from_clean, &clean});
    return d;
  });
}

void DenoiseView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Denoising", open)) return ImGui::End();
  if (kind_ < 0) {
    // Start from the corruption the run trains with, if any.
    const Corruption trained = state.snapshot ? state.snapshot->train.corrupt : Corruption{};
    kind_ = trained.kind == Corruption::Kind::Mask ? 1 : trained.kind == Corruption::Kind::SaltPepper ? 2 : 0;
    if (trained.active()) amount_[kind_] = float(trained.amount);
  }
  job_.take();
  const float field = ImGui::CalcTextSize("saltpepper").x + ImGui::GetFrameHeight() * 2;
  ImGui::SetNextItemWidth(field);
  bool changed = ImGui::Combo("##kind", &kind_, "gaussian\0mask\0saltpepper\0");
  same_line_if_fits(field * 1.6f);
  ImGui::SetNextItemWidth(field * 1.2f);
  changed |= ImGui::SliderFloat(kind_ == 0 ? "noise sd" : "probability", &amount_[kind_], 0.0f, kind_ == 0 ? 1.0f : 1.0f, "%.2f");
  same_line_if_fits(button_width("new noise") + button_width("next images"));
  if (ImGui::SmallButton("new noise")) ++seed_, changed = true;
  ImGui::SameLine();
  if (ImGui::SmallButton("next images")) first_ += kImages, changed = true;
  help_marker("Corrupt the test images here, live, and see what the model makes of them - also a model trained "
              "without corruption. A denoising VAE (Training: corrupt input) learned to undo it: its encoder only "
              "ever saw corrupted images, while the reconstruction term scored the clean ones.");
  if (changed) job_.invalidate();
  refresh(state);
  const Corruption trained = state.snapshot ? state.snapshot->train.corrupt : Corruption{};
  ImGui::TextDisabled("this model trained on %s inputs", trained.active() ? to_string(trained).c_str() : "clean");
  if (!job_.result()) {
    ImGui::TextDisabled(state.weights() ? "reconstructing..." : "no model yet");
    return ImGui::End();
  }
  const Denoised& d = *job_.result();
  ImGui::TextWrapped("mean squared error against the clean images: corrupted input %.4f -> its reconstruction %.4f "
                     "(from the clean input %.4f)", d.mse_input, d.mse_corrupted, d.mse_clean);
  if (textures_from_ != job_.results() && gfx.take_refresh_turn()) {
    textures_from_ = job_.results();
    texture_.upload_tiled(d.rows, 4, int(d.rows.count / 4));
  }
  if (texture_.valid()) {
    const float label_w = ImGui::CalcTextSize("from the clean input ").x;
    const float aspect = float(texture_.width()) / float(texture_.height());
    const float avail_w = ImGui::GetContentRegionAvail().x - label_w, avail_h = ImGui::GetContentRegionAvail().y;
    const float w = std::max(40.0f, std::min(avail_w, avail_h * aspect));
    const float row_h = w / aspect / 4;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const char* labels[] = {"corrupted input", "its reconstruction", "from the clean input", "clean image"};
    for (int r = 0; r < 4; ++r)
      ImGui::GetWindowDrawList()->AddText(ImVec2(p.x, p.y + r * row_h + row_h / 2 - ImGui::GetTextLineHeight() / 2),
                                          IM_COL32(210, 210, 210, 255), labels[r]);
    ImGui::SetCursorScreenPos(ImVec2(p.x + label_w, p.y));
    gfx.renderer.image(texture_, ImVec2(w, w / aspect), gfx.colormap);
  }
  ImGui::End();
}

std::unique_ptr<View> make_denoise_view() { return make_view<DenoiseView>(); }

}  // namespace latent::app
