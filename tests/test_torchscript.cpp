// A user's own PyTorch VAE through TorchScript, and ours exported as one. The models come from
// tests/helpers/torchscript_models.py (Debian's python3-torch), built with the tests: an MLP with
// tanh layers and flat outputs, and a conv VAE with batch norm on 3x20x12 images, neither a shape
// our architectures have. Our bound is compared with the same bound computed in Python.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "latent/error.h"
#include "latent/inference.h"
#include "latent/torchscript.h"
#include "model/model.h"
#include "model/scripted.h"
#include "model/vae_impl.h"
#include "objective/objective.h"
#include "test_support.h"

namespace latent {
namespace {

namespace fs = std::filesystem;

// Where the build put the models; empty (with the reason) when this machine has no python3-torch.
std::string models_dir() {
  const std::string dir = LATENT_TORCHSCRIPT_MODELS;
  if (dir.empty() || !fs::exists(dir + "/mlp.pt")) return "";
  return dir;
}

#define REQUIRE_MODELS()                                                                                  \
  const std::string models = models_dir();                                                              \
  if (models.empty()) {                                                                                 \
    /* CI installs python3-torch (scripts/setup); only a machine without it may skip. */                \
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "no TorchScript test models were built"; \
    GTEST_SKIP() << "python3-torch is not installed: no TorchScript test models";                       \
  }

torch::Tensor read_floats(const std::string& path, std::vector<int64_t> shape) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.size() % 4, 0u) << path;
  auto t = torch::from_blob(bytes.data(), {int64_t(bytes.size() / 4)}, torch::kFloat32).clone();
  return t.reshape(shape);
}

void write_floats(const std::string& path, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat32).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), std::streamsize(c.numel() * 4));
}

// Runs the helper's `check` on an exported file: Python's encode/decode of dir/x.bin.
void python_check(const std::string& file, const std::string& dir) {
  auto r = test::run_process({"/usr/bin/python3", LATENT_TORCHSCRIPT_HELPER, "check", file, dir}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The bound's terms on the same images and ε as Python's: summed over up to 2,352 values in float32 in
// another order (TorchScript's interpreter against eager PyTorch), they agree to 1e-4 of their size.
void expect_terms_match(const std::string& name, const ModelConfig& config, const std::string& models) {
  ModelPtr model = make_model(config);
  model->eval();
  const int64_t pixels = config.pixels();
  const torch::Tensor x = read_floats(models + "/" + name + "_x.bin", {-1, pixels});
  const torch::Tensor eps = read_floats(models + "/" + name + "_eps.bin", {x.size(0), config.latent_dim});
  const torch::Tensor recon = read_floats(models + "/" + name + "_recon.bin", {x.size(0)});
  const torch::Tensor kl = read_floats(models + "/" + name + "_kl.bin", {x.size(0)});
  torch::NoGradGuard no_grad;
  const ElboTerms t = elbo_terms(*model, x, eps);
  for (int64_t i = 0; i < x.size(0); ++i) {
    const double r = recon[i].item<double>(), k = kl[i].item<double>();
    EXPECT_NEAR(t.recon[i].item<double>(), r, 1e-4 * std::max(1.0, std::abs(r))) << name << " image " << i;
    EXPECT_NEAR(t.kl[i].item<double>(), k, 1e-4 * std::max(1.0, std::abs(k))) << name << " image " << i;
  }
}

TEST(TorchScript, UsersMlpGivesPythonsBound) {
  REQUIRE_MODELS();
  const ModelConfig c = load_torchscript(models + "/mlp.pt");
  EXPECT_EQ(c.architecture, "torchscript");
  EXPECT_EQ(c.latent_dim, 3);
  EXPECT_EQ(c.image_channels, 1);
  EXPECT_EQ(c.image_height, 28);
  EXPECT_EQ(c.image_width, 28);
  EXPECT_EQ(c.likelihood, ReconstructionLikelihood::Bernoulli);
  EXPECT_EQ(torchscript_step(c), -1);
  EXPECT_EQ(parameter_count(c), 784 * 96 + 96 + 96 * 6 + 6 + 3 * 96 + 96 + 96 * 784 + 784);
  expect_terms_match("mlp", c, models);
}

TEST(TorchScript, UsersConvWithBatchNormGivesPythonsBound) {
  REQUIRE_MODELS();
  const ModelConfig c = load_torchscript(models + "/conv.pt");
  EXPECT_EQ(c.latent_dim, 4);
  EXPECT_EQ(c.image_channels, 3);
  EXPECT_EQ(c.image_height, 20);
  EXPECT_EQ(c.image_width, 12);
  EXPECT_EQ(c.likelihood, ReconstructionLikelihood::Gaussian);
  EXPECT_DOUBLE_EQ(c.gaussian_sigma, 0.2);
  EXPECT_EQ(torchscript_step(c), 1234);
  expect_terms_match("conv", c, models);
  // The running statistics are the model's buffers: a copy gets them (the views' frozen copies).
  ModelPtr a = make_model(c), b = make_model(c, 0, /*initialize=*/false);
  torch::NoGradGuard no_grad;
  for (auto& p : a->parameters()) p.add_(0.01);
  for (auto& buffer : a->buffers())
    if (buffer.is_floating_point()) buffer.add_(0.5);  // batch norm's statistics (not its Long batch count)
  copy_weights(*a, *b);
  a->eval(), b->eval();
  const torch::Tensor x = torch::rand({4, c.pixels()});
  EXPECT_TRUE(torch::equal(a->encode(x).first, b->encode(x).first));
  EXPECT_TRUE(torch::equal(a->decode(a->encode(x).first), b->decode(a->encode(x).first)));
}

TEST(TorchScript, EveryBadFileIsRefusedWithItsReason) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  test::write_bytes(dir + "/empty.pt", {});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir + "/missing.pt", "not found"},
      {dir + "/empty.pt", "is empty"},
      {dir, "directory"},
      {models + "/bad_text.pt", "not a TorchScript file"},
      {models + "/bad_state_dict.pt", "torch.jit.save(torch.jit.script(model)"},
      {models + "/bad_no_decode.pt", "no method 'decode'"},
      {models + "/bad_decode_shape.pt", "decode(z) must return a float32 tensor [3, 1, 28, 28]"},
      {models + "/bad_encode_shape.pt", "mu is [3, 4]"},
      {models + "/bad_nan.pt", "NaN"},
      {models + "/bad_no_latent_dim.pt", "no attribute 'latent_dim'"},
      {models + "/bad_likelihood.pt", "likelihood 'poisson' is unknown"},
      {models + "/bad_image_shape.pt", "image_shape must be [C, H, W]"},
      {models + "/bad_double.pt", "Double"},
      {models + "/bad_newer.pt", "newer PyTorch than " + torch_version()},
  };
  for (const auto& [path, expected] : cases) {
    try {
      load_torchscript(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(expected), std::string::npos) << path << ": " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  EXPECT_NO_THROW(load_torchscript(models + "/bad_good.pt"));
}

// Our model, exported, loaded by Python: the same μ, log σ² and decoder output as ours; and loaded
// back here, the same bound as the model it came from.
void expect_export_round_trip(ModelConfig config) {
  const std::string dir = test::temp_dir();
  auto vae = std::make_shared<Vae>(std::make_shared<const VaeImpl>(make_model(config, 5), torch::Device(torch::kCPU)));
  Model& ours = vae->impl().model();
  ours.eval();
  const std::string file = dir + "/exported.pt";
  export_torchscript(*vae, file, 77);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({6, config.pixels()});
  write_floats(dir + "/x.bin", x);
  python_check(file, dir);
  auto [mu, logvar] = ours.encode(x);
  torch::Tensor decoded = ours.decode(mu);
  if (config.likelihood == ReconstructionLikelihood::Gaussian) decoded = torch::sigmoid(decoded);  // the contract's means
  EXPECT_TRUE(torch::allclose(read_floats(dir + "/py_mu.bin", mu.sizes().vec()), mu, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(read_floats(dir + "/py_logvar.bin", logvar.sizes().vec()), logvar, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(read_floats(dir + "/py_decoded.bin", decoded.sizes().vec()), decoded, 1e-5, 1e-5));
  std::ifstream attributes(dir + "/py_attributes.txt");
  int d = 0, c = 0, h = 0, w = 0;
  std::string likelihood;
  double sigma = 0;
  int64_t step = 0;
  attributes >> d >> c >> h >> w >> likelihood >> sigma >> step;
  EXPECT_EQ(d, config.latent_dim);
  EXPECT_EQ(c, config.image_channels);
  EXPECT_EQ(h, config.image_height);
  EXPECT_EQ(w, config.image_width);
  EXPECT_EQ(likelihood, to_string(config.likelihood));
  if (likelihood == "gaussian") EXPECT_DOUBLE_EQ(sigma, config.gaussian_sigma);
  EXPECT_EQ(step, 77);

  const ModelConfig back = load_torchscript(file);
  EXPECT_EQ(torchscript_step(back), 77);
  EXPECT_EQ(parameter_count(back), parameter_count(config));
  ModelPtr loaded = make_model(back);
  loaded->eval();
  const torch::Tensor eps = torch::randn({6, config.latent_dim});
  const ElboTerms a = elbo_terms(ours, x, eps), b = elbo_terms(*loaded, x, eps);
  EXPECT_TRUE(torch::allclose(a.recon, b.recon, 1e-5, 1e-3)) << a.recon << b.recon;
  EXPECT_TRUE(torch::allclose(a.kl, b.kl, 1e-5, 1e-4)) << a.kl << b.kl;
}

TEST(TorchScript, OurMlpExportsAndLoadsInPython) {
  REQUIRE_MODELS();
  ModelConfig c;
  c.latent_dim = 3;
  c.hidden = {64, 32};
  expect_export_round_trip(c);
}

TEST(TorchScript, OurConvExportsAndLoadsInPython) {
  REQUIRE_MODELS();
  ModelConfig c;
  c.architecture = "conv";
  c.image_channels = 3, c.image_height = 13, c.image_width = 11;  // odd sizes: output padding 0 and 1
  c.latent_dim = 5;
  c.channels = {8, 16};
  c.dense = {32};
  c.activation = Activation::Relu;
  c.likelihood = ReconstructionLikelihood::Gaussian;
  c.gaussian_sigma = 0.25;
  expect_export_round_trip(c);
}

TEST(TorchScript, UsersModelExportsWithItsCurrentWeightsAndStep) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  const ModelConfig c = load_torchscript(models + "/conv.pt");
  ModelPtr model = make_model(c);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.mul_(1.1);
  }
  model->eval();
  write_torchscript(*model, dir + "/tuned.pt", 2000);
  const torch::Tensor x = torch::rand({3, c.pixels()});
  write_floats(dir + "/x.bin", x);
  python_check(dir + "/tuned.pt", dir);
  torch::NoGradGuard no_grad;
  const torch::Tensor mu = model->encode(x).first;
  EXPECT_TRUE(torch::allclose(read_floats(dir + "/py_mu.bin", mu.sizes().vec()), mu, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(read_floats(dir + "/py_decoded.bin", {3, c.pixels()}), model->decode(mu), 1e-5, 1e-5));
  EXPECT_EQ(torchscript_step(load_torchscript(dir + "/tuned.pt")), 2000);
}

TEST(TorchScript, ModelsThatTheContractCannotHoldAreNotExported) {
  ModelConfig c;
  c.prior = "mog";
  c.prior_components = 3;
  EXPECT_NE(torchscript_export_problem(c).find("mog prior"), std::string::npos);
  c = ModelConfig{};
  c.classes = 10;
  EXPECT_NE(torchscript_export_problem(c).find("conditional"), std::string::npos);
  c = ModelConfig{};
  c.likelihood = ReconstructionLikelihood::Gaussian;
  c.learn_sigma = true;
  EXPECT_NE(torchscript_export_problem(c).find("learns it"), std::string::npos);
  auto vae = std::make_shared<Vae>(std::make_shared<const VaeImpl>(make_model(c), torch::Device(torch::kCPU)));
  const std::string file = test::temp_dir() + "/never.pt";
  EXPECT_THROW(export_torchscript(*vae, file), Error);
  EXPECT_FALSE(fs::exists(file));
}

// latent-train with --model: evaluation, fine-tuning (which lowers the loss), the saved model.pt,
// --export-torchscript of our own model, and the flags that conflict with a file.
test::ProcessResult train(std::vector<std::string> args) {
  args.insert(args.begin(), LATENT_TRAIN_BIN);
  return test::run_process(args, 300);
}

double field(const std::string& out, const std::string& line_start, const std::string& key) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(line_start, 0) == 0) {
      std::smatch m;
      if (std::regex_search(line, m, std::regex(key + "=([-0-9.e+]+)"))) return std::stod(m[1]);
    }
  ADD_FAILURE() << "no " << line_start << "... " << key << "= in:\n" << out;
  return NAN;
}

TEST(TorchScript, LatentTrainEvaluatesAndFineTunesAUsersModel) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  const std::vector<std::string> common = {"--model", models + "/mlp.pt", "--data", test::mnist_dir(), "--limit", "3000",
                                           "--eval-limit", "500", "--eval-iw", "20"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto before = train(with({"--epochs", "0", "--out", dir + "/before"}));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.err.find("torchscript mlp.pt"), std::string::npos) << before.err;
  const double loss_before = field(before.out, "eval ", "test_loss"), iw_before = field(before.out, "eval ", "test_iw_loss");
  EXPECT_LE(iw_before, loss_before);
  EXPECT_TRUE(fs::exists(dir + "/before/model.pt"));
  EXPECT_FALSE(fs::exists(dir + "/before/checkpoint.ckpt"));

  auto after = train(with({"--epochs", "2", "--out", dir + "/after"}));
  ASSERT_EQ(after.exit_code, 0) << after.err;
  const double loss_after = field(after.out, "eval ", "test_loss");
  EXPECT_LT(loss_after, loss_before - 20) << before.out << after.out;  // an untrained model: hundreds of nats to lose
  const ModelConfig tuned = load_torchscript(dir + "/after/model.pt");
  EXPECT_EQ(torchscript_step(tuned), 2 * ((3000 + 127) / 128));
  // The saved file is the tuned model: evaluated alone, the same bound.
  auto again = train({"--model", dir + "/after/model.pt", "--data", test::mnist_dir(), "--epochs", "0", "--eval-limit", "500",
                      "--out", dir + "/again"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NEAR(field(again.out, "eval ", "test_loss"), loss_after, 1e-3);
}

TEST(TorchScript, LatentTrainExportsOurModelWithTheSameBound) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  auto run = train({"--data", test::mnist_dir(), "--limit", "1000", "--epochs", "1", "--hidden", "64", "--latent", "4",
                    "--eval-limit", "500", "--out", dir + "/ours", "--export-torchscript", dir + "/ours.pt"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto back = train({"--model", dir + "/ours.pt", "--data", test::mnist_dir(), "--epochs", "0", "--eval-limit", "500", "--out",
                     dir + "/back"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_NEAR(field(back.out, "eval ", "test_loss"), field(run.out, "eval ", "test_loss"), 1e-3);
}

TEST(TorchScript, LatentTrainRefusesWhatDoesNotFitTheFile) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--model", models + "/mlp.pt", "--latent", "5"}, "--latent: the model file"},
      {{"--model", models + "/mlp.pt", "--arch", "conv"}, "--arch: the model file"},
      {{"--model", models + "/mlp.pt", "--resume", dir + "/x.ckpt"}, "--model and --resume"},
      {{"--model", models + "/conv.pt"}, "--size HxW"},
      {{"--model", models + "/bad_text.pt"}, "not a TorchScript file"},
      {{"--model", dir + "/none.pt"}, "not found"},
      {{"--prior", "vamp", "--export-torchscript", dir + "/v.pt"}, "--export-torchscript: the contract's prior"},
      {{"--export-torchscript", dir}, "--export-torchscript " + dir},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    for (const std::string& a : std::vector<std::string>{"--data", test::mnist_dir(), "--epochs", "0", "--out", dir + "/out"})
      args.push_back(a);
    auto r = train(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace latent

// ---- A module from someone else: what it may not do, and the time limit on its code ----

namespace latent {
namespace {

// Restores the time limit a test changed.
struct TimeLimit {
  explicit TimeLimit(double seconds) : before(user_code_time_limit()) { set_user_code_time_limit(seconds); }
  ~TimeLimit() { set_user_code_time_limit(before); }
  double before;
};

std::string load_error(const std::string& path) {
  try {
    load_torchscript(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(UntrustedTorchScript, ModulesThatReachPastTheirTensorsAreRefusedBeforeAnyOfTheirCodeRuns) {
  REQUIRE_MODELS();
  const std::string written = models + "/written_by_model.bin";
  fs::remove(written);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"from_file", "uses aten::from_file, which reads or writes a file"},
      {"save", "uses aten::save, which writes a file"},
      {"setstate", "defines __setstate__"},
      {"fork", "starts work on another thread"},
      {"bomb", "inflate to 128 MiB"},
  };
  for (const auto& [name, expected] : cases) {
    const std::string path = models + "/hostile_" + name + ".pt";
    const std::string what = load_error(path);
    EXPECT_NE(what.find(path), std::string::npos) << name << ": " << what;
    EXPECT_NE(what.find(expected), std::string::npos) << name << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_FALSE(fs::exists(written)) << name << " wrote " << written;
  }
  // The same file's module, loaded in Python and called, does write it (the check above is real).
  auto r = test::run_process({"/usr/bin/python3", "-c",
                              "import torch, sys; m = torch.jit.load(sys.argv[1]); m.encode(torch.rand(3, 1, 28, 28))",
                              models + "/hostile_from_file.pt"},
                             120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(written));
  fs::remove(written);
}

// Files built so that LibTorch would read something other than what the checks read.
TEST(UntrustedTorchScript, AnArchiveThatReadsTwoWaysIsRefused) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  std::vector<uint8_t> bytes = test::read_bytes(models + "/bad_good.pt");
  // Also a flatbuffer: LibTorch checks for "PTMF" at byte 4 before it looks for a zip.
  std::vector<uint8_t> flat = bytes;
  std::copy_n("PTMF", 4, flat.begin() + 4);
  test::write_bytes(dir + "/flat.pt", flat);
  EXPECT_NE(load_error(dir + "/flat.pt").find("also a mobile (flatbuffer) model"), std::string::npos) << load_error(dir + "/flat.pt");
  // __setstate__ in a record whose name differs only in case (LibTorch finds records ignoring case).
  auto r = test::run_process({"/usr/bin/python3", "-c",
                              "import zipfile, sys\n"
                              "src = zipfile.ZipFile(sys.argv[1])\n"
                              "out = zipfile.ZipFile(sys.argv[2], 'w')\n"
                              "for i in src.infolist():\n"
                              "    out.writestr(i, src.read(i.filename))\n"
                              "out.writestr('bad_good/CODE/__torch__/x.PY', 'def __setstate__(self, s):\\n  pass\\n')\n",
                              models + "/bad_good.pt", dir + "/cased.pt"},
                             60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(load_error(dir + "/cased.pt").find("defines __setstate__"), std::string::npos) << load_error(dir + "/cased.pt");
}

TEST(UntrustedTorchScript, ALoopingModuleIsStoppedAtTheTimeLimitWithTheMethodNamed) {
  REQUIRE_MODELS();
  TimeLimit limit(1);
  const auto begin = std::chrono::steady_clock::now();
  const std::string what = load_error(models + "/hostile_loop_on_probe.pt");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_NE(what.find("encode ran past the time limit of 1 s"), std::string::npos) << what;
  EXPECT_LT(seconds, 5);
  // One that passes the probe and loops on a larger batch: the call throws UserCodeStopped.
  const ModelConfig c = load_torchscript(models + "/hostile_loop_later.pt");
  ModelPtr model = make_model(c);
  torch::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(model->encode(torch::rand({8, 784})), UserCodeStopped);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5);
  EXPECT_NO_THROW(model->encode(torch::rand({3, 784})));  // the same module, within its limit, still works
}

// A module's tensors come out of what it may hold (7/8 of the memory available, or a limit set):
// an allocation past it is refused before it is made, with the method and sizes named, rather than
// the kernel's OOM killer ending the program; what the call held is freed, and the module still runs
// on a batch it can afford.
TEST(UntrustedTorchScript, AModuleAskingForMoreMemoryThanItMayHaveIsRefusedBeforeItIsAllocated) {
  REQUIRE_MODELS();
  torch::NoGradGuard no_grad;
  const int64_t before = user_code_memory();
  ModelPtr greedy = make_model(load_torchscript(models + "/hostile_asks_too_much.pt"));
  try {
    greedy->encode(torch::rand({8, 784}));
    ADD_FAILURE() << "a 16 TiB tensor was allocated";
  } catch (const UserCodeStopped& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("encode asked for 17592.2 GB more memory"), std::string::npos) << what;
    EXPECT_NE(what.find("a user's model may take here (7/8 of what"), std::string::npos) << what;
    EXPECT_NE(what.find("refused before it is allocated"), std::string::npos) << what;
    EXPECT_FALSE(e.interrupted());
  }
  EXPECT_NO_THROW(greedy->encode(torch::rand({3, 784})));

  ModelPtr hoarder = make_model(load_torchscript(models + "/hostile_hoards.pt"));
  set_user_code_memory_limit(int64_t(256) << 20);
  try {
    hoarder->encode(torch::rand({8, 784}));
    ADD_FAILURE() << "the hoarding module was not stopped";
  } catch (const UserCodeStopped& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("encode asked for 67 MB more memory while its calls held"), std::string::npos) << what;
    EXPECT_NE(what.find("the limit set for a user's model"), std::string::npos) << what;
  }
  set_user_code_memory_limit(0);
  EXPECT_LE(user_code_memory(), before + (int64_t(1) << 20)) << "the refused call's blocks were not all freed";
  EXPECT_NO_THROW(hoarder->encode(torch::rand({3, 784})));
  // latent-train ends on it with exit 2, naming it.
  const auto run = train({"--model", models + "/hostile_asks_too_much.pt", "--data", test::mnist_dir(), "--limit", "256",
                          "--epochs", "1", "--out", test::temp_dir() + "/greedy"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("encode asked for 17592.2 GB more memory"), std::string::npos) << run.err;
}

TEST(UntrustedTorchScript, AModulesOwnErrorIsInTheMessage) {
  REQUIRE_MODELS();
  const std::string what = load_error(models + "/hostile_raise_on_probe.pt");
  EXPECT_NE(what.find("ValueError: the model's own words: batch too large for this encoder"), std::string::npos) << what;
  EXPECT_NE(what.find("encode failed"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(UntrustedTorchScript, LatentTrainGivesUpOnALoopingModuleWithExit2AndStopsOnSigterm) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  auto looping = train({"--model", models + "/hostile_loop_later.pt", "--data", test::mnist_dir(), "--limit", "256",
                        "--epochs", "1", "--model-time-limit", "2", "--out", dir + "/a"});
  EXPECT_EQ(looping.exit_code, 2) << looping.err;
  EXPECT_NE(looping.err.find("encode ran past the time limit of 2 s"), std::string::npos) << looping.err;
  EXPECT_LT(looping.seconds, 2 + 5 + 10);  // the limit, the grace, and start-up
  // Interrupted while the module loops (no limit to save it): exit 130, promptly.
  auto args = std::vector<std::string>{LATENT_TRAIN_BIN, "--model", models + "/hostile_loop_later.pt", "--data", test::mnist_dir(),
                                       "--limit", "256", "--epochs", "1", "--model-time-limit", "0", "--out", dir + "/b"};
  auto interrupted = test::run_process(args, 120, 8);
  EXPECT_EQ(interrupted.exit_code, 130) << interrupted.err;
  EXPECT_LT(interrupted.seconds, 8 + 5);
}

TEST(UntrustedTorchScript, AModulesPrintCannotForgeLatentTrainsOutput) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  auto r = train({"--model", models + "/hostile_print.pt", "--data", test::mnist_dir(), "--limit", "256", "--epochs", "0",
                  "--eval-limit", "100", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("epoch=999"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[model print] epoch=999"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "an escape reached the terminal";
  EXPECT_NE(r.err.find("\\x1b[2J"), std::string::npos) << r.err;
}

TEST(UntrustedTorchScript, AFileNameCannotForgeASecondErrorLine) {
  REQUIRE_MODELS();
  const std::string dir = test::temp_dir();
  const std::string name = dir + "/model.pt\nerror: forged line \x1b[31m";
  test::write_bytes(name, {'x'});
  auto r = train({"--model", name, "--data", test::mnist_dir(), "--epochs", "0", "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2);
  size_t lines = 0;
  for (size_t at = 0; (at = r.err.find("error:", at)) != std::string::npos; at += 6) ++lines;
  EXPECT_EQ(lines, 2u) << r.err;  // the real one, and the forged text inside it, escaped on the same line
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("model.pt\\nerror: forged line \\x1b[31m"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace latent
