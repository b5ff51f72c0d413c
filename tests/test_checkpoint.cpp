// Checkpoint files: round trip, rejection of damaged files, and atomic saves under SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <climits>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "test_support.h"

extern char** environ;

namespace latent {
namespace {

using test::read_bytes;
using test::temp_dir;
using test::write_bytes;

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.model.latent_dim = 3;
  c.model.hidden = {7, 5};
  c.model.channels = {3, 8, 5};
  c.model.dense = {9, 4};
  c.model.activation = Activation::Relu;
  c.model.likelihood = ReconstructionLikelihood::Gaussian;
  c.model.gaussian_sigma = 0.25;
  c.train.learning_rate = 3e-4;
  c.train.beta = 2.5;
  c.train.seed = 42;
  c.dataset = "fashion-mnist";
  c.progress = {1234, 3, 640};
  c.arrays.push_back({"vae.w", {2, 3}, {1, 2, 3, 4, 5, 6}});
  c.arrays.push_back({"adam.m.w", {2, 3}, {-1, -2, -3, -4, -5, -6.5f}});
  return c;
}

std::string error_reading(const std::string& path) {
  try {
    read_checkpoint(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Checkpoint, RoundTripsEverything) {
  std::string path = temp_dir() + "/a.ckpt";
  Checkpoint c = sample_checkpoint();
  write_checkpoint(path, c);
  Checkpoint r = read_checkpoint(path);
  EXPECT_EQ(r.model, c.model);
  EXPECT_DOUBLE_EQ(r.train.learning_rate, 3e-4);
  EXPECT_DOUBLE_EQ(r.train.beta, 2.5);
  EXPECT_EQ(r.train.seed, 42u);
  EXPECT_EQ(r.dataset, "fashion-mnist");
  EXPECT_EQ(r.progress.step, 1234);
  EXPECT_EQ(r.progress.epoch, 3);
  EXPECT_EQ(r.progress.epoch_offset, 640);
  ASSERT_EQ(r.arrays.size(), 2u);
  EXPECT_EQ(r.arrays[1].name, "adam.m.w");
  EXPECT_EQ(r.arrays[1].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.arrays[1].values, c.arrays[1].values);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(entry.path().filename(), "a.ckpt") << "left behind: " << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(Checkpoint, RefusesToSaveNonFiniteValuesAndKeepsTheOldFile) {
  std::string path = temp_dir() + "/a.ckpt";
  Checkpoint c = sample_checkpoint();
  write_checkpoint(path, c);
  const auto before = read_bytes(path);
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    Checkpoint broken = c;
    broken.arrays[1].values[3] = bad;
    try {
      write_checkpoint(path, broken);
      ADD_FAILURE() << "saved " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'adam.m.w' holds non-finite values"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_bytes(path), before);
  }
}

// What the reader refuses is never written: counters past what a run reaches, and a negative Adam
// second moment, like a NaN.
TEST(Checkpoint, RefusesToSaveWhatItWouldNotLoad) {
  const std::string path = temp_dir() + "/a.ckpt";
  const Checkpoint c = sample_checkpoint();
  write_checkpoint(path, c);
  const auto before = read_bytes(path);
  std::vector<std::pair<Checkpoint, std::string>> cases;
  cases.push_back({c, "step = 9223372036854775807 is outside"});
  cases.back().first.progress.step = INT64_MAX;
  cases.push_back({c, "epoch = 2147483647 is outside"});
  cases.back().first.progress.epoch = INT32_MAX;
  cases.push_back({c, "'adam.v.w' (Adam's second moment) holds a negative value"});
  cases.back().first.arrays.push_back({"adam.v.w", {2, 3}, {1, 2, -3, 4, 5, 6}});
  for (const auto& [bad, problem] : cases) {
    try {
      write_checkpoint(path, bad);
      ADD_FAILURE() << "saved: " << problem;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not saved"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_bytes(path), before);
    // And made by hand, the reader refuses it.
    const auto bytes = serialize_checkpoint(bad);
    EXPECT_THROW(parse_checkpoint(bytes.data(), bytes.size(), "hand-made"), Error) << problem;
  }
}

// A save killed half-way leaves "<path>.tmp-<pid>-<n>"; the next save removes those of processes
// that are gone, and leaves a live writer's alone.
TEST(Checkpoint, TheNextSaveRemovesTemporariesOfDeadProcesses) {
  const std::string dir = temp_dir();
  const std::string dead = dir + "/a.ckpt.tmp-999999999-0", live = dir + "/a.ckpt.tmp-" + std::to_string(::getppid()) + "-3",
                    other = dir + "/b.ckpt.tmp-999999999-0";
  for (const auto& p : {dead, live, other}) write_bytes(p, std::vector<uint8_t>(1000, 1));
  write_checkpoint(dir + "/a.ckpt", sample_checkpoint());
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(other)) << "another file's temporaries are not this save's to judge";
  EXPECT_NO_THROW(read_checkpoint(dir + "/a.ckpt"));
}

// parameter_count is what a checkpoint is checked against before its model is built: it must count
// exactly the weights the model has.
TEST(Checkpoint, ParameterCountIsTheModelsWeights) {
  std::string dir = temp_dir();
  test::write_dataset(dir, 20, 5, 6, 9);
  Dataset data = Dataset::load(dir);
  for (bool learned_sigma : {false, true}) {
    ModelConfig m;
    m.image_height = 6;
    m.image_width = 9;
    m.latent_dim = 3;
    m.hidden = {7, 5};
    m.likelihood = ReconstructionLikelihood::Gaussian;
    m.learn_sigma = learned_sigma;
    Trainer trainer(data, m, TrainConfig{});
    ASSERT_EQ(trainer.save(dir + "/p.ckpt").get(), "");
    int64_t weights = 0;
    for (const auto& a : read_checkpoint(dir + "/p.ckpt").arrays)
      if (a.name.rfind("vae.", 0) == 0) weights += int64_t(a.values.size());
    // By hand: 54·7+7 + 7·5+5 + 2·(5·3+3) + 3·5+5 + 5·7+7 + 7·54+54 (+ σ).
    EXPECT_EQ(weights, 385 + 40 + 36 + 20 + 42 + 432 + (learned_sigma ? 1 : 0));
    EXPECT_EQ(parameter_count(m), weights);
  }
}

TEST(Checkpoint, RejectsEveryTruncation) {
  std::string dir = temp_dir();
  auto bytes = serialize_checkpoint(sample_checkpoint());
  for (size_t keep = 0; keep < bytes.size(); keep += 7) {
    write_bytes(dir + "/t.ckpt", std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(keep)));
    std::string message = error_reading(dir + "/t.ckpt");
    EXPECT_TRUE(message.find("too short") != std::string::npos || message.find("truncated or corrupt") != std::string::npos)
        << "keeping " << keep << " bytes: " << message;
  }
}

TEST(Checkpoint, RejectsFlippedBitsRandomBytesAndMissingFiles) {
  std::string dir = temp_dir();
  auto bytes = serialize_checkpoint(sample_checkpoint());
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    auto copy = bytes;
    copy[rng() % copy.size()] ^= uint8_t(1u << (rng() % 8));
    write_bytes(dir + "/f.ckpt", copy);
    EXPECT_NE(error_reading(dir + "/f.ckpt"), "(no error)") << "trial " << trial;
  }
  std::vector<uint8_t> noise(5000);
  for (auto& b : noise) b = uint8_t(rng());
  write_bytes(dir + "/noise.ckpt", noise);
  EXPECT_NE(error_reading(dir + "/noise.ckpt").find("wrong magic"), std::string::npos);
  EXPECT_NE(error_reading(dir + "/none.ckpt").find("not found"), std::string::npos);
  EXPECT_NE(error_reading(dir).find("not a regular file"), std::string::npos);
}

// Damage inside the metadata is reported as damage (the CRC), not as a missing or odd key, and a
// real metadata problem names the file once.
TEST(Checkpoint, DamagedMetadataIsReportedAsCorruptNotAsAMissingKey) {
  const std::string dir = temp_dir();
  const auto bytes = serialize_checkpoint(sample_checkpoint());
  constexpr size_t kMetadataStart = 8 + 4 + 8;
  for (size_t at : {kMetadataStart, kMetadataStart + 1, kMetadataStart + 14}) {
    auto copy = bytes;
    copy[at] ^= 0x20;
    write_bytes(dir + "/f.ckpt", copy);
    const std::string message = error_reading(dir + "/f.ckpt");
    EXPECT_NE(message.find("truncated or corrupt (CRC mismatch)"), std::string::npos) << "byte " << at << ": " << message;
  }
  // A file whose CRC is right but whose metadata lacks a key.
  uint64_t meta_len = 0;
  std::memcpy(&meta_len, bytes.data() + 12, 8);
  std::string meta(reinterpret_cast<const char*>(bytes.data() + kMetadataStart), size_t(meta_len));
  const size_t key = meta.find("seed=");
  ASSERT_NE(key, std::string::npos);
  meta.replace(key, 4, "sown");
  std::vector<uint8_t> edited(bytes.begin(), bytes.end() - 4);
  std::copy(meta.begin(), meta.end(), edited.begin() + long(kMetadataStart));
  const uint32_t crc = uint32_t(crc32(0L, edited.data(), uInt(edited.size())));
  edited.insert(edited.end(), reinterpret_cast<const uint8_t*>(&crc), reinterpret_cast<const uint8_t*>(&crc) + 4);
  write_bytes(dir + "/g.ckpt", edited);
  EXPECT_EQ(error_reading(dir + "/g.ckpt"), dir + "/g.ckpt: bad checkpoint metadata: it lacks 'seed'");
}

TEST(Checkpoint, RejectsAnotherArchitectureWhenBuildingTheModel) {
  Checkpoint c;
  c.model.latent_dim = 2;
  c.model.hidden = {8};
  c.model.image_height = c.model.image_width = 4;
  c.arrays.push_back({"vae.encoder.body.0.weight", {8, 99}, std::vector<float>(8 * 99)});
  try {
    Vae::from_checkpoint(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another architecture"), std::string::npos) << e.what();
  }
}

// A process saving in a loop is killed at random moments; the file on disk must always load and be
// one of the complete versions.
TEST(Checkpoint, KilledSaveLeavesAValidFile) {
  std::string dir = temp_dir();
  std::string path = dir + "/loop.ckpt";
  std::mt19937 rng(11);
  int64_t last_step = 0;
  for (int round = 0; round < 12; ++round) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string bin = LATENT_SAVE_LOOP_BIN;
    char* argv[] = {bin.data(), path.data(), nullptr};
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    char ready[6] = {};
    ASSERT_EQ(read(out[0], ready, 5), 5);  // first save done
    close(out[0]);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    Checkpoint c = read_checkpoint(path);  // throws (fails the test) if the kill left a broken file
    ASSERT_EQ(c.arrays.size(), 1u);
    const float v = c.arrays[0].values.front();
    EXPECT_EQ(c.arrays[0].values.back(), v);
    EXPECT_EQ(int64_t(v), c.progress.step);
    EXPECT_GE(c.progress.step, 1);
    last_step = c.progress.step;
  }
  EXPECT_GE(last_step, 1);
}

// Regressions from fuzzing (tests/fuzz/fuzz_checkpoint, run by scripts/check-robustness).

// The first finding: an array with a zero dimension made the loader memcpy into an empty vector's
// null data(), undefined behaviour that UBSan reports (the input is tests/fuzz/regressions/checkpoint).
// A reader while saves replace the file (as the app loads a checkpoint another trainer is saving):
// every read gets one whole version. Reading the size of the path and then opening it read a newer,
// larger file with the older size (TrainerStress under ThreadSanitizer: "CRC mismatch").
TEST(Checkpoint, AReadDuringSavesGetsOneWholeVersion) {
  const std::string dir = temp_dir(), path = dir + "/live.ckpt";
  Checkpoint small = sample_checkpoint(), large = sample_checkpoint();
  large.arrays.push_back({"extra", {64, 64}, std::vector<float>(64 * 64, 0.5f)});
  write_checkpoint(dir + "/small.ckpt", small);
  write_checkpoint(dir + "/large.ckpt", large);
  ASSERT_NE(std::filesystem::file_size(dir + "/small.ckpt"), std::filesystem::file_size(dir + "/large.ckpt"));
  std::filesystem::copy_file(dir + "/small.ckpt", path);
  std::atomic<bool> done{false};
  // Renames of whole files over the path, as write_checkpoint's last step does, thousands a second.
  std::thread saver([&] {
    for (int i = 0; i < 20000; ++i) {
      const std::string tmp = path + ".tmp";
      std::filesystem::create_hard_link(dir + (i % 2 ? "/small.ckpt" : "/large.ckpt"), tmp);
      std::filesystem::rename(tmp, path);
    }
    done = true;
  });
  int reads = 0, failures = 0;
  std::string first_failure;
  while (!done) {
    try {
      const Checkpoint c = read_checkpoint(path);
      EXPECT_TRUE(c.arrays.size() == small.arrays.size() || c.arrays.size() == large.arrays.size());
    } catch (const Error& e) {
      if (failures++ == 0) first_failure = e.what();
    }
    ++reads;
  }
  saver.join();
  EXPECT_EQ(failures, 0) << "of " << reads << " reads; first: " << first_failure;
  EXPECT_GT(reads, 10);
}

TEST(Checkpoint, RoundTripsAnArrayWithAZeroDimension) {
  Checkpoint c = sample_checkpoint();
  c.arrays.push_back({"vae.empty", {0, 3}, {}});
  auto bytes = serialize_checkpoint(c);
  Checkpoint r = parse_checkpoint(bytes.data(), bytes.size(), "mem");
  ASSERT_EQ(r.arrays.size(), 3u);
  EXPECT_EQ(r.arrays[2].shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(r.arrays[2].values.empty());
}

// The checkpoint's bytes with one metadata line replaced, lengths and CRC made right again.
std::vector<uint8_t> with_metadata_line(const Checkpoint& c, const std::string& from, const std::string& to) {
  auto bytes = serialize_checkpoint(c);
  uint64_t meta_len = 0;
  std::memcpy(&meta_len, bytes.data() + 12, 8);
  std::string meta(bytes.begin() + 20, bytes.begin() + 20 + long(meta_len));
  size_t at = ("\n" + meta).find("\n" + from + "\n");  // where the line starts in meta
  EXPECT_NE(at, std::string::npos) << from;
  meta.replace(at, from.size(), to);
  std::vector<uint8_t> out(bytes.begin(), bytes.begin() + 12);
  uint64_t new_len = meta.size();
  out.insert(out.end(), reinterpret_cast<uint8_t*>(&new_len), reinterpret_cast<uint8_t*>(&new_len) + 8);
  out.insert(out.end(), meta.begin(), meta.end());
  out.insert(out.end(), bytes.begin() + 20 + long(meta_len), bytes.end() - 4);
  uint32_t crc = uint32_t(crc32(0L, out.data(), uInt(out.size())));
  out.insert(out.end(), reinterpret_cast<uint8_t*>(&crc), reinterpret_cast<uint8_t*>(&crc) + 4);
  return out;
}

std::string error_parsing(const std::vector<uint8_t>& bytes) {
  try {
    parse_checkpoint(bytes.data(), bytes.size(), "mem");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Found by the fuzzer's round-trip property: "seed=-7" loaded as 2^64 - 7, which the next save wrote
// out and the next load refused. Seeds are unsigned: the full range round-trips, a sign is refused.
TEST(Checkpoint, SeedsRoundTripOverTheirFullRangeAndRefuseASign) {
  Checkpoint c = sample_checkpoint();
  c.train.seed = UINT64_MAX;
  auto bytes = serialize_checkpoint(c);
  EXPECT_EQ(parse_checkpoint(bytes.data(), bytes.size(), "mem").train.seed, UINT64_MAX);
  std::string message = error_parsing(with_metadata_line(sample_checkpoint(), "seed=42", "seed=-7"));
  EXPECT_NE(message.find("seed: '-7' is not an unsigned integer"), std::string::npos) << message;
}

// Integers the config stores as int were narrowed silently: 4294967324 loaded as 28.
TEST(Checkpoint, RefusesMetadataIntegersThatDoNotFitInsteadOfWrappingThem) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"image_height=28", "image_height=4294967324"},
           {"latent_dim=3", "latent_dim=4294967299"},
           {"batch_size=128", "batch_size=-4294967168"},
           {"epoch=3", "epoch=4294967299"}}) {
    std::string message = error_parsing(with_metadata_line(sample_checkpoint(), from, to));
    EXPECT_NE(message.find("out of range"), std::string::npos) << to << ": " << message;
  }
}

// A format-2 file may lack the "dense" key: its conv model has no dense layers, and its weights
// carry the names a conv model without dense layers gives them, so it loads.
TEST(Checkpoint, AConvFileWithoutTheDenseKeyHasNoDenseLayers) {
  std::string dir = temp_dir();
  test::write_dataset(dir, 20, 5, 6, 9);
  Dataset data = Dataset::load(dir);
  ModelConfig m;
  m.architecture = "conv";
  m.image_height = 6;
  m.image_width = 9;
  m.latent_dim = 2;
  m.channels = {4};
  m.dense = {};
  Trainer trainer(data, m, TrainConfig{});
  ASSERT_EQ(trainer.save(dir + "/c.ckpt").get(), "");
  const Checkpoint saved = read_checkpoint(dir + "/c.ckpt");
  const auto bytes = with_metadata_line(saved, "channels=4\ndense=none", "channels=4");
  const Checkpoint keyless = parse_checkpoint(bytes.data(), bytes.size(), "mem");
  EXPECT_TRUE(keyless.model.dense.empty());
  EXPECT_EQ(keyless.model, saved.model);
  std::vector<std::string> names;
  for (const auto& a : keyless.arrays)
    if (a.name.rfind("vae.", 0) == 0) names.push_back(a.name);
  EXPECT_EQ(names, (std::vector<std::string>{"vae.pixel_bias", "vae.encoder.0.weight", "vae.encoder.0.bias", "vae.mu.weight",
                                             "vae.mu.bias", "vae.logvar.weight", "vae.logvar.bias", "vae.decoder_linear.weight",
                                             "vae.decoder_linear.bias", "vae.decoder.1.weight"}));
  EXPECT_NO_THROW(Vae::from_checkpoint(keyless));
}

// Every input the fuzzer ever crashed on, kept in tests/fuzz/regressions/checkpoint: it loads or is
// refused with latent::Error, as it is and with its CRC made right (under the ASan+UBSan build this
// also replays the memory error or UB it caused).
TEST(Checkpoint, FuzzerFindingsLoadOrAreRefused) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LATENT_FUZZ_REGRESSIONS "/checkpoint")) {
    auto bytes = read_bytes(entry.path().string());
    ++files;
    EXPECT_NO_THROW(error_parsing(bytes)) << entry.path();
    if (bytes.size() < 4) continue;
    uint32_t crc = uint32_t(crc32(0L, bytes.data(), uInt(bytes.size() - 4)));
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    EXPECT_NO_THROW(error_parsing(bytes)) << entry.path() << " with its CRC made right";
  }
  EXPECT_GE(files, 1);
}

}  // namespace
}  // namespace latent
