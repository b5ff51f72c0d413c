// The architectures: one line each. A new one is a file in this folder that defines a Model and a
// make_ function, declared and listed here (docs/design.md, "Adding an architecture").
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "latent/error.h"
#include "model/model.h"

namespace latent {

ModelPtr make_mlp(const ModelConfig& config);   // model/mlp.cpp
ModelPtr make_conv(const ModelConfig& config);  // model/conv.cpp
ModelPtr make_scripted(const ModelConfig& config);  // model/scripted.cpp

const std::vector<Architecture>& architectures() {
  // Each architecture's config rules (validation, parameter count) are in core/src/config.cpp.
  static const std::vector<Architecture> list = {
      {"mlp", "fully connected encoder (--hidden) and mirrored decoder", make_mlp},
      {"conv", "stride-2 3x3 convolutions (--channels), transposed convolutions back", make_conv},
      {"torchscript", "a user's own PyTorch VAE from a TorchScript file (--model)", make_scripted},
  };
  return list;
}

ModelPtr make_model(const ModelConfig& config, uint64_t seed, bool initialize) {
  if (std::string problem = validate(config); !problem.empty()) throw Error(problem);
  for (const Architecture& a : architectures())
    if (config.architecture == a.name) {
      ModelPtr model = a.make(config);
      if (initialize) {
        torch::NoGradGuard no_grad;
        torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
        model->initialize(gen);
        model->prior().initialize(gen);
        model->log_sigma().fill_(std::log(config.gaussian_sigma));
      }
      return model;
    }
  throw Error("unknown architecture '" + config.architecture + "'");
}

}  // namespace latent
