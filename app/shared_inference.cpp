// AppState's background inference: what new weights refresh for the open views, on the worker, and the paths that decode in the same frame.
#include "app_state.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include "latent/error.h"
#include "latent/history.h"
#include "latent/torchscript.h"

namespace latent::app {

void AppState::refresh_inference() {
  auto vae = weights();
  if (!vae) return;
  // Cheap enough for the frame: one image, and the strip when the user changed it.
  if (decoded_dirty && (refresh_wanted & kRefreshDecoded)) decode_now();
  if (data.test_size() > 0) {
    interp_a = std::clamp(interp_a, 0, int(data.test_size()) - 1);
    interp_b = std::clamp(interp_b, 0, int(data.test_size()) - 1);
  }
  const bool want_interp = refresh_wanted & kRefreshInterpolation;
  // A view that shows the strip opened after new weights: redrawn in this frame (one strip, a few
  // ms) rather than queued behind the worker's other jobs with the old strip showing meanwhile.
  if (want_interp && !interp_was_wanted_ && interp_stale_) interp_dirty = true;
  interp_was_wanted_ = want_interp;
  if (interp_dirty && want_interp && data.test_size() > 0 && runs_user_code(vae->config())) {
    interp_dirty = false, interp_stale_ = true;  // a user's model: on the worker, below
    ++interp_generation;
  }
  if (interp_dirty && want_interp && data.test_size() > 0) {
    apply_interpolation(compute_interpolation(*vae, data, interp_a, interp_b, interp_steps, interp_kind, condition_labels()));
    interp_dirty = interp_stale_ = false;
  }
  // New weights redraw the strip too, but that is 12 images through both halves of the model (up
  // to ~4 ms of a frame): the worker does it, and a result the user has since changed is dropped.
  if (interp_stale_ && want_interp && data.test_size() > 0 && !worker_.busy("interp")) {
    interp_stale_ = false;
    const Dataset d = data;
    const int a = interp_a, b = interp_b, steps = interp_steps;
    const Interpolation kind = interp_kind;
    const int64_t asked_at = interp_generation;
    const std::vector<int32_t> under = condition_labels();
    worker_.submit("interp", [this, vae, d, a, b, steps, kind, asked_at, under] {
      auto result = std::make_shared<InterpolationResult>(compute_interpolation(*vae, d, a, b, steps, kind, under));
      return [this, result, a, b, steps, kind, asked_at] {
        if (interp_generation != asked_at || interp_dirty || a != interp_a || b != interp_b || steps != interp_steps ||
            kind != interp_kind)
          return;
        apply_interpolation(std::move(*result));
      };
    });
  }
  // Heavier work goes to the worker, at most a few times a second, never queued twice.
  const Dataset d = data;
  if (scatter_dirty && (refresh_wanted & kRefreshScatter) && (replay_moment || now - last_scatter_ > 1.0) && !worker_.busy("scatter")) {
    last_scatter_ = now;
    scatter_dirty = false;
    const int dx = pad_dim_x, dy = pad_dim_y, size = pad_raster_size;
    const float extent = pad_extent;
    worker_.submit("scatter", [this, vae, d, dx, dy, extent, size] {
      auto set = std::make_shared<EncodedSet>(encode_test_set(*vae, d));
      // A learned prior: its marginal over the pad's dims, for the q(z) vs p(z) view and the contours.
      std::vector<float> prior_grid;
      auto contours = std::make_shared<std::vector<ui::ContourSegment>>();
      auto pseudo = std::make_shared<ImageBatch>();
      auto pseudo_mu = std::make_shared<LatentMatrix>();
      const int dims = vae->config().latent_dim;
      if (vae->config().prior != "normal" && dx < dims && (dims == 1 || (dy < dims && dy != dx))) {
        const int resolution = dims == 2 ? 128 : 64;  // drawn from samples beyond two dims: coarser cells
        const std::vector<float> marginal = vae->prior_marginal_grid(dx, dims == 1 ? dx : dy, resolution, extent);
        const std::vector<double> masses(ui::kContourMasses.begin(), ui::kContourMasses.end());
        *contours = ui::contour_segments(marginal, resolution, extent, ui::hpd_levels(marginal, masses));
        prior_grid = marginal;
        if (resolution != 128) {  // each sampled cell covers 2 × 2 of the aggregate's
          prior_grid.assign(size_t(128) * 128, 0.0f);
          for (int r = 0; r < 128; ++r)
            for (int c = 0; c < 128; ++c) prior_grid[size_t(r) * 128 + size_t(c)] = marginal[size_t(r / 2) * 64 + size_t(c / 2)];
        }
        if (ImageBatch u = vae->pseudo_inputs(); u.count > 0) {
          u.count = std::min<int64_t>(u.count, kPseudoShown);
          u.pixels.resize(size_t(u.count) * size_t(u.pixels_per_image()));
          if (!u.labels.empty()) u.labels.resize(size_t(u.count));
          *pseudo_mu = vae->encode(u).mu;
          *pseudo = std::move(u);
        }
      }
      auto density = std::make_shared<ui::DensityGrid>(ui::aggregate_density(set->posterior, dx, dy, 128, extent, prior_grid));
      // 10,000 dots into a 512² image take 1-2 ms: here rather than in a frame.
      auto image = std::make_shared<ui::ScatterImage>();
      if (size > 0 && dx < set->posterior.mu.cols && dy < set->posterior.mu.cols)
        *image = ui::rasterize_pad_scatter(set->posterior.mu, set->labels, dx, dy, extent, size);
      return [this, set, density, image, contours, pseudo, pseudo_mu] {
        if (set->posterior.mu.cols != latent_dim()) return;
        scatter = std::move(*set);
        aggregate = std::move(*density);
        prior_contours = std::move(*contours);
        pseudo_images = std::move(*pseudo);
        pseudo_points = std::move(*pseudo_mu);
        scatter_image = std::move(*image);
        ++scatter_generation;
      };
    });
  }
  if (grid_dirty && (refresh_wanted & kRefreshGrid) && (replay_moment || now - last_grid_ > 0.4) && !worker_.busy("grid")) {
    last_grid_ = now;
    grid_dirty = false;
    GridSpec spec;
    spec.k = options.grid;
    spec.dim_x = pad_dim_x;
    spec.dim_y = pad_dim_y;
    spec.extent = pad_extent;
    if (latent_dim() > 2) spec.base = z;
    if (latent_dim() == 1) spec.dim_y = 0;
    if (conditional()) spec.label = condition_class;
    worker_.submit("grid", [this, vae, spec] {
      const auto begin = std::chrono::steady_clock::now();
      auto images = std::make_shared<ImageBatch>(decode_grid(*vae, spec));
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
      int k = spec.k;
      return [this, images, k, ms] {
        grid_decode_ms = ms;
        grid_images = std::move(*images);
        grid_k_shown = k;
        ++grid_generation;
      };
    });
  }
  // The bound's estimates cost a few hundred milliseconds of a core: only while their views show
  // (the panels say so each frame: kRefreshBound alone would run them behind a closed tab),
  // and at most every 2 s (digit) or 5 s (test set), so the trainer keeps its CPU.
  const bool digit_visible = elbo.digit_views_visible, test_visible = elbo.test_views_visible;
  elbo.digit_views_visible = elbo.test_views_visible = false;  // the panels set them again this frame
  elbo_digit_shown_ = digit_visible, elbo_test_shown_ = test_visible;
  if (digit_visible && elbo.digit_dirty && (replay_moment || now - last_elbo_digit_ > 2.0) && !worker_.busy("elbo-digit") &&
      data.test_size() > 0) {
    last_elbo_digit_ = now;
    elbo.digit_dirty = false;
    elbo.digit = std::clamp(elbo.digit, 0, int(data.test_size()) - 1);
    // The digit 64 times: the ELBO's expectation and the IW estimate averaged over 64 draws of q.
    const ImageBatch image = data.test_images(std::vector<int64_t>(64, elbo.digit));
    const int k = elbo.iw_samples;
    const float extent = pad_extent;
    worker_.submit("elbo-digit", [this, vae, image, k, extent] {
      const bool two_d = vae->config().latent_dim == 2;
      auto bounds = std::make_shared<BoundEvaluation>(evaluate_bounds(*vae, image, k, false, 1));
      ImageBatch one = image;
      one.count = 1;
      one.pixels.resize(size_t(one.pixels_per_image()));
      if (!one.labels.empty()) one.labels.resize(1);
      auto post = std::make_shared<PosteriorGrid>(two_d ? posterior_grid(*vae, one, 64, extent) : PosteriorGrid{});
      auto close = std::make_shared<PosteriorGrid>(
          two_d ? posterior_grid(*vae, one, 64, 0.0f, GridIntegration(), post->log_px) : PosteriorGrid{});
      return [this, bounds, post, close] {
        elbo.digit_bounds = std::move(*bounds);
        elbo.posterior = std::move(*post);
        elbo.close_up = std::move(*close);
        elbo.have_digit = true;
        ++elbo.posterior_generation;
      };
    });
  }
  if (test_visible && elbo.test_dirty && (replay_moment || now - last_elbo_test_ > 5.0) && !worker_.busy("elbo-test")) {
    last_elbo_test_ = now;
    elbo.test_dirty = false;
    const int k = elbo.iw_samples, n = elbo.test_images;
    const bool live = timeline_view < 0 && !replay_moment;  // a replayed past adds no point to the curve
    const int64_t step = replay_moment ? replay_moment->step
                         : live        ? (snapshot ? snapshot->weights_step : 0)
                                       : timeline[size_t(timeline_view)].step;
    worker_.submit("elbo-test", [this, vae, d, k, n, step, live] {
      auto bounds = std::make_shared<BoundEvaluation>(evaluate_bounds(*vae, d, k, false, n, 2));
      return [this, bounds, step, live] {
        elbo.test_bounds = *bounds;
        elbo.have_test = true;
        if (live && (elbo.history.empty() || elbo.history.back().step < step))
          elbo.history.push_back({step, bounds->elbo.loss, bounds->iw_loss}), thin_history(elbo.history, kBoundHistoryKept);
      };
    });
  }
  if (gallery_dirty && (refresh_wanted & kRefreshGallery) && (replay_moment || now - last_gallery_ > 0.4) && !worker_.busy("gallery")) {
    last_gallery_ = now;
    gallery_dirty = false;
    uint64_t seed = sample_seed;
    const int classes = vae->config().classes, first_class = std::clamp(condition_class, 0, std::max(0, classes - 1));
    worker_.submit("gallery", [this, vae, d, seed, classes, first_class] {
      std::vector<int64_t> first;
      for (int64_t i = 0; i < std::min<int64_t>(16, d.test_size()); ++i) first.push_back(i);
      auto originals_batch = std::make_shared<ImageBatch>(d.test_images(first));
      auto recon = std::make_shared<ImageBatch>(vae->reconstruct(*originals_batch));
      std::shared_ptr<ImageBatch> prior;
      int rows = 0;
      if (classes == 0) {
        prior = std::make_shared<ImageBatch>(vae->sample_prior(32, seed));
      } else {
        // The same kSampleColumns z in every row, a class per row: what z keeps (style) down a
        // column, what the class changes (content) across the rows.
        rows = std::min(classes, kSampleClassRows);
        std::vector<int32_t> row_classes;
        for (int r = 0; r < rows; ++r) row_classes.push_back(int32_t((first_class + r) % classes));
        prior = std::make_shared<ImageBatch>(vae->decode_under_classes(vae->sample_latents(kSampleColumns, seed), row_classes));
      }
      return [this, originals_batch, recon, prior, rows, first_class] {
        originals = std::move(*originals_batch);
        reconstructions = std::move(*recon);
        samples = std::move(*prior);
        samples_class_rows = rows;
        samples_first_class = first_class;
        ++gallery_generation;
      };
    });
  }
}

ImageBatch AppState::originals_over_reconstructions() const {
  ImageBatch both = originals;
  if (reconstructions.count != originals.count) return ImageBatch{};
  both.pixels.insert(both.pixels.end(), reconstructions.pixels.begin(), reconstructions.pixels.end());
  both.count *= 2;
  return both;
}

void AppState::apply_interpolation(InterpolationResult r) {
  interp_endpoints = std::move(r.endpoints);
  interp_path = std::move(r.path);
  interp_images = std::move(r.images);
  ++interp_generation;
}

void AppState::mark_all_views_dirty() {
  ++weights_generation;
  decoded_dirty = interp_stale_ = true;
  gallery_dirty = grid_dirty = scatter_dirty = true;
  elbo.digit_dirty = elbo.test_dirty = true;
}

bool AppState::views_settled() const {
  if (!worker_.idle()) return false;
  const unsigned w = refresh_wanted;
  const bool images = data.test_size() > 0;
  if ((w & kRefreshDecoded) && decoded_dirty) return false;
  if ((w & kRefreshInterpolation) && images && (interp_dirty || interp_stale_)) return false;
  if ((w & kRefreshScatter) && scatter_dirty) return false;
  if ((w & kRefreshGrid) && grid_dirty) return false;
  if ((w & kRefreshGallery) && images && gallery_dirty) return false;
  if (elbo_digit_shown_ && images && elbo.digit_dirty) return false;
  if (elbo_test_shown_ && elbo.test_dirty) return false;
  return true;
}

void AppState::decode_now() {
  auto vae = weights();
  if (!vae || z.empty()) return;
  if (runs_user_code(vae->config())) {
    // A user's model may take any time: decoded on the worker, the picture before staying meanwhile.
    const LatentMatrix point{1, int64_t(z.size()), z};
    const int64_t asked = ++decode_requests_;
    decoded_dirty = false;
    worker_.submit("decode", [this, vae, point, asked] {
      auto image = std::make_shared<ImageBatch>(vae->decode(point, {}));
      return [this, image, asked] {
        if (asked != decode_requests_) return;  // the point has moved on since
        decoded = std::move(*image);
        every_class = ImageBatch{};
        ++decoded_generation;
      };
    });
    return;
  }
  auto begin = std::chrono::steady_clock::now();
  decoded = vae->decode(LatentMatrix{1, int64_t(z.size()), z}, condition_labels());
  decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  every_class = ImageBatch{};
  if (const int classes = vae->config().classes; classes > 0) {
    std::vector<int32_t> shown(size_t(std::min(classes, kEveryClassShown)));
    std::iota(shown.begin(), shown.end(), 0);
    every_class = vae->decode_under_classes(LatentMatrix{1, int64_t(z.size()), z}, shown);
  }
  decoded_dirty = false;
  ++decoded_generation;
}

void AppState::sample_reparameterization(int count) {
  auto vae = weights();
  if (!vae || data.empty()) return;
  elbo.digit = std::clamp(elbo.digit, 0, int(data.test_size()) - 1);
  const ImageBatch image = data.test_images({elbo.digit});
  const uint64_t seed = elbo.reparam_seed++;
  auto sample = [vae, image, seed, count] {
    Posterior q = vae->encode(image);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    const int64_t d = q.mu.cols;
    auto out = std::make_shared<std::pair<LatentMatrix, ImageBatch>>();
    out->first = LatentMatrix{count, d, std::vector<float>(size_t(count * d))};
    for (int i = 0; i < count; ++i)
      for (int64_t j = 0; j < d; ++j)  // z = μ + σ·ε, σ = exp(½ log σ²)
        out->first.values[size_t(i * d + j)] = q.mu.at(0, j) + std::exp(0.5f * q.logvar.at(0, j)) * normal(rng);
    out->second = vae->decode(out->first, vae->config().conditional() ? image.labels : std::vector<int32_t>{});
    return out;
  };
  auto apply = [this](std::pair<LatentMatrix, ImageBatch>& drawn) {
    elbo.reparam_z = std::move(drawn.first);
    elbo.reparam_images = std::move(drawn.second);
    ++elbo.reparam_generation;
  };
  if (!runs_user_code(vae->config())) return apply(*sample());
  // A user's model: drawn on the worker.
  worker_.submit("reparameterization", [sample, apply] {
    auto drawn = sample();
    return [drawn, apply]() mutable { apply(*drawn); };
  });
}

}  // namespace latent::app
