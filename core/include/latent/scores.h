#pragma once
// Scoring images by how likely the model finds them, and telling two sets apart by that score:
// outliers, and the "does the model know what it does not know" test (an in-distribution test set
// against another dataset's).
#include <atomic>
#include <cstdint>
#include <vector>

#include "latent/arrays.h"

namespace latent {

class Vae;
class Dataset;

// Per image, in nats: −ELBO = recon + KL, with recon = −log p(x|z) at one z = μ + σ·ε (ε from the
// evaluation's seeded noise, as evaluate_test_set draws it, so the mean of `neg_elbo` is its loss)
// and KL in closed form or estimated as the model's prior allows.
struct ImageScores {
  std::vector<float> neg_elbo, recon, kl;
  std::vector<int32_t> labels;  // each image's class (kUnlabeled without labels)
  size_t size() const { return neg_elbo.size(); }
};
// The first `limit` test images (0 = all). Stops early, with fewer scores, when `stop` becomes true.
ImageScores score_test_set(const Vae& vae, const Dataset& data, int64_t limit = 0, uint64_t seed = 0,
                           const std::atomic<bool>* stop = nullptr);
ImageScores score_images(const Vae& vae, const ImageBatch& images, uint64_t seed = 0);
// −IW_K per image (a tighter score than −ELBO, K decoder passes per image).
std::vector<float> iw_scores(const Vae& vae, const ImageBatch& images, int samples, uint64_t seed = 0);

// The area under the ROC curve of a score that should be higher for `positives` than for
// `negatives`: the probability that a random positive scores above a random negative, ties
// counting one half. NaN when either set is empty.
double auroc(const std::vector<float>& negatives, const std::vector<float>& positives);

// The ROC curve: for every threshold t (each distinct score, from the highest down), the fraction
// of negatives (false positive rate) and of positives (true positive rate) scoring ≥ t, from (0, 0)
// to (1, 1). Thinned to at most `max_points` points (the corners kept).
struct RocCurve {
  std::vector<float> false_positive_rate, true_positive_rate;
};
RocCurve roc_curve(const std::vector<float>& negatives, const std::vector<float>& positives, size_t max_points = 512);

// The indices of the `count` lowest and highest scores, lowest first / highest first.
std::vector<int64_t> lowest_scores(const std::vector<float>& scores, size_t count);
std::vector<int64_t> highest_scores(const std::vector<float>& scores, size_t count);

}  // namespace latent
