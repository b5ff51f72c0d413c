// The data layer: image folders, .npy files and the shapes set, each from files written here, with
// the pixels, labels and class names checked against what was written, and every bad input's message.
#include <gtest/gtest.h>
#include <stb_image.h>
#include <stb_image_write.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstring>
#include <filesystem>
#include <map>

#include "data/folder_walk.h"
#include "data/npy.h"
#include "data/pixels.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/image_io.h"
#include "test_support.h"

namespace latent {
namespace {

namespace fs = std::filesystem;
using test::temp_dir;
using test::write_bytes;
using test::write_npy;

// A w×h image of `channels` (1 or 3, interleaved) whose every pixel is `value` (per channel).
void write_image(const std::string& path, int w, int h, std::vector<uint8_t> value) {
  fs::create_directories(fs::path(path).parent_path());
  const int c = int(value.size());
  std::vector<uint8_t> pixels(size_t(w) * h * c);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = value[i % size_t(c)];
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  int ok = 0;
  if (ext == ".png") ok = stbi_write_png(path.c_str(), w, h, c, pixels.data(), w * c);
  else if (ext == ".jpg") ok = stbi_write_jpg(path.c_str(), w, h, c, pixels.data(), 95);
  else if (ext == ".bmp") ok = stbi_write_bmp(path.c_str(), w, h, c, pixels.data());
  else if (ext == ".tga") ok = stbi_write_tga(path.c_str(), w, h, c, pixels.data());
  ASSERT_TRUE(ok) << path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string load_error(const std::string& spec, const DataOptions& o = {}) {
  return error_of([&] { Dataset::load(spec, o); });
}

// The byte value of image i's pixel (c, y, x) as the model sees it, times 255.
double pixel(const ImageBatch& b, int64_t i, int c, int y, int x) {
  return b.image(i)[(size_t(c) * b.height + y) * b.width + x] * 255.0;
}

std::vector<int64_t> all(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i;
  return v;
}

TEST(ImageFolder, ClassSubfoldersGiveLabelsAndNames) {
  const std::string dir = temp_dir();
  // Three classes, each image's gray value saying its class: 40 per class, 10 per image index.
  const char* classes[] = {"cat", "dog", "zebra"};
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 10; ++i)
      write_image(dir + "/" + classes[k] + "/" + std::to_string(i) + ".png", 6, 4, {uint8_t(40 * k + 2 * i)});
  write_bytes(dir + "/README.txt", {'x'});
  write_bytes(dir + "/cat/notes.csv", {'x'});
  const DatasetShape shape = Dataset::probe(dir);
  const Dataset d = Dataset::load(dir);
  EXPECT_EQ(d.kind(), "image-folder");
  EXPECT_EQ(d.channels(), 1);
  EXPECT_EQ(d.height(), 4);
  EXPECT_EQ(d.width(), 6);
  EXPECT_EQ(d.train_size() + d.test_size(), 30);
  EXPECT_EQ(d.test_size(), 3) << "--test-split 0.1 by default";
  EXPECT_EQ(shape.train_size, d.train_size());
  EXPECT_EQ(shape.test_size, d.test_size());
  ASSERT_EQ(d.classes(), 3);
  EXPECT_EQ(d.class_names(), (std::vector<std::string>{"cat", "dog", "zebra"}));
  const ImageBatch train = d.train_images(all(d.train_size()));
  for (int64_t i = 0; i < d.train_size(); ++i) {
    const int label = d.train_labels()[size_t(i)];
    const double v = pixel(train, i, 0, 0, 0);
    EXPECT_EQ(int(v) / 40, label) << "image " << i << " value " << v;
  }
  // The split is the same every time.
  const Dataset again = Dataset::load(dir);
  EXPECT_EQ(again.test_labels(), d.test_labels());
  EXPECT_EQ(again.test_images(all(3)).pixels, d.test_images(all(3)).pixels);
}

TEST(ImageFolder, RgbImagesStayInColourAndAutoPicksRgb) {
  const std::string dir = temp_dir();
  for (int i = 0; i < 5; ++i) write_image(dir + "/a/" + std::to_string(i) + ".png", 4, 4, {200, 20, 90});
  for (int i = 0; i < 5; ++i) write_image(dir + "/b/" + std::to_string(i) + ".png", 4, 4, {70});  // gray files mix in
  const Dataset d = Dataset::load(dir);
  ASSERT_EQ(d.channels(), 3);
  const ImageBatch all_train = d.train_images(all(d.train_size()));
  bool saw_colour = false, saw_gray = false;
  for (int64_t i = 0; i < d.train_size(); ++i) {
    const double r = pixel(all_train, i, 0, 1, 1), g = pixel(all_train, i, 1, 1, 1), b = pixel(all_train, i, 2, 1, 1);
    if (d.train_labels()[size_t(i)] == 0) {
      EXPECT_NEAR(r, 200, 0.01);
      EXPECT_NEAR(g, 20, 0.01);
      EXPECT_NEAR(b, 90, 0.01);
      saw_colour = true;
    } else {
      EXPECT_NEAR(r, 70, 0.01);
      EXPECT_NEAR(g, 70, 0.01) << "gray repeated into RGB";
      saw_gray = true;
    }
  }
  EXPECT_TRUE(saw_colour && saw_gray);
  // --color gray: Rec. 601 luma of (200, 20, 90) is 0.299·200 + 0.587·20 + 0.114·90 = 82.0.
  DataOptions gray;
  gray.color = "gray";
  const Dataset g = Dataset::load(dir, gray);
  ASSERT_EQ(g.channels(), 1);
  const ImageBatch gb = g.train_images(all(g.train_size()));
  for (int64_t i = 0; i < g.train_size(); ++i)
    EXPECT_NEAR(pixel(gb, i, 0, 0, 0), g.train_labels()[size_t(i)] == 0 ? 82 : 70, 0.51);
}

TEST(ImageFolder, TrainAndTestFoldersGiveTheSplit) {
  const std::string dir = temp_dir();
  for (int i = 0; i < 4; ++i) write_image(dir + "/train/x/" + std::to_string(i) + ".png", 3, 3, {10});
  for (int i = 0; i < 3; ++i) write_image(dir + "/train/y/deeper/" + std::to_string(i) + ".bmp", 3, 3, {20});
  for (int i = 0; i < 2; ++i) write_image(dir + "/test/y/" + std::to_string(i) + ".tga", 3, 3, {20});
  write_image(dir + "/test/z/0.png", 3, 3, {30});  // a class only the test split has
  const Dataset d = Dataset::load(dir);
  EXPECT_EQ(d.train_size(), 7);
  EXPECT_EQ(d.test_size(), 3);
  EXPECT_EQ(d.class_names(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(d.test_labels(), (std::vector<int32_t>{1, 1, 2}));
  const ImageBatch t = d.test_images(all(3));
  EXPECT_NEAR(pixel(t, 2, 0, 0, 0), 30, 0.01);
}

TEST(ImageFolder, AFlatFolderIsUnlabeled) {
  const std::string dir = temp_dir();
  for (int i = 0; i < 20; ++i) write_image(dir + "/" + std::to_string(i) + ".jpg", 8, 8, {uint8_t(10 * i)});
  DataOptions o;
  o.test_split = 0.25;
  const Dataset d = Dataset::load(dir, o);
  EXPECT_FALSE(d.labeled());
  EXPECT_EQ(d.test_size(), 5);
  for (int32_t label : d.train_labels()) EXPECT_EQ(label, kUnlabeled);
  EXPECT_EQ(d.class_name(kUnlabeled), "unlabeled");
  // JPEG decodes close to what was written (it is lossy, but flat gray survives).
  std::vector<double> values;
  const ImageBatch b = d.train_images(all(d.train_size()));
  for (int64_t i = 0; i < d.train_size(); ++i) values.push_back(pixel(b, i, 0, 4, 4));
  for (double v : values) EXPECT_LT(std::abs(v - 10 * std::round(v / 10)), 2.5) << v;
}

TEST(ImageFolder, MixedSizesNameTwoFilesAndSizeResizesThem) {
  const std::string dir = temp_dir();
  write_image(dir + "/a.png", 4, 4, {100});
  write_image(dir + "/b.png", 8, 6, {100});
  write_image(dir + "/c.png", 4, 4, {100});
  const std::string message = load_error(dir);
  EXPECT_NE(message.find("a.png is 4x4 but"), std::string::npos) << message;
  EXPECT_NE(message.find("b.png is 8x6"), std::string::npos) << message;
  EXPECT_NE(message.find("--size"), std::string::npos) << message;
  DataOptions o;
  parse_image_size("2x2", &o.height, &o.width);
  const Dataset d = Dataset::load(dir, o);
  EXPECT_EQ(d.height(), 2);
  EXPECT_EQ(d.width(), 2);
  const ImageBatch b = d.train_images(all(d.train_size()));
  for (float v : b.pixels) EXPECT_NEAR(v * 255, 100, 0.01) << "area averaging keeps a flat image flat";
}

TEST(ImageFolder, AreaAveragingShrinksAndBilinearEnlarges) {
  // A 4×4 checkerboard of 0 and 200 shrinks to 2×2 of 100 each; 1×2 of 0 and 200 grows to 1×4 ramps.
  std::vector<uint8_t> board(16);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) board[size_t(y * 4 + x)] = (x + y) % 2 ? 200 : 0;
  uint8_t out[4];
  conform_image(PixelView::interleaved(board.data(), 1, 4, 4), 1, 2, 2, out);
  for (uint8_t v : out) EXPECT_EQ(v, 100);
  // Shrinking 3 → 2 weighs the middle sample half into each output: (0 + 0.5·90) / 1.5 = 30.
  const uint8_t row[3] = {0, 90, 180};
  uint8_t two[2];
  conform_image(PixelView::interleaved(row, 1, 1, 3), 1, 1, 2, two);
  EXPECT_EQ(two[0], 30);
  EXPECT_EQ(two[1], 150);
  const uint8_t pair[2] = {0, 200};
  uint8_t four[4];
  conform_image(PixelView::interleaved(pair, 1, 1, 2), 1, 1, 4, four);
  EXPECT_EQ(four[0], 0);
  EXPECT_EQ(four[1], 50);
  EXPECT_EQ(four[2], 150);
  EXPECT_EQ(four[3], 200);
  // Alpha composites over black.
  const uint8_t rgba[4] = {200, 100, 50, 128};
  uint8_t rgb[3];
  conform_image(PixelView::interleaved(rgba, 4, 1, 1), 3, 1, 1, rgb);
  EXPECT_EQ(rgb[0], 100);
  EXPECT_EQ(rgb[1], 50);
  EXPECT_EQ(rgb[2], 25);
}

TEST(ImageFolder, ACorruptImageNamesItsPathAndSkipBadCountsIt) {
  const std::string dir = temp_dir();
  for (int i = 0; i < 6; ++i) write_image(dir + "/" + std::to_string(i) + ".png", 4, 4, {50});
  write_bytes(dir + "/broken.png", {'n', 'o', 't', ' ', 'a', ' ', 'p', 'n', 'g'});
  std::string message = load_error(dir);
  EXPECT_NE(message.find("broken.png"), std::string::npos) << message;
  EXPECT_NE(message.find("--skip-bad"), std::string::npos) << message;
  DataOptions skip;
  skip.skip_bad = true;
  const Dataset d = Dataset::load(dir, skip);
  EXPECT_EQ(d.train_size() + d.test_size(), 6);
  // A PNG whose header reads but whose data is cut off fails only when decoded: the same rule.
  std::vector<uint8_t> whole = test::read_bytes(dir + "/0.png");
  fs::remove(dir + "/broken.png");
  whole.resize(whole.size() / 2);
  write_bytes(dir + "/truncated.png", whole);
  message = load_error(dir);
  EXPECT_NE(message.find("truncated.png"), std::string::npos) << message;
  EXPECT_EQ(Dataset::load(dir, skip).train_size() + Dataset::load(dir, skip).test_size(), 6);
}

// A PNG signature and an IHDR chunk declaring w×h, with a correct CRC, and nothing after it.
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {w, h})
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  for (uint8_t v : {8, 0, 0, 0, 0}) b.push_back(v);  // 8-bit gray, no interlace
  const uLong crc = crc32(0, b.data() + 12, 17);
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(crc >> s));
  return b;
}

TEST(ImageFolder, AHugeDeclaredImageIsRefusedBeforeDecoding) {
  const std::string dir = temp_dir();
  write_image(dir + "/ok.png", 4, 4, {1});
  write_image(dir + "/ok2.png", 4, 4, {1});
  write_bytes(dir + "/huge.png", png_header(30000, 30000));
  const std::string message = load_error(dir);
  EXPECT_NE(message.find("huge.png: declares 30000x30000 pixels"), std::string::npos) << message;
}

TEST(ImageFolder, EmptyFoldersNoImagesAndSymlinkLoopsAreClearErrors) {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/empty");
  EXPECT_NE(load_error(dir + "/empty").find("the folder is empty"), std::string::npos);
  fs::create_directories(dir + "/texts");
  write_bytes(dir + "/texts/a.txt", {'x'});
  write_bytes(dir + "/texts/b.json", {'x'});
  std::string message = load_error(dir + "/texts");
  EXPECT_NE(message.find("no images"), std::string::npos) << message;
  EXPECT_NE(message.find("2 other files (.txt .json)"), std::string::npos) << message;
  fs::create_directories(dir + "/classes/cat");
  fs::create_directories(dir + "/classes/dog");
  write_image(dir + "/classes/cat/0.png", 2, 2, {1});
  message = load_error(dir + "/classes");
  EXPECT_NE(message.find("classes/dog: a class folder with no images"), std::string::npos) << message;
  fs::create_directories(dir + "/loop/a/b");
  write_image(dir + "/loop/a/0.png", 2, 2, {1});
  fs::create_directory_symlink("../..", dir + "/loop/a/b/up");
  message = load_error(dir + "/loop");
  EXPECT_NE(message.find("symlink loop"), std::string::npos) << message;
  fs::create_directories(dir + "/self");
  fs::create_symlink("me", dir + "/self/me");
  write_image(dir + "/self/0.png", 2, 2, {1});
  message = load_error(dir + "/self");
  EXPECT_NE(message.find("symlink loop"), std::string::npos) << message;
}

TEST(ImageFolder, TheWalkerSortsAndSkipsHiddenFiles) {
  const std::string dir = temp_dir();
  write_image(dir + "/b/2.png", 2, 2, {1});
  write_image(dir + "/b/1.PNG", 2, 2, {1});
  write_image(dir + "/a/z.gif.png", 2, 2, {1});
  write_image(dir + "/.hidden/0.png", 2, 2, {1});
  write_bytes(dir + "/a/.DS_Store", {'x'});
  const FolderListing l = list_image_folder(dir);
  EXPECT_EQ(l.classes, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(l.train.size(), 3u);
  EXPECT_EQ(fs::path(l.train[1].path).filename(), "1.PNG");
  EXPECT_EQ(l.train[1].label, 1);
  EXPECT_EQ(l.ignored, 0);
}

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v, bool big_endian = false) {
  std::vector<uint8_t> b(static_cast<size_t>(v.size() * sizeof(T)));
  std::memcpy(b.data(), v.data(), b.size());
  if (big_endian)
    for (size_t i = 0; i < b.size(); i += sizeof(T)) std::reverse(b.begin() + long(i), b.begin() + long(i + sizeof(T)));
  return b;
}

TEST(Npy, EveryDtypeAndLayoutGivesTheSameImages) {
  const std::string dir = temp_dir();
  // 10 images of 2×4, pixel (y, x) of image n = 8n + 3y + x (as bytes), gray, and an RGB version
  // whose channel c adds 80c.
  const int n = 10, h = 2, w = 4;
  auto value = [](int i, int c, int y, int x) { return 8 * i + 3 * y + x + 80 * c; };
  std::vector<uint8_t> u8;
  std::vector<float> f4_nhwc;
  std::vector<double> f8_nchw, f8_fortran(size_t(n) * 3 * h * w);
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        u8.push_back(uint8_t(value(i, 0, y, x)));
        for (int c = 0; c < 3; ++c) f4_nhwc.push_back(float(value(i, c, y, x) / 255.0));
      }
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          f8_nchw.push_back(value(i, c, y, x) / 255.0);
          f8_fortran[size_t(i + n * (c + 3 * (y + h * x)))] = value(i, c, y, x) / 255.0;  // first index fastest
        }
  write_npy(dir + "/u8.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 2, 4), }", u8);
  write_npy(dir + "/f4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 2, 4, 3), }", bytes_of(f4_nhwc));
  write_npy(dir + "/f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (10, 3, 2, 4), }", bytes_of(f8_nchw), 2);
  write_npy(dir + "/fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (10, 3, 2, 4), }", bytes_of(f8_fortran));
  write_npy(dir + "/big.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (10, 3, 2, 4), }", bytes_of(f8_nchw, true));
  std::vector<int64_t> labels;
  for (int i = 0; i < n; ++i) labels.push_back(i % 4 == 3 ? 12 : i % 4);
  write_npy(dir + "/labels.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }", bytes_of(labels));
  for (const char* name : {"u8", "f4", "f8", "fortran", "big"}) {
    SCOPED_TRACE(name);
    DataOptions o;
    o.labels = dir + "/labels.npy";
    o.test_split = 0.2;
    const Dataset d = Dataset::load(dir + "/" + name + ".npy", o);
    EXPECT_EQ(d.kind(), "npy");
    EXPECT_EQ(d.name(), name);
    ASSERT_EQ(d.channels(), std::string(name) == "u8" ? 1 : 3);
    ASSERT_EQ(d.height(), h);
    ASSERT_EQ(d.width(), w);
    EXPECT_EQ(d.train_size(), 8);
    EXPECT_EQ(d.test_size(), 2);
    EXPECT_EQ(d.classes(), 13) << "labels up to 12: 13 classes, 12 not taken modulo 10";
    EXPECT_EQ(d.class_name(12), "12");
    // Which image each row is: its (0, 0, 0) pixel is 8n.
    const ImageBatch b = d.train_images(all(8));
    for (int64_t r = 0; r < 8; ++r) {
      const int i = int(std::lround(pixel(b, r, 0, 0, 0))) / 8;
      EXPECT_EQ(d.train_labels()[size_t(r)], labels[size_t(i)]);
      for (int c = 0; c < d.channels(); ++c)
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) EXPECT_NEAR(pixel(b, r, c, y, x), value(i, c, y, x), 0.51) << r << " " << c << y << x;
    }
  }
}

TEST(Npy, EveryMalformedFileNamesTheProblem) {
  const std::string dir = temp_dir();
  const std::vector<uint8_t> payload(200, 7);
  auto npy_error = [&](const std::string& dict, const std::vector<uint8_t>& body, DataOptions o = {}) {
    write_npy(dir + "/x.npy", dict, body);
    return load_error(dir + "/x.npy", o);
  };
  const std::map<std::string, std::string> cases = {
      {"{'descr': '|O', 'fortran_order': False, 'shape': (10, 2, 2), }", "Python objects"},
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (10, 2, 2), }", "strings"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (10, 2, 2), }", "structured"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (10, 2, 2), }", "unsupported dtype '<i4' for images"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (10, 2, 2), }", "half precision"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (10, 4), }", "has 2 dimensions"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2, 5), }", "no channel dimension"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (0, 2, 2), }", "holds no images"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (100, 2, 2), }", "truncated"},
      {"{'descr': '|u1', 'fortran_order': Maybe, 'shape': (10, 2, 2), }", "fortran_order must be True or False"},
      {"{'descr': '|u1', 'shape': (10, 2, 2), }", "needs 'descr', 'fortran_order' and 'shape'"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (10, -2, 2), }", "non-negative integers"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (99999999, 99999999, 99999999), }", "more than"},
      {"not a dict", "bad .npy header"},
  };
  for (const auto& [dict, expected] : cases) {
    const std::string message = npy_error(dict, payload);
    EXPECT_NE(message.find(expected), std::string::npos) << dict << "\n  " << message;
    EXPECT_NE(message.find("x.npy"), std::string::npos) << message;
  }
  // Floats outside [0, 1]: the range found.
  const std::vector<float> floats = {0.5f, 3.25f, -0.5f, 0.1f, 0, 0, 0, 0};
  std::string message = npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", bytes_of(floats));
  EXPECT_NE(message.find("range from -0.5 to 3.25"), std::string::npos) << message;
  // Bad magic; an empty file; a version we do not know.
  write_bytes(dir + "/magic.npy", {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_NE(load_error(dir + "/magic.npy").find("not a .npy file"), std::string::npos);
  write_bytes(dir + "/empty.npy", {});
  EXPECT_NE(load_error(dir + "/empty.npy").find("empty"), std::string::npos);
  write_bytes(dir + "/v9.npy", {0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0});
  EXPECT_NE(load_error(dir + "/v9.npy").find("unsupported .npy version 9"), std::string::npos);
  // Labels of another length, float labels, negative labels, and labels for data that has its own.
  write_npy(dir + "/images.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 2, 2), }", std::vector<uint8_t>(40, 7));
  write_npy(dir + "/short.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (9,), }", bytes_of(std::vector<int64_t>(9, 1)));
  DataOptions o;
  o.labels = dir + "/short.npy";
  message = load_error(dir + "/images.npy", o);
  EXPECT_NE(message.find("9 labels for the 10 images"), std::string::npos) << message;
  write_npy(dir + "/neg.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (10,), }", bytes_of(std::vector<int32_t>(10, -3)));
  o.labels = dir + "/neg.npy";
  message = load_error(dir + "/images.npy", o);
  EXPECT_NE(message.find("label 0 is -3"), std::string::npos) << message;
  write_npy(dir + "/frac.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }", bytes_of(std::vector<double>(10, 1.5)));
  o.labels = dir + "/frac.npy";
  EXPECT_NE(load_error(dir + "/images.npy", o).find("whole numbers"), std::string::npos);
  o.labels = dir + "/short.npy";
  message = load_error("shapes", o);
  EXPECT_NE(message.find("labels files go with .npy images"), std::string::npos) << message;
}

TEST(Npy, TheHeaderParserTakesWhatNumpyWrites) {
  // Python 2's long literals, double quotes, keys in any order, no trailing comma, a 1-tuple.
  const std::string dict = "{\"shape\": (3L, 4L), \"fortran_order\": False, \"descr\": \"<u2\"}";
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(dict.size()), 0};
  b.insert(b.end(), dict.begin(), dict.end());
  const NpyHeader h = parse_npy_header(b.data(), b.size(), "t");
  EXPECT_EQ(h.shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(h.item_bytes, 2);
  EXPECT_EQ(h.payload_bytes, 24);
  EXPECT_EQ(h.header_bytes, int64_t(b.size()));
}

TEST(Shapes, TheFactorsMatchTheImages) {
  DataOptions o;
  o.height = o.width = 32;
  const Dataset d = Dataset::load("shapes", o);
  EXPECT_EQ(d.kind(), "shapes");
  ASSERT_EQ(d.channels(), 3);
  EXPECT_EQ(d.train_size() + d.test_size(), 20000);
  EXPECT_EQ(d.class_names(), (std::vector<std::string>{"square", "ellipse", "heart"}));
  const auto& factors = d.factors();
  ASSERT_EQ(factors.size(), 6u);
  EXPECT_EQ(factors[5].name, "hue");
  const size_t nf = factors.size();
  ASSERT_EQ(d.test_factors().size(), size_t(d.test_size()) * nf);
  const int64_t n = 300;
  const ImageBatch b = d.test_images(all(n));
  std::map<int, std::vector<double>> mass_by_scale;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t* f = d.test_factors().data() + size_t(i) * nf;
    EXPECT_EQ(d.test_labels()[size_t(i)], f[0]) << "the class is the shape";
    // The centre of mass sits where the x and y factors put the sprite: 0.2 + 0.6·value of the side.
    double mass = 0, mx = 0, my = 0, channel[3] = {0, 0, 0};
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        double v = 0;
        for (int c = 0; c < 3; ++c) v = std::max(v, pixel(b, i, c, y, x)), channel[c] += pixel(b, i, c, y, x);
        mass += v, mx += v * (x + 0.5), my += v * (y + 0.5);
      }
    ASSERT_GT(mass, 0) << "image " << i << " is blank";
    const double want_x = (0.2 + 0.6 * factors[3].values[size_t(f[3])]) * 32, want_y = (0.2 + 0.6 * factors[4].values[size_t(f[4])]) * 32;
    if (f[0] != 2) {  // the heart's centre of mass is off its centre
      EXPECT_NEAR(mx / mass, want_x, 0.6) << "image " << i;
      EXPECT_NEAR(my / mass, want_y, 0.6) << "image " << i;
    }
    mass_by_scale[f[1]].push_back(mass);
    // Hue 0 is red, 1/3 green, 2/3 blue: the strongest channel follows the hue's sector.
    const double hue = factors[5].values[size_t(f[5])];
    if (hue == 0 || std::abs(hue - 0.375) < 1e-9 || std::abs(hue - 0.75) < 1e-9) {
      const int want = hue == 0 ? 0 : hue < 0.5 ? 1 : 2;
      EXPECT_EQ(int(std::max_element(channel, channel + 3) - channel), want) << "image " << i << " hue " << hue;
    }
  }
  // Larger scale, more ink: the mean mass grows with the scale factor.
  double previous = 0;
  for (const auto& [scale, masses] : mass_by_scale) {
    double mean = 0;
    for (double m : masses) mean += m / double(masses.size());
    EXPECT_GT(mean, previous) << "scale " << scale;
    previous = mean;
  }
  // The same set every time; gray without the hue factor.
  EXPECT_EQ(Dataset::load("shapes", o).test_images({0, 1}).pixels, d.test_images({0, 1}).pixels);
  o.color = "gray";
  const Dataset g = Dataset::load("shapes", o);
  EXPECT_EQ(g.channels(), 1);
  EXPECT_EQ(g.factors().size(), 5u);
}

TEST(Idx, OptionsApplyToIdxDataToo) {
  const std::string dir = temp_dir();
  test::write_dataset(dir, 10, 5, 4, 4);
  test::write_idx(dir + "/train-labels-idx1-ubyte", {10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 14});
  DataOptions o;
  o.color = "rgb";
  o.height = o.width = 2;
  const Dataset d = Dataset::load(dir, o);
  EXPECT_EQ(d.channels(), 3);
  EXPECT_EQ(d.height(), 2);
  EXPECT_EQ(d.classes(), 15) << "label 14 is its own class, not 4";
  EXPECT_EQ(d.class_name(14), "14");
  const ImageBatch b = d.train_images({0});
  EXPECT_EQ(b.pixels.size(), 12u);
  EXPECT_FLOAT_EQ(b.pixels[0], b.pixels[4]) << "gray repeated into each channel";
  const Dataset plain = Dataset::load(dir);
  EXPECT_EQ(plain.channels(), 1);
  EXPECT_EQ(plain.kind(), "idx");
}

TEST(DataOptions, BadValuesNameTheFlag) {
  int h = 0, w = 0;
  EXPECT_NE(error_of([&] { parse_image_size("32x", &h, &w); }).find("--size"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_image_size("0x5", &h, &w); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_image_size("abc", &h, &w); }).find("not HxW"), std::string::npos);
  parse_image_size("28", &h, &w);
  EXPECT_EQ(h, 28);
  EXPECT_EQ(w, 28);
  DataOptions o;
  o.test_split = 0.9;
  EXPECT_NE(validate(o).find("--test-split"), std::string::npos);
  o.test_split = 0.1;
  o.color = "cmyk";
  EXPECT_NE(validate(o).find("--color"), std::string::npos);
  EXPECT_NE(load_error("shapes", o).find("--color"), std::string::npos);
}

TEST(Pictures, ColourPngsAreInColour) {
  const std::string dir = temp_dir();
  ImageBatch b;
  b.count = 2, b.channels = 3, b.height = 2, b.width = 2;
  b.pixels.assign(24, 0.0f);
  for (int i = 0; i < 4; ++i) b.pixels[size_t(i)] = 1.0f;       // image 0 red
  for (int i = 0; i < 4; ++i) b.pixels[size_t(12 + 8 + i)] = 1.0f;  // image 1 blue
  const Picture p = upscale(stack_rows({tile_images(b, 1, 2, 1, 0.0f)}), 2);
  EXPECT_EQ(p.channels, 3);
  write_png(dir + "/c.png", p);
  int w = 0, h = 0, c = 0;
  ASSERT_TRUE(stbi_info((dir + "/c.png").c_str(), &w, &h, &c));
  EXPECT_EQ(c, 3);
  // Image 0's cell starts at (1, 1) before the ×2: red; image 1's at (4, 1): blue.
  EXPECT_FLOAT_EQ(p.at(0, 2, 2), 1.0f);
  EXPECT_FLOAT_EQ(p.at(2, 2, 2), 0.0f);
  EXPECT_FLOAT_EQ(p.at(2, 2, 8), 1.0f);
  EXPECT_FLOAT_EQ(p.at(0, 2, 8), 0.0f);
}

}  // namespace
}  // namespace latent
