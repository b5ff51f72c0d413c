#pragma once
// Which TorchScript files may run here without asking first. A TorchScript file runs its own code, so
// the explorer asks once before it opens one the user did not make. Known files are those this tool
// wrote (export_torchscript: File -> Export, latent-train's model.pt and --export-torchscript) and
// those the user agreed to open, each known by the SHA-256 of its bytes: a file changed since is
// asked about again, and a renamed copy is not. The list is one line per file,
// "<sha256> <path>", in config_directory()/trusted-models, shared by both programs.
#include <string>

namespace latent {

std::string trusted_models_path();

// Whether the file whose bytes hash to `sha256` (lowercase hex) is known.
bool is_trusted_model(const std::string& sha256);

// Adds it (the path is kept beside it for the reader of the file). The list keeps the newest
// kTrustedModelsKept entries. Returns "" or why it could not be recorded (the open goes on; it will
// be asked about again).
std::string trust_model(const std::string& sha256, const std::string& path);

// trust_model for a file just written: hashes it first.
std::string trust_model_file(const std::string& path);

inline constexpr int kTrustedModelsKept = 1000;

}  // namespace latent
