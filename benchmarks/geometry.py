"""Issue 10's measures: speed as ratios against baselines measured in the same run.

    python benchmarks/geometry.py [--pairs 2000] [--dims 512]

1. RMG in O(N d) from sums (geometry.relative_modality_gap) against its O(N^2 d) definition
   (relative_modality_gap_direct), with the largest difference between the two.
2. Every measure of `inspect --measures` without projections (measures.model_measures) against the
   metrics table of the same pairs (metrics.gap_metrics: distance, three losses, R@k, open and closed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import timed  # noqa: E402  (benchmarks/ is on the path when a script in it runs)


def main() -> None:
    from exporters.analysis import geometry as geo
    from exporters.analysis.measures import model_measures
    from exporters.analysis.metrics import gap_metrics

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--dims", type=int, default=512)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(a.pairs, a.dims)) + 0.5
    y = x + rng.normal(size=x.shape) - 0.5
    x, y = x / np.linalg.norm(x, axis=1, keepdims=True), y / np.linalg.norm(y, axis=1, keepdims=True)

    fast, slow = timed(lambda: geo.relative_modality_gap(x, y)), timed(lambda: geo.relative_modality_gap_direct(x, y), 1)
    diff = abs(geo.relative_modality_gap(x, y) - geo.relative_modality_gap_direct(x, y))
    print(f"RMG, {a.pairs} pairs x {a.dims} dims: O(N d) {fast * 1e3:.2f} ms, O(N^2 d) definition "
          f"{slow * 1e3:.1f} ms: {slow / fast:.0f}x faster; |difference| {diff:.1e}")
    base = timed(lambda: gap_metrics(x, y, 100.0), 1)
    full = timed(lambda: model_measures(x, y, 100.0, projections=()), 1)
    print(f"all measures without projections {full:.2f} s against the metrics table {base:.2f} s: "
          f"{full / base:.1f}x")


if __name__ == "__main__":
    main()
