"""2-D projections of embeddings: PCA, UMAP, t-SNE (all seeded), out-of-sample UMAP, concatenated pairs."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

SEED = 31415  # the seed article's random_state, kept so layouts are comparable
VERSION = 3   # of the settings below, part of every cached projection's key: raise it when they change
LARGE = 4096   # points above which UMAP runs 200 epochs (where umap-learn also leaves exact neighbours)

# The warnings a projection is known to give and that say nothing about this build: (category,
# regex that the start of the message must match, why it is harmless). Only these are silenced; any
# other warning (a library change, data a projection cannot handle) reaches the user. A full default
# build (UMAP on every real and shapes set, out of sample on 5000 pairs) gives this one and no other.
KNOWN_WARNINGS = (
    (ImportWarning, r"Tensorflow not installed; ParametricUMAP will be unavailable",
     "umap's import notes a model family we do not use (ParametricUMAP needs tensorflow)"),
)


@contextlib.contextmanager
def known_warnings_silenced():
    """Silence KNOWN_WARNINGS (and nothing else) for the duration of the block."""
    with warnings.catch_warnings():
        for category, pattern, _why in KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern, category=category)
        yield


def pca_2d(e: np.ndarray) -> np.ndarray:
    """First two principal components (sklearn's PCA with its deterministic sign convention)."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, svd_solver="full").fit_transform(np.asarray(e, float))


# numba kernels of umap-learn and pynndescent that numba cannot write to its disk cache ("uses dynamic
# globals"): left uncached, so they compile once per process (about 25 s on two cores, first UMAP above
# LARGE points), and no warning says so on every build.
UNCACHEABLE_KERNELS = frozenset({"nn_descent", "nn_descent_internal"})
_KERNELS_CACHED = False


def _cache_kernels() -> int:
    """Give umap-learn's and pynndescent's numba kernels numba's on-disk cache (beside their modules, in
    the installed packages), as pynndescent already does for some of its own: without it every process
    compiles them again, about 60 s of a two-process build's CPU (measured here: a fresh process's first
    300-point fit 19.4 s and transform 7.8 s, cached 0.2 s and 0.1 s). Numba keys the cache by the source
    file and its own version, so an upgrade recompiles. Returns how many kernels were given a cache."""
    global _KERNELS_CACHED
    if _KERNELS_CACHED:
        return 0
    import sys

    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    count = 0
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in ("umap", "pynndescent") or module is None:
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, Dispatcher) and isinstance(value._cache, NullCache)
                    and value.py_func.__name__ not in UNCACHEABLE_KERNELS):
                value.enable_caching()
                count += 1
    _KERNELS_CACHED = True
    return count


def compile_kernels() -> None:
    """Compile (or load from numba's cache) every UMAP kernel a build uses: exact neighbours, NN-descent
    above LARGE points, the layout, the out-of-sample transform. `make` runs it once at install."""
    rng = np.random.default_rng(0)
    small, large = rng.normal(size=(60, 8)), rng.normal(size=(LARGE + 100, 8))
    umap_out_of_sample(small, small[:10])
    umap_2d(large)


def _umap(n: int, seed: int, metric: str = "cosine"):
    with known_warnings_silenced():
        import umap
    _cache_kernels()

    # PCA initialisation: deterministic, and fast where the spectral one runs one ARPACK solve per
    # connected component of the neighbour graph (minutes on 10 000 clustered points).
    # Epochs: umap-learn's default (500) up to LARGE points, 200 above (umap-learn's own default
    # from 10,001). benchmarks/projections.py at 10,000 points, numba kernels compiled before timing:
    # 500 epochs 12.3 s, 200 epochs 5.4 s, true neighbours kept 0.717 and 0.707 (one run; an earlier
    # run that timed the kernels' compilation with the fit saw no difference).
    return umap.UMAP(n_components=2, metric=metric, random_state=seed, n_jobs=1,
                     n_neighbors=min(15, max(2, n - 1)), init="pca" if n > 4 else "random",
                     n_epochs=200 if n > LARGE else None)



def umap_2d(e: np.ndarray, seed: int = SEED) -> np.ndarray:
    """UMAP on cosine distance; fixing random_state makes it single-threaded and repeatable."""
    e = np.asarray(e, np.float32)
    with known_warnings_silenced():
        return _umap(len(e), seed).fit_transform(e).astype(np.float64)


def tsne_2d(e: np.ndarray, seed: int = SEED) -> np.ndarray:
    """t-SNE on cosine distance, PCA-initialised and seeded, with scikit-learn's Barnes-Hut gradient.

    Barnes-Hut rather than the exact gradient even on 200 points: scikit-learn's exact gradient loops
    over the points in Python, ~2-4x slower here, for layouts as trustworthy (trustworthiness@10 on
    clustered and gapped 200-point sets: 0.991 vs 0.992, 0.9985 vs 0.9983). One OpenMP thread: the
    Barnes-Hut gradient sums in parallel, and another thread count would change the last bits.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    e = np.asarray(e, np.float32)
    perplexity = float(min(30.0, max(2.0, (len(e) - 1) / 3.0)))
    with threadpool_limits(limits=1, user_api="openmp"):
        return TSNE(n_components=2, metric="cosine", init="pca", random_state=seed, method="barnes_hut",
                    perplexity=perplexity).fit_transform(e).astype(np.float64)


def umap_out_of_sample(fit_on: np.ndarray, project: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Fit UMAP on one modality and place the other with `transform`: closes the gap visually only."""
    fit_on, project = np.asarray(fit_on, np.float32), np.asarray(project, np.float32)
    with known_warnings_silenced():
        reducer = _umap(len(fit_on), seed).fit(fit_on)
        return reducer.embedding_.astype(np.float64), reducer.transform(project).astype(np.float64)


def concat_pairs(blocks: list[np.ndarray]) -> np.ndarray:
    """One vector per pair: the modalities' embeddings side by side."""
    return np.hstack([np.asarray(b, float) for b in blocks])


METHODS = {"PCA": pca_2d, "UMAP": umap_2d, "TSNE": tsne_2d}


def project(e: np.ndarray, method: str, seed: int = SEED) -> np.ndarray:
    """Dispatch by name: 'PCA', 'UMAP' or 'TSNE'."""
    key = method.upper().replace("-", "")
    if key not in METHODS:
        from exporters.errors import UserError

        raise UserError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
    if key == "PCA":
        return pca_2d(e)
    return METHODS[key](e, seed)
