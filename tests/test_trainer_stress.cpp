// The trainer under a storm of commands: 1,000 random command sequences from four threads (start,
// pause, step, reset with another config or dataset, set lr/β/warm-up with good and bad values,
// save, load a checkpoint, read snapshots and decode) while a reader thread consumes snapshots and
// the step log. Nothing may deadlock or crash, and what the reader sees must be consistent: steps
// never go back within a run, every snapshot is complete and agrees with itself.
//
// "Load" and "dataset switch" use the public API the app uses (app/app_state.cpp): a load builds a
// new Trainer from the checkpoint and replaces the current one; a switch is a reset with a dataset.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "test_support.h"

namespace latent {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kThreads = 4;
constexpr int kSequences = 1000;  // in all, shared among the threads
constexpr double kDeadlineSeconds = 240;  // far above a normal run (~10-20 s); only a deadlock gets here

// A trainer and a serial number: the reader keys its invariants on (serial, run_id), since a new
// trainer may reuse an old one's address.
struct Handle {
  int serial = 0;
  std::shared_ptr<Trainer> trainer;
};

class Current {
 public:
  Handle get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return handle_;
  }
  void replace(std::shared_ptr<Trainer> trainer) {
    Handle old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old = handle_;
      handle_ = {++serial_, std::move(trainer)};
    }
    // `old` is destroyed here, outside the lock, unless another thread still holds it.
  }

 private:
  mutable std::mutex mutex_;
  Handle handle_;
  int serial_ = 0;
};

struct Datasets {
  Dataset a, b;  // 8x8 and 6x10 images
  const Dataset& by_name(const std::string& name) const { return name == a.name() ? a : b; }
};

ModelConfig tiny_model(const Dataset& d, int latent, bool two_layers) {
  ModelConfig m;
  m.image_height = d.height();
  m.image_width = d.width();
  m.latent_dim = latent;
  m.hidden = two_layers ? std::vector<int>{16, 8} : std::vector<int>{12};
  return m;
}

TrainConfig tiny_train(std::mt19937& rng) {
  TrainConfig t;
  t.batch_size = 8 + int(rng() % 40);
  t.learning_rate = 1e-3;
  t.epochs = int(rng() % 4);  // 0 = open-ended
  t.seed = rng() % 100;
  return t;
}

struct Counts {
  std::atomic<int> sequences{0}, commands{0}, saves_ok{0}, saves_failed{0}, loads_ok{0}, loads_refused{0};
  std::atomic<int> resets{0}, switches{0}, bad_values{0}, decodes{0};
};

// One random command sequence of 1 to 6 commands.
void random_sequence(std::mt19937& rng, Current& current, const Datasets& data, const std::string& dir, int thread,
                     Counts& counts) {
  const int length = 1 + int(rng() % 6);
  for (int i = 0; i < length; ++i) {
    Handle h = current.get();
    Trainer& t = *h.trainer;
    ++counts.commands;
    const unsigned pick = rng() % 100;
    if (pick < 18) {
      t.start();
    } else if (pick < 26) {
      t.pause();
    } else if (pick < 42) {
      t.step(1 + int(rng() % 20));
    } else if (pick < 50) {
      // Reset with another config, on the same dataset or the other one (a dataset switch).
      const bool other = rng() % 2;
      const std::string name = t.snapshot()->dataset;  // a copy: the snapshot may be freed at the `;`
      const Dataset& d = other ? (name == data.a.name() ? data.b : data.a) : data.by_name(name);
      ModelConfig m = tiny_model(d, 1 + int(rng() % 4), rng() % 2);
      if (rng() % 5 == 0) {
        m.latent_dim = rng() % 2 ? 0 : 65;  // refused: the current model is kept
        ++counts.bad_values;
      }
      t.reset(m, tiny_train(rng), other ? d : Dataset());
      ++(other ? counts.switches : counts.resets);
    } else if (pick < 54) {
      // A model for the other dataset's image size, on this dataset: refused.
      const std::string name = t.snapshot()->dataset;  // a copy: the snapshot may be freed at the `;`
      const Dataset& other = name == data.a.name() ? data.b : data.a;
      t.reset(tiny_model(other, 2, false), tiny_train(rng));
      ++counts.bad_values;
    } else if (pick < 64) {
      const double values[] = {1e-3, 3e-3, 1e-2, 0.5, 10, 0, -1, std::nan(""), INFINITY, 11};
      const double lr = values[rng() % 10];
      counts.bad_values += !(lr > 0 && lr <= 10);
      t.set_learning_rate(lr);
    } else if (pick < 72) {
      const double values[] = {0, 0.5, 1, 4, -1, std::nan(""), 1e5};
      const double beta = values[rng() % 7];
      counts.bad_values += !(beta >= 0 && beta <= 1e4);
      t.set_beta(beta);
    } else if (pick < 75) {
      t.set_warmup_epochs(rng() % 4 == 0 ? -1.0 : double(rng() % 3));
    } else if (pick < 85) {
      const bool bad_path = rng() % 8 == 0;
      const std::string path = bad_path ? dir + "/no-such-dir/x.ckpt"
                                        : dir + "/t" + std::to_string(thread) + "-" + std::to_string(rng() % 3) + ".ckpt";
      auto future = t.save(path);
      ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready) << "save never ran";
      const std::string problem = future.get();
      if (bad_path) {
        EXPECT_NE(problem, "") << "saving into a missing directory";
        ++counts.saves_failed;
      } else if (problem.empty()) {
        ++counts.saves_ok;
      } else {
        // Only a save the trainer could not run before it was replaced and destroyed may fail.
        EXPECT_NE(problem.find("trainer stopped"), std::string::npos) << problem;
        ++counts.saves_failed;
      }
    } else if (pick < 90) {
      // Load a checkpoint some thread saved, as the app does: a new trainer replaces the current one.
      const std::string path = dir + "/t" + std::to_string(rng() % kThreads) + "-" + std::to_string(rng() % 3) + ".ckpt";
      if (!std::filesystem::exists(path)) continue;
      Checkpoint c = read_checkpoint(path);  // saves are atomic: a file that exists is whole
      TrainConfig train = c.train;
      train.epochs = 0;
      // Now and then on the wrong dataset (another image size): refused, the current trainer kept.
      const bool wrong = rng() % 6 == 0;
      const Dataset& d = wrong ? (c.dataset == data.a.name() ? data.b : data.a) : data.by_name(c.dataset);
      try {
        current.replace(std::make_shared<Trainer>(d, c, train));
        EXPECT_FALSE(wrong) << "a checkpoint for " << c.model.image_height << "x" << c.model.image_width
                            << " images loaded on " << d.name();
        ++counts.loads_ok;
      } catch (const Error& e) {
        EXPECT_TRUE(wrong) << e.what();
        ++counts.loads_refused;
      }
    } else {
      // What a UI does with a snapshot: decode a point with the published weights.
      auto s = t.snapshot();
      std::vector<float> z(size_t(s->weights->config().latent_dim), 0.5f);
      ImageBatch image = s->weights->decode(LatentMatrix{1, int64_t(z.size()), z});
      EXPECT_EQ(image.count, 1);
      for (float p : image.pixels) ASSERT_TRUE(std::isfinite(p));
      ++counts.decodes;
    }
  }
  ++counts.sequences;
  // A pause between sequences (0-5 ms), so that the trainer trains between commands too.
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
}

// What one snapshot must satisfy on its own.
void check_complete(const Snapshot& s, const Datasets& data) {
  ASSERT_TRUE(s.weights) << "snapshot without weights";
  EXPECT_EQ(s.weights->config(), s.model) << "weights of another model";
  const Dataset& d = data.by_name(s.dataset);
  EXPECT_TRUE(s.dataset == data.a.name() || s.dataset == data.b.name()) << s.dataset;
  EXPECT_EQ(s.model.image_height, d.height());
  EXPECT_EQ(s.model.image_width, d.width());
  EXPECT_EQ(validate(s.model), "");
  EXPECT_EQ(validate(s.train), "") << "a refused value was applied";
  EXPECT_GE(s.epoch_progress, 0);
  EXPECT_LT(s.epoch_progress, 1);
  EXPECT_GE(s.step, 0);
  EXPECT_LE(s.weights_step, s.step);
  if (s.last_step.step > 0) {
    EXPECT_EQ(s.last_step.step, s.step);
    EXPECT_TRUE(std::isfinite(s.last_step.loss));
  }
  if (s.state == TrainerState::Diverged) EXPECT_NE(s.message.find("non-finite"), std::string::npos) << s.message;
  EXPECT_NE(s.state, TrainerState::Error) << s.message;
}

TEST(TrainerStress, RandomCommandsFromManyThreads) {
  const std::string dir = test::temp_dir();
  std::filesystem::create_directories(dir + "/a");
  std::filesystem::create_directories(dir + "/b");
  test::write_dataset(dir + "/a", 256, 64, 8, 8);
  test::write_dataset(dir + "/b", 200, 40, 6, 10);
  const Datasets data{Dataset::load(dir + "/a"), Dataset::load(dir + "/b")};
  std::mt19937 setup(1);
  Current current;
  current.replace(std::make_shared<Trainer>(data.a, tiny_model(data.a, 2, false), tiny_train(setup)));

  Counts counts;
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0}, runs_seen{0}, logs_checked{0};
  std::atomic<int64_t> steps_seen{0};  // steps trained, summed over the runs the reader saw
  const auto began = Clock::now();

  // The reader: snapshots and the step log, as the app reads them every frame.
  std::thread reader([&] {
    std::map<std::pair<int, int>, int64_t> last_step;  // (trainer serial, run_id) -> step
    while (!done) {
      Handle h = current.get();
      auto before = h.trainer->snapshot();
      check_complete(*before, data);
      const auto key = std::make_pair(h.serial, before->run_id);
      auto it = last_step.find(key);
      if (it == last_step.end()) {
        last_step[key] = before->step;
        ++runs_seen;
      } else {
        EXPECT_GE(before->step, it->second) << "the step went back within run " << key.second;
        steps_seen += before->step - it->second;
        it->second = before->step;
      }
      auto records = h.trainer->steps_after();
      auto after = h.trainer->snapshot();
      EXPECT_GE(after->run_id, before->run_id);
      if (after->run_id == before->run_id) {  // the log is this run's, whole
        ++logs_checked;
        for (size_t i = 0; i < records.size(); ++i) {
          if (i > 0) EXPECT_EQ(records[i].step, records[i - 1].step + 1) << "gap in the step log";
          EXPECT_TRUE(std::isfinite(records[i].loss));
          EXPECT_NEAR(records[i].loss, records[i].recon + records[i].beta * records[i].kl,
                      1e-3 * (1 + std::abs(records[i].loss)));
        }
        // A step is logged just before the snapshot that shows it is published: the log may be one ahead.
        if (!records.empty()) EXPECT_LE(records.back().step, after->step + 1);
      }
      ++snapshots;
      std::this_thread::yield();
    }
  });

  // A watchdog: a deadlock shows as a clear failure rather than a ctest timeout.
  std::thread watchdog([&] {
    while (!done) {
      if (Clock::now() - began > std::chrono::duration<double>(kDeadlineSeconds)) {
        std::fprintf(stderr, "TrainerStress: no progress after %.0f s (%d sequences done): deadlock\n", kDeadlineSeconds,
                     counts.sequences.load());
        std::abort();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  std::vector<std::thread> senders;
  for (int k = 0; k < kThreads; ++k)
    senders.emplace_back([&, k] {
      std::mt19937 rng(100 + k);
      for (int i = k; i < kSequences; i += kThreads) random_sequence(rng, current, data, dir, k, counts);
    });
  for (auto& s : senders) s.join();

  // Whatever state the storm left, the trainer still answers: pause, then it settles, and a step runs.
  Handle h = current.get();
  h.trainer->pause();
  ASSERT_TRUE(h.trainer->wait_until_settled(30)) << "the trainer did not settle after pause";
  h.trainer->set_learning_rate(1e-3);
  h.trainer->set_beta(1);
  const int64_t step = h.trainer->snapshot()->step;
  h.trainer->step(2);
  ASSERT_TRUE(h.trainer->wait_until_settled(30));
  auto last = h.trainer->snapshot();
  // Two steps, or one when it ends the run's last epoch (then the trainer stops, Idle).
  if (last->state != TrainerState::Diverged) {
    EXPECT_GE(last->step, step + 1) << to_string(last->state) << " " << last->message;
    EXPECT_LE(last->step, step + 2);
  }
  done = true;
  reader.join();
  watchdog.join();

  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
  std::fprintf(stderr,
               "%d sequences, %d commands in %.1f s: %d resets, %d dataset switches, %d bad values, %d saves (%d failed), "
               "%d loads (%d refused), %d decodes; reader: %d snapshots over %d runs, %lld steps, %d whole logs\n",
               counts.sequences.load(), counts.commands.load(), seconds, counts.resets.load(), counts.switches.load(),
               counts.bad_values.load(), counts.saves_ok.load(), counts.saves_failed.load(), counts.loads_ok.load(),
               counts.loads_refused.load(), counts.decodes.load(), snapshots.load(), runs_seen.load(),
               (long long)steps_seen.load(), logs_checked.load());
  EXPECT_EQ(counts.sequences, kSequences);
  EXPECT_GT(counts.loads_ok, 0);
  EXPECT_GT(counts.switches, 0);
  EXPECT_GT(counts.saves_ok, 0);
  EXPECT_GT(snapshots, 100);
  // Training went on between the commands (500-1,000 steps here; under ThreadSanitizer on a busy
  // machine once 171): that it happened is the point, not how fast.
  EXPECT_GT(steps_seen, 0);

  // Every checkpoint the storm left on disk loads, and holds finite weights.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".ckpt") continue;
    Checkpoint c = read_checkpoint(entry.path().string());
    for (const auto& a : c.arrays)
      for (float v : a.values) ASSERT_TRUE(std::isfinite(v)) << entry.path() << " " << a.name;
  }
  // No temporary file is left behind by a save.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();

  // Shutting the last trainer down is prompt.
  const auto stopping = Clock::now();
  h = Handle{};
  current.replace(nullptr);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stopping).count(), 2.0);
}

}  // namespace
}  // namespace latent
