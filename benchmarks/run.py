"""Speed and size, each as a ratio against a baseline measured in the same run.

    python benchmarks/run.py            (or: make bench)

1. Embedding cache: a warm rebuild against the cold encode of the same pairs (a random-init
   open_clip model registered here, 200 generated images).
2. Analyses on 5000 pairs x 512 dims: the whole metrics table (distance, three losses, retrieval,
   original and closed) against one plain similarity-matrix product (the unavoidable floor).
3. Heatmap bytes: one 200 x 200 similarity matrix as the seed article shipped it (CSV, %.18e)
   against a float32 binary and our quantized uint8 payload (base64 in JSON), with its error.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def unit(rng, n, d, shift=0.0):
    x = rng.normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_cache() -> None:
    import open_clip
    from PIL import Image

    from exporters.pairs import Modality, PairedDataset
    from exporters.sources.openclip import OpenClipSource

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = {"embed_dim": 64, "vision_cfg": {"image_size": 64, "patch_size": 8, "width": 128, "layers": 2},
               "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 2}}
        (tmp / "Bench-Tiny.json").write_text(json.dumps(cfg))
        open_clip.add_model_config(tmp)
        rng = np.random.default_rng(0)
        paths = []
        for i in range(200):
            p = tmp / f"{i}.png"
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(p)
            paths.append(str(p))
        ds = PairedDataset("bench_v1", tuple(map(str, range(200))),
                           (Modality("image", "image", "Image", tuple(paths)),
                            Modality("text", "text", "Text", tuple(f"caption number {i}" for i in range(200)))))
        import os
        os.environ["EXPORTERS_PROGRESS"] = "0"
        t0 = time.perf_counter()
        OpenClipSource("Bench-Tiny", random_init=True).embed(ds, tmp / "cache")
        cold = time.perf_counter() - t0
        warm = timed(lambda: OpenClipSource("Bench-Tiny", random_init=True).embed(ds, tmp / "cache"))
    print(f"embedding cache      cold {cold:8.3f} s   warm {warm:8.3f} s   warm/cold = {warm / cold:.3f}")


def bench_analyses() -> None:
    from exporters.analysis.metrics import gap_metrics

    rng = np.random.default_rng(1)
    x, y = unit(rng, 5000, 512, 0.3), unit(rng, 5000, 512, -0.3)
    floor = timed(lambda: x @ y.T)
    full = timed(lambda: gap_metrics(x, y, 100.0, 50), repeat=1)
    print(f"metrics, 5000 pairs  one x@y.T {floor:8.3f} s   full table {full:8.3f} s   table/product = {full / floor:.1f}")


def bench_heatmap_bytes() -> None:
    rng = np.random.default_rng(2)
    e = np.vstack([unit(rng, 100, 512, 0.3), unit(rng, 100, 512, -0.3)])
    s = e @ e.T
    buf = io.StringIO()
    np.savetxt(buf, s, delimiter=",", fmt="%.18e")
    csv_bytes = len(buf.getvalue().encode())
    f32 = s.astype(np.float32).nbytes
    line = f"heatmap 200x200      seed CSV {csv_bytes:9d} B   float32 {f32:7d} B ({f32 / csv_bytes:.3f})"
    from exporters.figures._common import dequantize, quantize

    packed = quantize(s)
    payload = json.dumps(packed, separators=(",", ":")).encode()
    err = float(np.abs(dequantize(packed) - s).max())
    line += f"   ours (uint8) {len(payload):7d} B ({len(payload) / csv_bytes:.3f}, max error {err:.4f})"
    print(line)


if __name__ == "__main__":
    bench_heatmap_bytes()
    bench_analyses()
    bench_cache()
