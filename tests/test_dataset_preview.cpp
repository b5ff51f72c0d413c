// The Training panel's preview strip: one image per class first, then the earliest others.
#include <gtest/gtest.h>

#include <set>

#include "ui/dataset_preview.h"

namespace latent::ui {
namespace {

TEST(DatasetPreview, OneOfEachClassInClassOrderThenTheEarliestOthers) {
  // Labels as an ImageFolder gives them (sorted by class) would show only class 0; MNIST's order mixes them.
  const std::vector<int32_t> labels = {2, 2, 0, 1, 0, 2, 1};
  EXPECT_EQ(preview_indices(labels, int64_t(labels.size()), 3, 3), (std::vector<int64_t>{2, 3, 0}));
  EXPECT_EQ(preview_indices(labels, int64_t(labels.size()), 3, 5), (std::vector<int64_t>{2, 3, 0, 1, 4}));
  EXPECT_EQ(preview_indices(labels, int64_t(labels.size()), 3, 2), (std::vector<int64_t>{2, 3}));  // classes 0 and 1 only
  EXPECT_EQ(preview_indices(labels, int64_t(labels.size()), 3, 100).size(), labels.size());          // never more than there are
}

TEST(DatasetPreview, UnlabeledAndEdgeCases) {
  const std::vector<int32_t> unlabeled(10, -1);
  EXPECT_EQ(preview_indices(unlabeled, 10, 0, 4), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(preview_indices({}, 0, 0, 4).empty());
  EXPECT_TRUE(preview_indices(unlabeled, 10, 0, 0).empty());
  EXPECT_TRUE(preview_indices(unlabeled, 10, 0, -3).empty());
  // Labels missing altogether (or short) count as unlabeled.
  EXPECT_EQ(preview_indices({}, 5, 0, 3), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(preview_indices({1}, 3, 2, 3), (std::vector<int64_t>{0, 1, 2}));
  // A class with no training image is skipped, not shown as a gap.
  EXPECT_EQ(preview_indices({0, 0, 2}, 3, 3, 3), (std::vector<int64_t>{0, 2, 1}));
}

TEST(DatasetPreview, ManyClassesGiveDistinctIndicesOfDistinctClasses) {
  std::vector<int32_t> labels;
  for (int i = 0; i < 5000; ++i) labels.push_back((i * 37) % 1000);
  const auto shown = preview_indices(labels, int64_t(labels.size()), 1000, 16);
  ASSERT_EQ(shown.size(), 16u);
  std::set<int32_t> classes;
  for (size_t k = 0; k < shown.size(); ++k) {
    classes.insert(labels[size_t(shown[k])]);
    EXPECT_EQ(labels[size_t(shown[k])], int32_t(k)) << "slot " << k;
  }
  EXPECT_EQ(classes.size(), 16u);
}

}  // namespace
}  // namespace latent::ui
