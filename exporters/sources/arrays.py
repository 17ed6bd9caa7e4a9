"""Precomputed embeddings: one .npz with an array per modality, or one .npy per modality.

Arrays are read at float32 precision, the precision models compute embeddings in (the open_clip
source stores float32 too): a float64 file is rounded to float32 first, so the same embeddings
saved as float16, float32 or float64 give the same article, byte for byte. Analyses then run in
float64 (EmbeddingSet)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from exporters.analysis.normalize import l2_normalize
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, PairedDataset


def load_arrays(path: str | Path, names: list[str]) -> dict[str, np.ndarray]:
    """Read `names` from an .npz file, or from `<path>/<name>.npy` files in a folder."""
    p = Path(path)
    out: dict[str, np.ndarray] = {}
    if p.is_dir():
        for n in names:
            f = p / f"{n}.npy"
            if not f.exists():
                raise UserError(f"{f}: missing; write one array per modality ({', '.join(names)}) as <name>.npy")
            try:
                out[n] = np.load(f, allow_pickle=False)
            except (ValueError, OSError) as exc:
                raise UserError(f"{f}: not a readable .npy array ({exc}); re-save it with numpy.save") from None
        return out
    if not p.exists():
        raise UserError(f"{p}: no such embeddings file; give an .npz or a folder of .npy files")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [n for n in names if n not in z.files]
            if missing:
                raise UserError(f"{p}: has arrays {z.files}, missing {missing}; save with "
                                f"numpy.savez(path, {', '.join(f'{n}=...' for n in names)})")
            return {n: z[n] for n in names}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"{p}: not a readable .npz file ({exc}); re-save it with numpy.savez") from None


def embeddings_from_arrays(path: str | Path, dataset: PairedDataset, model: str,
                           logit_scale: float | None = None) -> EmbeddingSet:
    """Load, check the pair count, and L2-normalize precomputed embeddings."""
    raw = load_arrays(path, dataset.names)
    blocks = {}
    for name, arr in raw.items():
        if arr.ndim != 2 or arr.shape[0] != len(dataset):
            raise UserError(f"{path}: array {name!r} has shape {arr.shape}, expected ({len(dataset)}, d) "
                            f"for dataset {dataset.id}")
        if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
            raise UserError(f"{path}: array {name!r} has dtype {arr.dtype}; save float embeddings")
        with np.errstate(over="ignore"):  # a value beyond float32's range becomes inf: refused by name below
            arr = np.asarray(arr, dtype=np.float32)
        blocks[name] = l2_normalize(arr, f"{path}:{name}", dataset.ids)
    dims = {b.shape[1] for b in blocks.values()}
    if len(dims) != 1:
        raise UserError(f"{path}: modalities have different dimensions {sorted(dims)}; they must share one space")
    return EmbeddingSet(model, dataset.id, blocks, logit_scale, {"source": "arrays", "path": str(path)})


def from_config(world, entry, dataset_id: str) -> EmbeddingSet:
    """The `arrays` source (exporters/registry.py): `path` may contain {dataset}, the dataset id."""
    path = world.resolve(str(entry.options["path"]).format(dataset=dataset_id))
    return embeddings_from_arrays(path, world.dataset(dataset_id), entry.id, entry.options.get("logit_scale"))
