#!/usr/bin/env python3
"""Deterministic SCALE-Sim topology CSV of N rows for scale tests (issue #17).

Usage: scripts/gen_topology.py ROWS > topo.csv

Rows cycle through realistic layer sizes: the 20 distinct conv shapes of ResNet-50
(kernels/resnet50.csv) and 12 transformer GEMMs (BERT-large / GPT-3 layer projections and
attention blocks), alternating conv and GEMM rows. Names are unique (`L<index>_<kind>`).
The same ROWS always gives the same bytes (no randomness).
"""
import sys

# name, H, W, Fh, Fw, C, filters, stride (ResNet-50 conv layers)
CONV = [
    (224, 224, 7, 7, 3, 64, 2),
    (56, 56, 1, 1, 64, 64, 1),
    (56, 56, 3, 3, 64, 64, 1),
    (56, 56, 1, 1, 64, 256, 1),
    (56, 56, 1, 1, 256, 64, 1),
    (56, 56, 1, 1, 256, 128, 2),
    (28, 28, 3, 3, 128, 128, 1),
    (28, 28, 1, 1, 128, 512, 1),
    (28, 28, 1, 1, 512, 128, 1),
    (28, 28, 1, 1, 512, 256, 2),
    (14, 14, 3, 3, 256, 256, 1),
    (14, 14, 1, 1, 256, 1024, 1),
    (14, 14, 1, 1, 1024, 256, 1),
    (14, 14, 1, 1, 1024, 512, 2),
    (7, 7, 3, 3, 512, 512, 1),
    (7, 7, 1, 1, 512, 2048, 1),
    (7, 7, 1, 1, 2048, 512, 1),
    (56, 56, 1, 1, 64, 256, 1),
    (28, 28, 1, 1, 256, 512, 2),
    (14, 14, 1, 1, 512, 1024, 2),
]

# M, N, K (BERT-large s512 and GPT-3 175B layer GEMMs, batch of tokens)
GEMM = [
    (512, 3072, 1024),
    (512, 512, 64),
    (512, 64, 512),
    (512, 1024, 1024),
    (512, 4096, 1024),
    (512, 1024, 4096),
    (2048, 36864, 12288),
    (2048, 12288, 12288),
    (2048, 49152, 12288),
    (2048, 12288, 49152),
    (2048, 2048, 128),
    (2048, 128, 2048),
]


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit("usage: gen_topology.py ROWS (a positive integer)")
    rows = int(sys.argv[1])
    out = sys.stdout
    out.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
              "Channels, Num Filter, Strides,\n")
    for i in range(rows):
        if i % 2 == 0:
            h, w, fh, fw, c, f, s = CONV[(i // 2) % len(CONV)]
            out.write(f"L{i}_conv, {h}, {w}, {fh}, {fw}, {c}, {f}, {s},\n")
        else:
            m, n, k = GEMM[(i // 2) % len(GEMM)]
            out.write(f"L{i}_gemm, {m}, {n}, {k},\n")


if __name__ == "__main__":
    main()
