#!/usr/bin/python3
"""Writes the comparison peer's VAE (bench/peer_vae.py: 784-400-20, ReLU, Bernoulli) as a TorchScript
file with latent-explorer's contract (docs/torchscript.md), for bench/torchscript.
    torchscript_model.py OUT.pt [--hidden 400] [--latent 20]
"""
import argparse
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class ScriptedVAE(nn.Module):
    def __init__(self, pixels: int, hidden: int, latent: int):
        super().__init__()
        self.latent_dim = latent
        self.image_shape: List[int] = [1, 28, 28]
        self.likelihood = "bernoulli"
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.flatten(1)))
        return self.fc21(h), self.fc22(h)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)[0])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--latent", type=int, default=20)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.jit.save(torch.jit.script(ScriptedVAE(784, a.hidden, a.latent)), a.out)
