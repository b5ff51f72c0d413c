// Latent arithmetic: z_A − z_B + z_C decoded, and an attribute vector (the mean μ of one class minus
// another's) added to an image's z at a chosen strength; the points are marked on the pad.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "latent/evaluation.h"
#include "latent/latent_ops.h"
#include "views/view.h"
#include "views/view_job.h"

namespace latent::app {
namespace {

constexpr int64_t kMeanImages = 5000;  // test images the class means average over
constexpr int kStrengths = 9;          // the strip: strengths −2 .. 2

struct Request {
  int a = 0, b = 1, c = 2;       // test images of the analogy
  int base = 0;                  // the image the attribute vector moves
  int from = 0, to = 1;          // classes: the vector is mean(to) − mean(from)
  float strength = 1.0f;
  bool operator==(const Request& o) const {
    return a == o.a && b == o.b && c == o.c && base == o.base && from == o.from && to == o.to && strength == o.strength;
  }
};

struct Result {
  Request request;
  ImageBatch analogy;             // A, B, C, decode(z_A − z_B + z_C)
  std::vector<std::vector<float>> points;  // z_A, z_B, z_C, the result, the base, base + s·v
  ImageBatch strip;               // base + s·v for s from −2 to 2, then at the chosen strength
  std::optional<ClassMeans> means;  // computed for these weights (kept by the view)
};

}  // namespace

class ArithmeticView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override {
    job_.restart();
    means_.reset();
    means_generation_ = -1;
    defaults_set_ = false;
  }

 private:
  void refresh(AppState& state);
  void image_field(AppState& state, const char* label, int* index);

  Request request_;
  bool defaults_set_ = false;
  ViewJob<Result> job_;
  std::optional<ClassMeans> means_;
  int64_t means_generation_ = -1, textures_from_ = -1;
  Request asked_;
  ImageTexture analogy_texture_, strip_texture_, chosen_texture_;
};

void ArithmeticView::refresh(AppState& state) {
  auto vae = state.weights();
  if (!vae || state.data.test_size() == 0 || state.busy("arithmetic")) return;
  // New weights at most once a second; a changed request at once.
  if (!(asked_ == request_)) job_.invalidate();
  if (!job_.due(state, 1.0)) return;
  asked_ = request_;
  const Dataset data = state.data;
  const Request r = request_;
  const std::optional<ClassMeans> means = means_generation_ == state.weights_generation ? means_ : std::nullopt;
  const int classes = data.classes();
  const std::vector<int32_t> under = state.condition_labels();
  job_.run(state, "arithmetic", [vae, data, r, means, classes, under] {
    Result out;
    out.request = r;
    const ImageBatch abc = data.test_images({int64_t(r.a), int64_t(r.b), int64_t(r.c), int64_t(r.base)});
    const Posterior q = vae->encode(abc);
    const std::vector<float> result = latent_analogy(q.mu.row(0), q.mu.row(1), q.mu.row(2));
    const ImageBatch decoded = vae->decode(LatentMatrix{1, q.mu.cols, result}, under);
    out.analogy = data.test_images({int64_t(r.a), int64_t(r.b), int64_t(r.c)});
    out.analogy.labels.clear();
    out.analogy.pixels.insert(out.analogy.pixels.end(), decoded.pixels.begin(), decoded.pixels.end());
    out.analogy.count = 4;
    out.points = {q.mu.row(0), q.mu.row(1), q.mu.row(2), result, q.mu.row(3)};
    if (classes > 0) {
      if (means) {
        out.means = means;
      } else {
        const EncodedSet set = encode_test_set(*vae, data, kMeanImages);
        out.means = class_means(set.posterior.mu, set.labels, classes);
      }
      std::vector<float> strengths;
      for (int i = 0; i < kStrengths; ++i) strengths.push_back(-2.0f + 4.0f * float(i) / float(kStrengths - 1));
      strengths.push_back(r.strength);
      const LatentMatrix path = attribute_path(q.mu.row(3), out.means->means.row(r.from), out.means->means.row(r.to), strengths);
      out.strip = vae->decode(path, under);
      out.points.push_back(path.row(path.rows - 1));
    }
    return out;
  });
}

// A test image by index, and on labelled data by class: picking a class jumps to the next image of
// it (picking the same class again steps on through that class).
void ArithmeticView::image_field(AppState& state, const char* label, int* index) {
  ImGui::PushID(label);
  if (label[0] != '#') {  // the name before its fields: "A [index] [class]"
    ImGui::TextUnformatted(label);
    ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
  }
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("000000").x + ImGui::GetFrameHeight() * 2);
  ImGui::InputInt("##index", index, 1, 100);
  *index = std::clamp(*index, 0, std::max(0, int(state.data.test_size()) - 1));
  const auto& labels = state.data.test_labels();
  if (state.data.labeled() && size_t(*index) < labels.size()) {
    ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
    ImGui::SetNextItemWidth(ImGui::CalcTextSize("T-shirt/top").x + ImGui::GetFrameHeight());
    if (ImGui::BeginCombo("##class", state.data.class_name(labels[size_t(*index)]).c_str())) {
      for (int k = 0; k < state.data.classes(); ++k)
        if (ImGui::Selectable(state.data.class_name(k).c_str(), k == labels[size_t(*index)])) {
          const int next = step_to_label(labels, *index, k, 1);
          if (next >= 0) *index = next;
        }
      ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("pick a class: the next test image of it");
  }
  ImGui::PopID();
}

void ArithmeticView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Latent arithmetic", open)) return ImGui::End();
  const int classes = state.data.classes();
  if (!defaults_set_ && state.data.test_size() > 3) {
    // A 3 turning into an 8 on digits; otherwise the first two classes. The base: the first image of
    // the "from" class.
    defaults_set_ = true;
    request_.from = classes > 8 ? 3 : 0;
    request_.to = classes > 8 ? 8 : std::min(1, std::max(0, classes - 1));
    const auto& labels = state.data.test_labels();
    for (int i = 0; i < int(labels.size()); ++i)
      if (labels[size_t(i)] == request_.from) {
        request_.base = i;
        break;
      }
  }
  if (job_.take() && job_.result()->means) means_ = job_.result()->means, means_generation_ = job_.asked_generation();
  const Result* shown = job_.result();
  refresh(state);

  section("z_A - z_B + z_C");
  const float field_w = ImGui::CalcTextSize("000000 B T-shirt/top").x + ImGui::GetFrameHeight() * 5;
  image_field(state, "A", &request_.a);
  same_line_if_fits(field_w);
  image_field(state, "B", &request_.b);
  same_line_if_fits(field_w);
  image_field(state, "C", &request_.c);
  help_marker("Test images by index, or by class (the combo beside each). The result is A with what B has taken away and what C "
              "has added: in a smooth latent space, e.g. a thick 7 minus a thin 7 plus a thin 2 gives a thick 2. "
              "The four points are marked on the pad.");
  if (shown) {
    if (textures_from_ != job_.results() && gfx.take_refresh_turn()) {
      textures_from_ = job_.results();
      analogy_texture_.upload_tiled(shown->analogy, 1, 4);
      if (shown->strip.count == kStrengths + 1) {
        ImageBatch strip = shown->strip, chosen = shown->strip;
        strip.count = kStrengths;
        strip.pixels.resize(size_t(kStrengths) * size_t(strip.pixels_per_image()));
        chosen.count = 1;
        chosen.pixels.assign(shown->strip.pixels.end() - shown->strip.pixels_per_image(), shown->strip.pixels.end());
        strip_texture_.upload_tiled(strip, 1, kStrengths);
        chosen_texture_.upload_tiled(chosen, 1, 1);
      }
    }
    const float width = ImGui::GetContentRegionAvail().x;
    if (analogy_texture_.valid()) {
      const float aspect = float(analogy_texture_.width()) / float(analogy_texture_.height());
      const float w = std::min(width, ImGui::GetContentRegionAvail().y * 0.3f * aspect);
      gfx.renderer.image(analogy_texture_, ImVec2(w, w / aspect), gfx.colormap);
      ImGui::TextDisabled("A  -  B  +  C  =  decoded result");
    }
  }

  section("attribute vector");
  if (classes == 0) {
    ImGui::TextDisabled("needs labelled data: the vector is the mean mu of one class minus another's");
  } else {
    auto class_combo = [&](const char* label, int* value) {
      ImGui::TextUnformatted(label + 2);  // the label before the field: "from 3 to 8"
      ImGui::SameLine();
      ImGui::SetNextItemWidth(ImGui::CalcTextSize("T-shirt/top").x + ImGui::GetFrameHeight() * 2);
      *value = std::clamp(*value, 0, classes - 1);
      if (ImGui::BeginCombo(label, state.data.class_name(*value).c_str())) {
        for (int k = 0; k < classes; ++k)
          if (ImGui::Selectable(state.data.class_name(k).c_str(), k == *value)) *value = k;
        ImGui::EndCombo();
      }
    };
    class_combo("##from", &request_.from);
    same_line_if_fits(ImGui::CalcTextSize("to T-shirt/top").x + ImGui::GetFrameHeight() * 3);
    class_combo("##to", &request_.to);
    same_line_if_fits(ImGui::CalcTextSize("image 000000 T-shirt/top").x + ImGui::GetFrameHeight() * 5);
    image_field(state, "image", &request_.base);
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x * 0.6f, 300.0f));
    ImGui::SliderFloat("strength", &request_.strength, -2.0f, 2.0f, "%.2f");
    help_marker("v = mean mu(to) - mean mu(from), over the test images of each class. The image's z moves along v: "
                "z + s * v. Positive s turns it towards 'to'; negative s pushes it away. The strip runs s from -2 to 2.");
    if (shown && strip_texture_.valid() && chosen_texture_.valid()) {
      const float avail = ImGui::GetContentRegionAvail().y;
      const float aspect = float(strip_texture_.width()) / float(strip_texture_.height());
      const float big = std::max(32.0f, std::min(avail * 0.55f, ImGui::GetContentRegionAvail().x * 0.3f));
      gfx.renderer.image(chosen_texture_, ImVec2(big, big), gfx.colormap);
      const float w = std::min(ImGui::GetContentRegionAvail().x, std::max(32.0f, avail - big - ImGui::GetTextLineHeightWithSpacing() * 2) * aspect);
      gfx.renderer.image(strip_texture_, ImVec2(w, w / aspect), gfx.colormap);
      ImGui::TextDisabled("s = -2 ... 0 ... 2  (from %s towards %s)", state.data.class_name(request_.from).c_str(),
                          state.data.class_name(request_.to).c_str());
    }
  }
  if (shown && shown->points.size() >= 5) {
    std::vector<AppState::PadMark> marks = {{"zA", shown->points[0], {}, IM_COL32(255, 120, 120, 255)},
                                            {"zB", shown->points[1], {}, IM_COL32(120, 200, 255, 255)},
                                            {"zC", shown->points[2], {}, IM_COL32(140, 255, 140, 255)},
                                            {"zA-zB+zC", shown->points[3], {}, IM_COL32(255, 255, 255, 255)}};
    if (shown->points.size() >= 6) {
      marks.push_back({"image", shown->points[4], {}, IM_COL32(255, 190, 80, 255)});
      char label[32];
      std::snprintf(label, sizeof label, "image%+.1fv", shown->request.strength);
      marks.push_back({label, shown->points[5], {}, IM_COL32(255, 190, 80, 255)});
    }
    state.mark_on_pad("arithmetic", std::move(marks));
  }
  ImGui::End();
}

std::unique_ptr<View> make_arithmetic_view() { return make_view<ArithmeticView>(); }

}  // namespace latent::app
