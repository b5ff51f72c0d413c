// Where a training step's time goes, how many FLOPs it does, and how that compares with the sgemm
// rate of the same core(s). The trainer's own pieces (its training step, Adam) on random images, so
// no dataset is needed.
//   build/bench/step_profile [--arch mlp|conv] [--hidden 400] [--channels 32,64] [--dense 256] [--latent 20]
//                            [--activation relu|elu] [--batch 128] [--steps 600] [--threads 1]
//                            [--parallel batch|blas] [--engine auto|autograd|handwritten]
// --engine picks the step as the trainer does (auto: the hand-written one for the MLP on the CPU),
// or one of them, to compare the two on the MLP. FLOPs and the sgemm reference are the MLP's only.
// With --threads T > 1 and --parallel batch (the trainer's default) the step is split as the trainer
// splits it: T shards of the batch, each a forward and backward on its own thread, then Adam with
// each thread on a slice of every parameter; the sgemm reference is then T × one core's rate.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "train/adam.h"
#include "train/kernels.h"
#include "latent/config.h"
#include "latent/platform.h"
#include "latent/trainer.h"
#include "train/shard_pool.h"
#include "model/model.h"
#include "objective/objective.h"
#include "train/training_step.h"

using namespace latent;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Best-of-5 rate of C[m,n] = A[m,k]·B[k,n] (optionally transposed operands, as the step uses them).
double sgemm_gflops(int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b) {
  auto a = trans_a ? torch::randn({k, m}).t() : torch::randn({m, k});
  auto b = trans_b ? torch::randn({n, k}).t() : torch::randn({k, n});
  auto c = torch::empty({m, n});
  for (int i = 0; i < 10; ++i) at::mm_out(c, a, b);
  const int reps = std::max<int64_t>(20, int64_t(4e9 / double(2 * m * k * n)));
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    auto t = Clock::now();
    for (int i = 0; i < reps; ++i) at::mm_out(c, a, b);
    best = std::max(best, 2.0 * double(m * k * n) * reps / seconds_since(t) / 1e9);
  }
  return best;
}

// MLP only: its FLOPs per step against this machine's sgemm rate.
void print_mlp_flops(const ModelConfig& model, int batch, int steps, double total, int shards) {
  const int64_t pixels = model.pixels();
  // MACs per image: forward through every Linear; backward computes ∂W for each and ∂input for all
  // but the first encoder layer (the data needs no gradient). FLOPs = 2 · MACs.
  std::vector<std::pair<int64_t, int64_t>> layers;  // (in, out)
  int64_t in = pixels;
  for (int h : model.hidden) layers.push_back({in, h}), in = h;
  layers.push_back({in, 2 * int64_t(model.latent_dim)});  // μ and log σ² heads
  in = model.latent_dim;
  for (auto it = model.hidden.rbegin(); it != model.hidden.rend(); ++it) layers.push_back({in, *it}), in = *it;
  layers.push_back({in, pixels});
  double forward_macs = 0;
  for (auto [i, o] : layers) forward_macs += double(i * o);
  const double macs = 3 * forward_macs - double(layers[0].first * layers[0].second);
  const double step_flops = 2 * macs * batch;
  const double achieved = step_flops * steps / total / 1e9;

  // The sgemm rate on this machine with the same threads: a large square product, and the shapes
  // the default model's step runs (forward, ∂input, ∂W).
  const int64_t h = model.hidden.front();
  const double square = sgemm_gflops(1024, 1024, 1024, false, false);
  const double fwd = sgemm_gflops(batch, pixels, h, false, true);
  const double grad_in = sgemm_gflops(batch, pixels, h, false, false);
  const double grad_w = sgemm_gflops(h, batch, pixels, true, false);
  // In batch mode each GEMM runs on one core and `shards` of them at once.
  const double peak = std::max({square, fwd, grad_in, grad_w}) * shards;

  std::printf("FLOPs per step %.1f M (%.2f MFLOP per image)\n", step_flops / 1e6, 2 * macs / 1e6);
  std::printf("sgemm GFLOP/s: 1024^3 %.1f, %lldx%lldx%lld (forward) %.1f, (grad input) %.1f, %lldx%lldx%lld (grad W) %.1f\n",
              square, (long long)batch, (long long)pixels, (long long)h, fwd, grad_in, (long long)h, (long long)batch,
              (long long)pixels, grad_w);
  std::printf("achieved %.1f GFLOP/s = %.0f%% of the best sgemm rate%s (%.1f)\n", achieved, 100 * achieved / peak,
              shards > 1 ? " on one core times the shards" : "", peak);
}

// Any model through autograd: the step's phases, one thread, as AutogradStep runs them.
void print_phases(Model& net, const torch::Tensor& x, int batch, int steps) {
  torch::AutoGradMode grad_mode(true);
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(3);
  std::vector<torch::Tensor> params;
  for (auto& [name, p] : named_trainables(net)) params.push_back(p);
  double encode = 0, decode = 0, loss = 0, backward = 0;
  for (int s = 0; s < steps; ++s) {
    const auto eps = torch::randn({batch, net.config().latent_dim}, gen, torch::kFloat32);
    const auto t0 = Clock::now();
    auto [mu, logvar] = net.encode(x);
    const auto t1 = Clock::now();
    const torch::Tensor out = net.decode(reparameterize(mu, logvar, eps));
    const auto t2 = Clock::now();
    const torch::Tensor l = (reconstruction_nll(net, out, x).sum() + kl_per_dim(mu, logvar).sum()) / double(batch);
    const auto t3 = Clock::now();
    torch::autograd::grad({l}, params, {}, false, false, true);
    const auto t4 = Clock::now();
    using D = std::chrono::duration<double>;
    encode += D(t1 - t0).count(), decode += D(t2 - t1).count(), loss += D(t3 - t2).count(), backward += D(t4 - t3).count();
  }
  std::printf("autograd phases per step (1 thread, %d steps): encode %.3f ms, decode %.3f ms, loss %.3f ms, backward %.3f ms\n",
              steps, 1e3 * encode / steps, 1e3 * decode / steps, 1e3 * loss / steps, 1e3 * backward / steps);
}

}  // namespace

int main(int argc, char** argv) {
  ModelConfig model;
  model.hidden = {400};
  model.latent_dim = 20;
  model.activation = Activation::Relu;
  int batch = 128, steps = 600, threads = 1;
  ParallelMode parallel = ParallelMode::Batch;
  StepEngine engine = StepEngine::Auto;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--hidden") model.hidden = parse_hidden(value);
    else if (flag == "--arch") model.architecture = value;
    else if (flag == "--channels") model.channels = parse_channels(value);
    else if (flag == "--dense") model.dense = parse_dense(value);
    else if (flag == "--engine")
      engine = value == "autograd" ? StepEngine::Autograd : value == "handwritten" ? StepEngine::HandWritten : StepEngine::Auto;
    else if (flag == "--latent") model.latent_dim = std::stoi(value);
    else if (flag == "--activation") model.activation = value == "elu" ? Activation::Elu : Activation::Relu;
    else if (flag == "--batch") batch = std::stoi(value);
    else if (flag == "--steps") steps = std::stoi(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--parallel") parallel = parse_parallel(value);
    else {
      std::fprintf(stderr, "error: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  set_compute_threads(threads, parallel);
  const int shards = parallel == ParallelMode::Batch ? threads : 1;
  torch::manual_seed(1);

  ModelPtr net = make_model(model, 1);
  Adam adam(named_trainables(*net), 1e-3);
  std::unique_ptr<TrainingStep> first_step = make_training_step(*net, TrainingStep::Gradients::IntoParameters, engine);
  TrainingStep& step = *first_step;
  ShardPool pool(shards, "latent-shard");
  std::vector<std::unique_ptr<TrainingStep>> shard_steps;
  std::vector<const std::vector<torch::Tensor>*> shard_gradients;
  for (int i = 1; i < shards; ++i) {
    shard_steps.push_back(make_training_step(*net, TrainingStep::Gradients::Own, engine));
    shard_gradients.push_back(&shard_steps.back()->gradients());
  }
  std::vector<double> shard_busy(size_t(shards), 0.0);  // seconds each shard spent in its forward+backward
  const int64_t pixels = model.pixels();
  // Bytes as the dataset keeps them, gathered and scaled to x = byte / 255 as the trainer does.
  auto data = torch::randint(0, 256, {8192, pixels}, torch::kUInt8);
  auto x = torch::empty({batch, pixels}, torch::kFloat32);
  auto order = torch::randperm(8192, torch::kInt64);
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(7);

  double t_gather = 0, t_noise = 0, t_step = 0, t_adam = 0;
  auto one = [&](int s, bool timed) {
    const int64_t first_row = (int64_t(s) * batch) % (8192 - batch);
    auto t0 = Clock::now();
    if (shards == 1)
      gather_unit_floats(data.data_ptr<uint8_t>(), pixels, order.data_ptr<int64_t>() + first_row, batch,
                         x.data_ptr<float>());
    auto t1 = Clock::now();
    auto eps = torch::randn({batch, model.latent_dim}, gen, torch::kFloat32);
    auto t2 = Clock::now();
    if (shards == 1) {
      step.run(x, eps, 1.0);
    } else {
      // As the trainer runs it: each shard gathers its rows and runs them (the gather is then
      // inside "forward+backward").
      pool.run([&](int shard) {
        const auto busy_from = Clock::now();
        const auto [a, b] = ShardPool::slice(batch, shard, shards);
        gather_unit_floats(data.data_ptr<uint8_t>(), pixels, order.data_ptr<int64_t>() + first_row + a, b - a,
                           x.data_ptr<float>() + a * pixels);
        TrainingStep& mine = shard == 0 ? step : *shard_steps[size_t(shard - 1)];
        mine.run(x.narrow(0, a, b - a), eps.narrow(0, a, b - a), 1.0, batch);
        if (timed) shard_busy[size_t(shard)] += seconds_since(busy_from);
      });
    }
    auto t3 = Clock::now();
    if (shards == 1)
      adam.step();
    else
      adam.step(pool, shard_gradients);
    auto t4 = Clock::now();
    if (!timed) return;
    using D = std::chrono::duration<double>;
    t_gather += D(t1 - t0).count(), t_noise += D(t2 - t1).count(), t_step += D(t3 - t2).count(),
        t_adam += D(t4 - t3).count();
  };
  for (int s = 0; s < 30; ++s) one(s, false);
  auto start = Clock::now();
  for (int s = 0; s < steps; ++s) one(s, true);
  const double total = seconds_since(start);

  std::printf("model %s, latent %d, Bernoulli, batch %d, %d steps, threads %d (%s), %s\n", describe_layers(model).c_str(),
              model.latent_dim, batch, steps, threads,
              shards > 1 ? "each a share of the batch" : threads > 1 ? "OpenBLAS splits each product" : "one thread", step.name());
  std::printf("blas: %s\n", blas_description().c_str());
  std::printf("samples/s %.0f   (%.3f ms/step)\n", double(batch) * steps / total, 1e3 * total / steps);
  std::printf("time per step: gather %.3f ms, noise %.3f ms, forward+backward %.3f ms, adam %.3f ms\n",
              1e3 * t_gather / steps, 1e3 * t_noise / steps, 1e3 * t_step / steps, 1e3 * t_adam / steps);
  if (shards > 1) {
    std::printf("shards' busy time in forward+backward (of %.3f ms):", 1e3 * t_step / steps);
    for (double b : shard_busy) std::printf(" %.3f", 1e3 * b / steps);
    std::printf(" ms\n");
  }
  if (model.architecture == "mlp") print_mlp_flops(model, batch, steps, total, shards);
  else print_phases(*net, x, batch, std::max(10, steps / 5));
  std::printf("command: build/bench/step_profile");
  for (int i = 1; i < argc; ++i) std::printf(" %s", argv[i]);
  std::printf("\n");
  return 0;
}
