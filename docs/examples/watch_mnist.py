#!/usr/bin/python3
"""A VAE trained in plain PyTorch, saved for latent-explorer every N steps, so that

    latent-explorer --model run.pt --watch

shows it learning live. Run it beside the explorer:

    python3 docs/examples/watch_mnist.py --data ~/.local/share/latent-explorer/mnist --out run.pt

The model follows the contract in docs/torchscript.md; save_for_explorer is the part to copy into
your own training loop.
"""
import argparse
import gzip
import os
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Vae(nn.Module):
    def __init__(self, latent: int = 2):
        super().__init__()
        self.latent_dim = latent
        self.image_shape: List[int] = [1, 28, 28]
        self.likelihood = "bernoulli"
        self.step = 0
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU())
        self.mu = nn.Linear(256, latent)
        self.logvar = nn.Linear(256, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).view(-1, 1, 28, 28)  # logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        return self.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar))


def save_for_explorer(model: nn.Module, step: int, path: str) -> None:
    """Writes the model as TorchScript where the explorer watches it, atomically."""
    model.step = step
    was_training = model.training
    model.eval()
    tmp = path + ".tmp"
    torch.jit.save(torch.jit.script(model), tmp)
    os.replace(tmp, path)
    model.train(was_training)


def read_images(directory: str) -> np.ndarray:
    path = os.path.join(directory, "train-images-idx3-ubyte")
    opener = open if os.path.exists(path) else gzip.open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.expanduser("~/.local/share/latent-explorer/mnist"))
    p.add_argument("--out", default="run.pt")
    p.add_argument("--every", type=int, default=50, help="save every N steps")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--latent", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(0)
    x_all = torch.from_numpy(read_images(a.data).astype(np.float32) / 255.0)
    model = Vae(a.latent)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    save_for_explorer(model, 0, a.out)
    for step in range(1, a.steps + 1):
        x = x_all[torch.randint(0, x_all.shape[0], (128,))]
        mu, logvar = model.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / x.shape[0]
        opt.zero_grad()
        (recon + kl).backward()
        opt.step()
        if step % a.every == 0:
            save_for_explorer(model, step, a.out)
            print(f"step {step}: -ELBO {float(recon + kl):.1f}", flush=True)


if __name__ == "__main__":
    main()
