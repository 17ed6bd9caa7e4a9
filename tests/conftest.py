"""Shared test helpers: where the reference data lives, and small arrays with known geometry."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "amumo-article"


def need_reference() -> Path:
    """The reference folder, or skip: it is only beside the checkout in CI and on dev machines."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (it sits in ../shared beside the checkout)")
    return REFERENCE


@pytest.fixture
def reference() -> Path:
    return need_reference()


def unit_rows(rng: np.random.Generator, n: int, d: int, shift: np.ndarray | None = None) -> np.ndarray:
    x = rng.normal(size=(n, d))
    if shift is not None:
        x = x + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


try:  # one torch thread: the suite's models are tiny, and threads only fight over 2 cores
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


# every test (and every command a test runs) uses a throwaway cache, never the repository's
_CACHE = tempfile.mkdtemp(prefix="exporters-test-cache-")
os.environ["EXPORTERS_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(autouse=True)
def _temporary_cache_only():
    """Each test starts and ends with the session's temporary cache: a test that points
    EXPORTERS_CACHE elsewhere must put it back (monkeypatch does), and nothing reaches the
    repository's .embeddings-cache through the default."""
    from exporters.cache import cache_root

    assert os.environ.get("EXPORTERS_CACHE") == _CACHE and cache_root() == Path(_CACHE)
    yield
    assert os.environ.get("EXPORTERS_CACHE") == _CACHE, "a test left EXPORTERS_CACHE pointing elsewhere"
