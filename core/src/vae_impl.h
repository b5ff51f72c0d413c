#pragma once
// Internal: what a latent::Vae holds.
#include "vae_net.h"

namespace latent {

struct VaeImpl {
  VaeImpl(VaeNet net, torch::Device device) : config(net->config), device(device), net(std::move(net)) {}
  ModelConfig config;
  torch::Device device;
  VaeNet net;  // never trained; only run under NoGradGuard

  // Forward passes are not const in LibTorch's API although they change nothing here.
  VaeNetImpl& module() const { return *net.ptr(); }
};

// Copies every parameter and buffer of `from` into `to` (same config) without allocating.
void copy_weights(VaeNetImpl& from, VaeNetImpl& to);

}  // namespace latent
