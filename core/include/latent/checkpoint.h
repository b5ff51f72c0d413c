#pragma once
// Checkpoint files: weights, Adam state, config and training progress, written atomically.
//
// Layout (little-endian): "LXCKPT\0\1" magic, u32 format version, u64 meta length, meta text
// (key=value lines: the model's architecture and config, training config, progress; version 1,
// written before there were architectures, lacks the architecture's keys and is read as an MLP on
// gray images), u32 array count, then per array: u32 name length, name, u32 rank, i64 dims,
// float32 values; finally a CRC-32 of everything before it. The CRC is checked before anything is
// parsed, so truncated or corrupt files are rejected with a clear message.
#include <cstdint>
#include <string>
#include <vector>

#include "latent/config.h"

namespace latent {

struct NamedArray {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct TrainingProgress {
  int64_t step = 0;       // optimizer steps taken
  int epoch = 0;          // completed epochs
  int64_t epoch_offset = 0;  // samples already seen in the current epoch
};

struct Checkpoint {
  ModelConfig model;
  TrainConfig train;
  std::string dataset;  // dataset name, e.g. "mnist"
  TrainingProgress progress;
  std::vector<NamedArray> arrays;  // "vae.<param>", "adam.m.<param>", "adam.v.<param>"

  const NamedArray* find(const std::string& name) const;
};

constexpr int64_t kCheckpointMaxBytes = int64_t(2) << 30;

// Writes to "<path>.tmp-<pid>-<n>", flushes and fsyncs it, then renames over `path`: a crash at any
// moment leaves either the old file or the new one. Throws latent::Error on I/O failure, and
// refuses (leaving `path` as it was) a checkpoint holding a NaN or infinite value.
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Throws latent::Error naming the file and the problem: missing, too short, wrong magic, newer
// version, CRC mismatch (truncated or corrupt), malformed meta or arrays, or an invalid config.
Checkpoint read_checkpoint(const std::string& path);
Checkpoint parse_checkpoint(const uint8_t* bytes, size_t size, const std::string& what);

// Serialised bytes, exactly as write_checkpoint stores them.
std::vector<uint8_t> serialize_checkpoint(const Checkpoint& checkpoint);

}  // namespace latent
