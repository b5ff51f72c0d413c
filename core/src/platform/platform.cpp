#include "platform/platform.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "latent/error.h"
#include "latent/platform.h"

namespace latent {

bool cuda_available() { return torch::cuda::is_available(); }

std::string resolve_device(const std::string& device) {
  if (device == "cpu") return "cpu";
  if (device == "cuda") {
    if (!cuda_available()) throw Error("--device cuda: CUDA is not available in this build or on this machine");
    return "cuda";
  }
  if (device == "auto") return cuda_available() ? "cuda" : "cpu";
  throw Error("unknown device '" + device + "' (expected cpu, cuda or auto)");
}

bool set_this_thread_nice(int nice) {
#ifdef __linux__
  // Linux keeps a nice value per thread: PRIO_PROCESS with a thread id sets just that thread's.
  return setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), nice) == 0;
#else
  (void)nice;
  return false;
#endif
}

void set_compute_threads(int threads, ParallelMode mode) {
  // One threading layer. A step is a few large GEMMs and short elementwise passes; when LibTorch's
  // OpenMP pool and OpenBLAS's pool both had `threads` threads, each spun on the core the other
  // needed, and 2 threads ran at a third of 1 thread's speed (bench/step_profile: 7,100 vs 20,600
  // samples/s). So LibTorch's own ops always run on the calling thread, and the threads go either
  // to the trainer's shards of the batch (each shard's GEMMs single-threaded) or to OpenBLAS's pool.
  using SetThreads = void (*)(int);
  const int blas_threads = mode == ParallelMode::Batch ? 1 : threads;
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(blas_threads);
    torch::set_num_threads(1);
  } else {
    torch::set_num_threads(blas_threads);  // another BLAS (MKL in PyTorch's LibTorch) runs in LibTorch's pool
  }
}

std::string blas_description() {
  // The same lookup as set_compute_threads: the first OpenBLAS in the global scope is the one whose
  // sgemm_ LibTorch's calls bind to (Debian loads two copies: libblas.so.3 and libopenblas.so.0).
  using Name = const char* (*)();
  const auto config = reinterpret_cast<Name>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  const auto core = reinterpret_cast<Name>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!config || !core)
    return "not OpenBLAS (a reference BLAS trains ~20x slower: install libopenblas0-pthread, see README)";
  std::istringstream words(config());
  std::string name, version;
  words >> name >> version;
  std::string out = name + " " + version + ", " + core() + " kernels";
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE"); forced && *forced)
    out += std::string(" (OPENBLAS_CORETYPE=") + forced + ")";
  return out;
}

torch::Device to_torch_device(const std::string& resolved_device) {
  return resolved_device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace latent
