#pragma once
// Internal: the torchscript architecture (model/scripted.cpp) and what loading and exporting share
// (model/torchscript.cpp).
#include <torch/script.h>

#include <string>
#include <utility>

#include "model/model.h"

namespace latent {

// The module the file's bytes hold, on the CPU, checked and secured before any of its code runs
// (script_archive.h, script_guard.h). Throws latent::Error for what those refuse, c10::Error as
// torch::jit::load does.
// `to_run` false: loaded to be saved again, its loops left as they are (secure_module).
torch::jit::Module load_module(const ScriptFile& file, bool to_run = true);
// The most the file's records may inflate to (script_archive.h).
uint64_t script_inflated_limit(uint64_t file_bytes);

// encode()'s and decode()'s results, checked against the contract: (mu, logvar) float32 [n, D]
// each; out float32 [n, C, H, W] or [n, C·H·W], returned as rows [n, C·H·W]. Throw latent::Error
// naming `path` and what came back instead.
std::pair<torch::Tensor, torch::Tensor> encoder_outputs(const torch::IValue& out, int64_t n, int64_t latent_dim,
                                                        const std::string& path);
torch::Tensor decoder_output(const torch::IValue& out, int64_t n, const ModelConfig& config, const std::string& path);

// export_torchscript (latent/torchscript.h) for a model the caller holds, e.g. the trainer's own.
void write_torchscript(Model& model, const std::string& path, int64_t step);

// Registered in registry.cpp (config.script must be set).
ModelPtr make_scripted(const ModelConfig& config);

// The module of a torchscript model (whose parameters are the model's), or null for another
// architecture.
torch::jit::Module* script_module(Model& model);

}  // namespace latent
