// The explorer's views: one line each. A new view is a file in app/views/ and a line here.
#include "latent/error.h"
#include "views/view.h"

namespace latent::app {

// Each defined in its view's file.
std::unique_ptr<View> make_training_view();
std::unique_ptr<View> make_loss_curves_view();
std::unique_ptr<View> make_latent_pad_view();
std::unique_ptr<View> make_decoded_image_view();
std::unique_ptr<View> make_interpolation_view();
std::unique_ptr<View> make_gallery_view();
std::unique_ptr<View> make_manifold_view();
std::unique_ptr<View> make_lessons_view();
std::unique_ptr<View> make_messages_view();
std::unique_ptr<View> make_anomaly_view();
std::unique_ptr<View> make_traversal_view();
std::unique_ptr<View> make_arithmetic_view();
std::unique_ptr<View> make_draw_view();
std::unique_ptr<View> make_denoise_view();
std::unique_ptr<View> make_equation_view();
std::unique_ptr<View> make_compare_view();

const std::vector<ViewInfo>& view_registry() {
  // name, title, menu key, open at start, what new weights refresh, {column, share of its height}, constructor
  // [, false: drawn without a dataset]
  static const std::vector<ViewInfo> kViews = {
      {"training", "Training", "", true, 0, {0, 0.58f}, make_training_view, false},
      {"curves", "Loss curves", "", true, kRefreshBound | kRefreshScatter, {1, 0.44f}, make_loss_curves_view},
      {"pad", "Latent pad", "", true, kRefreshDecoded | kRefreshScatter | kRefreshGrid, {1, 0.56f}, make_latent_pad_view},
      {"image", "Decoded image", "", true, kRefreshDecoded, {0, 0.42f}, make_decoded_image_view},
      {"interpolation", "Interpolation", "", true, kRefreshInterpolation, {2, 0.33f}, make_interpolation_view},
      {"gallery", "Reconstructions and samples", "", true, kRefreshGallery, {2, 0.33f}, make_gallery_view},
      {"grid", "Manifold", "", true, kRefreshGrid, {2, 0.34f}, make_manifold_view},
      {"lessons", "Lessons", "L", false, 0, {2, 0.30f}, make_lessons_view, false},
      {"messages", "Messages", "M", false, 0, {0, 0.22f}, make_messages_view, false},
      // Views with results of their own, computed on the worker when the weights change.
      {"anomaly", "Outliers and likelihood", "", false, 0, {2, 0.5f}, make_anomaly_view},
      {"traversal", "Traversals", "", false, 0, {2, 0.5f}, make_traversal_view},
      {"arithmetic", "Latent arithmetic", "", false, 0, {2, 0.5f}, make_arithmetic_view},
      {"draw", "Draw", "", false, 0, {0, 0.5f}, make_draw_view},
      {"denoise", "Denoising", "", false, 0, {2, 0.4f}, make_denoise_view},
      {"equation", "The bound", "", false, kRefreshBound, {1, 0.3f}, make_equation_view, false},
      {"compare", "Side by side", "", false, 0, {1, 0.6f}, make_compare_view},
  };
  return kViews;
}

std::vector<bool> views_to_open(const std::vector<std::string>& names) {
  const auto& views = view_registry();
  std::vector<bool> open(views.size(), false);
  if (names.empty()) {
    for (size_t i = 0; i < views.size(); ++i) open[i] = views[i].open_at_start;
    return open;
  }
  std::string known;
  for (const auto& v : views) known += std::string(known.empty() ? "" : ", ") + v.name;
  for (const std::string& name : names) {
    if (name == "all") {
      open.assign(views.size(), true);
      continue;
    }
    size_t i = 0;
    while (i < views.size() && name != views[i].name) ++i;
    if (i == views.size()) throw Error("--views: unknown view '" + name + "' (" + known + ", all)");
    open[i] = true;
  }
  return open;
}

}  // namespace latent::app
