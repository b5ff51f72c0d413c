// Test helper: saves checkpoints to argv[1] in a loop, alternating between two contents (all
// values 1.0, then all 2.0, ...), until killed. Prints "ready" after the first save.
#include <cstdio>
#include <string>

#include "latent/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  latent::Checkpoint c;
  c.dataset = "mnist";
  c.arrays.push_back({"vae.big", {1 << 20}, std::vector<float>(1 << 20)});  // 4 MB per save
  for (long i = 1;; ++i) {
    c.progress.step = i;
    std::fill(c.arrays[0].values.begin(), c.arrays[0].values.end(), float(i));
    latent::write_checkpoint(argv[1], c);
    if (i == 1) {
      std::printf("ready\n");
      std::fflush(stdout);
    }
  }
}
