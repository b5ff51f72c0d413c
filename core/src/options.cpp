#include "latent/options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "latent/error.h"
#include "latent/resources.h"

namespace latent {

double parse_double(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
    throw Error(flag + ": '" + text + "' is not a number");
  if (!std::isfinite(v)) throw Error(flag + ": '" + text + "' is not a finite number");
  return v;
}

int64_t parse_int(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
    throw Error(flag + ": '" + text + "' is not an integer");
  return int64_t(v);
}

namespace {

int parse_int_in(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = parse_int(flag, text);
  if (v < lo || v > hi)
    throw Error(flag + ": " + text + " is out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return int(v);
}

}  // namespace

RunOptions parse_run_options(int argc, const char* const* argv, const std::set<std::string>& extra_flags,
                             const std::set<std::string>& extra_switches) {
  RunOptions o;
  int components = 0;  // --prior-components, 0 when not given
  using Setter = std::function<void(const std::string& flag, const std::string& value)>;
  const std::map<std::string, Setter> flags = {
      {"--data", [&](auto&, auto& v) { o.data = v; }},
      {"--labels", [&](auto&, auto& v) { o.data_options.labels = v; }},
      {"--size", [&](auto&, auto& v) { parse_image_size(v, &o.data_options.height, &o.data_options.width); }},
      {"--color", [&](auto& f, auto& v) {
         o.data_options.color = v;
         if (std::string problem = validate(o.data_options); !problem.empty()) throw Error(problem);
       }},
      {"--test-split", [&](auto& f, auto& v) {
         o.data_options.test_split = parse_double(f, v);
         if (std::string problem = validate(o.data_options); !problem.empty()) throw Error(problem);
       }},
      {"--epochs", [&](auto& f, auto& v) { o.train.epochs = parse_int_in(f, v, 0, 100000); }},
      {"--latent", [&](auto& f, auto& v) { o.model.latent_dim = parse_int_in(f, v, 1, kMaxLatentDim); }},
      {"--arch", [&](auto& f, auto& v) {
         if (std::string problem = check_architecture(v); !problem.empty()) throw Error(f + ": " + problem);
         o.model.architecture = v;
       }},
      {"--hidden", [&](auto& f, auto& v) {
         try { o.model.hidden = parse_hidden(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--channels", [&](auto& f, auto& v) {
         try { o.model.channels = parse_channels(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--dense", [&](auto& f, auto& v) {
         try { o.model.dense = parse_dense(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--batch", [&](auto& f, auto& v) { o.train.batch_size = parse_int_in(f, v, 1, 65536); }},
      {"--lr", [&](auto& f, auto& v) {
         const double x = parse_double(f, v);
         if (std::string problem = check_learning_rate(x); !problem.empty()) throw Error(f + ": " + problem);
         o.train.learning_rate = x;
       }},
      {"--lr-schedule", [&](auto& f, auto& v) {
         try { o.train.lr_schedule = parse_lr_schedule(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--beta", [&](auto& f, auto& v) {
         const double x = parse_double(f, v);
         if (std::string problem = check_beta(x); !problem.empty()) throw Error(f + ": " + problem);
         o.train.beta = x;
       }},
      {"--warmup-epochs", [&](auto& f, auto& v) {
         const double x = parse_double(f, v);
         if (std::string problem = check_warmup_epochs(x); !problem.empty()) throw Error(f + ": " + problem);
         o.train.warmup_epochs = x;
       }},
      {"--activation", [&](auto& f, auto& v) {
         try { o.model.activation = parse_activation(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--prior", [&](auto& f, auto& v) {
         const auto names = prior_names();
         if (std::find(names.begin(), names.end(), v) == names.end())
           throw Error(f + ": unknown prior '" + v + "' (expected normal, mog or vamp)");
         o.model.prior = v;
       }},
      {"--prior-components", [&](auto& f, auto& v) { components = parse_int_in(f, v, 1, kMaxPriorComponents); }},
      {"--likelihood", [&](auto& f, auto& v) {
         try { o.model.likelihood = parse_likelihood(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--sigma", [&](auto& f, auto& v) {
         if (v == "learned") { o.model.learn_sigma = true; return; }
         const double x = parse_double(f, v);
         if (std::string problem = check_gaussian_sigma(x); !problem.empty()) throw Error(f + ": " + problem + " or 'learned'");
         o.model.gaussian_sigma = x;
         o.model.learn_sigma = false;
       }},
      {"--corrupt", [&](auto& f, auto& v) {
         try { o.train.corrupt = parse_corruption(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--seed", [&](auto& f, auto& v) {
         int64_t x = parse_int(f, v);
         if (x < 0) throw Error(f + ": seed must be >= 0");
         o.train.seed = uint64_t(x);
       }},
      {"--threads", [&](auto& f, auto& v) {
         o.train.threads = parse_int_in(f, v, 1, 1024);
         // More threads than this only divide the same cores finer, and each costs memory.
         if (const int most = max_useful_threads(); o.train.threads > most) {
           std::fprintf(stderr, "note: %s %d is more than %d (4 per hardware thread here); using %d\n", f.c_str(), o.train.threads,
                        most, most);
           o.train.threads = most;
         }
       }},
      {"--parallel", [&](auto& f, auto& v) {
         try { o.train.parallel = parse_parallel(v); } catch (const Error& e) { throw Error(f + ": " + e.what()); }
       }},
      {"--device", [&](auto& f, auto& v) {
         if (v != "cpu" && v != "cuda" && v != "auto") throw Error(f + ": unknown device '" + v + "' (cpu, cuda or auto)");
         o.train.device = v;
       }},
      {"--limit", [&](auto& f, auto& v) {
         int64_t x = parse_int(f, v);
         if (x < 1) throw Error(f + ": limit must be >= 1");
         o.train.limit = x;
       }},
      {"--resume", [&](auto&, auto& v) { o.resume = v; }},
      {"--model", [&](auto&, auto& v) { o.model_file = v; }},
      {"--model-time-limit", [&](auto& f, auto& v) {
         const double x = parse_double(f, v);
         if (x < 0 || x > 86400) throw Error(f + ": " + format_number(x) + " is outside 0..86400 seconds (0: no limit)");
         o.model_time_limit = x;
       }},
      {"--out", [&](auto&, auto& v) { o.out = v; }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    std::string flag = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    if (flag == "--skip-bad" || flag == "--conditional") {
      if (inline_value) throw Error(flag + ": takes no value");
      (flag == "--skip-bad" ? o.data_options.skip_bad : o.conditional) = true;
      o.given.insert(flag);
      continue;
    }
    if (extra_switches.count(flag)) {
      if (inline_value) throw Error(flag + ": takes no value");
      o.unparsed.push_back(flag);
      continue;
    }
    auto it = flags.find(flag);
    bool extra = extra_flags.count(flag) > 0;
    if (it == flags.end() && !extra) {
      if (arg.rfind("-", 0) == 0) throw Error(flag + ": unknown flag (see --help)");
      throw Error("unexpected argument '" + arg + "' (see --help)");
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw Error(flag + ": missing value");
      value = argv[++i];
    }
    if (extra) {
      o.unparsed.push_back(flag);
      o.unparsed.push_back(value);
      continue;
    }
    it->second(flag, value);
    o.given.insert(flag);
  }
  if (components > 0 && o.model.prior == "normal")
    throw Error("--prior-components: the normal prior has no components (use --prior mog or vamp)");
  o.model.prior_components = components > 0 ? components : default_prior_components(o.model.prior);
  return o;
}

std::string run_options_help() {
  return R"(Data and model:
  --data NAME|PATH        mnist, fashion-mnist, shapes, a directory of the four IDX files (raw
                          or .gz), a folder of images (<class>/*.png|jpg|bmp|gif|tga, flat, or
                          train/ and test/), or a .npy file [mnist]
  --labels FILE.npy       with a .npy --data: one integer label per image
  --size HxW              resize every image to H x W (area averaging when shrinking)
  --color gray|rgb|auto   channels: auto is RGB when any image is stored in colour [auto]
  --test-split F          held-out test fraction where the data has no test split [0.1]
  --skip-bad              skip (and count) image files that fail to decode
  --latent D              latent dimensions, 1..64 [2]
  --arch mlp|conv         the model: fully connected, or convolutional [mlp]
  --hidden H[,H2...]      mlp: encoder hidden widths; the decoder mirrors them [512,256]
  --channels C[,C2...]    conv: filters of each stride-2 3x3 convolution; the decoder mirrors
                          them with transposed convolutions [32,64,128]
  --dense W[,W2...]|none  conv: fully connected widths between the convolutions and z; the
                          decoder mirrors them [512,256]
  --activation relu|elu   hidden-layer nonlinearity [elu]
  --prior normal|mog|vamp p(z): N(0, I); a mixture of K learned Gaussians; the VampPrior, the
                          encoder's q(z|u_k) over K learned pseudo-inputs. mog and vamp estimate
                          the KL term from the sampled z [normal]
  --prior-components K    mog: Gaussians [10]; vamp: pseudo-inputs [500]
  --conditional           a conditional VAE: the label's one-hot goes into the encoder and the
                          decoder, q(z|x,y) and p(x|z,y); needs labelled data
  --likelihood bernoulli|gaussian   p(x|z) [bernoulli]
  --sigma X|learned       gaussian p(x|z): fixed sigma, or learned [0.1]
Training:
  --epochs N              epochs to train; 0 = none, just evaluate and write outputs [10]
  --batch B               batch size [128]
  --lr X                  Adam learning rate (the peak, with cosine) [0.003]
  --lr-schedule constant|cosine   cosine anneals lr to 0 over --epochs [cosine]
  --beta X                KL weight: loss = recon + beta*KL [1]
  --warmup-epochs N       linear KL warm-up from 0 to beta over N epochs [0]
  --corrupt KIND:X        a denoising VAE: the encoder sees corrupted training images, the
                          likelihood the clean ones. gaussian:S (noise of std S), mask:P (pixels
                          zeroed with probability P), saltpepper:P, or none [none]
  --seed S                random seed; same seed + same --threads on CPU = same run [1]
  --threads T             compute threads, at most 4 per hardware thread [1]
  --parallel batch|blas   with T > 1 on the CPU: split each batch's images across the threads,
                          or let OpenBLAS split each matrix product [batch]
  --device cpu|cuda|auto  [cpu]
  --limit N               train on the first N training images only
  --resume CHECKPOINT     continue from a checkpoint (its config unless flags override)
  --model FILE.pt         a PyTorch VAE saved as TorchScript (docs/torchscript.md): explore it,
                          evaluate it (--epochs 0) or fine-tune it; it is saved as TorchScript
  --model-time-limit S    seconds one call into the --model file's code may run before it is
                          stopped and the model given up, 0 for no limit [10]
  --out DIR               output directory [runs/latest]
)";
}

}  // namespace latent
