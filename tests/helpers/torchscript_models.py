"""TorchScript VAEs of shapes latent-explorer's own architectures do not have, the reference values
the tests compare against, and malformed files for the error paths. Run with Debian's python3-torch:

    python3 torchscript_models.py make DIR        # models, bad files, inputs and reference terms
    python3 torchscript_models.py check FILE DIR  # load FILE, run it on DIR/x.bin, write DIR/py_*.bin

Arrays travel as raw little-endian float32 (.bin) with the shapes the tests know.
"""
import math
import os
import sys
import zipfile
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class TanhMlpVae(nn.Module):
    """28x28 gray, D=3, Bernoulli: tanh layers, an encoder with one shared head split in two, and
    a decoder that returns flat rows [N, 784]."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 3
        self.image_shape: List[int] = [1, 28, 28]
        self.likelihood = "bernoulli"
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 96), nn.Tanh(), nn.Linear(96, 2 * 3))
        self.dec = nn.Sequential(nn.Linear(3, 96), nn.Tanh(), nn.Linear(96, 784))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        return h[:, :3], h[:, 3:]

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        return self.decode(mu)


class BatchNormConvVae(nn.Module):
    """3x20x12 RGB, D=4, Gaussian with sigma 0.2: strided convolutions with batch norm (buffers),
    LeakyReLU, an upsampling decoder that returns [N, 3, 20, 12] means through a sigmoid."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 4
        self.image_shape: List[int] = [3, 20, 12]
        self.likelihood = "gaussian"
        self.sigma = 0.2
        self.step = 1234
        self.conv = nn.Sequential(
            nn.Conv2d(3, 8, 4, stride=2, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
            nn.Conv2d(8, 16, 4, stride=2, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.1))
        self.mu = nn.Linear(16 * 5 * 3, 4)
        self.logvar = nn.Linear(16 * 5 * 3, 4)
        self.up = nn.Linear(4, 16 * 5 * 3)
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.conv(x).flatten(1)
        return self.mu(h), self.logvar(h)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.up(z), 0.1).view(-1, 16, 5, 3)
        return torch.sigmoid(self.deconv(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)[0])


def write(path, tensor):
    with open(path, "wb") as f:
        f.write(tensor.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes())


def read(path, shape):
    with open(path, "rb") as f:
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)


def elbo_terms(model, x, eps):
    """Per-image reconstruction -log p(x|z) and KL(q(z|x) || N(0, I)) in nats at z = mu + sigma*eps."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    out = model.decode(z).reshape(x.shape[0], -1)
    rows = x.reshape(x.shape[0], -1)
    if model.likelihood == "bernoulli":
        recon = F.binary_cross_entropy_with_logits(out, rows, reduction="none").sum(1)
    else:
        s = model.sigma
        recon = (0.5 * (rows - out) ** 2 / s ** 2).sum(1) + rows.shape[1] * (math.log(s) + 0.5 * math.log(2 * math.pi))
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1)
    return recon, kl


def save(module, path):
    torch.jit.save(torch.jit.script(module), path)


def make(out):
    torch.manual_seed(0)
    models = {"mlp": TanhMlpVae(), "conv": BatchNormConvVae()}
    # Batch norm's running statistics away from their initial 0 and 1, so that the buffers matter.
    with torch.no_grad():
        models["conv"].train()
        for _ in range(5):
            models["conv"](torch.rand(16, 3, 20, 12))
    for name, model in models.items():
        model.eval()
        save(model, os.path.join(out, name + ".pt"))
        c, h, w = model.image_shape
        x = torch.rand(5, c, h, w)
        eps = torch.randn(5, model.latent_dim)
        with torch.no_grad():
            recon, kl = elbo_terms(model, x, eps)
        write(os.path.join(out, name + "_x.bin"), x)
        write(os.path.join(out, name + "_eps.bin"), eps)
        write(os.path.join(out, name + "_recon.bin"), recon)
        write(os.path.join(out, name + "_kl.bin"), kl)
    make_bad(out)


class Bad(nn.Module):
    """A small valid VAE that each bad file breaks in one way."""

    def __init__(self, latent: int = 2, shape: List[int] = [1, 28, 28], likelihood: str = "bernoulli"):
        super().__init__()
        self.latent_dim = latent
        self.image_shape: List[int] = shape
        self.likelihood = likelihood
        self.enc = nn.Linear(784, 4)
        self.dec = nn.Linear(2, 784)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)[0])


class NoDecode(nn.Module):
    def __init__(self):
        super().__init__()
        self.latent_dim = 2
        self.image_shape: List[int] = [1, 28, 28]
        self.likelihood = "bernoulli"
        self.enc = nn.Linear(784, 4)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]


class WrongDecodeShape(Bad):
    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)[:, :700]


class EncodeOneTensor(Bad):
    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        return h, h


class NanDecode(Bad):
    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z) * float("nan")


class NoLatentDim(Bad):
    def __init__(self):
        super().__init__()
        del self.latent_dim


class WritesFile(Bad):
    """Maps a file shared and writes into it: opening must not run this."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        t = torch.from_file(self.target, shared=True, size=16, dtype=torch.uint8)
        h = self.enc(x.flatten(1)) + t.fill_(65).float().sum() * 0.0
        return h[:, :2], h[:, 2:]


class SavesFile(WritesFile):
    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        torch.save(x, self.target)
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]


class RunsOnLoad(WritesFile):
    """__setstate__ runs while the file loads, before anything can inspect the module."""

    @torch.jit.export
    def __getstate__(self) -> Tuple[str, int]:
        return (self.target, 2)

    @torch.jit.export
    def __setstate__(self, state: Tuple[str, int]) -> None:
        self.target = state[0]
        t = torch.from_file(self.target, shared=True, size=16, dtype=torch.uint8)
        self.latent_dim = state[1] + int(t.fill_(66).sum().item()) * 0


class Prints(Bad):
    """print() that would pass for latent-train's own output and drive the terminal."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        print("epoch=999 seconds=0.0 samples_per_s=1.0 train_loss=0.0 test_loss=0.0 test_recon=0.0 test_kl=0.0\x1b[2J")
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]


class Misbehaves(Bad):
    """A model that goes wrong only once the batch has more than `after` rows (the probe has 3)."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after


class Loops(Misbehaves):
    """encode never returns once the batch has more than `after` rows (the probe has 3)."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        i = 0
        while x.size(0) > self.after and i >= 0:
            h = h * 1.0
            i = i + 1
        return h[:, :2], h[:, 2:]


class Raises(Misbehaves):
    """encode raises its own error once the batch has more than `after` rows."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if x.size(0) > self.after:
            raise ValueError("the model's own words: batch too large for this encoder")
        h = self.enc(x.flatten(1))
        return h[:, :2], h[:, 2:]


class Forks(Bad):
    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        future = torch.jit.fork(self.enc, x.flatten(1))
        h = torch.jit.wait(future)
        return h[:, :2], h[:, 2:]


class Hoards(Misbehaves):
    """encode keeps 64 MiB blocks, never letting go, once the batch has more than `after` rows."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        kept: List[torch.Tensor] = []
        while x.size(0) > self.after:
            kept.append(torch.full([16 << 20], float(len(kept))))
        for k in kept:
            h = h + k[0]
        return h[:, :2], h[:, 2:]


class AsksTooMuch(Bad):
    """encode asks for one tensor of 16 TiB (never touched), larger than any machine it runs on."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        if x.size(0) > 3:
            h = h + torch.empty(1 << 42).sum()
        return h[:, :2], h[:, 2:]


class Bomb(Bad):
    """A buffer of zeros, deflated: a file of a few hundred KB that inflates to 128 MiB."""

    def __init__(self):
        super().__init__()
        self.register_buffer("padding", torch.zeros(32 << 20))


def make_hostile(out):
    def path(name):
        return os.path.join(out, "hostile_" + name + ".pt")
    target = os.path.join(out, "written_by_model.bin")
    save(WritesFile(target), path("from_file"))
    save(SavesFile(target), path("save"))
    save(RunsOnLoad(target), path("setstate"))
    save(Prints(), path("print"))
    save(Loops(0), path("loop_on_probe"))
    save(Loops(3), path("loop_later"))
    save(Raises(0), path("raise_on_probe"))
    save(Raises(3), path("raise_later"))
    save(Forks(), path("fork"))
    save(Hoards(3), path("hoards"))
    save(AsksTooMuch(), path("asks_too_much"))
    save(Bomb(), path("bomb"))
    with zipfile.ZipFile(path("bomb")) as z:
        entries = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path("bomb"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)


def make_bad(out):
    def path(name):
        return os.path.join(out, "bad_" + name + ".pt")
    with open(path("text"), "w") as f:
        f.write("this is not a model\n")
    torch.save(Bad().state_dict(), path("state_dict"))
    save(NoDecode(), path("no_decode"))
    save(WrongDecodeShape(), path("decode_shape"))
    save(EncodeOneTensor(), path("encode_shape"))
    save(NanDecode(), path("nan"))
    save(NoLatentDim(), path("no_latent_dim"))
    save(Bad(likelihood="poisson"), path("likelihood"))
    save(Bad(shape=[1, 28]), path("image_shape"))
    save(Bad().double(), path("double"))
    # A file from a PyTorch newer than the reader: the archive's format version raised past any
    # LibTorch 1.13 reads.
    save(Bad(), path("newer"))
    with zipfile.ZipFile(path("newer")) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path("newer"), "w", zipfile.ZIP_STORED) as z:
        for info, data in entries:
            z.writestr(info, b"99\n" if info.filename.endswith("/version") else data)
    save(Bad(latent=2), path("good"))
    make_hostile(out)


def check(file, out):
    """Loads an exported model and writes what Python computes for the test's inputs."""
    model = torch.jit.load(file)
    c, h, w = model.image_shape
    x = read(os.path.join(out, "x.bin"), (-1, c, h, w))
    with torch.no_grad():
        mu, logvar = model.encode(x)
        decoded = model.decode(mu)
    assert tuple(decoded.shape) == (x.shape[0], c, h, w), decoded.shape
    write(os.path.join(out, "py_mu.bin"), mu)
    write(os.path.join(out, "py_logvar.bin"), logvar)
    write(os.path.join(out, "py_decoded.bin"), decoded)
    with open(os.path.join(out, "py_attributes.txt"), "w") as f:
        sigma = model.sigma if model.likelihood == "gaussian" else 0.0
        step = model.step if hasattr(model, "step") else -1
        f.write(f"{model.latent_dim} {c} {h} {w} {model.likelihood} {sigma} {step}\n")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: torchscript_models.py make DIR | check FILE DIR")
