// Outliers and likelihood: every test image scored by −ELBO (or −IW_K), their histogram, the images
// the model finds least and most likely, and a second dataset scored against the test set, with
// the ROC curve of telling the two apart by that score.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "latent/scores.h"
#include "ui/plot_widget.h"
#include "views/view.h"
#include "views/view_job.h"

namespace latent::app {
namespace {

constexpr int kShown = 32;       // least and most likely images shown
constexpr int kBins = 60;        // histogram bins
constexpr int64_t kIwImages = 1000;  // −IW_K scores the first this many images of each set

struct Scored {
  ImageScores test, ood;
  std::vector<float> test_score, ood_score;  // what the view ranks by: −ELBO or −IW_K
  std::vector<double> bin_x, test_density, ood_density;
  RocCurve roc;
  std::vector<double> roc_x, roc_y;
  double auroc = NAN;
  std::vector<int64_t> least, most;  // test-image indices, least likely first / most likely first
  ImageBatch least_images, most_images;
  std::string score_name;
};

// Densities (fraction per nat) over shared bins from the 0.5th to the 99.5th percentile of both sets.
void histogram(Scored& s) {
  std::vector<float> all = s.test_score;
  all.insert(all.end(), s.ood_score.begin(), s.ood_score.end());
  all.erase(std::remove_if(all.begin(), all.end(), [](float v) { return !std::isfinite(v); }), all.end());
  if (all.empty()) return;
  std::sort(all.begin(), all.end());
  const double lo = all[size_t(0.005 * double(all.size() - 1))], hi = all[size_t(0.995 * double(all.size() - 1))];
  const double width = std::max(1e-6, (hi - lo) / kBins);
  auto density = [&](const std::vector<float>& v) {
    std::vector<double> d(kBins, 0.0);
    for (float x : v)
      if (std::isfinite(x)) d[size_t(std::clamp(int((x - lo) / width), 0, kBins - 1))] += 1;
    for (double& c : d) c /= std::max<double>(1, double(v.size())) * width;
    return d;
  };
  for (int b = 0; b < kBins; ++b) s.bin_x.push_back(lo + (b + 0.5) * width);
  s.test_density = density(s.test_score);
  if (!s.ood_score.empty()) s.ood_density = density(s.ood_score);
}

// Why `other` cannot be scored by `vae`, or "".
std::string unfit(const Vae& vae, const Dataset& other) {
  const ModelConfig& m = vae.config();
  if (std::string problem = image_mismatch(m, other.channels(), other.height(), other.width(), "dataset " + other.name(), "the model");
      !problem.empty())
    return problem;
  if (m.conditional() && other.classes() != m.classes)
    return "the conditional model needs each image's class among its " + std::to_string(m.classes) + " classes, and dataset " +
           other.name() + (other.labeled() ? " has " + std::to_string(other.classes()) : std::string(" has no labels"));
  if (other.test_size() == 0) return "dataset " + other.name() + " has no test images";
  return "";
}

}  // namespace

class AnomalyView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
  void restart() override { job_.restart(); }

 private:
  void refresh(AppState& state);
  void load_ood(AppState& state, const std::string& spec);
  void strip(AppState& state, Gfx& gfx, const char* title, ImageTexture& texture, const ImageBatch& images,
             const std::vector<int64_t>& indices, const std::vector<float>& scores, float height);

  ViewJob<Scored> job_;
  int64_t textures_from_ = -1;
  bool use_iw_ = false;
  int iw_samples_ = 50;
  // The second dataset: loaded on the worker, checked against the model when it arrives.
  Dataset ood_;
  std::string ood_spec_, ood_loading_;
  // A loaded dataset, or why it could not be loaded.
  using Loaded = std::pair<Dataset, std::string>;
  std::shared_ptr<std::optional<Loaded>> ood_inbox_ = std::make_shared<std::optional<Loaded>>();
  std::string ood_asked_;  // the last options.ood loaded
  char ood_field_[512] = "";
  ImageTexture least_texture_, most_texture_;
};

void AnomalyView::load_ood(AppState& state, const std::string& spec) {
  if (spec.empty()) return state.notify("Outliers: name a dataset to score against the test set (mnist, fashion-mnist, a path)", true);
  ood_loading_ = spec;
  const DataOptions options = state.form.data_options();
  auto inbox = ood_inbox_;
  state.submit("ood-load", [spec, options, inbox] {
    auto loaded = std::make_shared<Loaded>();
    try {
      loaded->first = Dataset::load(spec, options);
    } catch (const std::exception& e) {
      loaded->second = e.what();
    }
    return [inbox, loaded] { *inbox = std::move(*loaded); };
  });
}

void AnomalyView::refresh(AppState& state) {
  auto vae = state.weights();
  // Scoring the test set takes a second of the worker: with new weights at most every 3 s.
  if (!vae || state.data.test_size() == 0 || !job_.due(state, 3.0)) return;
  if (!ood_.empty())
    if (std::string problem = unfit(*vae, ood_); !problem.empty()) {  // the model changed under it
      state.notify("Outliers: " + ood_.name() + " is no longer scored: " + problem, true, 10);
      ood_ = Dataset();
    }
  const Dataset data = state.data, ood = ood_;
  const bool iw = use_iw_;
  const int k = iw_samples_;
  job_.run(state, "anomaly", [vae, data, ood, iw, k] {
    Scored s;
    const int64_t limit = iw ? kIwImages : 0;
    s.test = score_test_set(*vae, data, limit);
    if (!ood.empty()) s.ood = score_test_set(*vae, ood, limit);
    auto images = [](const Dataset& d, int64_t n) {
      std::vector<int64_t> rows(size_t(std::min<int64_t>(n, d.test_size())));
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
      return d.test_images(rows);
    };
    s.test_score = iw ? iw_scores(*vae, images(data, limit), k) : s.test.neg_elbo;
    if (!ood.empty()) s.ood_score = iw ? iw_scores(*vae, images(ood, limit), k) : s.ood.neg_elbo;
    s.score_name = iw ? "-IW(" + std::to_string(k) + ")" : "-ELBO";
    histogram(s);
    if (!ood.empty()) {
      s.auroc = auroc(s.test_score, s.ood_score);
      s.roc = roc_curve(s.test_score, s.ood_score, 256);
      s.roc_x.assign(s.roc.false_positive_rate.begin(), s.roc.false_positive_rate.end());
      s.roc_y.assign(s.roc.true_positive_rate.begin(), s.roc.true_positive_rate.end());
    }
    s.least = highest_scores(s.test_score, kShown);
    s.most = lowest_scores(s.test_score, kShown);
    s.least_images = data.test_images(s.least);
    s.most_images = data.test_images(s.most);
    return s;
  });
}

void AnomalyView::strip(AppState& state, Gfx& gfx, const char* title, ImageTexture& texture, const ImageBatch& images,
                        const std::vector<int64_t>& indices, const std::vector<float>& scores, float height) {
  ImGui::TextDisabled("%s", title);
  if (!texture.valid() || images.count == 0) return;
  const float width = ImGui::GetContentRegionAvail().x;
  const int cols = int(images.count + 1) / 2;
  const float aspect = float(texture.width()) / float(texture.height());
  const float w = std::min(width, std::max(20.0f, height) * aspect);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  gfx.renderer.image(texture, ImVec2(w, w / aspect), gfx.colormap);
  if (!ImGui::IsItemHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  const int col = std::clamp(int((m.x - p.x) / w * float(cols)), 0, cols - 1);
  const int row = std::clamp(int((m.y - p.y) / (w / aspect) * 2.0f), 0, 1);
  const int i = std::min(int(images.count) - 1, row * cols + col);
  const int64_t index = indices[size_t(i)];
  ImGui::SetTooltip("test #%lld (%s): %.1f nats\nclick: explain it in the ELBO tab", (long long)index,
                    state.data.class_name(state.data.test_labels()[size_t(index)]).c_str(), scores[size_t(index)]);
  if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
    state.elbo.digit = int(index);
    state.elbo.digit_dirty = true;
    state.options.tab = "elbo";
  }
}

void AnomalyView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Outliers and likelihood", open)) return ImGui::End();
  if (state.options.ood != ood_asked_ && !state.options.ood.empty()) {  // --ood, or a lesson
    ood_asked_ = state.options.ood;
    std::snprintf(ood_field_, sizeof ood_field_, "%s", state.options.ood.c_str());
    load_ood(state, state.options.ood);
  }
  if (ood_inbox_->has_value()) {
    Dataset loaded = std::move((*ood_inbox_)->first);
    const std::string failed = std::move((*ood_inbox_)->second);
    ood_inbox_->reset();
    const auto vae = state.weights();
    const std::string problem = failed.empty() && vae ? unfit(*vae, loaded) : "";
    if (!failed.empty()) {
      state.notify("Outliers: the other dataset was not loaded: " + failed, true, 10);
    } else if (!problem.empty()) {
      state.notify("Outliers: " + problem + "; it cannot be scored", true, 10);
    } else {
      ood_ = std::move(loaded);
      ood_spec_ = ood_loading_;
      job_.invalidate();
    }
    ood_loading_.clear();
  }
  job_.take();
  refresh(state);

  // The controls: what to score by, and the second dataset.
  if (ImGui::RadioButton("-ELBO", !use_iw_)) use_iw_ = false, job_.invalidate();
  ImGui::SameLine();
  if (ImGui::RadioButton("-IW_K", use_iw_)) use_iw_ = true, job_.invalidate();
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("00000").x + ImGui::GetFrameHeight() * 2);
  if (ImGui::InputInt("K", &iw_samples_, 10, 100, ImGuiInputTextFlags_EnterReturnsTrue)) {
    iw_samples_ = std::clamp(iw_samples_, 1, 1000);
    if (use_iw_) job_.invalidate();
  }
  help_marker("The score is -log p(x) as the model bounds it, in nats: high = unlikely. -ELBO scores all test images "
              "with one draw of z each; -IW_K (K draws, a tighter bound) scores the first 1,000 and costs K times as much.");
  ImGui::SetNextItemWidth(std::max(80.0f, ImGui::GetContentRegionAvail().x - button_width("score against it") -
                                              ImGui::GetStyle().ItemSpacing.x - ImGui::GetFrameHeight() * 1.5f));
  const bool entered = ImGui::InputTextWithHint("##ood", "another dataset: fashion-mnist, mnist, a path", ood_field_,
                                                sizeof ood_field_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if (ImGui::Button(ood_loading_.empty() ? "score against it" : "loading...") || entered) load_ood(state, ood_field_);
  help_marker("Out-of-distribution detection: the second dataset's test images are scored by the same model. If the "
              "model 'knows what it does not know', they score higher (less likely), and the ROC curve bends to the "
              "top left. Trained on Fashion-MNIST, a VAE finds MNIST digits MORE likely than its own clothes "
              "(Nalisnick et al. 2019): simple images with many black pixels are cheap to encode, whatever the "
              "training set was. See the Lessons.");

  if (!job_.result()) {
    ImGui::TextDisabled(state.weights() ? "scoring the test set..." : "no model yet");
    return ImGui::End();
  }
  const Scored& s = *job_.result();
  auto mean = [](const std::vector<float>& v) {
    double t = 0;
    for (float x : v) t += x;
    return v.empty() ? 0.0 : t / double(v.size());
  };
  ImGui::Text("test set: %zu images, mean %s %.1f nats", s.test_score.size(), s.score_name.c_str(), mean(s.test_score));
  if (!s.ood_score.empty()) {
    ImGui::TextColored(ImVec4(1.0f, 0.6f, 0.25f, 1), "%s: %zu images, mean %.1f nats   AUROC %.3f", ood_.name().c_str(),
                       s.ood_score.size(), mean(s.ood_score), s.auroc);
    help_marker("AUROC: the chance that a random image of the other set scores higher than a random test image. 1: "
                "told apart perfectly; 0.5: no better than a coin; below 0.5: the other set looks MORE likely.");
  }

  // The histogram, and beside it the ROC curve when there is a second set.
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float plot_h = std::max(80.0f, avail_h * 0.42f);
  const bool roc = !s.roc_x.empty();
  const float roc_w = roc ? std::min(plot_h, ImGui::GetContentRegionAvail().x * 0.4f) : 0;
  ui::PlotStyle style;
  style.size = ImVec2(roc ? ImGui::GetContentRegionAvail().x - roc_w - ImGui::GetStyle().ItemSpacing.x : -1, plot_h);
  style.x_label = s.score_name + " (nats per image)";
  style.y_label = "share per nat";
  style.generation = uint64_t(job_.results());
  std::vector<ui::PlotSeries> series = {{"test set", &s.bin_x, &s.test_density, IM_COL32(110, 180, 255, 255), 1.5f}};
  series.back().fill_to_zero = true;
  if (!s.ood_density.empty()) {
    series.push_back({ood_.name(), &s.bin_x, &s.ood_density, IM_COL32(255, 150, 60, 255), 1.5f});
    series.back().fill_to_zero = true;
  }
  ui::plot("scores", series, {}, style);
  if (roc) {
    ImGui::SameLine();
    ui::PlotStyle rs;
    rs.size = ImVec2(roc_w, plot_h);
    rs.x_label = "false positive rate";
    rs.y_label = "true positive rate";
    rs.generation = uint64_t(job_.results());
    ui::plot("roc", {{"ROC", &s.roc_x, &s.roc_y, IM_COL32(255, 150, 60, 255), 2.0f}}, {}, rs);
  }

  if (textures_from_ != job_.results() && gfx.take_refresh_turn()) {
    textures_from_ = job_.results();
    const int cols = std::max(1, int(s.least_images.count + 1) / 2);
    if (s.least_images.count > 0) least_texture_.upload_tiled(s.least_images, 2, cols);
    if (s.most_images.count > 0) most_texture_.upload_tiled(s.most_images, 2, cols);
  }
  // The two strips share what is left of the window.
  const float strip_h = (ImGui::GetContentRegionAvail().y - 2 * ImGui::GetTextLineHeightWithSpacing()) / 2 - ImGui::GetStyle().ItemSpacing.y;
  strip(state, gfx, "least likely test images (highest score): click one to explain it", least_texture_, s.least_images,
        s.least, s.test_score, strip_h);
  strip(state, gfx, "most likely test images (lowest score)", most_texture_, s.most_images, s.most, s.test_score, strip_h);
  ImGui::End();
}

std::unique_ptr<View> make_anomaly_view() { return make_view<AnomalyView>(); }

}  // namespace latent::app
