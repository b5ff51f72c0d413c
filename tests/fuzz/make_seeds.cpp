// Writes the seed corpora the fuzzers start from: small valid IDX files (raw and gzip) and valid
// checkpoints, so that mutations begin inside the formats rather than at their magic numbers.
//   make_seeds OUT_DIR   ->  OUT_DIR/idx/*, OUT_DIR/idx_gzip/*, OUT_DIR/checkpoint/*
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/run_history.h"
#include "latent/checkpoint.h"

namespace {

std::vector<uint8_t> idx(uint8_t type, const std::vector<uint32_t>& dims, size_t payload) {
  std::vector<uint8_t> bytes = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(d >> shift));
  for (size_t i = 0; i < payload; ++i) bytes.push_back(uint8_t(i * 37));
  return bytes;
}

void write(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

void write_gzip(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb9");
  if (!gz) throw std::runtime_error("cannot write " + path.string());
  gzwrite(gz, bytes.data(), unsigned(bytes.size()));
  gzclose(gz);
}

latent::Checkpoint checkpoint(int latent_dim, std::vector<int> hidden, bool gaussian) {
  latent::Checkpoint c;
  c.model.image_height = 4;
  c.model.image_width = 3;
  c.model.latent_dim = latent_dim;
  c.model.hidden = std::move(hidden);
  if (gaussian) {
    c.model.likelihood = latent::ReconstructionLikelihood::Gaussian;
    c.model.learn_sigma = true;
    c.model.gaussian_sigma = 0.25;
  }
  c.train.seed = 7;
  c.train.limit = 100;
  c.dataset = "mnist";
  c.progress = {12, 1, 64};
  c.arrays.push_back({"vae.encoder.body.0.weight", {2, 3}, {1, -2, 3.5f, 0, 1e-3f, -7}});
  c.arrays.push_back({"vae.encoder.body.0.bias", {2}, {0.5f, -0.5f}});
  c.arrays.push_back({"adam.m.vae.encoder.body.0.bias", {2}, {0, 1}});
  c.arrays.push_back({"scalar", {}, {42}});
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  std::filesystem::path out = argv[1];
  for (const char* sub : {"idx", "idx_gzip", "checkpoint", "npy", "folder_walk"}) std::filesystem::create_directories(out / sub);
  // .npy: a uint8 image array, a float one in Fortran order, version 2, and int64 labels.
  auto npy = [](const std::string& dict, size_t payload, int version) {
    std::string header = dict;
    const size_t prefix = version == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(version), 0, uint8_t(header.size()), uint8_t(header.size() >> 8)};
    if (version > 1) b.push_back(0), b.push_back(0);
    b.insert(b.end(), header.begin(), header.end());
    b.resize(b.size() + payload, 0x3f);
    return b;
  };
  write(out / "npy" / "u8", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4, 2), }", 24, 1));
  write(out / "npy" / "f4-fortran", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2, 3), }", 96, 1));
  write(out / "npy" / "v2-f8", npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", 96, 2));
  write(out / "npy" / "labels", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 40, 1));
  // Folder trees (fuzz_folder_walk's two-byte entries): classes with images, a split, a loop.
  write(out / "folder_walk" / "classes", {0, 0, 0, 0, 1, 1, 1, 2, 2, 1});
  write(out / "folder_walk" / "split", {0, 32, 0, 48, 0, 1, 1, 2, 0, 2, 1, 3});
  write(out / "folder_walk" / "loop", {0, 0, 1, 1, 3, 1, 5, 0});

  const std::vector<std::pair<std::string, std::vector<uint8_t>>> idx_seeds = {
      {"labels", idx(0x08, {5}, 5)},
      {"images", idx(0x08, {3, 4, 2}, 24)},
      {"matrix", idx(0x08, {2, 6}, 12)},
      {"rank4", idx(0x08, {1, 2, 2, 3}, 12)},
      {"floats", idx(0x0D, {2, 2}, 16)},
      {"truncated", idx(0x08, {3, 4, 4}, 20)},
  };
  for (const auto& [name, bytes] : idx_seeds) {
    write(out / "idx" / name, bytes);
    write_gzip(out / "idx_gzip" / (name + ".gz"), bytes);
    write(out / "idx_gzip" / name, bytes);  // compressed by the target itself
  }

  write(out / "checkpoint" / "bernoulli.ckpt", latent::serialize_checkpoint(checkpoint(2, {8, 4}, false)));
  write(out / "checkpoint" / "gaussian.ckpt", latent::serialize_checkpoint(checkpoint(3, {5}, true)));
  latent::Checkpoint empty = checkpoint(2, {16}, false);
  empty.arrays.clear();
  write(out / "checkpoint" / "no-arrays.ckpt", latent::serialize_checkpoint(empty));
  // A run's history: three steps and an epoch.
  latent::Checkpoint run = checkpoint(2, {8, 4}, false);
  run.progress.step = 3;
  run.progress.epoch = 1;
  std::vector<latent::StepRecord> steps(3);
  for (int i = 0; i < 3; ++i) steps[size_t(i)] = {i + 1, 0.25 * (i + 1), 80.0 - i, 4.5, 1.0, 84.5 - i, 1e-3, 0.0};
  latent::EpochRecord epoch;
  epoch.epoch = 1, epoch.step = 3, epoch.train_loss = 83, epoch.test_recon = 79, epoch.test_kl = 4.4, epoch.test_loss = 83.4;
  latent::append_history(steps, {epoch}, run.arrays);
  write(out / "checkpoint" / "history.ckpt", latent::serialize_checkpoint(run));
  // The metadata alone: fuzz_checkpoint wraps inputs without the magic in a valid container.
  std::vector<uint8_t> bytes = latent::serialize_checkpoint(checkpoint(3, {5}, true));
  uint64_t meta_len = 0;
  std::memcpy(&meta_len, bytes.data() + 12, 8);
  write(out / "checkpoint" / "metadata.txt", {bytes.begin() + 20, bytes.begin() + 20 + long(meta_len)});
  return 0;
}
