#pragma once
// A user's own PyTorch VAE, and ours as one: TorchScript files that follow the contract in
// docs/torchscript.md (encode(x) -> (mu, logvar), decode(z) -> logits or means, and the attributes
// latent_dim, image_shape, likelihood, optionally sigma and step).
#include <cstdint>
#include <functional>
#include <string>

#include "latent/config.h"
#include "latent/error.h"

namespace latent {

class Vae;

// Reads and checks a TorchScript VAE: loads the module, reads its attributes, and runs a probe
// batch through encode and decode to check their return types, shapes and values. Returns the
// config of a "torchscript" model with the file attached (the file is read once; every copy of the
// model is built from those bytes). Throws latent::Error naming `path` and what is wrong, including
// a file written by a newer PyTorch than this build's LibTorch. `before_its_code`, when given, is
// called with the SHA-256 of the file's bytes once they are read and checked as an archive, before
// any of its code runs: it may throw to stop the load (the explorer's question, latent/model_trust.h).
ModelConfig load_torchscript(const std::string& path, const std::function<void(const std::string& sha256)>& before_its_code = {});

// --model FILE: loads it into o.model. Throws latent::Error for a flag that the file decides
// (--arch, --latent, --hidden, ..., --likelihood, --sigma), --resume or --conditional beside it, and
// for whatever load_torchscript refuses.
struct RunOptions;
void use_model_file(RunOptions& o);
// The flag checks alone, without loading: what the explorer refuses at start-up (it loads the file
// after its window is up, so that a bad file is a message, not an exit).
void check_model_file_flags(const RunOptions& o);

// Where a save of `config`'s model to `path` goes: a torchscript model is saved as TorchScript, so a
// path ending ".ckpt" becomes ".pt"; any other path as it is.
std::string save_path_for(const ModelConfig& config, const std::string& path);

// The file's `step` attribute when it has one (a run training elsewhere), else -1.
int64_t torchscript_step(const ModelConfig& config);
// The file a torchscript model came from ("" for other architectures).
std::string torchscript_path(const ModelConfig& config);

// Writes `vae` as TorchScript with the contract, atomically. A torchscript model is written as its
// own module with the current weights; an mlp or conv model as a module built here, its parameters
// registered and encode/decode compiled from TorchScript source, so that torch.jit.load in Python
// gives a working VAE. `step` >= 0 is stored as the `step` attribute. Throws latent::Error when the
// model has no form in the contract (a learned prior, a conditional model, a learned sigma) or
// the file cannot be written.
void export_torchscript(const Vae& vae, const std::string& path, int64_t step = -1);
// Whether export_torchscript can write this model; "" when it can, else why not.
std::string torchscript_export_problem(const ModelConfig& config);

// A TorchScript file runs its own code. Before any of it runs, the file's inflated size is bounded,
// a module that defines __setstate__ (run while loading) or uses file, thread, process or Python
// operations is refused, and every loop in its code is made to check a time limit. Each call into the
// module (the probe, training, the views) runs under that limit; a call past it is stopped at its
// next loop iteration and throws UserCodeStopped, as does a call whose tensors would pass what a
// user's model may hold (set_user_code_memory_limit). print() in the module goes to stderr, marked.
class UserCodeStopped : public Error {
 public:
  UserCodeStopped(const std::string& message, bool interrupted);
  // Stopped by interrupt_user_code() rather than by the time limit.
  bool interrupted() const { return interrupted_; }

 private:
  bool interrupted_;
};
// Seconds one call into a user's module may take (--model-time-limit; 10 by default, 0 for none).
void set_user_code_time_limit(double seconds);
double user_code_time_limit();
// The bytes a user's module may hold (0, the default: 7/8 of what memory_limit() leaves at the call's
// start). An allocation inside a call that would pass it is refused before it is made: the call
// throws UserCodeStopped naming the method and the sizes.
void set_user_code_memory_limit(int64_t bytes);
// The bytes of tensors allocated inside calls into users' modules and not yet freed.
int64_t user_code_memory();
// Stops every call into a user's module, now and from now on (Ctrl+C in latent-train). Safe in a
// signal handler.
void interrupt_user_code() noexcept;
// How long the longest call into a user's module still under way has run (0 when none), and which
// ("<path>: encode"): a call stuck inside one operation cannot be stopped at a loop, so latent-train's
// watchdog gives up on it.
double longest_user_code_call(std::string* what = nullptr);

// Whether the model runs a user's code (a TorchScript file): then the explorer's UI thread never calls it.
inline bool runs_user_code(const ModelConfig& config) { return config.script != nullptr; }
// Marks the calling thread as the one that draws the UI: a call into a user's module from it is
// refused (an Error), so that no path can freeze the window on a user's code.
void refuse_user_code_on_this_thread();

// The LibTorch version this build reads TorchScript with, major.minor, e.g. "1.13".
std::string torch_version();

}  // namespace latent
