"""UMAP and t-SNE at 10,000 points beside maintained alternatives, with the quality each one keeps.

    python benchmarks/projections.py            (also part of `make bench`: measure() -> dict)

The points are the "Large scale" page's first view: our CLIP model's 5000 shapes pairs with the gap
closed (10,000 unit vectors in 64 dimensions; the embeddings come from the cache, computed once when
absent). Every method runs once on one process after a warm-up on 300 and 4,500 points (numba
compiles UMAP's and pynndescent's kernels on first use; that cost is reported on its own, as
`jit_warmup_s`: a build pays it once per process).

Times are ratios against PCA (exact SVD), the floor measured in the same run. Quality is measured
the same way for every method: `knn_kept`, the share of each point's 10 nearest neighbours (cosine,
in 64-D) that are among its 10 nearest in the 2-D layout, averaged over 1000 seeded query points;
and `knn_same`, the modality mixing the article quotes (exporters.analysis.summaries), on the same
sample (chance: 0.5).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_QUERY, K = 1000, 10


def large_view_points() -> tuple[np.ndarray, np.ndarray]:
    """(10,000 x 64 closed-gap embeddings, modality labels) of the default build's large section."""
    from exporters.analysis.gap import close_gap
    from exporters.config import load_config
    from exporters.world import World

    cfg = load_config(ROOT / "configs" / "default.toml")
    sec = cfg.sections["large"]
    emb = World(cfg).embeddings(sec["models"][0], sec["dataset"])
    a, b = list(emb.blocks)[:2]
    xc, yc = close_gap(emb.blocks[a], emb.blocks[b])
    n = len(xc)
    return np.vstack([xc, yc]), np.repeat([0, 1], n)


def neighbour_quality(e: np.ndarray, p: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Over N_QUERY seeded points: `knn_kept`, the mean share of the K nearest (cosine) neighbours in
    `e` that stay among the K nearest in `p`; `knn_same`, the mean share of the K nearest in `p` that
    share the point's modality (the mixing number the article quotes, on a sample)."""
    rng = np.random.default_rng(seed)
    q = rng.choice(len(e), size=min(N_QUERY, len(e)), replace=False)
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    hi = -(u[q] @ u.T)
    lo = ((p[q, None, :] - p[None, :, :]) ** 2).sum(-1)
    hi[np.arange(len(q)), q] = np.inf
    lo[np.arange(len(q)), q] = np.inf
    nh = np.argpartition(hi, K, axis=1)[:, :K]
    nl = np.argpartition(lo, K, axis=1)[:, :K]
    kept = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(nh, nl)]))
    same = float(np.mean(labels[nl] == labels[q][:, None]))
    return {"knn_kept": round(kept, 4), "knn_same": round(same, 4)}


def _methods() -> dict:
    from exporters.analysis import projection as P

    def umap_epochs(n_epochs):
        def run(e):
            from exporters.analysis.projection import known_warnings_silenced

            r = P._umap(len(e), P.SEED)
            r.set_params(n_epochs=n_epochs)
            with known_warnings_silenced():
                return r.fit_transform(np.asarray(e, np.float32))
        return run

    def sk_tsne(e):
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, metric="cosine", init="pca", random_state=P.SEED,
                    perplexity=30.0).fit_transform(np.asarray(e, np.float32))

    def open_tsne(e, n_jobs=1):
        from openTSNE import TSNE as OTSNE

        return np.asarray(OTSNE(n_components=2, metric="cosine", initialization="pca", random_state=P.SEED,
                                perplexity=30.0, n_jobs=n_jobs, verbose=False).fit(np.asarray(e, np.float64)))

    return {
        "pca": P.pca_2d,
        "umap_build": P.umap_2d,                      # what the build runs (exporters.analysis.projection)
        "umap_500_epochs": umap_epochs(500),          # umap-learn's default below 10,001 points
        "umap_200_epochs": umap_epochs(200),          # its default above
        "tsne_sklearn": sk_tsne,                      # Barnes-Hut, one process
        "opentsne_1_job": open_tsne,                  # FFT-accelerated interpolation (openTSNE)
        "opentsne_2_jobs": lambda e: open_tsne(e, 2),
    }


def measure(only: list[str] | None = None) -> dict:
    """{method: {seconds, ratio_to_pca, knn_kept, knn_same}} at 10,000 points, plus the warm-up."""
    e, labels = large_view_points()
    methods = _methods()
    t = time.perf_counter()
    methods["umap_build"](e[:300])                   # compile numba kernels outside the timings: UMAP's,
    methods["umap_200_epochs"](e[:4500])             # and pynndescent's (used from 4,096 points)
    warm = time.perf_counter() - t
    out: dict = {"points": int(len(e)), "dims": int(e.shape[1]), "jit_warmup_s": round(warm, 2), "methods": {}}
    for name, fn in methods.items():
        if only and name not in only and name != "pca":
            continue
        t = time.perf_counter()
        p = np.asarray(fn(e), float)
        sec = time.perf_counter() - t
        out["methods"][name] = {"seconds": round(sec, 2), **neighbour_quality(e, p, labels)}
        print(f"{name:18s} {sec:8.2f} s   knn kept {out['methods'][name]['knn_kept']:.3f}", file=sys.stderr)
    floor = out["methods"]["pca"]["seconds"] or 1e-9
    for v in out["methods"].values():
        v["ratio_to_pca"] = round(v["seconds"] / floor, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1:] or None), indent=1))
