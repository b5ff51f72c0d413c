// A user's own PyTorch VAE, loaded from TorchScript (latent/torchscript.h, docs/torchscript.md).
// The module's parameters are registered as this Model's own (the same tensors, so Adam's in-place
// updates are the module's), and encode/decode call its methods. Every copy of the model (the
// trainer's, the frozen copies the views read) loads the module afresh from the bytes read once.
#include <torch/script.h>

#include <sstream>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/resources.h"
#include "latent/torchscript.h"
#include "model/model.h"
#include "model/script_archive.h"
#include "model/script_guard.h"
#include "model/scripted.h"

namespace latent {
namespace {

// Our name for one of the module's tensors: nn::Module names may not hold '.'.
std::string own_name(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (c == '.') c = '/';
  return out;
}

class ScriptedModel : public Model {
 public:
  explicit ScriptedModel(ModelConfig config) : Model(std::move(config)) {
    module_ = load_module(*config_.script);
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
      // A parameter the user froze (requires_grad False) stays as it is: a buffer here.
      if (p.value.requires_grad())
        register_parameter(own_name(p.name), p.value, true);
      else
        register_buffer(own_name(p.name), p.value);
    }
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) register_buffer(own_name(b.name), b.value);
    register_common();
    module_.train(is_training());  // the module follows this Model's mode from here on (train()/eval())
  }

  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor&) override {
    const ModelConfig& c = config_;
    const int64_t n = x.size(0);
    torch::IValue out = call("encode", x.reshape({n, c.image_channels, c.image_height, c.image_width}));
    auto [mu, logvar] = encoder_outputs(out, n, c.latent_dim, config_.script->path);
    return {mu, logvar};
  }

  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor&) override {
    return decoder_output(call("decode", z), z.size(0), config_, config_.script->path);
  }

  bool decodes_means() const override { return true; }
  // The file's weights are the model's start: nothing to draw.
  void initialize(torch::Generator&) override {}
  void initialize_output_bias(const torch::Tensor&) override {}

  void train(bool on) override {
    Model::train(on);
    module_.train(on);
  }

  torch::jit::Module& module() { return module_; }

 private:
  // Under the time limit (script_guard.h), whichever thread calls: the trainer, a view's worker.
  torch::IValue call(const char* method, const torch::Tensor& in) {
    UserCodeCall guard(config_.script->path, method);
    try {
      return module_.get_method(method)({in});
    } catch (const std::exception& e) {
      guard.fail(e);
    }
  }

  torch::jit::Module module_;
};

}  // namespace

uint64_t script_inflated_limit(uint64_t file_bytes) {
  // torch.jit.save stores its records uncompressed, so a model's records inflate to about the file's
  // size; twice that and 64 MiB of slack leave room for an archive zipped again, not for a bomb.
  const uint64_t most = std::min<uint64_t>(uint64_t(2) << 30, uint64_t(std::max<int64_t>(memory_limit().bytes, 0)) / 4);
  return std::min(most, 2 * file_bytes + (uint64_t(64) << 20));
}

torch::jit::Module load_module(const ScriptFile& file, bool to_run) {
  check_script_archive(file.bytes, file.path, script_inflated_limit(file.bytes.size()));
  std::istringstream in(file.bytes);
  torch::jit::Module m = torch::jit::load(in, torch::Device(torch::kCPU));
  secure_module(m, file.path, to_run);
  return m;
}

std::pair<torch::Tensor, torch::Tensor> encoder_outputs(const torch::IValue& out, int64_t n, int64_t latent_dim,
                                                        const std::string& path) {
  auto wrong = [&](const std::string& what) {
    return Error(path + ": encode(x) must return (mu, logvar), two float32 tensors [" + std::to_string(n) + ", " +
                 std::to_string(latent_dim) + "]; " + what);
  };
  if (!out.isTuple()) throw wrong("it returned " + out.tagKind());
  const auto& items = out.toTupleRef().elements();
  if (items.size() != 2) throw wrong("it returned a tuple of " + std::to_string(items.size()));
  torch::Tensor t[2];
  for (int i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "mu" : "logvar";
    if (!items[size_t(i)].isTensor()) throw wrong(std::string(name) + " is " + items[size_t(i)].tagKind());
    t[i] = items[size_t(i)].toTensor();
    if (t[i].scalar_type() != torch::kFloat32) throw wrong(std::string(name) + " is " + std::string(c10::toString(t[i].scalar_type())));
    if (t[i].dim() != 2 || t[i].size(0) != n || t[i].size(1) != latent_dim)
      throw wrong(std::string(name) + " is " + c10::str(t[i].sizes()));
  }
  return {t[0], t[1]};
}

torch::Tensor decoder_output(const torch::IValue& out, int64_t n, const ModelConfig& c, const std::string& path) {
  const int64_t pixels = c.pixels();
  auto wrong = [&](const std::string& what) {
    return Error(path + ": decode(z) must return a float32 tensor [" + std::to_string(n) + ", " + std::to_string(c.image_channels) +
                 ", " + std::to_string(c.image_height) + ", " + std::to_string(c.image_width) + "] (or [" + std::to_string(n) + ", " +
                 std::to_string(pixels) + "]); " + what);
  };
  if (!out.isTensor()) throw wrong("it returned " + out.tagKind());
  torch::Tensor t = out.toTensor();
  if (t.scalar_type() != torch::kFloat32) throw wrong("it returned " + std::string(c10::toString(t.scalar_type())));
  const bool image = t.dim() == 4 && t.size(0) == n && t.size(1) == c.image_channels && t.size(2) == c.image_height &&
                     t.size(3) == c.image_width;
  const bool rows = t.dim() == 2 && t.size(0) == n && t.size(1) == pixels;
  if (!image && !rows) throw wrong("it returned " + c10::str(t.sizes()));
  return t.reshape({n, pixels});
}

ModelPtr make_scripted(const ModelConfig& config) {
  if (!config.script) throw Error("a torchscript model needs its file (--model FILE)");
  try {
    return std::make_shared<ScriptedModel>(config);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(config.script->path + ": " + describe_exception(e));
  }
}

torch::jit::Module* script_module(Model& model) {
  auto* scripted = dynamic_cast<ScriptedModel*>(&model);
  return scripted ? &scripted->module() : nullptr;
}

}  // namespace latent
