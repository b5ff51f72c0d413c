#pragma once
// The malformed inputs of the reliability issue (#6), made on disk once and shared by the tests of
// latent-train (tests/test_bad_input.cpp) and of the app (tests/test_app_state.cpp), so that both
// meet exactly the same cases.
#include <string>
#include <vector>

namespace latent::test {

// One bad input. `path` is what a user passes (--data DIR, --resume FILE); the message must name
// `names` (the file at fault, or the path given) and contain `problem`.
struct BadInput {
  std::string label;  // e.g. "dataset: wrong magic"
  std::string path;
  std::string names;
  std::string problem;
};

// Every malformed dataset, by name: wrong-magic, unsupported-type, truncated, counts-larger-raw,
// counts-larger-gzip (a forged trailer that agrees with the header), zero-dim, absurd-dim,
// count-mismatch (labels/images), size-mismatch (train/test images), corrupt-gzip, empty-file,
// missing-file, not-a-dataset (a directory), plain-file, no-such-directory.
const std::vector<std::string>& bad_dataset_cases();
// Makes that case under `dir`. Images are 28x28, and the training images (`train_images` of them)
// are valid whatever the case, so that a reader that loaded them before checking the rest would
// show it in its peak memory.
BadInput make_bad_dataset(const std::string& dir, const std::string& name, int train_images = 50);

// Every bad checkpoint, by name: truncated, random-bytes, empty-file, directory, missing,
// other-architecture (weights that do not fit the architecture its metadata describes),
// other-image-size (a checkpoint for 8x8 images; use it with a 28x28 dataset).
const std::vector<std::string>& bad_checkpoint_cases();
BadInput make_bad_checkpoint(const std::string& dir, const std::string& name);

// A valid 28x28 dataset directory (40 + 10 images) under `dir`, and a valid checkpoint for it
// (latent 2, hidden 16).
std::string make_good_dataset(const std::string& dir);
std::string make_good_checkpoint(const std::string& dir);

}  // namespace latent::test
