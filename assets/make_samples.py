#!/usr/bin/env python3
"""Writes the viewer's sample images into assets/samples/: the first test image
of six Fashion-MNIST classes as 28x28 grey PNGs, and four CIFAR-10 test JPEGs.

usage: assets/make_samples.py [FASHION_MNIST_DIR] [CIFAR10_JPEG_DIR]
(defaults: /usr/share/datasets/fashion-mnist and ../shared/data/cifar10)"""
import gzip
import os
import shutil
import struct
import sys
import zlib

NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
         "ankle-boot"]


def png_gray(path, w, h, pixels):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\0" + bytes(pixels[y * w:(y + 1) * w]) for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "samples")
    fm = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    cifar = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "shared", "data",
                                                               "cifar10")
    if not os.path.isdir(cifar):  # a worktree beside the main checkout
        cifar = os.path.join(here, "..", "..", "..", "shared", "data", "cifar10")
    os.makedirs(out, exist_ok=True)
    images = gzip.open(os.path.join(fm, "t10k-images-idx3-ubyte.gz")).read()[16:]
    labels = gzip.open(os.path.join(fm, "t10k-labels-idx1-ubyte.gz")).read()[8:]
    for cls in (0, 2, 5, 6, 7, 9):
        i = labels.index(cls)
        png_gray(os.path.join(out, "fashion-%s.png" % NAMES[cls]), 28, 28,
                 images[i * 784:(i + 1) * 784])
    for cls in ("airplane", "cat", "horse", "ship"):
        shutil.copyfile(os.path.join(cifar, "test", cls, "0000.jpg"),
                        os.path.join(out, "cifar10-%s.jpg" % cls))


if __name__ == "__main__":
    main()
