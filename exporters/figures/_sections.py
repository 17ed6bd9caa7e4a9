"""A section's data for the figures that draw it: each model's payload per state, the items, projections.

The only numbers computed here are plain summaries the article's prose quotes (so that every sentence
about a figure is rendered from the data it describes): mean in-modal / cross-modal / true-pair
similarity, PC1's share of variance and how well PC1 splits the modalities, how many of each point's
nearest neighbours in a 2-D projection share its modality, and the range a loss can take at a model's
logit scale. Results of the slow steps (projections) are cached by content.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from exporters.analysis import summaries
from exporters.analysis.clustering import cluster_order, filter_by_substring
from exporters.analysis.gap import close_gap, modality_distance
from exporters.analysis.losses import infonce, reference_loss
from exporters.analysis.projection import SEED, project
from exporters.analysis.retrieval import recall_at_k
from exporters.analysis.similarity import similarity_matrix
from exporters.errors import UserError
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4, slug, unit_box
from exporters.pairs import EmbeddingSet, PairedDataset
from exporters.training.records import training_record

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


def items_file(ctx: FigureContext, section: str, ds: PairedDataset) -> str:
    """Write the section's items (captions, thumbnails' URLs) once, where every figure of the section
    finds them: data/<section>/items.json (the same bytes whichever figure writes it); return its URL."""
    return ctx.write_json(f"data/{slug(section)}/items.json", items_payload(ctx, ds))


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
    items_url = items_file(ctx, role, dataset)
    names = dataset.names
    can_close = closed and len(names) == 2
    zlo, err, entries = 1.0, 0.0, []
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
            err = max(err, st["sim"]["max_abs_error"])
        label = model_label(ctx, mid)
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
        "max_abs_error": err,   # the largest quantisation error of the section's similarity matrices
        "clusters": _cluster_keys(names),
    }
    ctx.memo[key] = payload
    return payload


def _cluster_keys(names: list[str]) -> list[str]:
    if len(names) == 2:
        return [f"{names[1]}_{names[0]}"]
    return [f"{a}_{b}" for a in names for b in names]


def model_label(ctx: FigureContext, mid: str) -> str:
    """The model's label in this build (its id where the world has none)."""
    try:
        return str(ctx.world.label(mid))
    except (KeyError, AttributeError):
        return mid
