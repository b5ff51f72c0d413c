#include "bad_inputs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cmath>

#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/trainer.h"
#include "test_support.h"

namespace latent::test {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kSide = 28;
constexpr uint32_t kTestImages = 5;
const std::string kImages = "t10k-images-idx3-ubyte";
const std::string kLabels = "t10k-labels-idx1-ubyte";

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t((i * 37) % 256);
  return p;
}

std::vector<uint8_t> labels(uint32_t n) {
  std::vector<uint8_t> p(n);
  for (uint32_t i = 0; i < n; ++i) p[i] = uint8_t(i % 10);
  return p;
}

std::vector<uint8_t> file_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload, bool gzip) {
  std::string tmp = (fs::temp_directory_path() / ("latent-idx-" + std::to_string(::getpid()))).string();
  write_idx(tmp, dims, payload, gzip);
  auto bytes = read_bytes(tmp);
  fs::remove(tmp);
  return bytes;
}

struct DatasetCase {
  std::string label;
  std::string at_fault;  // the file the message must name, relative to the directory; "" = the directory
  std::string problem;
  std::function<void(const std::string& dir)> spoil;  // turns a valid directory into the bad one
};

const std::vector<std::pair<std::string, DatasetCase>>& dataset_cases() {
  const uint32_t n = kTestImages;
  static const std::vector<std::pair<std::string, DatasetCase>> cases = {
      {"wrong-magic", {"wrong magic", kImages, "wrong magic", [](const std::string& d) {
         std::vector<uint8_t> zip = {'P', 'K', 3, 4};
         zip.resize(200, 0);
         write_bytes(d + "/" + kImages, zip);
       }}},
      {"unsupported-type", {"unsupported type", kImages, "unsupported IDX type 0x0D (float32)", [n](const std::string& d) {
         write_idx(d + "/" + kImages, {n, kSide, kSide}, std::vector<uint8_t>(n * kSide * kSide * 4), false, 0x0D);
       }}},
      {"truncated", {"truncated", kImages, "truncated payload", [n](const std::string& d) {
         auto bytes = file_bytes({n, kSide, kSide}, pattern(n * kSide * kSide), false);
         bytes.resize(bytes.size() - 300);
         write_bytes(d + "/" + kImages, bytes);
       }}},
      {"counts-larger-raw", {"header counts larger than the file (raw)", kImages, "header says 784000000",
                             [](const std::string& d) {
                               write_idx(d + "/" + kImages, {1000000, kSide, kSide}, pattern(kSide * kSide));
                             }}},
      {"counts-larger-gzip", {"header counts larger than the file (gzip, trailer forged to agree)", kImages + ".gz",
                              "header counts larger than the file", [](const std::string& d) {
                                // 100 kB of noise: more than zlib reads at once, so only the
                                // stream's size, not zlib's own length check, can give it away.
                                std::mt19937 rng(7);
                                std::vector<uint8_t> noise(100000);
                                for (auto& b : noise) b = uint8_t(rng());
                                auto gz = file_bytes({1000000, kSide, kSide}, noise, true);
                                const uint32_t claimed = 16 + 1000000u * kSide * kSide;
                                for (size_t i = 0; i < 4; ++i) gz[gz.size() - 4 + i] = uint8_t(claimed >> (8 * i));
                                fs::remove(d + "/" + kImages);
                                write_bytes(d + "/" + kImages + ".gz", gz);
                              }}},
      {"zero-dim", {"zero dims", kImages, "dimension 0 is zero", [](const std::string& d) {
         write_idx(d + "/" + kImages, {0, kSide, kSide}, {});
       }}},
      {"absurd-dim", {"absurd dims", kImages, "dimension 2 is absurd (3000000)", [n](const std::string& d) {
         write_idx(d + "/" + kImages, {n, kSide, 3000000}, {});
       }}},
      {"count-mismatch", {"label/image count mismatch", kLabels, "4 labels for 5 images", [n](const std::string& d) {
         write_idx(d + "/" + kLabels, {n - 1}, labels(n - 1));
       }}},
      {"size-mismatch", {"train/test image size mismatch", "", "train images are 28x28 but test images are 28x27",
                         [n](const std::string& d) { write_idx(d + "/" + kImages, {n, kSide, 27}, pattern(n * kSide * 27)); }}},
      {"corrupt-gzip", {"corrupt gzip", kImages + ".gz", "corrupt gzip", [n](const std::string& d) {
         auto gz = file_bytes({n, kSide, kSide}, pattern(n * kSide * kSide), true);
         // The second half of the deflate stream garbled; its start (with the IDX header) is intact.
         for (size_t i = gz.size() / 2; i + 8 < gz.size(); ++i) gz[i] ^= 0xA5;
         fs::remove(d + "/" + kImages);
         write_bytes(d + "/" + kImages + ".gz", gz);
       }}},
      {"empty-file", {"empty file", kLabels, "file is empty", [](const std::string& d) { write_bytes(d + "/" + kLabels, {}); }}},
      {"missing-file", {"missing file", "", "missing t10k-labels-idx1-ubyte", [](const std::string& d) {
         fs::remove(d + "/" + kLabels);
       }}},
      // A FIFO would block the first read for ever; a file beside its own .gz is ambiguous.
      {"fifo", {"a FIFO instead of the file", kImages, "is a FIFO, not a regular file", [](const std::string& d) {
         fs::remove(d + "/" + kImages);
         if (::mkfifo((d + "/" + kImages).c_str(), 0644) != 0) ADD_FAILURE() << "mkfifo failed";
       }}},
      {"fifo-beside-gz", {"a FIFO beside the valid .gz", "", "both t10k-images-idx3-ubyte and t10k-images-idx3-ubyte.gz",
                          [n](const std::string& d) {
                            write_bytes(d + "/" + kImages + ".gz", file_bytes({n, kSide, kSide}, pattern(n * kSide * kSide), true));
                            fs::remove(d + "/" + kImages);
                            if (::mkfifo((d + "/" + kImages).c_str(), 0644) != 0) ADD_FAILURE() << "mkfifo failed";
                          }}},
      // 822 MB of test images claimed (2^20 of them, the most a dimension may say, with as many
      // labels), padded past the size check with a 640 kB gzip comment, with a trailer forged to agree:
      // a reader that allocates from the claim shows it in its peak memory. 200 kB of noise follow the
      // header, more than zlib reads at once, so the stream's end is not seen with the header.
      {"gzip-padded-claim", {"a gzip whose header claims 822 MB, padded to pass the size check", kImages + ".gz", "corrupt gzip",
                             [](const std::string& d) {
                               std::vector<uint8_t> idx = {0, 0, 8, 3, 0x00, 0x10, 0x00, 0x00, 0, 0, 0, kSide, 0, 0, 0, kSide};
                               std::mt19937 rng(11);
                               for (int i = 0; i < 200000; ++i) idx.push_back(uint8_t(rng()));
                               const uint32_t count = uint32_t(1) << 20, claimed = uint32_t(16 + uint64_t(count) * kSide * kSide);
                               fs::remove(d + "/" + kImages);
                               write_bytes(d + "/" + kImages + ".gz", gzip_with_comment(idx, size_t(640) << 10, claimed));
                               write_idx(d + "/" + kLabels, {count}, labels(count));
                             }}},
      {"raw-and-gz", {"the file and its .gz both", "", "both t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz",
                      [n](const std::string& d) { write_bytes(d + "/" + kLabels + ".gz", file_bytes({n}, labels(n), true)); }}},
  };
  return cases;
}

}  // namespace

const std::vector<std::string>& bad_dataset_cases() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, c] : dataset_cases()) out.push_back(name);
    for (const char* other : {"not-a-dataset", "plain-file", "no-such-directory"}) out.push_back(other);
    return out;
  }();
  return names;
}

BadInput make_bad_dataset(const std::string& dir, const std::string& name, int train_images) {
  fs::create_directories(dir);
  if (name == "not-a-dataset" || name == "plain-file") {
    const std::string notes = dir + "/not-a-dataset";
    fs::create_directories(notes);
    write_bytes(notes + "/notes.txt", {'h', 'i', '\n'});
    if (name == "plain-file") return {"a plain file", notes + "/notes.txt", notes + "/notes.txt", "is a file"};
    return {"a directory that is not a dataset", notes, notes, "no images (.png, .jpg, .jpeg, .bmp, .gif or .tga); 1 other files (.txt)"};
  }
  if (name == "no-such-directory") return {"no such directory", dir + "/nowhere", dir + "/nowhere", "no such file or directory"};
  for (const auto& [case_name, c] : dataset_cases()) {
    if (case_name != name) continue;
    const std::string d = dir + "/" + name;
    fs::create_directories(d);
    const uint32_t m = uint32_t(train_images);
    write_idx(d + "/train-images-idx3-ubyte", {m, kSide, kSide}, pattern(size_t(m) * kSide * kSide));
    write_idx(d + "/train-labels-idx1-ubyte", {m}, labels(m));
    write_idx(d + "/" + kImages, {kTestImages, kSide, kSide}, pattern(kTestImages * kSide * kSide));
    write_idx(d + "/" + kLabels, {kTestImages}, labels(kTestImages));
    c.spoil(d);
    return {c.label, d, c.at_fault.empty() ? d : d + "/" + c.at_fault, c.problem};
  }
  ADD_FAILURE() << "no bad dataset called " << name;
  return {};
}

std::string make_good_dataset(const std::string& dir) {
  const std::string d = dir + "/good28";
  fs::create_directories(d);
  write_dataset(d, 40, 10, kSide, kSide);
  return d;
}

namespace {

std::string save_checkpoint(const std::string& data_dir, int side, const std::string& path) {
  ModelConfig model;
  model.hidden = {16};
  model.image_height = model.image_width = side;
  TrainConfig train;
  train.batch_size = 10;
  Trainer trainer(Dataset::load(data_dir), model, train);
  trainer.step(2);
  if (std::string problem = trainer.save(path).get(); !problem.empty()) ADD_FAILURE() << problem;
  return path;
}

}  // namespace

std::string make_good_checkpoint(const std::string& dir) {
  fs::create_directories(dir);
  return save_checkpoint(make_good_dataset(dir), int(kSide), dir + "/good.ckpt");
}

const std::vector<std::string>& bad_checkpoint_cases() {
  static const std::vector<std::string> names = {"truncated",        "random-bytes",     "empty-file",      "directory",
                                                 "missing",          "other-architecture", "other-image-size", "fifo",
                                                 "huge-wrong-magic", "huge-right-header", "epoch-overflow",  "step-overflow",
                                                 "negative-adam-v",  "nan-weight"};
  return names;
}

BadInput make_bad_checkpoint(const std::string& dir, const std::string& name) {
  fs::create_directories(dir);
  const std::string path = dir + "/" + name + ".ckpt";
  if (name == "truncated") {
    auto bytes = read_bytes(make_good_checkpoint(dir));
    write_bytes(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(bytes.size() / 2)));
    return {"truncated", path, path, "truncated or corrupt"};
  }
  if (name == "random-bytes") {
    std::mt19937 rng(3);
    std::vector<uint8_t> noise(5000);
    for (auto& b : noise) b = uint8_t(rng());
    write_bytes(path, noise);
    return {"random bytes", path, path, "wrong magic"};
  }
  if (name == "empty-file") {
    write_bytes(path, {});
    return {"empty file", path, path, "too short"};
  }
  if (name == "directory") {
    fs::create_directories(path);
    return {"a directory", path, path, "not a regular file"};
  }
  if (name == "missing") return {"missing", path, path, "checkpoint not found"};
  if (name == "other-architecture") {
    // Metadata that describes another architecture than the weights hold (hidden 32 over weights for 16).
    Checkpoint c = read_checkpoint(make_good_checkpoint(dir));
    c.model.hidden = {32};
    write_checkpoint(path, c);
    return {"another architecture", path, path, "another architecture"};
  }
  if (name == "fifo") {
    if (::mkfifo(path.c_str(), 0644) != 0) ADD_FAILURE() << "mkfifo failed";
    return {"a FIFO", path, path, "is a FIFO, not a regular file"};
  }
  // 1.9 GB, sparse: a reader that takes the whole file before looking at its first bytes shows it in
  // its peak memory.
  if (name == "huge-wrong-magic" || name == "huge-right-header") {
    std::vector<uint8_t> head(64, 0);
    if (name == "huge-right-header") {
      const auto good = read_bytes(make_good_checkpoint(dir));
      head.assign(good.begin(), good.end() - 4);  // a whole valid start, then nothing but zeros
    }
    write_bytes(path, head);
    std::filesystem::resize_file(path, (int64_t(19) << 30) / 10);
    return {name == "huge-wrong-magic" ? "1.9 GB, wrong magic" : "1.9 GB behind a valid header", path, path,
            name == "huge-wrong-magic" ? "wrong magic" : "more than the"};
  }
  // Values a save of ours never writes, made by hand: counters past what a run reaches, an Adam
  // second moment below zero, a NaN weight.
  if (name == "epoch-overflow" || name == "step-overflow" || name == "negative-adam-v" || name == "nan-weight") {
    Checkpoint c = read_checkpoint(make_good_checkpoint(dir));
    std::string problem;
    if (name == "epoch-overflow") c.progress.epoch = INT32_MAX, problem = "epoch = 2147483647 is outside";
    if (name == "step-overflow") c.progress.step = INT64_MAX, problem = "step = 9223372036854775807 is outside";
    for (auto& a : c.arrays) {
      if (!problem.empty() || a.values.size() < 2) continue;
      if (name == "negative-adam-v" && a.name.rfind("adam.v.", 0) == 0) a.values[1] = -0.5f, problem = "negative value";
      if (name == "nan-weight" && a.name.rfind("vae.", 0) == 0) a.values[1] = NAN, problem = "non-finite values";
    }
    write_bytes(path, serialize_checkpoint(c));
    return {name, path, path, problem};
  }
  if (name == "other-image-size") {
    const std::string small = dir + "/small8";
    fs::create_directories(small);
    write_dataset(small, 20, 5, 8, 8);
    save_checkpoint(small, 8, path);
    return {"another image size", path, path, "the checkpoint is for 8x8 images"};
  }
  ADD_FAILURE() << "no bad checkpoint called " << name;
  return {};
}

}  // namespace latent::test
