#pragma once
// latent-train's outputs about what a trained model is good for: outlier scores and the
// out-of-distribution test, traversals, disentanglement on a set with known factors, and the
// latents for other tools. Each prints its key=value line on stdout and says what it wrote.
#include <string>

#include "latent/config.h"

namespace latent {

class Vae;
class Dataset;

// Scores every test image of `data` (and of `ood`, when given) by −ELBO: writes scores.csv
// (set,index,label,neg_elbo,recon,kl) and least-likely.png (the 32 test images the model finds least
// likely) into `dir`; with `ood`, prints "ood ... ood_auroc=" (in-distribution test images as
// negatives, ood's as positives).
void write_likelihood_report(const Vae& vae, const Dataset& data, const Dataset* ood, const std::string& dir,
                             uint64_t seed);

// traversals.png for a latent of more than two dimensions: one row per dimension in order of its
// KL (or, under a learned prior, of Var_x(μ_d)), from −3 to 3 around the first test image's μ.
void write_traversals(const Vae& vae, const Dataset& data, const std::string& dir);

// For a dataset with known factors (shapes): prints "disentanglement images=N mig=X gap_<factor>=..."
// for the μ of the test set.
void print_disentanglement(const Vae& vae, const Dataset& data);

// Reconstructions of corrupted test images against the clean ones: prints "denoise corrupt=...
// images=N recon_mse_clean=X recon_mse_corrupted=Y" (mean squared error per value of decode(μ(x))
// against the clean x, for clean and for corrupted inputs) and writes denoised.png (corrupted inputs,
// their reconstructions, the clean images).
void write_denoising(const Vae& vae, const Dataset& data, const Corruption& corruption, const std::string& dir,
                     uint64_t seed);

// μ and log σ² of every test image with its index and label, as CSV.
void export_latents(const Vae& vae, const Dataset& data, const std::string& path);

}  // namespace latent
