// Wall time of Dataset::load for one spec, as the explorer and latent-train load it (headers on
// every core, then the pixels decoded on every core), repeated so that a script can alternate it
// with another loader.
//   build/bench/data_load SPEC [--rounds N] [--size HxW] [--color gray|rgb|auto]
// Prints one line per round: seconds=, images=, and the shape loaded.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "latent/dataset.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: data_load SPEC [--rounds N] [--size HxW] [--color gray|rgb|auto]\n");
    return 2;
  }
  const std::string spec = argv[1];
  latent::DataOptions options;
  int rounds = 1;
  try {
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--rounds") rounds = std::max(1, std::atoi(value.c_str()));
      else if (flag == "--size") latent::parse_image_size(value, &options.height, &options.width);
      else if (flag == "--color") options.color = value;
      else throw std::runtime_error("unknown flag " + flag);
    }
    for (int r = 0; r < rounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      const latent::Dataset data = latent::Dataset::load(spec, options);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("seconds=%.3f images=%lld shape=%dx%dx%d classes=%d\n", seconds,
                  (long long)(data.train_size() + data.test_size()), data.channels(), data.height(), data.width(), data.classes());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
