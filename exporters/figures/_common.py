"""Shared pieces of the figure exporters: the build context, compact encodings, per-model payloads.

Everything here turns analysis results (pure numpy) into JSON-able data. The only numbers computed
here are plain summaries the article's prose quotes (so that every sentence about a figure is rendered
from the data it describes): mean in-modal / cross-modal / true-pair similarity, PC1's share of
variance and how well PC1 splits the modalities, how many of each point's nearest neighbours in a 2-D
projection share its modality, and the range a loss can take at a model's logit scale. Encodings (stated so the article can quote them):
- similarity matrices (and other matrices drawn as heatmaps): uint8 codes on one step per matrix
  (`offset + code * scale`), of a symmetric matrix only the upper triangle with the diagonal, in a
  gzipped binary `.bin` file the page fetches as an ArrayBuffer (0.40-0.48 B per cell on the real
  data, against 0.98 for base64 of the full matrix gzipped by the host); the largest error of a
  decoded cell, half a step, is stated as `max_abs_error` next to the data;
- projections: each axis rescaled to [-1, 1] and rounded to 3 decimals (error <= 5e-4 of the range);
- metrics: 4 significant decimals.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exporters.analysis import summaries
from exporters.analysis.clustering import cluster_order, filter_by_substring
from exporters.analysis.gap import close_gap, modality_distance
from exporters.analysis.losses import infonce, reference_loss
from exporters.analysis.projection import SEED, concat_pairs, project
from exporters.analysis.retrieval import recall_at_k
from exporters.analysis.similarity import similarity_matrix
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, PairedDataset

PROJECTIONS = ("PCA", "UMAP", "TSNE")
THUMB_PX = 160
BATCH_SIZE = 50          # pairs per batch for every loss the article quotes (the seed article's choice)
ENCODING_VERSION = 2   # 2: uint8 upper triangles in .bin files (1: base64 of the full matrix)


@dataclass
class FigureContext:
    """What a figure exporter may use: the world (datasets + embeddings), where to write, options."""

    world: Any                      # exporters.world.World or any object with the same methods
    out_dir: Path                   # staging docs dir; data goes under data/, item files under items/
    cache_dir: Path
    options: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)   # url -> bytes written (for the size accounting)

    @property
    def projections(self) -> list[str]:
        methods = [str(m).upper() for m in self.options.get("projections", PROJECTIONS)]
        bad = [m for m in methods if m not in PROJECTIONS]
        if bad or not methods:
            raise UserError(f"options.projections: unknown {bad or 'empty list'}; use a list of {', '.join(PROJECTIONS)}")
        return methods

    @property
    def batch_size(self) -> int:
        return int(self.options.get("loss_batch_size", BATCH_SIZE))

    def section_opts(self, role: str) -> dict | None:
        return self.world.config.sections.get(role)

    def write_bytes(self, rel: str, data: bytes) -> str:
        """Write a file under out_dir, counted in the size accounting; return its URL relative to the
        site root."""
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written[rel] = len(data)
        return rel

    def write_json(self, rel: str, obj: Any) -> str:
        """Write canonical JSON under out_dir; return its URL relative to the site root."""
        return self.write_bytes(rel, dumps(obj).encode("utf-8"))

    def write_matrix(self, rel: str, m: np.ndarray) -> dict:
        """Write a matrix's codes (pack_matrix), gzipped, to `rel` (a .bin file under out_dir); return
        its metadata with `src`, the URL the page fetches. Gzipped here, not left to the host: static
        hosts compress by content type, and few compress application/octet-stream."""
        meta, payload = pack_matrix(m)
        self.write_bytes(rel, gzip.compress(payload, compresslevel=9, mtime=0))   # mtime 0: byte-identical
        return {**meta, "gzip": True, "src": rel}

    def item_file(self, src: str, kind: str, dataset_id: str, index: int) -> str:
        """Copy (audio) or shrink (image) one item's file into the site; return its URL."""
        key = ("item", src, kind)
        if key in self.memo:
            return self.memo[key]
        folder = f"items/{slug(dataset_id)}"
        p = Path(src)
        if not p.exists():
            raise UserError(f"{src}: item {index} of dataset {dataset_id} is missing")
        if kind == "image":
            from exporters.images import load_rgb

            rel = f"{folder}/{index}.jpg"
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            im = load_rgb(p)  # the pixels the model saw (exporters/images.py)
            im.thumbnail((THUMB_PX, THUMB_PX))
            im.save(dst, "JPEG", quality=70, optimize=True)
        else:
            rel = f"{folder}/{index}{p.suffix.lower()}"
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
        self.written[rel] = dst.stat().st_size
        self.memo[key] = rel
        return rel


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


def _digest(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.round(np.asarray(a, np.float64), 10))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def cached_projection(ctx: FigureContext, e: np.ndarray, method: str) -> np.ndarray:
    """project(e, method), from the cache when the same points were projected with the same settings."""
    from exporters.analysis.projection import VERSION
    from exporters.cache import cached_arrays

    parts = {"what": "projection", "method": method, "seed": SEED, "data": _digest([e]), "v": VERSION}
    arrays, _ = cached_arrays(parts, lambda: {"p": project(e, method)}, ctx.cache_dir / "projections")
    return arrays["p"]


def pair_keys(names: list[str]) -> list[tuple[str, str]]:
    """Modality pairs in a stable order: (a, b) for a before b."""
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]


def state_payload(ctx: FigureContext, ds: PairedDataset, blocks: dict[str, np.ndarray],
                  logit_scale: float | None, projections: bool = True, *, sim_file: str) -> dict:
    """Everything the browser needs to draw one model in one state (gap open or closed); the
    similarity matrix goes to `sim_file` (a .bin the page fetches, FigureContext.write_matrix)."""
    names = list(blocks)
    arrs = [blocks[n] for n in names]
    s = similarity_matrix(arrs)
    n = len(ds)
    out: dict[str, Any] = {"sim": ctx.write_matrix(sim_file, s)}
    if projections:
        e = np.vstack(arrs)
        out["proj"] = {m: unit_box(cached_projection(ctx, e, m)) for m in ctx.projections}
    metrics: dict[str, Any] = {"pairs": {}}
    for a, b in pair_keys(names):
        x, y = blocks[a], blocks[b]
        pm = {"distance": r4(modality_distance(x, y))}
        if logit_scale is not None and n >= 2:
            pm["loss"] = r4(infonce(x, y, logit_scale, ctx.batch_size))
            pm["reference_loss"] = r4(reference_loss(x, y, logit_scale, ctx.batch_size))
        rec = recall_at_k(x, y, (1,), ds.content_groups(a), ds.content_groups(b))
        pm["r1"] = [r4(rec["x2y@1"]), r4(rec["y2x@1"])]
        pm.update(similarity_summary(s, [names.index(a), names.index(b)], n))
        metrics["pairs"][f"{a}_{b}"] = pm
    first = metrics["pairs"][f"{names[0]}_{names[1]}"]
    metrics.update({k: first.get(k) for k in ("distance", "loss", "reference_loss", "r1", "sim_in", "sim_cross",
                                              "sim_pair")})
    metrics["pc1"] = pc1_summary(arrs, n)
    if projections:
        labels = np.repeat(np.arange(len(names)), n)
        metrics["knn_same"] = {m: knn_same(np.column_stack([out["proj"][m]["x"], out["proj"][m]["y"]]), labels)
                               for m in ctx.projections}
    out["metrics"] = metrics
    texts = _texts(ds)
    clusters = {}
    for a in names:
        for b in names:
            if len(names) == 2 and (a, b) != (names[1], names[0]):
                continue
            cross = s[names.index(a) * n:(names.index(a) + 1) * n, names.index(b) * n:(names.index(b) + 1) * n]
            c = cluster_order(cross, 10, texts)
            clusters[f"{a}_{b}"] = {"order": c.order, "sizes": c.sizes, "labels": c.labels}
    out["clusters"] = clusters
    return out


def _rounded(v: Any) -> Any:
    """r4 on every float of a nested dict/list (ints, None and strings as they are)."""
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    return r4(v) if isinstance(v, float) else v


def similarity_summary(s: np.ndarray, idx: list[int], n: int) -> dict:
    return _rounded(summaries.quadrant_means(s, idx, n))


def pc1_summary(arrs: list[np.ndarray], n: int) -> dict:
    return _rounded(summaries.pc1_separation(arrs, n))


def knn_same(p: np.ndarray, labels: np.ndarray) -> dict:
    return _rounded(summaries.knn_same_modality(p, labels))


def loss_bounds(logit_scale: float | None, batch: int) -> dict | None:
    return _rounded(summaries.infonce_bounds(logit_scale, batch))


def training_record(ctx: FigureContext, mid: str) -> dict | None:
    """How a model of this project was trained, from the record beside its checkpoint (models/<name>.json,
    written by `python -m exporters train`); None for models trained elsewhere."""
    try:
        entry = ctx.world.config.models[mid]
        ckpt = entry.options.get("checkpoint")
    except (AttributeError, KeyError):
        return None
    if not ckpt:
        return None
    rec_path = ctx.world.config.resolve(str(ckpt)).with_suffix(".json")
    if not rec_path.is_file():
        return None
    try:
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        cfg, temp = rec["config"], rec["temperature"]
    except (ValueError, KeyError, TypeError):
        return None
    val = rec.get("val") or {}
    return {"objective": rec.get("objective"), "steps": int(rec.get("steps") or 0),
            "batch_size": cfg.get("batch_size"), "train_pairs": cfg.get("train_pairs"),
            "temperature": temp.get("mode"), "scale": r4(temp.get("final_scale")),
            "hopfield_beta": cfg.get("hopfield_beta") if rec.get("objective") == "cloob" else None,
            "notes": str(cfg.get("notes") or ""),
            "eval_pairs": val.get("pairs"),
            "eval_r1": [r4(val.get("image_to_text_R@1")), r4(val.get("text_to_image_R@1"))]
            if "image_to_text_R@1" in val else None,
            "eval_chance_r1": r4(val.get("chance_R@1")), "eval_distance": r4(val.get("modality_distance"))}


def _texts(ds: PairedDataset) -> list[str] | None:
    for m in ds.modalities:
        if m.kind in ("text", "molecule"):
            return list(m.items)
    return None


def molecule_file(ctx: FigureContext, smiles: str, dataset_id: str, index: int) -> str:
    """Draw a SMILES with RDKit into a sanitized SVG file of the site; return its URL."""
    from exporters.molecules import molecule_svg

    rel = f"items/{slug(dataset_id)}/mol-{index}.svg"
    path = ctx.out_dir / rel
    if not path.exists():
        data = molecule_svg(smiles, where=f"{dataset_id} item {index}").encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        ctx.written[rel] = len(data)
    return rel


def items_payload(ctx: FigureContext, ds: PairedDataset) -> dict:
    mods = []
    for m in ds.modalities:
        extra: dict = {}
        if m.kind in ("image", "audio"):
            items = [ctx.item_file(p, m.kind, ds.id, i) for i, p in enumerate(m.items)]
        else:
            items = list(m.items)
        if m.kind == "molecule":  # structure drawings, fetched on hover like images
            extra["drawings"] = [molecule_file(ctx, smiles, ds.id, i) for i, smiles in enumerate(m.items)]
        mods.append({"name": m.name, "kind": m.kind, "label": m.label, "items": items, **extra})
    return {"dataset": ds.id, "n": len(ds), "ids": list(ds.ids), "modalities": mods}


def load_section(ctx: FigureContext, role: str):
    """(dataset, {model: EmbeddingSet}) or None when absent; errors in optional sections become notes."""
    key = ("section", role)
    if key not in ctx.memo:
        sec = ctx.world.section(role)
        opts = ctx.section_opts(role) or {}
        if sec is not None and opts.get("substring"):
            ds, models = sec
            texts = _texts(ds)
            if texts is None:
                raise UserError(f"[sections.{role}] substring filter needs a text or molecule modality in {ds.id}")
            keep = filter_by_substring(texts, str(opts["substring"]))
            if len(keep) < 3:
                raise UserError(f"[sections.{role}] substring {opts['substring']!r} matches {len(keep)} pairs of "
                                f"{ds.id}; choose one that matches at least 3")
            sub = ds.subset(keep, f"has_{slug(str(opts['substring']))}")
            models = {m: EmbeddingSet(e.model, sub.id, {k: v[keep] for k, v in e.blocks.items()}, e.logit_scale,
                                      e.provenance) for m, e in models.items()}
            sec = (sub, models)
        ctx.memo[key] = sec
    return ctx.memo[key]


def section_payload(ctx: FigureContext, role: str, dataset: PairedDataset | None = None,
                    models: dict[str, EmbeddingSet] | None = None, closed: bool = True) -> dict | None:
    """Index of one section: items file, models with one data file each. Memoized per role."""
    key = ("payload", role)
    if key in ctx.memo:
        return ctx.memo[key]
    if dataset is None:
        sec = load_section(ctx, role)
        if sec is None:
            ctx.memo[key] = None
            return None
        dataset, models = sec
    items_url = ctx.write_json(f"data/{slug(role)}/items.json", items_payload(ctx, dataset))
    names = dataset.names
    can_close = closed and len(names) == 2
    zlo, entries = 1.0, []
    for mid, emb in models.items():
        blocks = {n: emb.blocks[n] for n in names}
        sim_file = f"data/{slug(role)}/{slug(mid)}-{{}}.bin"
        states = {"open": state_payload(ctx, dataset, blocks, emb.logit_scale, sim_file=sim_file.format("open"))}
        if can_close:
            xc, yc = close_gap(blocks[names[0]], blocks[names[1]])
            states["closed"] = state_payload(ctx, dataset, {names[0]: xc, names[1]: yc}, emb.logit_scale,
                                             sim_file=sim_file.format("closed"))
        for st in states.values():
            zlo = min(zlo, st["sim"]["offset"])
        label = _label(ctx, mid)
        # one file per state: a reader fetches only the state shown (the comparison shows 'open' only)
        urls = {k: ctx.write_json(f"data/{slug(role)}/{slug(mid)}-{k}.json",
                                  {"model": mid, "label": label, "logit_scale": emb.logit_scale, "state": k, **v})
                for k, v in states.items()}
        entries.append({"id": mid, "label": label, "states": urls, "logit_scale": emb.logit_scale,
                        "loss_bounds": loss_bounds(emb.logit_scale, min(ctx.batch_size, len(dataset))),
                        "training": training_record(ctx, mid),
                        "metrics": {k: v["metrics"] for k, v in states.items()}})
    payload = {
        "section": role, "dataset": dataset.id, "n": len(dataset),
        "modalities": [{"name": m.name, "label": m.label, "kind": m.kind} for m in dataset.modalities],
        "items": items_url, "models": entries, "states": ["open", "closed"] if can_close else ["open"],
        "projections": ctx.projections, "batch_size": ctx.batch_size,
        "zrange": [float(np.floor(zlo * 10) / 10), 1.0],
        "clusters": _cluster_keys(names),
    }
    ctx.memo[key] = payload
    return payload


def _cluster_keys(names: list[str]) -> list[str]:
    if len(names) == 2:
        return [f"{names[1]}_{names[0]}"]
    return [f"{a}_{b}" for a in names for b in names]


def _label(ctx: FigureContext, mid: str) -> str:
    try:
        return str(ctx.world.label(mid))
    except (KeyError, AttributeError):
        return mid
