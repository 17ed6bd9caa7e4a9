"""Figure 8 of issue 10: the gap closing, step by step, in one fixed PCA basis so that motion means motion.

Per model, both modalities slide towards each other along the gap vector in steps of a tenth of the
modality distance (`exporters.analysis.animation.gap_animation`: Δ = f·‖δ‖, f = 0, 0.1, …, 1), once
put back onto the sphere after each shift (re-normalized, as the seed article closed the gap) and
once left where the shift puts them (raw: the centroids meet exactly at f = 1). Every frame of both
variants is projected with the mean and the two principal axes of the *original* embeddings; a
projection refitted per frame would turn and rescale with the data, and a point would seem to move
where nothing moved.

One JSON per model (fetched when the reader picks it): frames × points × 2 coordinates, rounded to 3
decimals (PCA coordinates of unit vectors lie within ±2, so a coordinate is off by at most 5e-4 in
the units of the full space), the two centroids per frame, and the modality distance in the full
space at each frame. Compactly (`encode_frames`; `decode_frames` here and the view unpack it): the
re-normalized frames as integers in thousandths, the first frame whole and each next one as its
change (points move little from step to step); a raw frame moves every point of a modality by the
same vector (the shift along the gap, projected), so it is the first frame plus that vector, stored
to 6 decimals (off by at most 5e-4 + 5e-7). 15 kB gzipped per model before, 4 kB with this. The
figure's own JSON holds the index and the numbers the prose quotes.

Defined for embeddings recovered from a similarity matrix too: the gap vector, the shift and the
principal axes turn with any rotation of the embeddings, and the axes' signs are fixed by the data
(axis 1 from the second modality's centroid to the first's), so every frame is the same whatever
rotation the recovery picked (tests/test_honesty.py checks it).
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.animation import FRACTIONS, gap_animation
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4, slug
from exporters.figures._sections import items_file, load_section, model_label

ID = "animation"
VARIANTS = ("renormalized", "raw")


def _r3(a: np.ndarray) -> list[float]:
    return [round(float(v), 3) + 0.0 for v in np.asarray(a, float).ravel()]


COORDS = (("ax", "x", 0), ("ay", "x", 1), ("bx", "y", 0), ("by", "y", 1))


def _frames(frames: list[dict]) -> list[dict]:
    out = []
    for f in frames:
        out.append({"ax": _r3(f["x"][:, 0]), "ay": _r3(f["x"][:, 1]), "bx": _r3(f["y"][:, 0]), "by": _r3(f["y"][:, 1]),
                    "ca": _r3(f["x"].mean(axis=0)), "cb": _r3(f["y"].mean(axis=0)), "distance": r4(f["distance"])})
    return out


def encode_frames(anim: dict) -> dict:
    """gap_animation's frames as the file stores them (see the module docstring): 'points' {ax, ay, bx, by}:
    the re-normalized frames' coordinates in thousandths, frame 0 whole, then each frame's change;
    'renormalized' and 'raw': per frame {ca, cb, distance}, a raw frame also 'shift' [ax, ay, bx, by]:
    what its points add to frame 0's."""
    ren, raw = anim["renormalized"], anim["raw"]
    points = {}
    for key, m, axis in COORDS:
        t = np.rint(np.array([f[m][:, axis] for f in ren]) * 1000).astype(int)
        points[key] = [t[0].tolist()] + np.diff(t, axis=0).tolist()
    meta = {v: [{k: f[k] for k in ("ca", "cb", "distance")} for f in _frames(anim[v])] for v in VARIANTS}
    for f, row in zip(raw, meta["raw"]):
        row["shift"] = [round(float(np.mean(f[m][:, axis] - raw[0][m][:, axis])), 6) + 0.0 for _, m, axis in COORDS]
    return {"points": points, **meta}


def decode_frames(payload: dict) -> dict:
    """{variant: [{ax, ay, bx, by, ca, cb, distance}]} of encode_frames' payload (as the view rebuilds it)."""
    P = payload["points"]
    cum = {key: np.cumsum(np.array(P[key]), axis=0) for key, _, _ in COORDS}
    out: dict = {v: [] for v in VARIANTS}
    for i, row in enumerate(payload["renormalized"]):
        out["renormalized"].append({**{key: [int(c) / 1000 for c in cum[key][i]] for key, _, _ in COORDS}, **row})
    first = out["renormalized"][0]
    for row in payload["raw"]:
        f = {key: [v + s for v in first[key]] for (key, _, _), s in zip(COORDS, row["shift"])}
        out["raw"].append({**f, **{k: row[k] for k in ("ca", "cb", "distance")}})
    return out


def _extent(frames: list[dict]) -> dict:
    """A fixed plot range covering every frame of both variants (a margin of 5 %): the axes never move."""
    out = {}
    for axis in (0, 1):
        v = np.concatenate([np.concatenate([f["x"][:, axis], f["y"][:, axis]]) for f in frames])
        lo, hi = float(v.min()), float(v.max())
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        out["xy"[axis]] = [round(lo - pad, 3), round(hi + pad, 3)]
    return out


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    names = list(ds.names)
    a, b = names[0], names[1]
    # the explorer's items file (same path, same bytes): the hover panel shows an item from it
    items = items_file(ctx, section, ds)
    rows = []
    for mid, emb in models.items():
        anim = gap_animation(emb.blocks[a], emb.blocks[b], FRACTIONS)
        label = model_label(ctx, mid)
        frames = encode_frames(anim)
        payload = {"model": mid, "label": label, "fractions": anim["fractions"], "deltas": [r4(d) for d in anim["deltas"]],
                   "variance_share": [r4(s) for s in anim["basis"]["variance_share"]],
                   "range": _extent(anim["renormalized"] + anim["raw"]), **frames}
        src = ctx.write_json(f"data/{slug(section)}/{slug(mid)}-animation.json", payload)
        f0 = anim["renormalized"][0]          # the share of the gap the picture shows: |axes g| / |g|
        in_plane = float(np.linalg.norm(f0["x"].mean(axis=0) - f0["y"].mean(axis=0))) / f0["distance"]
        rows.append({"id": mid, "label": label, "src": src, "gap_in_plane": r4(in_plane),
                     "variance_share": payload["variance_share"],
                     "distances": {v: [f["distance"] for f in frames[v]] for v in VARIANTS}})
    return {"section": section, "dataset": ds.id, "n": len(ds), "items": items,
            "modalities": [{"index": i, "name": m, "label": ds.modality(m).label} for i, m in enumerate((a, b))],
            "fractions": [float(f) for f in FRACTIONS], "variants": list(VARIANTS), "models": rows}


# -- words and numbers for the page -------------------------------------------------------------------
def _f(v: float | None, d: int = 2) -> str:
    return "n/a" if v is None else f"{float(v):.{d}f}"


def facts(data: dict) -> dict:
    """Per model: the distance before, and at the last frame with and without re-normalization, and the
    share of the original distance that re-normalizing leaves, and how much of the gap lies in the
    picture's plane (gap_in_plane = |axes g| / |g|: the screen shows this share of every shift); over
    the models: the extremes of these and who has them, whether re-normalizing leaves a gap everywhere
    (above 1 % of the original), whether the raw shift closes it exactly, and PC1's share of variance."""
    per = []
    for m in data["models"]:
        pl = m["gap_in_plane"]
        d0 = m["distances"]["renormalized"][0]
        end_n, end_r = m["distances"]["renormalized"][-1], m["distances"]["raw"][-1]
        per.append({"id": m["id"], "label": m["label"], "start": d0, "end_renormalized": end_n, "end_raw": end_r,
                    "left_share": r4(end_n / d0) if d0 else None, "pc1_share": m["variance_share"][0],
                    "pc2_share": m["variance_share"][1], "gap_in_plane": pl})
    shares = [p["left_share"] for p in per if p["left_share"] is not None]
    pc1 = [p["pc1_share"] for p in per]
    biggest = max(per, key=lambda p: p["left_share"] or 0.0) if per else None
    smallest = min(per, key=lambda p: p["left_share"] if p["left_share"] is not None else np.inf) if per else None
    return {"n": data["n"], "frames": len(data["fractions"]), "steps": len(data["fractions"]) - 1, "models": per,
            "first": per[0] if per else None,
            "left_share_max": max(shares) if shares else None,
            "left_share_max_model": biggest["label"] if biggest else None,
            "left_share_min": min(shares) if shares else None,
            "left_share_min_model": smallest["label"] if smallest else None,
            "renorm_leaves_gap_everywhere": bool(shares) and all(s > 0.01 for s in shares),
            "raw_closes_exactly": all(p["end_raw"] is not None and abs(p["end_raw"]) < 1e-6 for p in per),
            "pc1_share_min": min(pc1) if pc1 else None, "pc1_share_max": max(pc1) if pc1 else None,
            "in_plane_min": min(p["gap_in_plane"] for p in per) if per else None,
            "in_plane_min_model": min(per, key=lambda p: p["gap_in_plane"])["label"] if per else None,
            "in_plane_max": max(p["gap_in_plane"] for p in per) if per else None,
            "in_plane_max_model": max(per, key=lambda p: p["gap_in_plane"])["label"] if per else None,
            "start_max": max(p["start"] for p in per) if per else None,
            "start_max_model": max(per, key=lambda p: p["start"])["label"] if per else None,
            "pc1_share_max_model": max(per, key=lambda p: p["pc1_share"])["label"] if per else None,
            "pc1_share_min_model": min(per, key=lambda p: p["pc1_share"])["label"] if per else None}


def describe(data: dict, opts: dict) -> dict:
    a, b = (m["label"] for m in data["modalities"])
    steps = len(data["fractions"]) - 1
    label = (f"Gap-closing animation: {data['n']} {a.lower()}–{b.lower()} pairs of each of {len(data['models'])} models "
             f"moved in {steps} steps along the gap vector until the centroids meet, drawn in one fixed PCA basis; "
             f"a slider picks the step and a checkbox re-normalizes the points onto the sphere.")
    caption = (f"Each point is one {a.lower()} or {b.lower()} item. The slider moves both modalities towards each other "
               f"along the gap vector, a tenth of the modality distance per step; every step is drawn on the same two "
               f"principal axes of the original embeddings, so a point moves on the screen only when it moves in the "
               f"space. With re-normalization the points return to the sphere after the shift and a part of the gap "
               f"stays; without it the centroids (the two crosses) meet exactly.")
    rows = []
    for m in data["models"]:
        dn, dr = m["distances"]["renormalized"], m["distances"]["raw"]
        rows.append([m["label"], _f(dn[0], 3), _f(dn[len(dn) // 2], 3), _f(dn[-1], 3), _f(dr[len(dr) // 2], 3),
                     _f(dr[-1], 3), f"{100 * m['variance_share'][0]:.0f}% / {100 * m['variance_share'][1]:.0f}%",
                     _f(m["gap_in_plane"])])
    table = {"summary": "Text alternative: the modality distance in the full space along the shift, per model",
             "head": ["model", "distance before", "half-way, re-normalized", "at the end, re-normalized",
                      "half-way, raw", "at the end, raw", "variance on the two axes",
                      "share of the gap in the picture's plane"],
             "rows": rows}
    return {"label": label, "caption": caption, "tables": [table]}
