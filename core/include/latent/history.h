#pragma once
// Histories that grow with every training step (the loss records, the curves' points), kept to a
// bound in a session left open all day: past it, the older half keeps every other entry and the
// newer half stays whole. Recent steps stay exact, older ones are sampled ever more sparsely, and
// the first entry is always kept.
#include <cstddef>
#include <utility>
#include <vector>

namespace latent {

// The step records the trainer and the explorer each keep (64 bytes each: 8.4 MB at the bound).
inline constexpr size_t kStepHistoryKept = size_t(1) << 17;

// Thins `v` once it holds more than `most` entries; returns whether it did (indices into it moved).
template <typename T>
bool thin_history(std::vector<T>& v, size_t most) {
  if (v.size() <= most) return false;
  const size_t half = v.size() / 2;
  size_t out = 0;
  for (size_t i = 0; i < half; i += 2) v[out++] = std::move(v[i]);
  for (size_t i = half; i < v.size(); ++i) v[out++] = std::move(v[i]);
  v.resize(out);
  return true;
}

}  // namespace latent
