// Loading a user's TorchScript VAE (checked against the contract with a probe batch) and writing
// any of our models as one. docs/torchscript.md is the contract.
#include "latent/torchscript.h"

#include <torch/script.h>
#include <torch/version.h>
#include <caffe2/serialize/versions.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>
#include <sstream>

#include "latent/error.h"
#include "latent/files.h"
#include "latent/inference.h"
#include "latent/model_trust.h"
#include "latent/options.h"
#include "latent/resources.h"
#include "latent/sha256.h"
#include "model/script_archive.h"
#include "model/script_guard.h"
#include "model/scripted.h"
#include "model/vae_impl.h"

namespace latent {
namespace {

// TorchScript files are zip archives of code and tensors; a model this size is far past anything the
// explorer can show, and the limit keeps a wrong path from being read whole into memory.
constexpr int64_t kMaxScriptBytes = int64_t(2) << 30;
constexpr int64_t kProbeRows = 3;

std::string first_line(std::string text) {
  const size_t newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  return text;
}

// What a failed torch::jit::load means, for a user: not TorchScript at all, a torch.save file, or
// a file from a newer PyTorch than this build reads.
std::string explain_load_failure(const std::string& bytes, const std::string& text) {
  const std::string newer = "it may have been written by a newer PyTorch than " + torch_version() +
                            ", which this build reads with; re-save it with PyTorch " + torch_version() +
                            ", or build against your own PyTorch: cmake -DTorch_DIR=$(python3 -c 'import torch; "
                            "print(torch.utils.cmake_prefix_path)')/Torch";
  if (bytes.size() < 4 || bytes.compare(0, 4, "PK\x03\x04") != 0) {
    if (!bytes.empty() && (unsigned char)bytes[0] == 0x80)
      return "not TorchScript but a pickle (torch.save of the old format); save the model with "
             "torch.jit.save(torch.jit.script(model), path)";
    return "not a TorchScript file (no zip archive); save the model with torch.jit.save(torch.jit.script(model), path)";
  }
  if (text.find("maximum supported version") != std::string::npos) return "its format is newer than this build reads (" + first_line(text) + "); " + newer;
  if (text.find("constants.pkl") != std::string::npos || text.find("code/") != std::string::npos)
    return "a zip archive without TorchScript code (torch.save writes weights, not a module); save the model with "
           "torch.jit.save(torch.jit.script(model), path)";
  if (text.find("Unknown builtin op") != std::string::npos || text.find("Unknown type") != std::string::npos ||
      text.find("schema") != std::string::npos)
    return first_line(text) + "; " + newer;
  return "cannot be loaded as TorchScript (" + first_line(text) + ")";
}

int64_t int_attribute(const torch::jit::Module& m, const char* name, const std::string& path, bool required) {
  if (!m.hasattr(name)) {
    if (required) throw Error(path + ": the module has no attribute '" + std::string(name) + "' (an int; see docs/torchscript.md)");
    return -1;
  }
  const torch::IValue v = m.attr(name);
  if (!v.isInt()) throw Error(path + ": attribute '" + std::string(name) + "' must be an int, not " + v.tagKind());
  return v.toInt();
}

void read_attributes(const torch::jit::Module& m, ModelConfig& c, ScriptFile& file) {
  const std::string& path = file.path;
  const int64_t latent = int_attribute(m, "latent_dim", path, true);
  if (latent < 1 || latent > kMaxLatentDim)
    throw Error(path + ": latent_dim = " + std::to_string(latent) + " is outside 1.." + std::to_string(kMaxLatentDim));
  c.latent_dim = int(latent);
  if (!m.hasattr("image_shape")) throw Error(path + ": the module has no attribute 'image_shape' (List[int], [C, H, W])");
  const torch::IValue shape = m.attr("image_shape");
  if (!shape.isIntList()) throw Error(path + ": attribute 'image_shape' must be List[int] [C, H, W], not " + shape.tagKind());
  const auto dims = shape.toIntVector();
  if (dims.size() != 3) throw Error(path + ": image_shape must be [C, H, W], not " + c10::str(c10::IntArrayRef(dims)));
  if (dims[0] != 1 && dims[0] != 3) throw Error(path + ": image_shape's C = " + std::to_string(dims[0]) + " must be 1 (gray) or 3 (RGB)");
  if (dims[1] < 1 || dims[2] < 1 || dims[1] > 4096 || dims[2] > 4096)
    throw Error(path + ": image_shape " + c10::str(c10::IntArrayRef(dims)) + " is outside 1..4096 per side");
  c.image_channels = int(dims[0]), c.image_height = int(dims[1]), c.image_width = int(dims[2]);
  if (!m.hasattr("likelihood")) throw Error(path + ": the module has no attribute 'likelihood' (\"bernoulli\" or \"gaussian\")");
  const torch::IValue likelihood = m.attr("likelihood");
  if (!likelihood.isString()) throw Error(path + ": attribute 'likelihood' must be a str, not " + likelihood.tagKind());
  const std::string name = likelihood.toStringRef();
  if (name != "bernoulli" && name != "gaussian")
    throw Error(path + ": likelihood '" + name.substr(0, 40) + "' is unknown (expected \"bernoulli\" or \"gaussian\")");
  c.likelihood = parse_likelihood(name);
  if (m.hasattr("sigma")) {
    const torch::IValue sigma = m.attr("sigma");
    if (!sigma.isDouble()) throw Error(path + ": attribute 'sigma' must be a float, not " + sigma.tagKind());
    if (std::string problem = check_gaussian_sigma(sigma.toDouble()); !problem.empty()) throw Error(path + ": sigma: " + problem);
    c.gaussian_sigma = sigma.toDouble();
  }
  file.step = int_attribute(m, "step", path, false);
  if (m.hasattr("step") && file.step < 0) throw Error(path + ": step = " + std::to_string(file.step) + " must be >= 0");
}

// A batch through encode and decode: the types and shapes the contract asks for, and finite values.
void probe(torch::jit::Module& m, const ModelConfig& c, const std::string& path) {
  torch::NoGradGuard no_grad;
  m.eval();
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const torch::Tensor x = torch::rand({kProbeRows, c.image_channels, c.image_height, c.image_width}, gen, torch::kFloat32);
  auto run = [&](const char* method, const torch::Tensor& in) {
    UserCodeCall call(path, method);
    try {
      return m.get_method(method)({in});
    } catch (const std::exception& e) {
      try {
        call.fail(e);
      } catch (const UserCodeStopped&) {
        throw;
      } catch (const Error& failed) {
        throw Error(std::string(failed.what()) + " (on a probe batch " + c10::str(in.sizes()) + ")");
      }
    }
  };
  auto [mu, logvar] = encoder_outputs(run("encode", x), kProbeRows, c.latent_dim, path);
  if (!torch::isfinite(mu).all().item<bool>() || !torch::isfinite(logvar).all().item<bool>())
    throw Error(path + ": encode gave NaN or infinite values on a probe batch of images in [0, 1]");
  const torch::Tensor out = decoder_output(run("decode", mu.contiguous()), kProbeRows, c, path);
  if (!torch::isfinite(out).all().item<bool>()) throw Error(path + ": decode gave NaN or infinite values on the probe batch's mu");
}

}  // namespace

// Major and minor: Debian's 1.13.1 package says 1.13.0 in its header, and files are compatible by
// minor version.
std::string torch_version() { return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR); }

ModelConfig load_torchscript(const std::string& path, const std::function<void(const std::string&)>& before_its_code) {
  auto file = std::make_shared<ScriptFile>();
  file->path = path;
  {
    int64_t size = 0;
    FilePtr f = open_regular_file(path, &size);
    if (size > kMaxScriptBytes)
      throw Error(path + ": " + std::to_string(size) + " bytes is larger than a TorchScript model this tool reads (2 GiB)");
    file->bytes.resize(size_t(size));
    if (size > 0 && std::fread(file->bytes.data(), 1, size_t(size), f.get()) != size_t(size))
      throw Error(path + ": cannot read it whole (" + std::to_string(size) + " bytes)");
  }
  if (file->bytes.empty()) throw Error(path + ": is empty, not a TorchScript file");
  if (file->bytes.compare(0, 4, "PK\x03\x04") != 0) throw Error(path + ": " + explain_load_failure(file->bytes, ""));
  if (const int64_t version = check_script_archive(file->bytes, path, script_inflated_limit(file->bytes.size()));
      version > int64_t(caffe2::serialize::kMaxSupportedFileFormatVersion))
    throw Error(path + ": its archive format is version " + std::to_string(version) + " and LibTorch " + torch_version() +
                " reads up to " + std::to_string(caffe2::serialize::kMaxSupportedFileFormatVersion) +
                ": it was written by a newer PyTorch than " + torch_version() + "; re-save it with PyTorch " + torch_version() +
                ", or build against your own PyTorch: cmake -DTorch_DIR=$(python3 -c 'import torch; "
                "print(torch.utils.cmake_prefix_path)')/Torch");
  if (before_its_code) before_its_code(sha256_hex(file->bytes.data(), file->bytes.size()));
  torch::jit::Module m;
  try {
    m = load_module(*file);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": " + explain_load_failure(file->bytes, describe_exception(e)));
  }
  for (const char* method : {"encode", "decode"})
    if (!m.find_method(method))
      throw Error(path + ": the module has no method '" + method + "' (mark it @torch.jit.export; see docs/torchscript.md)");
  ModelConfig c;
  c.architecture = "torchscript";
  read_attributes(m, c, *file);
  for (const auto& p : m.named_parameters(/*recurse=*/true)) {
    if (p.value.scalar_type() != torch::kFloat32)
      throw Error(path + ": parameter '" + p.name + "' is " + std::string(c10::toString(p.value.scalar_type())) +
                  "; the tool trains float32 (call model.float() before scripting)");
    if (!torch::isfinite(p.value).all().item<bool>()) throw Error(path + ": parameter '" + p.name + "' holds NaN or infinite values");
    if (p.value.requires_grad()) file->parameters += p.value.numel();
  }
  probe(m, c, path);
  c.script = std::move(file);
  return c;
}

void use_model_file(RunOptions& o) {
  if (o.model_file.empty()) return;
  check_model_file_flags(o);
  o.model = load_torchscript(o.model_file);
}

void check_model_file_flags(const RunOptions& o) {
  if (o.model_file.empty()) return;
  if (!o.resume.empty()) throw Error("--model and --resume: a TorchScript file holds its own weights; give one of them");
  for (const char* flag : {"--arch", "--latent", "--hidden", "--channels", "--dense", "--activation", "--prior",
                           "--prior-components", "--conditional", "--likelihood", "--sigma"})
    if (o.given.count(flag))
      throw Error(std::string(flag) + ": the model file " + o.model_file + " decides the architecture, latent size, prior and likelihood");
}

std::string save_path_for(const ModelConfig& config, const std::string& path) {
  if (!config.script || path.size() <= 5 || path.compare(path.size() - 5, 5, ".ckpt") != 0) return path;
  return path.substr(0, path.size() - 5) + ".pt";
}

int64_t torchscript_step(const ModelConfig& config) { return config.script ? config.script->step : -1; }
std::string torchscript_path(const ModelConfig& config) { return config.script ? config.script->path : ""; }

std::string torchscript_export_problem(const ModelConfig& c) {
  if (c.architecture == "torchscript") return "";
  if (c.prior != "normal") return "the contract's prior is N(0, I), and this model has the " + c.prior + " prior";
  if (c.conditional()) return "the contract has no class input, and this model is conditional";
  if (c.learn_sigma) return "the contract's sigma is a constant, and this model learns it";
  return "";
}

void export_torchscript(const Vae& vae, const std::string& path, int64_t step) {
  write_torchscript(vae.impl().model(), path, step);
}

void write_torchscript(Model& model, const std::string& path, int64_t step) {
  const ModelConfig& c = model.config();
  if (std::string problem = torchscript_export_problem(c); !problem.empty()) throw Error(path + ": cannot export as TorchScript: " + problem);
  if (std::string problem = write_problem(path); !problem.empty()) throw Error(path + ": " + problem);
  torch::NoGradGuard no_grad;
  std::ostringstream bytes;
  try {
    torch::jit::Module m;
    if (c.architecture == "torchscript") {
      // The user's own module, fresh from its bytes, with the current weights.
      m = load_module(*c.script, /*to_run=*/false);
      auto own = script_module(model)->named_parameters(true);
      auto own_buffers = script_module(model)->named_buffers(true);
      std::map<std::string, torch::Tensor> current;
      for (const auto& p : own) current[p.name] = p.value;
      for (const auto& b : own_buffers) current[b.name] = b.value;
      for (const auto& p : m.named_parameters(true)) p.value.copy_(current.at(p.name));
      for (const auto& b : m.named_buffers(true)) b.value.copy_(current.at(b.name));
      if (step >= 0) {
        if (m.hasattr("step"))
          m.setattr("step", step);
        else
          m.register_attribute("step", c10::IntType::get(), step);
      }
    } else {
      const std::string source = model.script_source();
      if (source.empty()) throw Error(path + ": the " + c.architecture + " architecture has no TorchScript form");
      m = torch::jit::Module(c10::QualifiedName("__torch__.latent.Vae"));
      m.register_attribute("training", c10::BoolType::get(), false);
      for (const auto& [name, tensor] : named_trainables(model)) {
        std::string flat = name;
        for (char& ch : flat)
          if (ch == '.') ch = '_';
        // Trainable in Python too, as a module built there would be.
        m.register_parameter(flat, tensor.detach().to(torch::kCPU).clone().set_requires_grad(true), false);
      }
      m.register_attribute("latent_dim", c10::IntType::get(), int64_t(c.latent_dim));
      m.register_attribute("image_shape", c10::ListType::ofInts(),
                           c10::List<int64_t>({c.image_channels, c.image_height, c.image_width}));
      const bool gaussian = c.likelihood == ReconstructionLikelihood::Gaussian;
      m.register_attribute("likelihood", c10::StringType::get(), to_string(c.likelihood));
      if (gaussian) m.register_attribute("sigma", c10::FloatType::get(), c.gaussian_sigma);
      if (step >= 0) m.register_attribute("step", c10::IntType::get(), step);
      const std::string shape = std::to_string(c.image_channels) + ", " + std::to_string(c.image_height) + ", " + std::to_string(c.image_width);
      m.define(source +
               "def decode(self, z):\n"
               "    out = self.decode_rows(z)\n"
               "    return " + std::string(gaussian ? "torch.sigmoid(out)" : "out") + ".reshape([z.size(0), " + shape + "])\n");
    }
    m.save(bytes);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": cannot export as TorchScript: " + describe_exception(e));
  }
  const std::string data = bytes.str();
  write_file_atomically(path, data.data(), data.size(), "the TorchScript model");
  // Written here, so the explorer opens it without asking (latent/model_trust.h); when the list
  // cannot be written, it asks instead, which is all that is lost.
  trust_model(sha256_hex(data.data(), data.size()), path);
}

}  // namespace latent
