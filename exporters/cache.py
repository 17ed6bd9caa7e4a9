"""On-disk cache of embeddings, keyed by a hash of every input that could change them."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(os.environ.get("EXPORTERS_CACHE", ".cache/embeddings"))


def cache_key(parts: dict) -> str:
    """sha256 of the canonical JSON of `parts` (model id, weights checksum, preprocessing, data...)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def cached_arrays(parts: dict, compute: Callable[[], dict[str, np.ndarray]],
                  cache_dir: Path | None = None) -> tuple[dict[str, np.ndarray], bool]:
    """Return (arrays, hit). On a miss, compute and store atomically with a JSON sidecar of `parts`."""
    root = Path(cache_dir or DEFAULT_DIR)
    key = cache_key(parts)
    path = root / f"{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}, True
    arrays = compute()
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, suffix=".npz.tmp")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    side = root / f"{key}.json"
    fd, tmp = tempfile.mkstemp(dir=root, suffix=".json.tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(parts, f, sort_keys=True, indent=1, default=str)
    os.replace(tmp, side)
    return arrays, False
