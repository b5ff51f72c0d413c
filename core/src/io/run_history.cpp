#include "io/run_history.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "latent/error.h"

namespace latent {
namespace {

constexpr const char* kSteps = "log.steps";
constexpr const char* kEpochs = "log.epochs";
constexpr int64_t kStepColumns = 9, kEpochColumns = 10;
constexpr double kSplit = 16777216.0;  // 2^24

// The step number in columns `at` and `at + 1` of `row`, or −1 when they are not one.
int64_t get_step(const float* row, int at) {
  const double hi = row[at], lo = row[at + 1];
  if (hi < 0 || lo < 0 || lo >= kSplit || hi != std::floor(hi) || lo != std::floor(lo) || hi >= kSplit) return -1;
  return int64_t(hi) * int64_t(kSplit) + int64_t(lo);
}

// The array `name`, or null when the checkpoint has none; at most `rows` rows (what a writer leaves:
// kHistoryStepsWritten step records, one epoch record per epoch).
const NamedArray* table(const Checkpoint& c, const char* name, int64_t columns, int64_t rows) {
  const NamedArray* a = c.find(name);
  if (!a) return nullptr;
  const std::string named = std::string("checkpoint: its training history '") + name + "'";
  if (a->shape.size() != 2 || a->shape[1] != columns || a->shape[0] < 0 || int64_t(a->values.size()) != a->shape[0] * columns)
    throw Error(named + " is not a table of " + std::to_string(columns) + " columns");
  if (a->shape[0] > rows)
    throw Error(named + " has " + std::to_string(a->shape[0]) + " rows, more than the " + std::to_string(rows) +
                " it can have here");
  return a;
}

Error bad_row(const char* name, int64_t row, const std::string& what) {
  return Error(std::string("checkpoint: its training history '") + name + "', row " + std::to_string(row + 1) + ": " + what);
}

// Appends `row` to `table` when every value survives the float a checkpoint stores (a checkpoint
// holds finite values only; a record a curve could not draw is left out rather than the file).
void put_row(NamedArray& table, const std::vector<double>& row) {
  for (double v : row)
    if (!std::isfinite(float(v))) return;
  for (double v : row) table.values.push_back(float(v));
  ++table.shape[0];
}

std::vector<double> step_columns(int64_t step) {
  return {std::floor(double(step) / kSplit), double(step % int64_t(kSplit))};
}

}  // namespace

int64_t history_max_bytes(int64_t epoch) {
  return (int64_t(kHistoryStepsWritten) * kStepColumns + std::max<int64_t>(epoch, 0) * kEpochColumns) * int64_t(sizeof(float));
}

void append_history(const std::vector<StepRecord>& step_log, const std::vector<EpochRecord>& epoch_log,
                    std::vector<NamedArray>& arrays) {
  const size_t n = step_log.size();
  const size_t stride = n > kHistoryStepsWritten ? (n + kHistoryStepsWritten - 1) / kHistoryStepsWritten : 1;
  NamedArray steps{kSteps, {0, kStepColumns}, {}};
  for (size_t i = n == 0 ? 0 : (n - 1) % stride; i < n; i += stride) {  // ends on the last record
    const StepRecord& s = step_log[i];
    std::vector<double> row = step_columns(s.step);
    row.insert(row.end(), {s.epoch, s.recon, s.kl, s.beta, s.loss, s.learning_rate, s.kl_stderr});
    put_row(steps, row);
  }
  NamedArray epochs{kEpochs, {0, kEpochColumns}, {}};
  for (const EpochRecord& e : epoch_log) {
    std::vector<double> row{double(e.epoch)};
    for (double v : step_columns(e.step)) row.push_back(v);
    row.insert(row.end(), {e.train_loss, e.test_recon, e.test_kl, e.test_kl_stderr, e.test_loss, e.seconds, e.samples_per_s});
    put_row(epochs, row);
  }
  arrays.push_back(std::move(steps));
  arrays.push_back(std::move(epochs));
}

RunHistory read_history(const Checkpoint& c) {
  RunHistory h;
  if (const NamedArray* a = table(c, kSteps, kStepColumns, int64_t(kHistoryStepsWritten))) {
    h.steps.reserve(size_t(a->shape[0]));
    for (int64_t r = 0; r < a->shape[0]; ++r) {
      const float* row = a->values.data() + r * kStepColumns;
      StepRecord s;
      s.step = get_step(row, 0);
      if (s.step < 1) throw bad_row(kSteps, r, "the step is not a whole number from 1");
      if (!h.steps.empty() && s.step <= h.steps.back().step) throw bad_row(kSteps, r, "the steps are not in order");
      if (s.step > c.progress.step)
        throw bad_row(kSteps, r, "step " + std::to_string(s.step) + " is past the checkpoint's " + std::to_string(c.progress.step));
      s.epoch = row[2], s.recon = row[3], s.kl = row[4], s.beta = row[5], s.loss = row[6], s.learning_rate = row[7];
      s.kl_stderr = row[8];
      h.steps.push_back(s);
    }
  }
  if (const NamedArray* a = table(c, kEpochs, kEpochColumns, c.progress.epoch)) {
    h.epochs.reserve(size_t(a->shape[0]));
    for (int64_t r = 0; r < a->shape[0]; ++r) {
      const float* row = a->values.data() + r * kEpochColumns;
      EpochRecord e;
      if (row[0] < 1 || row[0] != std::floor(row[0]) || row[0] > float(c.progress.epoch))
        throw bad_row(kEpochs, r, "the epoch is not a whole number from 1 to the checkpoint's " + std::to_string(c.progress.epoch));
      e.epoch = int(row[0]);
      if (!h.epochs.empty() && e.epoch <= h.epochs.back().epoch) throw bad_row(kEpochs, r, "the epochs are not in order");
      e.step = get_step(row, 1);
      if (e.step < 0 || e.step > c.progress.step) throw bad_row(kEpochs, r, "its step is not a whole number up to the checkpoint's");
      e.train_loss = row[3], e.test_recon = row[4], e.test_kl = row[5], e.test_kl_stderr = row[6], e.test_loss = row[7];
      e.seconds = row[8], e.samples_per_s = row[9];
      h.epochs.push_back(e);
    }
  }
  return h;
}

}  // namespace latent
