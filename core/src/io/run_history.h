#pragma once
// A run's step and epoch logs, carried in its checkpoints, so that a run resumed from one (in the
// explorer or `latent-train --resume`) has the curves of the steps before it.
//
// Two arrays (float32, as every checkpoint array): "log.steps", a row per step record, and
// "log.epochs", a row per epoch record. A step number is split into two exact float columns,
// ⌊step / 2²⁴⌋ and step mod 2²⁴, since a float holds integers exactly only up to 2²⁴. The other
// columns are the records' fields in their declared order (kStepColumns, kEpochColumns).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "latent/checkpoint.h"
#include "latent/trainer.h"

namespace latent {

struct RunHistory {
  std::vector<StepRecord> steps;
  std::vector<EpochRecord> epochs;
};

// At most this many step records are written: a longer log is thinned to every k-th record
// (always with the last), which a curve of that many steps does not show.
constexpr size_t kHistoryStepsWritten = 100000;

// The most bytes the history of a checkpoint at `epoch` can take (its values; the arrays' headers
// are counted with the others'), so that a reader can bound a file's size before reading it.
int64_t history_max_bytes(int64_t epoch);

// Appends the two arrays for these logs to `arrays`.
void append_history(const std::vector<StepRecord>& steps, const std::vector<EpochRecord>& epochs, std::vector<NamedArray>& arrays);

// The history `checkpoint` carries (empty when it has none: a file written before there was one,
// or weights alone). Throws latent::Error naming the array and the problem when the arrays are not
// a history of this checkpoint's run: another shape, a fractional or negative step, steps or
// epochs out of order or past the checkpoint's progress.
RunHistory read_history(const Checkpoint& checkpoint);

}  // namespace latent
