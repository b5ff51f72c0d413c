#pragma once
// Which training images the Training panel's preview strip shows for a dataset: one of each class in
// class order (so the strip says what the classes look like), then more in file order to fill it;
// for unlabeled data, the first images.
#include <cstdint>
#include <vector>

namespace latent::ui {

// Up to `count` distinct indices of `images` images whose labels are `labels` (kUnlabeled = -1 for an
// unlabeled image; an image past the end of `labels` counts as unlabeled): the first image of class
// 0, of class 1, ... while classes and room last, then the earliest images not yet taken. In the
// order they are shown.
std::vector<int64_t> preview_indices(const std::vector<int32_t>& labels, int64_t images, int classes, int count);

}  // namespace latent::ui
