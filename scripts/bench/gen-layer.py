"""Writes a deterministic bench layer: SIZE_MB of data in 16 MB files under DIR, from SEED.

Each 64 KiB block is 38% random bytes (incompressible, like the machine code and weights in a
torch wheel) and 62% text from a small vocabulary, so the layer gzips about 2x at level 6:
the ratio torch layers have. Same SEED, same bytes, so a rebuilt layer is the same layer.
"""
import os
import random
import sys

out, seed, size_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
words = [bytes(rng.choice(b"etaoinshrdlucmfwyp") for _ in range(rng.randint(2, 9))) for _ in range(20)]
text = b" ".join(rng.choice(words) for _ in range(400_000))
BLOCK = 64 * 1024
RANDOM = int(BLOCK * 0.38)
os.makedirs(out, exist_ok=True)
left = size_mb * 1024 * 1024
n = 0
while left > 0:
    with open(os.path.join(out, f"part-{n:03d}.bin"), "wb") as f:
        for _ in range(min(left, 16 * 1024 * 1024) // BLOCK):
            f.write(rng.randbytes(RANDOM))
            at = rng.randrange(0, len(text) - BLOCK)
            f.write(text[at : at + BLOCK - RANDOM])
    left -= 16 * 1024 * 1024
    n += 1
