#include "ui/dataset_preview.h"

#include <algorithm>

namespace latent::ui {

std::vector<int64_t> preview_indices(const std::vector<int32_t>& labels, int64_t images, int classes, int count) {
  const int64_t n = std::max<int64_t>(images, 0);
  const int64_t want = std::min<int64_t>(std::max(count, 0), n);
  std::vector<int64_t> first(size_t(std::clamp(classes, 0, count > 0 ? count : 0)), -1);
  // One pass: the first image of each of the shown classes (a dataset of 1000 classes shows the first `count`).
  int64_t found = 0;
  for (int64_t i = 0; i < std::min<int64_t>(n, int64_t(labels.size())) && found < int64_t(first.size()); ++i) {
    const int32_t label = labels[size_t(i)];
    if (label >= 0 && size_t(label) < first.size() && first[size_t(label)] < 0) first[size_t(label)] = i, ++found;
  }
  std::vector<int64_t> out;
  out.reserve(size_t(want));
  for (int64_t i : first)
    if (i >= 0) out.push_back(i);
  std::vector<int64_t> taken = out;
  std::sort(taken.begin(), taken.end());
  for (int64_t i = 0; i < n && int64_t(out.size()) < want; ++i)
    if (!std::binary_search(taken.begin(), taken.end(), i)) out.push_back(i);
  return out;
}

}  // namespace latent::ui
