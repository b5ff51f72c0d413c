#pragma once
// Command-line flags shared by latent-train and latent-explorer: data, model and training flags.
#include <set>
#include <string>
#include <vector>

#include "latent/config.h"
#include "latent/dataset.h"

namespace latent {

struct RunOptions {
  std::string data = "mnist";
  DataOptions data_options;  // --labels, --size, --color, --test-split, --skip-bad
  ModelConfig model;
  TrainConfig train;
  bool conditional = false;  // --conditional: the model's classes come from the data (fit_model_to_data)
  std::string resume;   // checkpoint to resume from
  std::string model_file;  // --model: a TorchScript VAE (latent/torchscript.h: use_model_file loads it)
  double model_time_limit = 10;  // --model-time-limit: seconds per call into its code (set_user_code_time_limit)
  std::string out = "runs/latest";
  bool help = false;
  std::set<std::string> given;  // the flags that were set explicitly, e.g. "--latent"
  std::vector<std::string> unparsed;  // flags left for the caller (see parse_run_options)
};

// Parses argv. Flags in `extra_flags` (with a value) or `extra_switches` (without) are not parsed
// but appended to `unparsed` (flag, then value) for the caller. Throws latent::Error with a message
// naming the flag and the problem (unknown flag, missing value, text where a number goes, NaN,
// out of range). Accepts "--flag value" and "--flag=value".
RunOptions parse_run_options(int argc, const char* const* argv,
                             const std::set<std::string>& extra_flags = {},
                             const std::set<std::string>& extra_switches = {});

// The --help text for the shared flags.
std::string run_options_help();

// Strict number parsing: the whole text must be a finite number. Throw latent::Error naming `flag`.
double parse_double(const std::string& flag, const std::string& text);
int64_t parse_int(const std::string& flag, const std::string& text);

}  // namespace latent
