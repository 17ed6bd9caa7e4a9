"""Compact encodings of figure data (stated so the article can quote them).

- similarity matrices (and other matrices drawn as heatmaps): uint8 codes on one step per matrix
  (`offset + code * scale`), of a symmetric matrix only the upper triangle with the diagonal, in a
  gzipped binary `.bin` file the page fetches as an ArrayBuffer (0.40-0.48 B per cell on the real
  data, against 0.98 for base64 of the full matrix gzipped by the host); the largest error of a
  decoded cell, half a step, is stated as `max_abs_error` next to the data;
- projections: each axis rescaled to [-1, 1] and rounded to 3 decimals (error <= 5e-4 of the range);
- metrics: 4 significant digits; JSON canonical (sorted keys, no spaces): the same data, the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from exporters.errors import UserError

ENCODING_VERSION = 2   # 2: uint8 upper triangles in .bin files (1: base64 of the full matrix)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("._") or "x"


def r4(v: float | None) -> float | None:
    if v is None:
        return None
    return float(f"{float(v):.4g}")


def _round_up(v: float) -> float:
    """v > 0 to 4 significant digits, never below v: a stated bound stays a bound."""
    r = float(f"{v:.4g}")
    if r < v:   # one unit of the 4th digit more, then rounded: at least v + unit / 2
        r = float(f"{v + 10.0 ** (np.floor(np.log10(v)) - 3):.4g}")
    return r


def pack_matrix(m: np.ndarray) -> tuple[dict, bytes]:
    """(metadata, uint8 codes) of a matrix on one step: decoded = offset + code * scale.

    A symmetric matrix (asymmetry under 1% of a step, as E Eᵀ in floating point) keeps only its upper
    triangle with the diagonal, row by row (i <= j): half the bytes, and what the page mirrors. Raw
    bytes rather than base64 so gzip sees the byte values. `max_abs_error` bounds |decoded - m| for
    every cell: half a step, plus half the asymmetry where the triangle stands for both halves."""
    m = np.asarray(m, float)
    if m.ndim != 2 or m.size == 0 or not np.isfinite(m).all():
        raise UserError(f"pack_matrix: need a finite, non-empty 2-D matrix, got shape {m.shape}")
    lo, hi = float(m.min()), float(m.max())
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    asym = float(np.abs(m - m.T).max()) if m.shape[0] == m.shape[1] else np.inf
    symmetric = asym <= 0.01 * scale
    if symmetric:
        m = (m + m.T) / 2
    q = np.clip(np.rint((m - lo) / scale), 0, 255).astype(np.uint8)
    if symmetric:
        q = q[np.triu_indices(m.shape[0])]
    meta = {"encoding": "u8-upper" if symmetric else "u8", "rows": int(m.shape[0]), "cols": int(m.shape[1]),
            "offset": lo, "scale": scale, "max_abs_error": _round_up(scale / 2 + (asym / 2 if symmetric else 0.0))}
    return meta, q.tobytes()


def unpack_matrix(meta: dict, payload: bytes) -> np.ndarray:
    """The decoded matrix (float64) of pack_matrix's metadata and codes."""
    n, k = meta["rows"], meta["cols"]
    q = np.frombuffer(payload, np.uint8)
    if meta["encoding"] == "u8-upper":
        iu = np.triu_indices(n)
        if q.size != iu[0].size:
            raise UserError(f"{meta.get('src', 'matrix')}: {q.size} codes, a {n}x{n} upper triangle needs {iu[0].size}")
        full = np.empty((n, n), np.uint8)
        full[iu] = q
        full.T[iu] = q
        q = full
    elif meta["encoding"] != "u8" or q.size != n * k:
        raise UserError(f"{meta.get('src', 'matrix')}: encoding {meta['encoding']!r} with {q.size} codes for {n}x{k}")
    return meta["offset"] + q.reshape(n, k).astype(float) * meta["scale"]


def quantize(m: np.ndarray) -> dict:
    """pack_matrix with the codes in base64 inside the dict (for in-memory use and benchmarks; the
    site writes .bin files with FigureContext.write_matrix)."""
    meta, payload = pack_matrix(m)
    return {**meta, "b64": base64.b64encode(payload).decode("ascii")}


def dequantize(d: dict, root: Path | None = None) -> np.ndarray:
    """Decode quantize's dict, or write_matrix's metadata whose gzipped `src` is read under `root`."""
    if "b64" in d:
        return unpack_matrix(d, base64.b64decode(d["b64"]))
    return unpack_matrix(d, gzip.decompress((Path(root) / d["src"]).read_bytes()))


def unit_box(p: np.ndarray) -> dict:
    """Rescale each axis to [-1, 1] and round to 3 decimals: {'x': [...], 'y': [...]}."""
    p = np.asarray(p, float)
    out = {}
    for k, col in zip("xy", p.T):
        lo, hi = col.min(), col.max()
        c = (col - (lo + hi) / 2) / ((hi - lo) / 2 if hi > lo else 1.0)
        out[k] = [round(float(v), 3) + 0.0 for v in c]
    return out


POINT_STEP = 0.001   # unit_box's 3 decimals, as integers


def pack_points(box: dict) -> tuple[dict, bytes]:
    """(metadata, bytes) of unit_box coordinates as little-endian int16 thousandths, interleaved
    x0 y0 x1 y1 ...: the same numbers as unit_box's JSON, and gzipped a third smaller (10,000 UMAP
    points: 26.0 kB against 38.8 kB), since each point's two small integers sit side by side."""
    x, y = (np.rint(np.asarray(box[k], float) / POINT_STEP) for k in "xy")
    if x.shape != y.shape or x.ndim != 1 or (np.abs(np.concatenate([x, y])) > 1000).any():
        raise UserError(f"pack_points: need unit_box coordinates (x and y of one length, in [-1, 1]), got {x.shape}, {y.shape}")
    q = np.empty(2 * x.size, "<i2")
    q[0::2], q[1::2] = x, y
    return {"encoding": "i16-xy", "points": int(x.size), "step": POINT_STEP}, q.tobytes()


def unpack_points(meta: dict, payload: bytes) -> dict:
    """pack_points' coordinates back as {'x': [...], 'y': [...]} (3 decimals, as unit_box gives them)."""
    q = np.frombuffer(payload, "<i2")
    if meta.get("encoding") != "i16-xy" or q.size != 2 * meta["points"]:
        raise UserError(f"{meta.get('src', 'points')}: encoding {meta.get('encoding')!r} with {q.size} values "
                        f"for {meta.get('points')} points")
    return {k: [round(float(v) * meta["step"], 3) + 0.0 for v in q[i::2]] for i, k in enumerate("xy")}
