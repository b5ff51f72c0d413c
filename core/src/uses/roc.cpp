// The ROC curve and its area, and the extremes of a score: plain arithmetic over the scores.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "latent/scores.h"

namespace latent {
namespace {

// A NaN score (never produced by a finite model) sorts as the highest, so that orderings stay strict.
float key(float v) { return std::isnan(v) ? std::numeric_limits<float>::infinity() : v; }

struct Scored {
  float score;
  bool positive;
};

std::vector<Scored> pooled(const std::vector<float>& negatives, const std::vector<float>& positives) {
  std::vector<Scored> all;
  all.reserve(negatives.size() + positives.size());
  for (float v : negatives) all.push_back({key(v), false});
  for (float v : positives) all.push_back({key(v), true});
  return all;
}

}  // namespace

double auroc(const std::vector<float>& negatives, const std::vector<float>& positives) {
  if (negatives.empty() || positives.empty()) return std::nan("");
  std::vector<Scored> all = pooled(negatives, positives);
  std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) { return a.score < b.score; });
  // Mann–Whitney: each positive counts the negatives below it, and half of those tied with it.
  double wins = 0, negatives_below = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    double pos = 0, neg = 0;
    for (; j < all.size() && all[j].score == all[i].score; ++j) (all[j].positive ? pos : neg) += 1;
    wins += pos * negatives_below + 0.5 * pos * neg;
    negatives_below += neg;
    i = j;
  }
  return wins / (double(negatives.size()) * double(positives.size()));
}

RocCurve roc_curve(const std::vector<float>& negatives, const std::vector<float>& positives, size_t max_points) {
  RocCurve roc;
  if (negatives.empty() || positives.empty()) return roc;
  std::vector<Scored> all = pooled(negatives, positives);
  std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  const double n = double(negatives.size()), p = double(positives.size());
  std::vector<float> fpr{0.0f}, tpr{0.0f};
  double fp = 0, tp = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    for (; j < all.size() && all[j].score == all[i].score; ++j) (all[j].positive ? tp : fp) += 1;
    fpr.push_back(float(fp / n));
    tpr.push_back(float(tp / p));
    i = j;
  }
  max_points = std::max<size_t>(max_points, 2);
  if (fpr.size() <= max_points) {
    roc.false_positive_rate = std::move(fpr);
    roc.true_positive_rate = std::move(tpr);
    return roc;
  }
  for (size_t k = 0; k < max_points; ++k) {
    const size_t i = k * (fpr.size() - 1) / (max_points - 1);
    roc.false_positive_rate.push_back(fpr[i]);
    roc.true_positive_rate.push_back(tpr[i]);
  }
  return roc;
}

namespace {

std::vector<int64_t> extremes(const std::vector<float>& scores, size_t count, bool highest) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  count = std::min(count, order.size());
  std::partial_sort(order.begin(), order.begin() + int64_t(count), order.end(), [&](int64_t a, int64_t b) {
    const float ka = key(scores[size_t(a)]), kb = key(scores[size_t(b)]);
    if (ka != kb) return highest ? ka > kb : ka < kb;
    return a < b;
  });
  order.resize(count);
  return order;
}

}  // namespace

std::vector<int64_t> lowest_scores(const std::vector<float>& scores, size_t count) { return extremes(scores, count, false); }
std::vector<int64_t> highest_scores(const std::vector<float>& scores, size_t count) { return extremes(scores, count, true); }

}  // namespace latent
