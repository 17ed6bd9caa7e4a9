"""On-disk cache of embeddings, projections and generated images, keyed by a hash of every input.

One location: `$EXPORTERS_CACHE` when set (the CLI's `--cache DIR` sets it for one command), else
`.embeddings-cache/` at the root of the checkout (`~/.cache/clip-article` for an installed package
without a checkout). It holds `embeddings/` and `projections/` (`<sha256>.npz` + a `.json` sidecar
naming the inputs) and `images/` (generated and extracted images). Deleting it only costs time.

Entries are written atomically (temp file + rename) with the usual permissions (0644 under the
common umask), so a cache shared between users stays readable. An entry that cannot be read is said
on stderr (one `warning:` line, counted in `WARNINGS`) and recomputed; one that cannot be stored
likewise: the build's result never depends on the cache.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ENV = "EXPORTERS_CACHE"
DIR_NAME = ".embeddings-cache"
WARNINGS: collections.Counter = collections.Counter()   # 'unreadable' / 'unwritable' entries this process
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def cache_root() -> Path:
    """The cache folder: $EXPORTERS_CACHE, else `<checkout>/.embeddings-cache`."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return Path(os.path.abspath(os.path.expanduser(env)))
    if (ROOT / "pyproject.toml").is_file():
        return ROOT / DIR_NAME
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "clip-article"


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


def _warn(kind: str, message: str) -> None:
    WARNINGS[kind] += 1
    print(f"warning: {message}", file=sys.stderr)


def write_atomic(root: Path, path: Path, suffix: str, write: Callable) -> None:
    fd, tmp = tempfile.mkstemp(dir=root, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)   # mkstemp makes 0600: others sharing the cache could not read it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def cached_arrays(parts: dict, compute: Callable[[], dict[str, np.ndarray]],
                  cache_dir: Path | None = None) -> tuple[dict[str, np.ndarray], bool]:
    """Return (arrays, hit). On a miss, compute and store atomically with a JSON sidecar of `parts`."""
    root = Path(cache_dir) if cache_dir else cache_root() / "embeddings"
    key = cache_key(parts)
    path = root / f"{key}.npz"
    if os.path.lexists(path):
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}, True
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            _warn("unreadable", f"cache entry {path} is unreadable ({type(exc).__name__}: "
                                f"{getattr(exc, 'strerror', None) or exc}); recomputing it "
                                f"(delete the file, or set {ENV} to a folder of your own)")
    arrays = compute()
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_atomic(root, path, ".npz.tmp", lambda f: np.savez(f, **arrays))
        write_atomic(root, root / f"{key}.json", ".json.tmp",
                      lambda f: f.write(json.dumps(parts, sort_keys=True, indent=1, default=str).encode()))
    except OSError as exc:
        _warn("unwritable", f"cannot store cache entry {path} ({exc.strerror or type(exc).__name__}); "
                            f"the result is used but recomputed next time (set {ENV} to a writable folder)")
    return arrays, False
