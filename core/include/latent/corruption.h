#pragma once
// Corrupted copies of images, as a denoising VAE's encoder sees them in training (Corruption in
// latent/config.h): for the views that show corrupted input → reconstruction, and for tests.
#include <cstdint>

#include "latent/arrays.h"
#include "latent/config.h"

namespace latent {

// The images corrupted as `corruption` says, the same for the same seed; labels are kept.
ImageBatch corrupt_images(const ImageBatch& images, const Corruption& corruption, uint64_t seed);

}  // namespace latent
