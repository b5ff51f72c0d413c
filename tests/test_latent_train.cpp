// latent-train as scripts use it: exit codes, one "error:" line for every bad input, the stdout
// contract, and the files it writes.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "latent/checkpoint.h"
#include "test_support.h"

namespace latent {
namespace {

namespace fs = std::filesystem;
using test::run_process;

test::ProcessResult train(std::vector<std::string> args, double timeout_s = 300) {
  args.insert(args.begin(), LATENT_TRAIN_BIN);
  return run_process(args, timeout_s);
}

int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

std::vector<std::string> csv_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  return rows;
}

TEST(LatentTrain, EveryBadInputGivesExitTwoAndOneErrorLineQuickly) {
  std::string dir = test::temp_dir();
  fs::create_directories(dir + "/bad-data");
  test::write_dataset(dir + "/bad-data", 10, 5, 4, 4);
  test::write_idx(dir + "/bad-data/train-labels-idx1-ubyte", {9}, std::vector<uint8_t>(9));
  test::write_bytes(dir + "/garbage.ckpt", std::vector<uint8_t>(100, 0x42));
  fs::create_directories(dir + "/good-data");
  test::write_dataset(dir + "/good-data", 10, 5, 4, 4);
  test::write_npy(dir + "/unlabeled.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (20, 4, 4), }",
                  std::vector<uint8_t>(320, 9));
  // Image headers that declare more than can be decoded, and a BMP cut short: refused from the
  // header, before any pixel is decoded.
  auto be32 = [](std::vector<uint8_t>& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  };
  auto png_header = [&](uint32_t w, uint32_t h, uint8_t depth, uint8_t colour) {
    std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    be32(b, w), be32(b, h);
    for (uint8_t v : {depth, colour, uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0)}) b.push_back(v);
    return b;
  };
  for (const char* f : {"huge/a", "deep/a", "cut/a"}) fs::create_directories(dir + "/" + f);
  test::write_bytes(dir + "/huge/a/x.png", png_header(30000, 30000, 8, 0));
  test::write_bytes(dir + "/deep/a/x.png", png_header(8192, 4096, 16, 6));
  std::vector<uint8_t> bmp(66, 0);
  const auto le32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  bmp[0] = 'B', bmp[1] = 'M', le32(2, 66), le32(10, 54), le32(14, 40), le32(18, 4000), le32(22, 4000), bmp[26] = 1, bmp[28] = 24;
  test::write_bytes(dir + "/cut/a/x.bmp", bmp);
  std::vector<uint8_t> floats;  // 20 float32 images of 4x4, one value 1.5
  for (int i = 0; i < 320; ++i) {
    const float v = i == 7 ? 1.5f : 0.5f;
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    floats.insert(floats.end(), p, p + 4);
  }
  test::write_npy(dir + "/floats.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4, 4), }", floats);
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--data", dir + "/huge", "--size", "8x8"}, "declares 30000x30000 pixels"},
      {{"--data", dir + "/deep", "--size", "8x8"}, "256 MiB decoded, more than the 128 MiB an image may take"},
      {{"--data", dir + "/cut", "--size", "8x8"}, "a BMP of 4000x4000 needs 48000054 bytes and the file has 66: it is cut short"},
      {{"--data", dir + "/good-data", "--ood", dir + "/floats.npy"}, "--ood: " + dir + "/floats.npy: float values range from 0 to 1.5"},
      {{"--corrupt", "mask:1.0000001"}, "must be in [0, 1], not 1.0000001"},
      {{"--lr", "0"}, "--lr"},
      {{"--lr", "-3"}, "--lr"},
      {{"--lr", "nan"}, "--lr"},
      {{"--batch", "0"}, "--batch"},
      {{"--latent", "0"}, "--latent"},
      {{"--latent", "65"}, "--latent"},
      {{"--epochs", "ten"}, "--epochs"},
      {{"--beta", "inf"}, "--beta"},
      {{"--likelihood", "laplace"}, "--likelihood"},
      {{"--prior", "flow"}, "--prior: unknown prior 'flow'"},
      {{"--prior", "mog", "--prior-components", "0"}, "--prior-components"},
      {{"--prior", "vamp", "--prior-components", "-2"}, "--prior-components"},
      {{"--prior-components", "5"}, "the normal prior has no components"},
      {{"--conditional", "--data", dir + "/unlabeled.npy"}, "--conditional: a conditional VAE needs labelled data"},
      {{"--conditional=yes"}, "--conditional: takes no value"},
      {{"--device", "gpu"}, "--device"},
      {{"--parallel", "openmp"}, "--parallel"},
      {{"--bogus"}, "--bogus"},
      {{"--data", dir + "/nowhere"}, "nowhere"},
      {{"--data", dir + "/bad-data"}, "9 labels for 10 images"},
      {{"--data", dir}, "no images"},
      {{"--resume", dir + "/missing.ckpt"}, "missing.ckpt"},
      {{"--resume", dir + "/garbage.ckpt"}, "garbage.ckpt"},
      {{"--out", "/proc/forbidden"}, "--out"},
      {{"--eval-iw", "0"}, "--eval-iw"},
      {{"--eval-limit", "0"}, "--eval-limit"},
      {{"--eval-exact", "--latent", "4"}, "--eval-exact integrates over a 2-D latent"},
      {{"--data", dir + "/good-data", "--ood", "shapes"}, "--ood: the model is for 4x4 images but dataset shapes has 64x64x3"},
      {{"--data", dir + "/good-data", "--ood", dir + "/nowhere"}, "nowhere"},
      {{"--corrupt", "gaussian:-1"}, "--corrupt: gaussian noise's standard deviation must be in [0, 10]"},
      {{"--corrupt", "mask:2"}, "--corrupt: a corruption probability must be in [0, 1]"},
      {{"--corrupt", "saltpepper:-0.5"}, "--corrupt: a corruption probability must be in [0, 1]"},
      {{"--corrupt", "blur:1"}, "--corrupt: unknown corruption 'blur'"},
      {{"--data", dir + "/good-data", "--export-latents", dir}, "--export-latents"},
  };
  // LibTorch's static initialisation alone: the baseline every bad-input run also pays.
  const double help_cpu_seconds = train({"--help"}).cpu_seconds;
  for (const auto& c : cases) {
    auto r = train(c.args, 30);
    std::string label = c.args[0] + (c.args.size() > 1 ? " " + c.args[1] : "");
    EXPECT_EQ(r.exit_code, 2) << label << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << label << "\nstderr: " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << label << "\nstderr: " << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << label << "\nstderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << label;
    // CPU time, not wall time (a loaded machine stretches the latter), against a --help run's.
    EXPECT_LT(r.cpu_seconds, test::rejection_cpu_bound(help_cpu_seconds)) << label << " (--help: " << help_cpu_seconds << " s)";
  }
}

TEST(LatentTrain, HelpListsTheFlags) {
  auto r = train({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--data", "--epochs", "--latent", "--hidden", "--batch", "--lr", "--lr-schedule", "--beta", "--warmup-epochs",
                           "--activation", "--likelihood", "--prior", "--prior-components", "--conditional", "--seed", "--threads", "--parallel", "--device", "--limit", "--resume", "--out", "--eval-iw", "--eval-exact", "--eval-limit"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

// The "compute:" line names the threads and the BLAS kernels in use, and OpenBLAS follows
// OPENBLAS_CORETYPE, which changes a step's speed more than anything in our code (trainer.h).
TEST(LatentTrain, NamesTheBlasKernelsItRunsOn) {
  const std::string out = test::temp_dir();
  const auto compute_line = [&](std::vector<std::string> env, const std::string& threads,
                                const std::string& parallel = "batch") {
    env.insert(env.begin(), "/usr/bin/env");
    for (std::string a : {LATENT_TRAIN_BIN, "--limit", "200", "--epochs", "1", "--hidden", "16", "--threads"}) env.push_back(a);
    env.push_back(threads);
    env.push_back("--parallel");
    env.push_back(parallel);
    env.push_back("--out");
    env.push_back(out);
    const auto r = run_process(env, 120);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    const std::regex line(R"(compute: [^\n]*)");
    return std::regex_search(r.err, m, line) ? m.str() : "no compute line in: " + r.err;
  };
  const std::string forced = compute_line({"OPENBLAS_CORETYPE=Haswell"}, "1");
  EXPECT_TRUE(std::regex_match(forced, std::regex(R"(compute: 1 thread, OpenBLAS \S+, Haswell kernels \(OPENBLAS_CORETYPE=Haswell\))")))
      << forced;
  const std::string chosen = compute_line({"-u", "OPENBLAS_CORETYPE"}, "2");
  EXPECT_TRUE(std::regex_match(chosen, std::regex(R"(compute: 2 threads \(each a share of the batch\), OpenBLAS \S+, \w+ kernels)")))
      << chosen;
  const std::string blas = compute_line({"-u", "OPENBLAS_CORETYPE"}, "2", "blas");
  EXPECT_TRUE(std::regex_match(blas, std::regex(R"(compute: 2 threads \(OpenBLAS splits each matrix product\), OpenBLAS \S+, \w+ kernels)")))
      << blas;
}

TEST(LatentTrain, TrainsWritesOutputsAndResumes) {
  std::string out = test::temp_dir();
  auto r = train({"--limit", "1000", "--epochs", "2", "--hidden", "64", "--batch", "100", "--out", out + "/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex line(
      R"(epoch=(\d+) seconds=[0-9.]+ samples_per_s=[0-9.]+ train_loss=[0-9.]+ test_loss=([0-9.]+) test_recon=([0-9.]+) test_kl=([0-9.]+))");
  // Last, the whole run: samples, wall-clock seconds, and both throughputs (the wall clock also
  // counts each epoch's test evaluation, so it is the lower).
  const std::regex summary(R"(trained samples=(\d+) wall_seconds=([0-9.]+) wall_samples_per_s=([0-9.]+) step_samples_per_s=([0-9.]+))");
  std::istringstream lines(r.out);
  std::string text;
  int epochs = 0, summaries = 0;
  while (std::getline(lines, text)) {
    std::smatch m;
    if (std::regex_match(text, m, summary)) {
      ++summaries;
      EXPECT_EQ(std::stoll(m[1]), 2000);
      EXPECT_NEAR(std::stod(m[3]), 2000 / std::stod(m[2]), 0.005 * std::stod(m[3]));  // seconds printed to 1 ms
      EXPECT_GT(std::stod(m[4]), std::stod(m[3]));
      continue;
    }
    ASSERT_TRUE(std::regex_match(text, m, line)) << text;
    EXPECT_EQ(std::stoi(m[1]), ++epochs);
    EXPECT_NEAR(std::stod(m[2]), std::stod(m[3]) + std::stod(m[4]), 2e-3);
  }
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(summaries, 1);
  for (const char* f : {"metrics.csv", "checkpoint.ckpt", "reconstructions.png", "samples.png", "interpolation.png", "manifold.png"})
    EXPECT_TRUE(fs::exists(out + "/a/" + f)) << f;
  std::ifstream csv(out + "/a/metrics.csv");
  int step_rows = 0, epoch_rows = 0;
  while (std::getline(csv, text)) {
    step_rows += text.rfind("step,", 0) == 0;
    epoch_rows += text.rfind("epoch,", 0) == 0;
  }
  EXPECT_EQ(step_rows, 20);
  EXPECT_EQ(epoch_rows, 2);
  Checkpoint c = read_checkpoint(out + "/a/checkpoint.ckpt");
  EXPECT_EQ(c.progress.epoch, 2);
  EXPECT_EQ(c.model.hidden, std::vector<int>{64});

  // Resume: one more epoch from the checkpoint, architecture taken from it.
  r = train({"--resume", out + "/a/checkpoint.ckpt", "--epochs", "1", "--out", out + "/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("epoch=3 ", 0), 0u) << r.out;
  EXPECT_EQ(read_checkpoint(out + "/b/checkpoint.ckpt").progress.step, 30);
  // Flags that contradict the checkpoint's architecture are refused.
  r = train({"--resume", out + "/a/checkpoint.ckpt", "--latent", "5", "--out", out + "/c"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--latent 5 does not match the checkpoint"), std::string::npos) << r.err;
  // No manifold for latent dims other than 2.
  r = train({"--limit", "200", "--epochs", "1", "--hidden", "32", "--latent", "4", "--out", out + "/d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out + "/d/manifold.png"));
}


TEST(LatentTrain, ResumingIntoTheSameOutKeepsTheEarlierRows) {
  const std::string out = test::temp_dir() + "/run";
  auto r = train({"--limit", "1000", "--epochs", "2", "--hidden", "32", "--batch", "100", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> before = csv_rows(out + "/metrics.csv");
  ASSERT_EQ(before.size(), 1u + 20 + 2);  // header, 20 steps, 2 epochs
  r = train({"--resume", out + "/checkpoint.ckpt", "--epochs", "1", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> after = csv_rows(out + "/metrics.csv");
  ASSERT_EQ(after.size(), before.size() + 10 + 1);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin())) << "the first run's rows changed";
  EXPECT_EQ(after[before.size()].rfind("step,21,", 0), 0u) << after[before.size()];
  EXPECT_EQ(after.back().rfind("epoch,30,3,", 0), 0u) << after.back();
  // Resuming the older checkpoint again drops the rows of the steps it never took (21..30 of the
  // second run) rather than mixing two histories.
  fs::copy_file(out + "/checkpoint.ckpt", out + "/later.ckpt");
  r = train({"--limit", "1000", "--epochs", "1", "--hidden", "32", "--batch", "100", "--out", out + "/first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::copy_file(out + "/metrics.csv", out + "/first/metrics.csv", fs::copy_options::overwrite_existing);
  r = train({"--resume", out + "/first/checkpoint.ckpt", "--epochs", "1", "--out", out + "/first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> again = csv_rows(out + "/first/metrics.csv");
  ASSERT_EQ(again.size(), 1u + 10 + 1 + 10 + 1);
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 11, again.begin()));
  // A file in --out that is not our metrics is not overwritten by a resume.
  test::write_bytes(out + "/first/metrics.csv", {'n', 'o', 't', 'e', 's', '\n'});
  r = train({"--resume", out + "/first/checkpoint.ckpt", "--epochs", "1", "--out", out + "/first"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("metrics.csv: exists and is not latent-train's metrics"), std::string::npos) << r.err;
}

TEST(LatentTrain, AnOutputPathThatCannotBeWrittenIsRefusedBeforeTraining) {
  const std::string out = test::temp_dir() + "/run";
  for (const char* name : {"checkpoint.ckpt", "metrics.csv", "samples.png"}) {
    fs::remove_all(out);
    fs::create_directories(out + "/" + name);  // a directory where the file goes
    auto r = train({"--limit", "1000", "--epochs", "3", "--hidden", "32", "--out", out});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_EQ(r.err, "error: --out " + out + ": " + name + " is a directory; cannot write " + out + "/" + name + "\n");
    EXPECT_TRUE(r.out.empty()) << name << ": trained first:\n" << r.out;
  }
}

// Checkpoints written by an earlier release (tests/fixtures/checkpoints) load and evaluate to the
// bounds recorded when they were made: a change of format must keep reading them.
TEST(LatentTrain, OldCheckpointsEvaluateToTheirRecordedBounds) {
  const std::string fixtures = std::string(LATENT_FIXTURES) + "/checkpoints";
  std::ifstream expected(fixtures + "/expected.txt");
  int checked = 0;
  for (std::string header, line; std::getline(expected, header) && std::getline(expected, line);) {
    std::istringstream words(header);
    std::string file, flag;
    words >> file;
    std::vector<std::string> args = {"--resume", fixtures + "/" + file, "--epochs", "0", "--eval-iw", "50", "--eval-limit", "200",
                                     "--out", test::temp_dir() + "/" + file};
    while (words >> flag) args.push_back(flag);
    const auto r = train(args);
    ASSERT_EQ(r.exit_code, 0) << file << "\n" << r.err;
    std::string got;
    for (std::istringstream out(r.out); std::getline(out, got);)
      if (got.rfind("eval ", 0) == 0) break;
    // Field by field, within 0.01 nats: another CPU's BLAS kernels may round the last digit apart.
    const std::regex field(R"(([a-z_]+)=([-0-9.]+))");
    std::map<std::string, double> want, have;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), field); it != std::sregex_iterator(); ++it)
      want[(*it)[1]] = std::stod((*it)[2]);
    for (auto it = std::sregex_iterator(got.begin(), got.end(), field); it != std::sregex_iterator(); ++it)
      have[(*it)[1]] = std::stod((*it)[2]);
    ASSERT_EQ(want.size(), have.size()) << file << "\nwant " << line << "\nhave " << got;
    for (const auto& [key, value] : want) {
      ASSERT_TRUE(have.count(key)) << file << ": no " << key << " in " << got;
      EXPECT_NEAR(have[key], value, 0.01) << file << ": " << key;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(LatentTrain, FinalEvaluationPrintsTheBoundsInOrder) {
  std::string out = test::temp_dir();
  auto r = train({"--limit", "5000", "--epochs", "2", "--hidden", "128", "--eval-iw", "100", "--eval-exact", "--eval-limit",
                  "40", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  const std::regex eval(
      R"(eval images=40 test_loss=([0-9.]+) test_recon=[0-9.]+ test_kl=[0-9.]+ iw_samples=100 test_iw_loss=([0-9.]+) test_nll_exact=([0-9.]+))");
  ASSERT_TRUE(std::regex_search(r.out, m, eval)) << r.out;
  const double elbo = std::stod(m[1]), iw = std::stod(m[2]), exact = std::stod(m[3]);
  EXPECT_LE(exact, iw);  // −log p(x) ≤ −IW_100 ≤ −ELBO
  EXPECT_LE(iw, elbo);
}

TEST(LatentTrain, AConditionalModelTakesItsClassesFromNpyLabels) {
  const std::string dir = test::temp_dir();
  std::vector<uint8_t> pixels(40 * 4 * 4), labels(40);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 37);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t(i % 3);
  test::write_npy(dir + "/images.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (40, 4, 4), }", pixels);
  test::write_npy(dir + "/labels.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (40,), }", labels);
  auto r = train({"--conditional", "--data", dir + "/images.npy", "--labels", dir + "/labels.npy", "--epochs", "1", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 classes"), std::string::npos) << r.err;
}

TEST(LatentTrain, DivergenceExitsNonZeroNamingTheLossAndKeepsFiniteWeights) {
  std::string out = test::temp_dir();
  auto r = train({"--limit", "2000", "--epochs", "50", "--hidden", "128", "--batch", "100", "--lr", "10", "--out", out});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("error: training diverged: non-finite"), std::string::npos) << r.err;
  Checkpoint c = read_checkpoint(out + "/checkpoint.ckpt");
  for (const auto& a : c.arrays)
    for (float v : a.values) ASSERT_TRUE(std::isfinite(v)) << a.name;
}

// What a trained model is for: every test image scored, the least likely ones drawn, a second
// dataset told apart from the test set (here MNIST against noise, which no digit model finds
// likely), traversals for D > 2, the latents as CSV; and on `shapes`, the MIG line.
TEST(LatentTrain, ScoresImagesTellsAnotherSetApartAndExportsLatents) {
  const std::string out = test::temp_dir();
  std::vector<uint8_t> noise(200 * 28 * 28);
  uint32_t state = 1;
  for (auto& v : noise) state = state * 1664525u + 1013904223u, v = uint8_t(state >> 24);
  test::write_npy(out + "/noise.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (200, 28, 28), }", noise);
  auto r = train({"--data", test::mnist_dir(), "--limit", "2000", "--epochs", "1", "--hidden", "64", "--latent", "4", "--ood",
                  out + "/noise.npy", "--test-split", "0.5", "--export-latents", out + "/a/latents.csv", "--out", out + "/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex ood(R"(ood images=10000 ood_images=100 test_neg_elbo=([0-9.]+) ood_neg_elbo=([0-9.]+) ood_auroc=([0-9.]+))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, ood)) << r.out;
  EXPECT_GT(std::stod(m[2]), std::stod(m[1]));
  EXPECT_GT(std::stod(m[3]), 0.99);
  const auto scores = csv_rows(out + "/a/scores.csv");
  ASSERT_EQ(scores.size(), 1u + 10000 + 100);
  EXPECT_EQ(scores[0], "set,index,label,neg_elbo,recon,kl");
  EXPECT_EQ(scores[1].rfind("test,0,7,", 0), 0u) << scores[1];
  EXPECT_EQ(scores.back().rfind("ood,99,-1,", 0), 0u) << scores.back();
  const auto latents = csv_rows(out + "/a/latents.csv");
  ASSERT_EQ(latents.size(), 1u + 10000);
  EXPECT_EQ(latents[0], "index,label,mu_0,mu_1,mu_2,mu_3,logvar_0,logvar_1,logvar_2,logvar_3");
  EXPECT_EQ(std::count(latents[1].begin(), latents[1].end(), ','), 9);
  for (const char* f : {"least-likely.png", "traversals.png"}) EXPECT_TRUE(fs::exists(out + "/a/" + f)) << f;
  EXPECT_EQ(r.out.find("mig="), std::string::npos);

  r = train({"--data", "shapes", "--size", "16x16", "--limit", "1000", "--epochs", "1", "--hidden", "32", "--latent", "4",
             "--corrupt", "gaussian:0.1", "--out", out + "/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex mig(R"(disentanglement images=\d+ mig=([0-9.]+) gap_shape=[0-9.]+ gap_scale=[0-9.]+ gap_orientation=[0-9.]+ gap_x=[0-9.]+ gap_y=[0-9.]+ gap_hue=[0-9.]+)");
  ASSERT_TRUE(std::regex_search(r.out, m, mig)) << r.out;
  EXPECT_LE(std::stod(m[1]), 1.0);
  EXPECT_EQ(to_string(read_checkpoint(out + "/b/checkpoint.ckpt").train.corrupt), "gaussian:0.1");
}

}  // namespace
}  // namespace latent
