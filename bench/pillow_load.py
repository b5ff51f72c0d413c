"""The practitioner's loader for an ImageFolder tree: walk it, decode every PNG with Pillow into one
uint8 NumPy array [N, H, W] with integer labels. Prints the wall time in seconds.
    python3 bench/pillow_load.py ROOT [--processes P]
"""
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image


def decode(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8)


def main():
    root = sys.argv[1]
    processes = int(sys.argv[sys.argv.index("--processes") + 1]) if "--processes" in sys.argv else 1
    start = time.perf_counter()
    paths, labels = [], []
    for split in sorted(os.listdir(root)):
        classes = sorted(os.listdir(os.path.join(root, split)))
        for label, name in enumerate(classes):
            folder = os.path.join(root, split, name)
            for f in sorted(os.listdir(folder)):
                paths.append(os.path.join(folder, f))
                labels.append(label)
    if processes > 1:
        with Pool(processes) as pool:
            images = pool.map(decode, paths, chunksize=256)
    else:
        images = [decode(p) for p in paths]
    array = np.stack(images)
    y = np.asarray(labels, dtype=np.int64)
    elapsed = time.perf_counter() - start
    assert array.shape[0] == y.shape[0] == len(paths)
    print(f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
