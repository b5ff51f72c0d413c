// Side by side: the model shown (A) beside another (B: a moment of this run, a checkpoint, or a
// second run trained beside it), in two panes whose pads are one: a drag in either moves the pad's
// z everywhere, and both decode it. Under them, each one's bound on the same test images and their
// loss curves on one plot (comparison.h holds the logic).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "comparison.h"
#include "ui/pad_mapping.h"
#include "ui/plot_widget.h"
#include "ui/scatter_raster.h"
#include "views/view.h"

namespace latent::app {
namespace {

constexpr ImU32 kColourA = IM_COL32(90, 160, 255, 255), kColourB = IM_COL32(255, 150, 60, 255);

// A pane's textures and what they were made from.
struct PaneGfx {
  RgbaTexture scatter;
  int64_t scatter_generation = -1;
  int scatter_size = 0, dim_x = -1, dim_y = -1;
  float extent = 0;
  ImageTexture decoded;
  int64_t decoded_generation = -1;
};

}  // namespace

class CompareView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void hidden() override { comparison_.pause_second_run(); }  // closed: a second run stops taking the CPU
  AppState::SceneExtras scene_flags(const AppState& state, const std::string& scene_path) const override {
    return comparison_.scene_flags(state, scene_path);
  }

 private:
  void pane(AppState& state, Gfx& gfx, const Comparison::Side& side, PaneGfx& pg, ImU32 colour, float width, float height,
            const char* id);
  void controls(AppState& state);
  void bounds_table(const AppState& state);

  Comparison comparison_;
  PaneGfx a_gfx_, b_gfx_;
  char checkpoint_[512] = "";
  float beta_ = 4, warmup_ = 0;
  int architecture_ = 0, latent_ = 2;
  bool second_form_filled_ = false;
  uint64_t curves_generation_ = 0;
  size_t curves_points_ = 0;
};

void CompareView::controls(AppState& state) {
  const char* sources[] = {"a moment of this run", "a checkpoint", "a second run"};
  int source = int(comparison_.source());
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 11);
  if (ImGui::Combo("B is", &source, sources, 3)) comparison_.set_source(Comparison::Source(source));
  help_marker("A is the model the other views show. B is another one to hold beside it: this run at an earlier step "
              "(what training changed), a checkpoint (another beta, another architecture), or a second run trained "
              "now beside this one with its own beta. Both panes decode the same z: drag in either pad.");
  switch (comparison_.source()) {
    case Comparison::Source::Moment: {
      if (state.timeline.empty()) break;
      ImGui::SameLine();
      int moment = std::clamp(comparison_.moment, 0, int(state.timeline.size()) - 1);
      char label[64];
      std::snprintf(label, sizeof label, "step %lld", (long long)state.timeline[size_t(moment)].step);
      ImGui::SetNextItemWidth(std::max(ImGui::GetFontSize() * 8, ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 4));
      if (ImGui::SliderInt("##moment", &moment, 0, int(state.timeline.size()) - 1, label)) comparison_.moment = moment;
      break;
    }
    case Comparison::Source::Checkpoint: {
      if (!checkpoint_[0]) std::snprintf(checkpoint_, sizeof checkpoint_, "%s", state.form.checkpoint);
      ImGui::SetNextItemWidth(std::max(ImGui::GetFontSize() * 10, ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 4));
      const bool enter = ImGui::InputText("##checkpoint", checkpoint_, sizeof checkpoint_, ImGuiInputTextFlags_EnterReturnsTrue);
      ImGui::SameLine();
      if (ImGui::Button("Open") || enter) comparison_.open_checkpoint(state, checkpoint_);
      break;
    }
    case Comparison::Source::SecondRun: {
      const std::vector<std::string> names = architecture_names();
      if (!second_form_filled_ && state.snapshot) {
        second_form_filled_ = true;
        latent_ = state.snapshot->model.latent_dim;
        const auto it = std::find(names.begin(), names.end(), state.snapshot->model.architecture);
        architecture_ = it == names.end() ? 0 : int(it - names.begin());
      }
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
      ImGui::InputFloat("beta", &beta_, 0, 0, "%.2f");
      same_line_if_fits(ImGui::GetFontSize() * 10);
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
      if (ImGui::BeginCombo("architecture", names[size_t(std::clamp(architecture_, 0, int(names.size()) - 1))].c_str())) {
        for (size_t i = 0; i < names.size(); ++i)
          if (ImGui::Selectable(names[i].c_str(), int(i) == architecture_)) architecture_ = int(i);
        ImGui::EndCombo();
      }
      same_line_if_fits(ImGui::GetFontSize() * 8);
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4);
      ImGui::InputInt("latent", &latent_, 0, 0);
      same_line_if_fits(ImGui::GetFontSize() * 10);
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4);
      ImGui::InputFloat("warm-up epochs", &warmup_, 0, 0, "%.1f");
      same_line_if_fits(button_width("Start again"));
      if (ImGui::Button(comparison_.second_run_exists() ? "Start again" : "Start"))
        comparison_.start_second_run(state, beta_, names[size_t(std::clamp(architecture_, 0, int(names.size()) - 1))], latent_, warmup_);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("From step 0: this model's setup with the beta, architecture, latent size and KL warm-up here, trained "
                          "beside this run (the two share the CPU)");
      if (comparison_.second_run_exists()) {
        same_line_if_fits(button_width("Resume B"));
        const bool training = comparison_.second_run_training();
        if (ImGui::Button(training ? "Pause B" : "Resume B")) training ? comparison_.pause_second_run() : comparison_.resume_second_run();
      }
      break;
    }
  }
}

void CompareView::pane(AppState& state, Gfx& gfx, const Comparison::Side& side, PaneGfx& pg, ImU32 colour, float width,
                       float height, const char* id) {
  ImGui::BeginChild(id, ImVec2(width, height), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  ImGui::PushStyleColor(ImGuiCol_Text, colour);
  const bool is_a = std::string(id) == "A";
  ImGui::TextUnformatted(side.label.empty() ? (is_a ? "A: no model yet" : "B: nothing chosen yet") : side.label.c_str());
  ImGui::PopStyleColor();
  if (!side.vae) {
    ImGui::TextWrapped("%s", is_a ? "waiting for the model" : comparison_.why_empty(state).c_str());
    ImGui::EndChild();
    return;
  }
  // The pad on the left, the decoded image on its right, as large as the pane allows.
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float aspect = state.data.height() > 0 ? float(state.data.width()) / float(state.data.height()) : 1.0f;
  const float size = std::max(40.0f, std::min({avail_h, (width - spacing) * 0.6f}));
  const int dims = side.vae->config().latent_dim;
  const bool dims_differ = dims != int(state.z.size());
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float image_w = std::max(24.0f, std::min(width - size - spacing * 2, (avail_h - line * (dims_differ ? 3 : 1)) * aspect));
  const auto [dx, dy] = Comparison::pad_dims_for(state.pad_dim_x, state.pad_dim_y, dims);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ui::PadMapping map{p0.x, p0.y, size, state.pad_extent};
  ImGui::InvisibleButton("pad", ImVec2(size, size));
  const bool dragging = ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(p0, ImVec2(p0.x + size, p0.y + size), true);
  const int raster = std::min(1024, int(size));
  if (side.encoded.posterior.mu.rows > 0 &&
      (pg.scatter_generation != side.encoded_generation || pg.scatter_size != raster || pg.dim_x != dx || pg.dim_y != dy ||
       pg.extent != state.pad_extent)) {
    const ui::ScatterImage image = ui::rasterize_pad_scatter(side.encoded.posterior.mu, side.encoded.labels, dx, dy, state.pad_extent, raster);
    pg.scatter.upload(image.pixels.data(), raster, raster);
    pg.scatter_generation = side.encoded_generation, pg.scatter_size = raster, pg.dim_x = dx, pg.dim_y = dy, pg.extent = state.pad_extent;
  }
  if (pg.scatter.valid() && side.encoded.posterior.mu.rows > 0) dl->AddImage(pg.scatter.id(), p0, ImVec2(p0.x + size, p0.y + size));
  else dl->AddRectFilled(p0, ImVec2(p0.x + size, p0.y + size), ui::kPadBackground);
  auto [ox, oy] = map.to_screen(0, 0);
  const ImU32 axis = IM_COL32(255, 255, 255, 60);
  dl->AddLine(ImVec2(p0.x, oy), ImVec2(p0.x + size, oy), axis);
  dl->AddLine(ImVec2(ox, p0.y), ImVec2(ox, p0.y + size), axis);
  if (side.vae->config().prior == "normal")
    for (float r : {1.0f, 2.0f, 3.0f}) dl->AddCircle(ImVec2(ox, oy), r / (2 * state.pad_extent) * size, IM_COL32(255, 255, 255, 45), 64);
  // The shared z.
  if (int(state.z.size()) > std::max(state.pad_dim_x, state.pad_dim_y)) {
    auto [zx, zy] = map.to_screen(state.z[size_t(state.pad_dim_x)], state.z[size_t(state.pad_dim_y)]);
    dl->AddCircleFilled(ImVec2(zx, zy), 6, IM_COL32(255, 255, 255, 255));
    dl->AddCircle(ImVec2(zx, zy), 7, IM_COL32(0, 0, 0, 220), 0, 2);
  }
  dl->AddRect(p0, ImVec2(p0.x + size, p0.y + size), colour & IM_COL32(255, 255, 255, 140));
  dl->PopClipRect();
  if (dragging) {
    auto [zx, zy] = map.to_latent_clamped(ImGui::GetIO().MousePos.x, ImGui::GetIO().MousePos.y);
    state.set_pad_point(zx, zy);
  } else if (hovered) {
    auto [zx, zy] = map.to_latent(ImGui::GetIO().MousePos.x, ImGui::GetIO().MousePos.y);
    ImGui::SetTooltip("z%d = %.2f, z%d = %.2f: drag to decode here in both panes", state.pad_dim_x, zx, state.pad_dim_y, zy);
  }
  ImGui::SameLine();
  ImGui::BeginGroup();
  if (pg.decoded_generation != side.decoded_generation && side.decoded.count == 1) {
    pg.decoded.upload(side.decoded.pixels.data(), side.decoded.width, side.decoded.height, side.decoded.channels);
    pg.decoded.set_smooth(gfx.smooth);
    pg.decoded_generation = side.decoded_generation;
  }
  if (pg.decoded.valid()) gfx.renderer.image(pg.decoded, ImVec2(image_w, image_w / aspect), gfx.colormap);
  ImGui::TextDisabled("E[x|z]");
  if (dims_differ)
    ImGui::TextWrapped("%d-D: z%d and z%d set from the pad's z%d and z%d, the other dims 0", dims, dx, dy, state.pad_dim_x,
                       state.pad_dim_y);
  ImGui::EndGroup();
  ImGui::EndChild();
}

void CompareView::bounds_table(const AppState& state) {
  const auto& a = comparison_.a();
  const auto& b = comparison_.b();
  if (!ImGui::BeginTable("bounds", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) return;
  ImGui::TableSetupColumn("");
  ImGui::TableSetupColumn("A");
  ImGui::TableSetupColumn("B");
  ImGui::TableSetupColumn("B - A");
  ImGui::TableHeadersRow();
  struct Row {
    const char* name;
    double (*value)(const BoundEvaluation&);
    const char* help;
  };
  static const Row rows[] = {
      {"-ELBO", [](const BoundEvaluation& e) { return e.elbo.loss; }, "the negative bound, nats per image: lower is a better model"},
      {"  reconstruction", [](const BoundEvaluation& e) { return e.elbo.recon; }, "E_q[-log p(x|z)]: how well z describes the image"},
      {"  KL", [](const BoundEvaluation& e) { return e.elbo.kl; }, "KL(q(z|x) || p(z)): what the code costs"},
      {"-IW(50)", [](const BoundEvaluation& e) { return e.iw_loss; }, "the importance-weighted bound, K = 50: closer to -log p(x)"},
  };
  for (const Row& row : rows) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.name);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (the first %lld test images)", row.help, (long long)Comparison::kBoundImages);
    const double va = a.bound ? row.value(*a.bound) : NAN, vb = b.bound ? row.value(*b.bound) : NAN;
    // Numbers for weights no longer shown are dimmed until the new ones arrive.
    const auto cell = [](const Comparison::Side& side, double v) {
      if (!side.bound) return ImGui::TextDisabled(side.vae ? "..." : "-");
      side.results_current() ? ImGui::Text("%.2f", v) : ImGui::TextDisabled("%.2f", v);
    };
    ImGui::TableNextColumn();
    cell(a, va);
    ImGui::TableNextColumn();
    cell(b, vb);
    ImGui::TableNextColumn();
    if (a.bound && b.bound) ImGui::Text("%+.2f", vb - va);
  }
  ImGui::EndTable();
}

void CompareView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Side by side", open)) return ImGui::End();
  // --compare and --compare-beta (a scene's, or the command line's): B as asked, once there is a model.
  if (!state.options.compare.empty() && state.snapshot) {
    comparison_.set_source(Comparison::Source::Checkpoint);
    std::snprintf(checkpoint_, sizeof checkpoint_, "%s", state.options.compare.c_str());
    comparison_.open_checkpoint(state, std::exchange(state.options.compare, {}));
  }
  if (state.options.compare_beta >= 0 && state.snapshot) {
    comparison_.set_source(Comparison::Source::SecondRun);
    beta_ = float(std::exchange(state.options.compare_beta, -1.0));
    warmup_ = float(state.options.compare_warmup);
    const std::string architecture = state.options.compare_arch.empty() ? state.snapshot->model.architecture : state.options.compare_arch;
    latent_ = state.options.compare_latent > 0 ? state.options.compare_latent : state.snapshot->model.latent_dim;
    const std::vector<std::string> names = architecture_names();
    const auto it = std::find(names.begin(), names.end(), architecture);
    architecture_ = it == names.end() ? 0 : int(it - names.begin());
    second_form_filled_ = true;
    comparison_.start_second_run(state, beta_, architecture, latent_, warmup_);
  }
  comparison_.update(state);
  if (!state.presenting) controls(state);  // presenting: the panes, large, without the controls
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float line = ImGui::GetTextLineHeightWithSpacing(), spacing = ImGui::GetStyle().ItemSpacing.x;
  // A wide, low window (presenting, a projector) puts the table beside the panes; otherwise it goes
  // below them, with the curves where there is room for them as well.
  const bool wide = avail.x > avail.y * 2.6f;
  const bool curves = !wide && avail.y > line * 22;
  const float below = wide ? 0.0f : line * 6.5f + (curves ? std::max(80.0f, avail.y * 0.25f) : 0.0f);
  const float panes_w = wide ? std::floor(avail.x * 0.68f) : avail.x;
  const float pane_h = std::max(line * 4, avail.y - below);
  const float pane_w = std::floor((panes_w - spacing) / 2);
  pane(state, gfx, comparison_.a(), a_gfx_, kColourA, pane_w, pane_h, "A");
  ImGui::SameLine();
  pane(state, gfx, comparison_.b(), b_gfx_, kColourB, pane_w, pane_h, "B");
  if (wide) {
    ImGui::SameLine();
    ImGui::BeginChild("bounds-beside", ImVec2(0, pane_h), false, ImGuiWindowFlags_NoScrollbar);
    ImGui::Dummy(ImVec2(0, line));  // level with the panes' images
    bounds_table(state);
    ImGui::EndChild();
  } else {
    bounds_table(state);
  }
  // Both runs' training loss on one plot, at β = 1 so that runs with different β compare.
  const auto& a = comparison_.a();
  const auto& b = comparison_.b();
  const size_t points = a.steps.size() + b.steps.size();
  if (points < curves_points_) ++curves_generation_;  // a restart: the lines were rebuilt, not extended
  curves_points_ = points;
  std::vector<ui::PlotSeries> series;
  if (!a.steps.empty()) series.push_back({"A", &a.steps, &a.losses, kColourA});
  if (!b.steps.empty()) series.push_back({"B", &b.steps, &b.losses, kColourB});
  ui::PlotStyle style;
  style.size = ImVec2(-1, std::max(60.0f, ImGui::GetContentRegionAvail().y));
  style.x_label = "step";
  style.y_label = "training -ELBO (beta = 1), nats";
  style.generation = curves_generation_ + (comparison_.source() == Comparison::Source::Moment ? uint64_t(comparison_.moment) << 32 : 0);
  if (!curves) {
  } else if (series.empty()) {
    ImGui::TextDisabled("the training loss shows here as the runs train");
  } else {
    ui::plot("##compare-curves", series, {}, style);
  }
  ImGui::End();
}

std::unique_ptr<View> make_compare_view() { return make_view<CompareView>(); }

}  // namespace latent::app
