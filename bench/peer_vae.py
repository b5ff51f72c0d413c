#!/usr/bin/python3
"""The comparison peer: the PyTorch examples' VAE (784-400-20) in eager Python, Debian's python3-torch.
--arch conv: the convolutional VAE latent-train builds with --arch conv (the same layers, sizes,
activation and per-pixel output bias), for a throughput comparison on the same model.

Trains on the same IDX files latent-train reads, prints one line per epoch in latent-train's format:
  epoch= seconds= samples_per_s= train_loss= test_loss= test_recon= test_kl=
seconds and samples_per_s count the training loop only, as latent-train does.
--device cuda keeps the data on the GPU (as latent-train does) and trains there.
"""
import argparse
import ctypes
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def read_idx(path):
    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class VAE(nn.Module):
    def __init__(self, pixels, hidden, latent):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.fc4(F.relu(self.fc3(z))), mu, logvar


def conv_sizes(n, layers):
    sizes = [n]
    for _ in range(layers):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class ConvVAE(nn.Module):
    """Stride-2 3x3 convolutions, the dense layers, linear heads; the dense layers mirrored, a linear
    layer, transposed convolutions with the output padding that lands on the encoder's sizes, the last
    without bias, plus a bias per output value."""

    def __init__(self, h, w, channels, dense, latent, activation):
        super().__init__()
        self.h, self.w = h, w
        hs, ws = conv_sizes(h, len(channels)), conv_sizes(w, len(channels))
        self.feature_shape = (channels[-1], hs[-1], ws[-1])
        features = channels[-1] * hs[-1] * ws[-1]
        act = nn.ELU if activation == "elu" else nn.ReLU
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), act()]
            c_in = c
        width = features
        for d in dense:
            layers += [nn.Flatten(), nn.Linear(width, d), act()] if width == features else [nn.Linear(width, d), act()]
            width = d
        self.encoder = nn.Sequential(*layers)
        self.mu = nn.Linear(width, latent)
        self.logvar = nn.Linear(width, latent)
        layers, width = [], latent
        for d in reversed(dense):
            layers += [nn.Linear(width, d), act()]
            width = d
        self.decoder_linear = nn.Sequential(*layers, nn.Linear(width, features))
        layers = [act()]
        for i in range(len(channels), 0, -1):
            out = 1 if i == 1 else channels[i - 2]
            pad = (hs[i - 1] - 2 * hs[i] + 1, ws[i - 1] - 2 * ws[i] + 1)
            layers.append(nn.ConvTranspose2d(channels[i - 1], out, 3, stride=2, padding=1, output_padding=pad, bias=i != 1))
            if i != 1:
                layers.append(act())
        self.decoder = nn.Sequential(*layers)
        self.pixel_bias = nn.Parameter(torch.zeros(h * w))

    def forward(self, x):
        h = self.encoder(x.view(-1, 1, self.h, self.w)).flatten(1)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        out = self.decoder(self.decoder_linear(z).view(-1, *self.feature_shape)).flatten(1) + self.pixel_bias
        return out, mu, logvar


def terms(model, x):
    logits, mu, logvar = model(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - logvar - 1)
    return recon, kl


def blas_description():
    """The OpenBLAS that torch's GEMMs run in, as latent-train's "compute:" line names it."""
    try:
        blas = ctypes.CDLL("libblas.so.3")  # already loaded by torch: the same instance
        blas.openblas_get_config.restype = blas.openblas_get_corename.restype = ctypes.c_char_p
        name, version = blas.openblas_get_config().decode().split()[:2]
        out = f"{name} {version}, {blas.openblas_get_corename().decode()} kernels"
    except (OSError, AttributeError):
        return "not OpenBLAS"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return out + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--arch", default="mlp", choices=["mlp", "conv"])
    p.add_argument("--channels", default="32,64,128")
    p.add_argument("--dense", default="512,256", help="conv: fully connected widths after the convolutions, or none")
    p.add_argument("--activation", default="relu", choices=["relu", "elu"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    where = blas_description() if dev.type == "cpu" else torch.cuda.get_device_name(dev) + f", torch {torch.__version__}"
    print(f"compute: {a.threads} thread{'' if a.threads == 1 else 's'}, {where}", file=sys.stderr)
    torch.manual_seed(a.seed)
    train = torch.from_numpy(read_idx(a.data + "/train-images-idx3-ubyte").astype(np.float32) / 255).reshape(-1, 784).to(dev)
    if a.limit > 0:
        train = train[:a.limit]
    test = torch.from_numpy(read_idx(a.data + "/t10k-images-idx3-ubyte").astype(np.float32) / 255).reshape(-1, 784).to(dev)
    if a.arch == "conv":
        dense = [] if a.dense == "none" else [int(d) for d in a.dense.split(",")]
        model = ConvVAE(28, 28, [int(c) for c in a.channels.split(",")], dense, a.latent, a.activation).to(dev)
    else:
        model = VAE(train.shape[1], a.hidden, a.latent).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n = train.shape[0]
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n, device=dev)
        loss_sum = 0.0
        start = time.perf_counter()
        for i in range(0, n, a.batch):
            x = train[perm[i:i + a.batch]]
            recon, kl = terms(model, x)
            loss = (recon + kl) / x.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * x.shape[0]  # a host sync per step, as latent-train's loss read
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            r = k = 0.0
            for i in range(0, test.shape[0], 1000):
                rr, kk = terms(model, test[i:i + 1000])
                r += rr.item()
                k += kk.item()
            r /= test.shape[0]
            k /= test.shape[0]
        print(f"epoch={epoch} seconds={seconds:.3f} samples_per_s={n / seconds:.1f} train_loss={loss_sum / n:.4f} "
              f"test_loss={r + k:.4f} test_recon={r:.4f} test_kl={k:.4f}", flush=True)


if __name__ == "__main__":
    main()
