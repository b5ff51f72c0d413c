// latent-train: trains a VAE headlessly over latent_core and writes metrics, a checkpoint and PNGs.
// Contract (scripts and benchmarks depend on it): one key=value line per epoch on stdout; exit 0 on
// success, 2 on any bad flag, value, dataset or checkpoint (one "error:" line on stderr), 3 when
// training diverges, 130 when interrupted (after saving a checkpoint).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>

#include "cli/analysis.h"
#include "latent/bounds.h"
#include "latent/checkpoint.h"
#include "latent/torchscript.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/image_io.h"
#include "latent/inference.h"
#include "latent/options.h"
#include "latent/resources.h"
#include "latent/platform.h"
#include "latent/trainer.h"
#include "latent/startup_heap.h"

namespace {

using namespace latent;

std::atomic<bool> g_interrupted{false};

// The first Ctrl+C (or SIGTERM) stops training after the step under way, and stops a call into a
// user's module at its next loop iteration; a second one ends the program at once.
void on_signal(int) {
  if (g_interrupted.exchange(true)) std::_Exit(130);
  interrupt_user_code();
}

// A call into a user's module that is stuck inside one operation cannot be stopped at a loop: past
// its limit and a grace of 5 s, latent-train gives up on it and exits 2.
void watch_user_code(double limit) {
  if (limit <= 0) return;
  std::thread([limit] {
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      std::string what;
      const double seconds = longest_user_code_call(&what);
      if (seconds > limit + 5) {
        std::fprintf(stderr, "error: %s has run for %.0f s, past the time limit of %g s (--model-time-limit), and cannot be stopped\n",
                     printable(what).c_str(), seconds, limit);
        std::_Exit(2);
      }
    }
  }).detach();
}

const char* kUsage =
    "usage: latent-train [flags]\n"
    "Trains a variational autoencoder and writes metrics.csv, checkpoint.ckpt and PNGs into --out.\n\n";

const char* kEvalHelp = R"(Final evaluation (one extra stdout line, "eval images=N test_loss= ..."):
  --eval-iw K             also the importance-weighted bound with K samples: test_iw_loss=
  --eval-exact            also -log p(x) by grid integration over z (2-D latents): test_nll_exact=
  --eval-limit N          evaluate on the first N test images only (these estimates are costly)
Also written: scores.csv (-ELBO, recon and KL of every test image), least-likely.png, and for a
latent of more than 2 dims traversals.png; on a set with known factors (shapes) a "mig=" line.
  --ood DATA              also score DATA's test set (same image size), add it to scores.csv,
                          and print ood_auroc=: how well -ELBO tells DATA from the test set
  --export-latents FILE   write mu and log sigma^2 of every test image, with its label, as CSV
  --eval-corrupt KIND:X   reconstruct corrupted test images (as --corrupt) and print their
                          error against the clean ones: denoise ... recon_mse_corrupted=, and
                          denoised.png [the run's --corrupt]
  --export-torchscript FILE  also write the trained model as TorchScript (docs/torchscript.md),
                          which torch.jit.load in Python and --model here read
)";

struct EvalOptions {
  int iw = 0;
  bool exact = false;
  int64_t limit = 0;
  std::string ood;             // --ood: a second dataset to score
  std::string export_latents;  // --export-latents: a CSV file
  std::optional<Corruption> corrupt;  // --eval-corrupt
  std::string export_torchscript;     // --export-torchscript: a .pt file
  bool any() const { return iw > 0 || exact || limit > 0; }
};

EvalOptions parse_eval_options(const std::vector<std::string>& unparsed) {
  EvalOptions e;
  for (size_t i = 0; i < unparsed.size(); ++i) {
    const std::string& flag = unparsed[i];
    if (flag == "--eval-exact") {
      e.exact = true;
    } else if (flag == "--eval-iw") {
      int64_t k = parse_int(flag, unparsed[++i]);
      if (k < 1 || k > 100000) throw Error(flag + ": " + unparsed[i] + " is out of range (1..100000)");
      e.iw = int(k);
    } else if (flag == "--ood") {
      e.ood = unparsed[++i];
      if (e.ood.empty()) throw Error("--ood: needs a dataset (a name or a path)");
    } else if (flag == "--eval-corrupt") {
      try {
        e.corrupt = parse_corruption(unparsed[++i]);
      } catch (const Error& problem) {
        throw Error(flag + ": " + problem.what());
      }
    } else if (flag == "--export-latents") {
      e.export_latents = unparsed[++i];
      if (e.export_latents.empty()) throw Error("--export-latents: needs a file name");
    } else if (flag == "--export-torchscript") {
      e.export_torchscript = unparsed[++i];
      if (e.export_torchscript.empty()) throw Error("--export-torchscript: needs a file name");
    } else if (flag == "--eval-limit") {
      int64_t n = parse_int(flag, unparsed[++i]);
      if (n < 1) throw Error(flag + ": must be >= 1");
      e.limit = n;
    }
  }
  return e;
}

// Applies what a checkpoint says, unless a flag said otherwise; architecture flags must agree.
void merge_resume(RunOptions& o, const Checkpoint& c) {
  auto given = [&](const char* flag) { return o.given.count(flag) > 0; };
  auto mismatch = [&](const char* flag, const std::string& ours, const std::string& theirs) {
    if (given(flag) && ours != theirs)
      throw Error(std::string(flag) + " " + ours + " does not match the checkpoint " + o.resume + " (" + theirs + ")");
  };
  mismatch("--latent", std::to_string(o.model.latent_dim), std::to_string(c.model.latent_dim));
  mismatch("--arch", o.model.architecture, c.model.architecture);
  mismatch("--hidden", format_widths(o.model.hidden), format_widths(c.model.hidden));
  mismatch("--channels", format_widths(o.model.channels), format_widths(c.model.channels));
  mismatch("--dense", format_dense(o.model.dense), format_dense(c.model.dense));
  mismatch("--activation", to_string(o.model.activation), to_string(c.model.activation));
  mismatch("--likelihood", to_string(o.model.likelihood), to_string(c.model.likelihood));
  mismatch("--prior", o.model.prior, c.model.prior);
  mismatch("--prior-components", std::to_string(o.model.prior_components), std::to_string(c.model.prior_components));
  if (o.conditional && !c.model.conditional())
    throw Error("--conditional does not match the checkpoint " + o.resume + " (a plain VAE)");
  o.model = c.model;
  TrainConfig t = c.train;
  if (given("--batch")) t.batch_size = o.train.batch_size;
  if (given("--lr")) t.learning_rate = o.train.learning_rate;
  if (given("--lr-schedule")) t.lr_schedule = o.train.lr_schedule;
  if (given("--beta")) t.beta = o.train.beta;
  if (given("--warmup-epochs")) t.warmup_epochs = o.train.warmup_epochs;
  if (given("--corrupt")) t.corrupt = o.train.corrupt;
  if (given("--seed")) t.seed = o.train.seed;
  if (given("--limit")) t.limit = o.train.limit;
  t.threads = o.train.threads;
  t.parallel = o.train.parallel;
  t.device = o.train.device;
  // --epochs N on a resume means N more epochs.
  t.epochs = c.progress.epoch + (given("--epochs") ? o.train.epochs : 10);
  o.train = t;
  if (!given("--data")) {
    if (!Dataset::is_name(c.dataset))
      throw Error(o.resume + ": the checkpoint was trained on '" + c.dataset + "'; pass --data with its folder or file");
    o.data = c.dataset;
  }
}

constexpr const char* kMetricsHeader =
    "kind,step,epoch,recon,kl,beta,loss,learning_rate,test_recon,test_kl,test_loss,seconds,samples_per_s";

// The files a run writes into --out.
const char* const kOutputs[] = {"metrics.csv",       "checkpoint.ckpt", "model.pt", "reconstructions.png", "samples.png",
                                "interpolation.png", "manifold.png",    "scores.csv",          "least-likely.png",
                                "traversals.png",    "pseudo_inputs.png", "denoised.png"};

// --out made and writable, and no output's name taken by something that is not a file: refused now,
// not after the training.
void check_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("--out " + dir + ": cannot create directory (" + ec.message() + ")");
  if (!std::filesystem::is_directory(dir, ec)) throw Error("--out " + dir + ": is not a directory");
  const std::string probe = dir + "/.write-test-" + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("--out " + dir + ": cannot write there (" + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(probe.c_str());
  for (const char* name : kOutputs) {
    const std::string path = dir + "/" + name;
    const std::string what = describe_path(path);
    if (what != "" && what != "missing") throw Error("--out " + dir + ": " + name + " is " + what + "; cannot write " + path);
    if (what.empty() && ::access(path.c_str(), W_OK) != 0)
      throw Error("--out " + dir + ": cannot overwrite " + path + " (" + std::strerror(errno) + ")");
  }
}

class MetricsCsv {
 public:
  // A new run writes a new file. A resumed run keeps the rows of the file it continues, up to the
  // checkpoint's step (rows past it belong to a later save that was not resumed), and appends.
  MetricsCsv(const std::string& path, int64_t resumed_step) {
    bool append = false;
    if (resumed_step >= 0 && describe_path(path).empty()) {
      std::ifstream in(path);
      std::string line;
      const bool ours = std::getline(in, line) && line == kMetricsHeader;
      if (!ours) throw Error(path + ": exists and is not latent-train's metrics; resume into another --out");
      const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
      {
        std::ofstream kept(tmp, std::ios::trunc);
        kept << kMetricsHeader << '\n';
        while (std::getline(in, line)) {
          const size_t comma = line.find(',');
          if (comma == std::string::npos) continue;
          char* end = nullptr;
          const long long step = std::strtoll(line.c_str() + comma + 1, &end, 10);
          if (end && *end == ',' && step <= resumed_step) kept << line << '\n';
        }
        if (!kept) throw Error(path + ": cannot keep the earlier rows (" + std::strerror(errno) + ")");
      }
      if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(path + ": cannot keep the earlier rows (" + std::strerror(errno) + ")");
      }
      append = true;
    }
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    if (!out_) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
    if (!append) out_ << kMetricsHeader << '\n';
  }
  void step(const StepRecord& s) {
    char line[256];
    std::snprintf(line, sizeof line, "step,%lld,%.6f,%.6g,%.6g,%.6g,%.6g,%.6g,,,,,\n", (long long)s.step, s.epoch,
                  s.recon, s.kl, s.beta, s.loss, s.learning_rate);
    out_ << line;
  }
  void epoch(const EpochRecord& e) {
    char line[256];
    std::snprintf(line, sizeof line, "epoch,%lld,%d,,,,%.6g,,%.6g,%.6g,%.6g,%.3f,%.1f\n", (long long)e.step, e.epoch,
                  e.train_loss, e.test_recon, e.test_kl, e.test_loss, e.seconds, e.samples_per_s);
    out_ << line;
    out_.flush();
  }

 private:
  std::ofstream out_;
};

void write_pictures(const Vae& vae, const Dataset& data, const std::string& dir) {
  const int shown = int(std::min<int64_t>(16, data.test_size()));
  std::vector<int64_t> first(static_cast<size_t>(shown));
  for (int i = 0; i < shown; ++i) first[size_t(i)] = i;
  ImageBatch originals = data.test_images(first);
  ImageBatch recon = vae.reconstruct(originals);
  write_png(dir + "/reconstructions.png",
            upscale(stack_rows({tile_images(originals, 1, shown), tile_images(recon, 1, shown)}), 2));
  const ModelConfig& model = vae.config();
  if (!model.conditional()) {
    write_png(dir + "/samples.png", upscale(tile_images(vae.sample_prior(64, 7), 8, 8), 2));
  } else {
    // A class × sample grid: each column one z from p(z), decoded under each class (a row each, the
    // first 20), so that what the class changes (content) and what z keeps (style) can be seen.
    std::vector<int32_t> rows(size_t(std::min(model.classes, 20)));
    std::iota(rows.begin(), rows.end(), 0);
    const int cols = 8;
    write_png(dir + "/samples.png",
              upscale(tile_images(vae.decode_under_classes(vae.sample_latents(cols, 7), rows), int(rows.size()), cols), 2));
  }
  // Between the first two test images; for a conditional model, the first two of the first test
  // image's class, decoded under that class.
  std::vector<int64_t> ends_index;
  const auto& labels = data.test_labels();
  for (int64_t i = 0; i < data.test_size() && ends_index.size() < 2; ++i)
    if (!model.conditional() || labels[size_t(i)] == labels[0]) ends_index.push_back(i);
  if (ends_index.size() == 2) {
    const ImageBatch end_images = data.test_images(ends_index);
    Posterior ends = vae.encode(end_images);
    const std::vector<int32_t> under = model.conditional() ? std::vector<int32_t>{end_images.labels[0]} : std::vector<int32_t>{};
    const int steps = 12;
    ImageBatch lerp = vae.decode(interpolate(ends.mu.row(0), ends.mu.row(1), steps, Interpolation::Linear), under);
    ImageBatch slerp = vae.decode(interpolate(ends.mu.row(0), ends.mu.row(1), steps, Interpolation::Spherical), under);
    write_png(dir + "/interpolation.png",
              upscale(stack_rows({tile_images(lerp, 1, steps), tile_images(slerp, 1, steps)}), 2));
  }
  if (ImageBatch pseudo = vae.pseudo_inputs(); pseudo.count > 0) {
    // The VampPrior's first 64 pseudo-inputs: the images its components are the posteriors of.
    const int n = int(std::min<int64_t>(64, pseudo.count)), cols = std::min(n, 8);
    pseudo.count = n;
    pseudo.pixels.resize(size_t(n) * size_t(pseudo.pixels_per_image()));
    write_png(dir + "/pseudo_inputs.png", upscale(tile_images(pseudo, (n + cols - 1) / cols, cols), 2));
  }
  if (model.latent_dim == 2) {
    GridSpec grid;
    grid.k = 20;
    if (model.conditional() && !labels.empty()) grid.label = labels[0];  // under the first test image's class
    write_png(dir + "/manifold.png", tile_images(decode_grid(vae, grid), 20, 20, 1));
  }
}

int run(int argc, char** argv) {
  RunOptions o = parse_run_options(argc, argv, {"--eval-iw", "--eval-limit", "--ood", "--export-latents", "--eval-corrupt", "--export-torchscript"},
                                 {"--eval-exact"});
  if (o.help) {
    std::printf("%s%s%s", kUsage, run_options_help().c_str(), kEvalHelp);
    return 0;
  }
  const EvalOptions eval = parse_eval_options(o.unparsed);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  set_user_code_time_limit(o.model_time_limit);
  if (!o.model_file.empty()) watch_user_code(o.model_time_limit);
  if (!o.given.count("--epochs")) o.train.epochs = 10;
  const int epochs_asked = o.train.epochs;
  // Everything a user can get wrong is checked before the dataset is loaded, from the checkpoint
  // and the IDX headers alone, so a bad input costs neither time nor memory.
  use_model_file(o);
  const bool scripted = o.model.script != nullptr;
  if (!eval.export_torchscript.empty())
    if (std::string problem = torchscript_export_problem(o.model); !problem.empty())
      throw Error("--export-torchscript: " + problem);
  bool resuming = !o.resume.empty();
  Checkpoint resume;
  if (resuming) {
    resume = read_usable_checkpoint(o.resume);
    merge_resume(o, resume);
  }
  if (eval.exact && o.model.latent_dim != 2)
    throw Error("--eval-exact integrates over a 2-D latent; this model has --latent " + std::to_string(o.model.latent_dim));
  const DatasetShape shape = Dataset::probe(o.data, o.data_options);
  if (resuming) {
    check_checkpoint_fits(resume, o.resume, shape.channels, shape.height, shape.width, "dataset " + shape.name, shape.classes);
  } else if (std::string problem = fit_model_to_data(o.model, o.conditional, shape.channels, shape.height, shape.width,
                                                     shape.classes, "dataset " + shape.name);
             !problem.empty()) {
    throw Error(scripted ? problem : "--conditional: " + problem);
  }
  if (std::string problem = validate(o.model); !problem.empty()) throw Error(problem);
  if (std::string problem = validate(o.train); !problem.empty()) throw Error(problem);
  if (!eval.ood.empty()) {
    // The second set must be images this model takes: checked from its headers, before training.
    DatasetShape other;
    try {
      other = Dataset::probe(eval.ood, o.data_options);
    } catch (const Error& e) {
      throw Error("--ood: " + std::string(e.what()));
    }
    if (std::string problem = image_mismatch(o.model, other.channels, other.height, other.width, "dataset " + other.name, "--ood: the model");
        !problem.empty())
      throw Error(problem + " (--size and --color apply to both sets)");
    if (o.model.conditional() && other.classes != o.model.classes)
      throw Error("--ood: the conditional model needs each image's class among its " + std::to_string(o.model.classes) +
                  " classes, and dataset " + other.name +
                  (other.classes > 0 ? " has " + std::to_string(other.classes) : std::string(" has no labels")));
    if (other.test_size == 0) throw Error("--ood: dataset " + other.name + " has no test images");
  }
  // From the headers alone, before the dataset is loaded (the trainer checks again with it).
  check_model_fits(o.model, o.train, shape.train_size, shape.test_size);
  resolve_device(o.train.device);
  check_output_dir(o.out);
  // After --out is made, so that the latents can go into it.
  if (!eval.export_latents.empty())
    if (std::string problem = write_problem(eval.export_latents); !problem.empty())
      throw Error("--export-latents " + eval.export_latents + ": " + problem);
  if (!eval.export_torchscript.empty())
    if (std::string problem = write_problem(eval.export_torchscript); !problem.empty())
      throw Error("--export-torchscript " + eval.export_torchscript + ": " + problem);
  set_compute_threads(o.train.threads, o.train.parallel);
  Dataset data = Dataset::load(o.data, o.data_options);
  // The second set is loaded before training too: what only its pixels can show (a float .npy out of
  // [0, 1], an image that does not decode) is then an error now, not after the run.
  std::unique_ptr<Dataset> ood;
  if (!eval.ood.empty()) {
    try {
      ood = std::make_unique<Dataset>(Dataset::load(eval.ood, o.data_options));
    } catch (const Error& e) {
      throw Error("--ood: " + std::string(e.what()));
    }
  }

  std::unique_ptr<Trainer> trainer;
  try {
    trainer = resuming ? std::make_unique<Trainer>(data, resume, o.train) : std::make_unique<Trainer>(data, o.model, o.train);
  } catch (const Error& e) {
    throw Error(resuming ? o.resume + ": " + e.what() : e.what());
  }
  MetricsCsv csv(o.out + "/metrics.csv", resuming ? resume.progress.step : -1);
  const bool show_progress = ::isatty(STDERR_FILENO);
  const int64_t used = o.train.limit > 0 ? std::min(o.train.limit, data.train_size()) : data.train_size();
  std::fprintf(stderr, "training on %s (%lld images, %dx%d %s, %s) on %s: %s, latent %d, %s, %s, batch %d, lr %g (%s), beta %g%s%s; %s\n",
               printable(data.name()).c_str(), (long long)used, data.width(), data.height(), data.channels() == 3 ? "RGB" : "gray",
               data.labeled() ? (std::to_string(data.classes()) + " classes").c_str() : "unlabeled", trainer->snapshot()->device.c_str(),
               printable(describe_layers(o.model)).c_str(), o.model.latent_dim, describe_prior(o.model).c_str(), to_string(o.model.likelihood).c_str(), o.train.batch_size,
               o.train.learning_rate, to_string(o.train.lr_schedule).c_str(), o.train.beta,
               o.train.corrupt.active() ? ", denoising: encoder input corrupted by " : "",
               o.train.corrupt.active() ? to_string(o.train.corrupt).c_str() : "", trainer->snapshot()->step_engine.c_str());
  if (trainer->snapshot()->device == "cpu")
    std::fprintf(stderr, "compute: %d thread%s%s, %s\n", o.train.threads, o.train.threads == 1 ? "" : "s",
                 o.train.threads == 1                        ? ""
                 : o.train.parallel == ParallelMode::Batch ? " (each a share of the batch)"
                                                           : " (OpenBLAS splits each matrix product)",
                 blas_description().c_str());
  // --epochs 0: no training, only the evaluation and the outputs (e.g. of a checkpoint).
  const bool train_now = !(o.given.count("--epochs") && epochs_asked == 0);
  const auto started = std::chrono::steady_clock::now();
  // A resumed run's trainer starts with the logs of the steps before it; those rows are in the
  // metrics file already (MetricsCsv keeps them) and were printed by the run that took them.
  // Counted before the thread starts, which appends to them.
  const std::vector<StepRecord> before = trainer->steps_after();
  int64_t last_step = before.empty() ? -1 : before.back().step;
  size_t epochs_seen = trainer->epochs_since(0).size();
  if (train_now) trainer->start();
  auto drain = [&] {
    for (const auto& s : trainer->steps_after(last_step)) csv.step(s), last_step = s.step;
    for (const auto& e : trainer->epochs_since(epochs_seen)) {
      ++epochs_seen;
      csv.epoch(e);
      if (show_progress) std::fprintf(stderr, "\r\033[K");
      std::printf("epoch=%d seconds=%.3f samples_per_s=%.1f train_loss=%.4f test_loss=%.4f test_recon=%.4f test_kl=%.4f",
                  e.epoch, e.seconds, e.samples_per_s, e.train_loss, e.test_loss, e.test_recon, e.test_kl);
      // An estimated KL (a learned prior) with its standard error over the test set.
      if (!prior_has_closed_form_kl(o.model.prior)) std::printf(" test_kl_stderr=%.4f", e.test_kl_stderr);
      std::printf("\n");
      std::fflush(stdout);
    }
  };
  bool interrupted = false;
  while (!trainer->wait_until_settled(0.1)) {
    drain();
    if (g_interrupted && !interrupted) {
      interrupted = true;
      trainer->pause();
    }
    if (show_progress) {
      auto s = trainer->snapshot();
      std::fprintf(stderr, "\r\033[Kepoch %d %5.1f%%  %.0f samples/s  loss %.2f", s->epoch + 1,
                   100 * s->epoch_progress, s->samples_per_s, s->last_step.loss);
    }
  }
  drain();
  auto snapshot = trainer->snapshot();
  if (snapshot->stepped_samples > 0) {
    // Wall clock counts the test evaluations after each epoch too; the step rate is the epochs' own.
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("trained samples=%lld wall_seconds=%.3f wall_samples_per_s=%.1f step_samples_per_s=%.1f\n",
                (long long)snapshot->stepped_samples, wall, double(snapshot->stepped_samples) / wall,
                double(snapshot->stepped_samples) / snapshot->step_seconds);
    std::fflush(stdout);
  }
  // Weights are never non-finite (a divergent step is not applied), so even a diverged run saves.
  // A TorchScript model is saved as TorchScript, with the user's own code.
  const std::string checkpoint = o.out + (scripted ? "/model.pt" : "/checkpoint.ckpt");
  if (std::string problem = trainer->save(checkpoint).get(); !problem.empty()) throw Error(problem);
  if (snapshot->state == TrainerState::Diverged) {
    std::fprintf(stderr, "error: training %s\n", printable(snapshot->message).c_str());
    return 3;
  }
  // An interrupt also stops a user's module in the middle of a step, which the trainer reports as an error.
  if (snapshot->state == TrainerState::Error && !g_interrupted) throw Error(snapshot->message);
  if (interrupted || g_interrupted) {
    std::fprintf(stderr, "interrupted: checkpoint saved to %s\n", printable(checkpoint).c_str());
    return 130;
  }
  // Hold the weights themselves: a reference into a temporary snapshot would dangle once the trainer
  // published another.
  const std::shared_ptr<const Vae> final_weights = trainer->snapshot()->weights;
  const Vae& weights = *final_weights;
  if (eval.any()) {
    BoundEvaluation b = evaluate_bounds(weights, data, eval.iw, eval.exact, eval.limit, o.train.seed);
    std::printf("eval images=%lld test_loss=%.4f test_recon=%.4f test_kl=%.4f", (long long)b.elbo.images, b.elbo.loss,
                b.elbo.recon, b.elbo.kl);
    if (b.elbo.kl_estimated) std::printf(" test_kl_stderr=%.4f", b.elbo.kl_stderr);
    if (b.iw_samples > 0) std::printf(" iw_samples=%d test_iw_loss=%.4f", b.iw_samples, b.iw_loss);
    if (b.exact) std::printf(" test_nll_exact=%.4f", b.exact_nll);
    std::printf("\n");
    std::fflush(stdout);
  }
  write_pictures(weights, data, o.out);
  write_likelihood_report(weights, data, ood.get(), o.out, o.train.seed);
  write_traversals(weights, data, o.out);
  print_disentanglement(weights, data);
  if (!eval.export_latents.empty()) export_latents(weights, data, eval.export_latents);
  if (!eval.export_torchscript.empty()) export_torchscript(weights, eval.export_torchscript, snapshot->step + std::max<int64_t>(0, torchscript_step(o.model)));
  write_denoising(weights, data, eval.corrupt.value_or(o.train.corrupt), o.out, o.train.seed);
  std::fprintf(stderr, "wrote %s/{metrics.csv, %s, reconstructions.png, samples.png, interpolation.png, "
               "scores.csv, least-likely.png%s%s%s}%s%s%s%s\n",
               printable(o.out).c_str(), scripted ? "model.pt" : "checkpoint.ckpt", o.model.prior == "vamp" ? ", pseudo_inputs.png" : "", o.model.latent_dim == 2 ? ", manifold.png" : "",
               o.model.latent_dim > 2 ? ", traversals.png" : "", eval.export_latents.empty() ? "" : " and ",
               printable(eval.export_latents).c_str(), eval.export_torchscript.empty() ? "" : " and ", printable(eval.export_torchscript).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  latent::end_startup_heap(latent::kTrainerHeap);  // LibTorch started on huge pages; now malloc's run-time policy (startup_heap.h)
  // Messages name the user's files and quote their modules: printable() keeps each on its one line.
  try {
    return run(argc, argv);
  } catch (const latent::Error& e) {
    if (g_interrupted) return std::fprintf(stderr, "interrupted\n"), 130;
    std::fprintf(stderr, "error: %s\n", latent::printable(e.what()).c_str());
  } catch (const std::exception& e) {
    if (g_interrupted) return std::fprintf(stderr, "interrupted\n"), 130;
    std::fprintf(stderr, "error: %s\n", latent::printable(latent::describe_exception(e)).c_str());  // one line, no backtrace
  }
  return 2;
}
