"""Writes the MNIST IDX files as an ImageFolder tree of PNGs: OUT/train/<digit>/<index>.png and
OUT/test/<digit>/<index>.png (grayscale, 28x28), for bench/folder_load and the folder-vs-IDX check.
    python3 bench/mnist_to_png.py IDX_DIR OUT
"""
import os
import sys

import numpy as np
from PIL import Image


def idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def main():
    src, out = sys.argv[1], sys.argv[2]
    tmp = out + ".partial"
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = idx(os.path.join(src, f"{prefix}-images-idx3-ubyte"), 16).reshape(-1, 28, 28)
        labels = idx(os.path.join(src, f"{prefix}-labels-idx1-ubyte"), 8)
        for digit in range(10):
            os.makedirs(os.path.join(tmp, split, str(digit)), exist_ok=True)
        for i, (image, label) in enumerate(zip(images, labels)):
            Image.fromarray(image, mode="L").save(os.path.join(tmp, split, str(label), f"{i:05d}.png"))
    os.rename(tmp, out)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
