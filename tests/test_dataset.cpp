// Loading a dataset directory: layout, scaling, and every inconsistency between its files.
#include <gtest/gtest.h>

#include <filesystem>

#include "latent/dataset.h"
#include "data/dataset_impl.h"
#include "latent/error.h"
#include "test_support.h"

namespace latent {
namespace {

using test::temp_dir;
using test::write_dataset;
using test::write_idx;

std::string error_loading(const std::string& spec) {
  try {
    Dataset::load(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Dataset, LoadsAnyImageSizeRawOrGzipScaledToUnitRange) {
  for (bool gzip : {false, true}) {
    std::string dir = temp_dir() + (gzip ? "/gz" : "/raw");
    std::filesystem::create_directories(dir);
    write_dataset(dir, 12, 5, 6, 9, gzip);
    Dataset d = Dataset::load(dir);
    EXPECT_EQ(d.train_size(), 12);
    EXPECT_EQ(d.test_size(), 5);
    EXPECT_EQ(d.height(), 6);
    EXPECT_EQ(d.width(), 9);
    EXPECT_EQ(d.name(), gzip ? "gz" : "raw");
    ImageBatch b = d.test_images({0, 4});
    ASSERT_EQ(b.pixels.size(), 2u * 54);
    // Pixel i of image 0 was (i·37) mod 256; of image 4, ((4·54 + i)·37) mod 256.
    EXPECT_FLOAT_EQ(b.pixels[1], 37.0f / 255.0f);
    EXPECT_FLOAT_EQ(b.pixels[54 + 2], float(((4 * 54 + 2) * 37) % 256) / 255.0f);
    EXPECT_EQ(d.test_labels()[4], 4);
  }
}

// Inside: the pixels stay bytes; the test split as floats is byte / 255, made once and shared; the
// pixel mean (the decoder's starting bias) is the mean of byte / 255, computed here in double.
TEST(Dataset, KeepsBytesAndGivesTheTestSplitAndPixelMeansAsUnitFloats) {
  std::string dir = temp_dir() + "/inside";
  std::filesystem::create_directories(dir);
  write_dataset(dir, 12, 5, 6, 9, false);
  Dataset d = Dataset::load(dir);
  const DatasetImpl& impl = d.impl();
  EXPECT_EQ(impl.train.scalar_type(), torch::kUInt8);
  EXPECT_EQ(impl.train.sizes(), (std::vector<int64_t>{12, 54}));

  const torch::Tensor& floats = impl.test_floats();
  ASSERT_EQ(floats.sizes(), (std::vector<int64_t>{5, 54}));
  for (int64_t i = 0; i < 5 * 54; ++i)
    ASSERT_EQ(floats.data_ptr<float>()[i], float((i * 37) % 256) / 255.0f) << "pixel " << i;
  EXPECT_EQ(impl.test_floats().data_ptr(), floats.data_ptr());  // made once

  torch::Tensor mean = unit_pixel_mean(impl.train);
  ASSERT_EQ(mean.numel(), 54);
  for (int64_t j = 0; j < 54; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < 12; ++i) sum += double(((i * 54 + j) * 37) % 256) / 255.0;
    EXPECT_NEAR(mean[j].item<float>(), sum / 12, 1e-6) << "pixel " << j;
  }
}

TEST(Dataset, ProbeGivesTheShapeFromTheHeadersAlone) {
  std::string dir = temp_dir() + "/shapes";
  std::filesystem::create_directories(dir);
  write_dataset(dir, 12, 5, 6, 9, true);
  DatasetShape shape = Dataset::probe(dir);
  EXPECT_EQ(shape.name, "shapes");
  EXPECT_EQ(shape.directory, dir);
  EXPECT_EQ(shape.height, 6);
  EXPECT_EQ(shape.width, 9);
  EXPECT_EQ(shape.train_size, 12);
  EXPECT_EQ(shape.test_size, 5);
  // A bad test file is found by the probe as by the load, with the same message.
  write_idx(dir + "/t10k-labels-idx1-ubyte.gz", {4}, std::vector<uint8_t>(4), true);
  std::string message;
  try {
    Dataset::probe(dir);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("4 labels for 5 images"), std::string::npos) << message;
  EXPECT_EQ(message, error_loading(dir));
}

TEST(Dataset, NamesTheMissingFile) {
  std::string dir = temp_dir();
  write_dataset(dir, 10, 5, 4, 4);
  std::filesystem::remove(dir + "/train-labels-idx1-ubyte");
  std::filesystem::remove(dir + "/t10k-images-idx3-ubyte");
  std::string message = error_loading(dir);
  EXPECT_NE(message.find("missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte"), std::string::npos) << message;
}

TEST(Dataset, RejectsLabelImageCountMismatch) {
  std::string dir = temp_dir();
  write_dataset(dir, 10, 5, 4, 4);
  write_idx(dir + "/train-labels-idx1-ubyte", {9}, std::vector<uint8_t>(9));
  std::string message = error_loading(dir);
  EXPECT_NE(message.find("9 labels for 10 images"), std::string::npos) << message;
}

TEST(Dataset, RejectsTrainTestSizeMismatch) {
  std::string dir = temp_dir();
  write_dataset(dir, 10, 5, 4, 4);
  write_idx(dir + "/t10k-images-idx3-ubyte", {5, 4, 5}, std::vector<uint8_t>(100));
  std::string message = error_loading(dir);
  EXPECT_NE(message.find("train images are 4x4 but test images are 4x5"), std::string::npos) << message;
}

TEST(Dataset, RejectsWrongRank) {
  std::string dir = temp_dir();
  write_dataset(dir, 10, 5, 4, 4);
  write_idx(dir + "/train-images-idx3-ubyte", {10, 16}, std::vector<uint8_t>(160));
  EXPECT_NE(error_loading(dir).find("expected 3 dimensions"), std::string::npos);
}

TEST(Dataset, RejectsMissingFilesAndNonDatasetDirectories) {
  std::string dir = temp_dir();
  EXPECT_NE(error_loading(dir).find("the folder is empty"), std::string::npos) << error_loading(dir);
  write_dataset(dir, 10, 5, 4, 4);
  std::filesystem::remove(dir + "/t10k-labels-idx1-ubyte");
  EXPECT_NE(error_loading(dir).find("not a complete IDX directory: missing t10k-labels-idx1-ubyte"), std::string::npos) << error_loading(dir);
  EXPECT_NE(error_loading(dir + "/missing").find("no such file or directory"), std::string::npos);
  EXPECT_NE(error_loading(dir + "/train-images-idx3-ubyte").find("is a file"), std::string::npos);
  EXPECT_NE(error_loading("").find("empty"), std::string::npos);
}

TEST(Dataset, CorruptMemberNamesTheFile) {
  std::string dir = temp_dir();
  write_dataset(dir, 10, 5, 4, 4);
  test::write_bytes(dir + "/t10k-images-idx3-ubyte", {0, 0, 8, 3, 0, 0, 0, 5});
  std::string message = error_loading(dir);
  EXPECT_NE(message.find("t10k-images-idx3-ubyte"), std::string::npos) << message;
}

TEST(Dataset, LoadsRealMnist) {
  Dataset d = Dataset::load(test::mnist_dir());
  EXPECT_EQ(d.train_size(), 60000);
  EXPECT_EQ(d.test_size(), 10000);
  EXPECT_EQ(d.height(), 28);
  EXPECT_EQ(d.test_labels()[0], 7);  // the first MNIST test digit is a 7
}

}  // namespace
}  // namespace latent
