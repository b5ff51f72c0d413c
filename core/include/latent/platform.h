#pragma once
// What depends on the machine, the OS or the libraries LibTorch was built with: devices, compute
// threads and their BLAS, thread priorities. The tricks themselves (dlsym into OpenBLAS, per-thread
// nice values) live in core/src/platform/; callers see only these functions.
#include <string>

#include "latent/config.h"

namespace latent {

// Resolves "auto" to "cuda" when available, else "cpu". Throws latent::Error for an unknown device
// or "cuda" without CUDA.
std::string resolve_device(const std::string& device);
bool cuda_available();

// The thread policy for this process: one LibTorch intra-op thread (its OpenMP pool and OpenBLAS's
// spinning against each other made 2 threads slower than 1), and BLAS threads: 1 when the trainer
// splits each batch across `threads` threads of its own (ParallelMode::Batch), else `threads`
// (in OpenBLAS's pool; with any other BLAS, in LibTorch's).
void set_compute_threads(int threads, ParallelMode mode);

// The BLAS LibTorch's CPU GEMMs run in, for logs and benchmarks: "OpenBLAS 0.3.21, Haswell kernels
// (OPENBLAS_CORETYPE=Haswell)", or "not OpenBLAS" with what to do. The kernel set OpenBLAS picks (or
// is told to use) changes a step's speed more than anything in our code: on an AVX-512 CPU its
// Cooperlake/SkylakeX kernels ran bench/step_profile 1.7x faster than its Haswell ones.
std::string blas_description();

// Sets the calling thread's nice value (Linux; a no-op elsewhere). False if the system refused.
bool set_this_thread_nice(int nice);

}  // namespace latent
