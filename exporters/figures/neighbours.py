"""Figure 6 of the cost chapter: an item's nearest neighbours in the full-dimensional space, beside a 2-D layout.

A projection keeps some neighbourhoods and breaks others; the lists here are computed on the embeddings
themselves (exporters/analysis/neighbours.py): for every item, its top-k items of its own modality, of
the other modality, and of both together, each with its cosine similarity, the true partner marked, with
the gap open and closed (gap.close_gap, re-normalised). The 2-D layouts are the explorer's projections of
the same points (cached by content: _sections.cached_projection), so they cost nothing more to compute.

One JSON per model holds its lists and layouts for both states and is fetched when the reader picks the
model (indices and 3-decimal scores, no matrix), compactly (`encode_lists`, decoded by `decode_lists`
here and by the view): the joint list is not stored, only which modality each of its entries is
(`joint_m`): it is the in-modal and the cross-modal lists merged in that order (one stable sort of the
query's row: its entries of one modality are that modality's list, in order); scores are integers in
thousandths, each row its first score then the drops down the row; each field holds both states side
by side, where gzip finds the rows closing the gap left unchanged. 33-39 kB gzipped per model before,
23-24 kB with this. The figure's own JSON holds the summary: the share of an
item's k nearest items that share its modality, open and closed, against a perfect mix (chance), and the
share of items whose partner is among their k nearest items. Neighbours depend on similarities only, so
they are defined for models recovered from a similarity matrix too.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap
from exporters.analysis.neighbours import K, MODALITIES, neighbour_lists, neighbour_mixing, partner_found
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4, slug, unit_box
from exporters.figures._sections import cached_projection, items_file, load_section, model_label

ID = "neighbours"
STATES = ("open", "closed")


FIELDS = ("in", "in_s", "cross", "cross_s", "joint_m")


def _drops(a: np.ndarray) -> list:
    """Score rows (falling) in thousandths: the first, then each drop to the next (>= 0)."""
    t = np.rint(np.asarray(a, float) * 1000).astype(int)
    return np.concatenate([t[:, :1], -np.diff(t, axis=1)], axis=1).tolist()


def _scores(rows: list) -> list:
    return [[round(v / 1000, 3) + 0.0 for v in np.cumsum([r[0]] + [-d for d in r[1:]])] for r in rows]


def encode_lists(per_state: dict) -> dict:
    """neighbour_lists of each state ({state: lists}) as the file stores them: {q: {field: {state: rows}}}
    with FIELDS (see the module docstring); decode_lists gives the full lists back, scores to 3 decimals."""
    out = {}
    for q in MODALITIES:
        f: dict = {name: {} for name in FIELDS}
        for st, L in per_state.items():
            d = L[q]
            f["in"][st], f["in_s"][st] = d["in_index"].astype(int).tolist(), _drops(d["in_score"])
            f["cross"][st], f["cross_s"][st] = d["cross_index"].astype(int).tolist(), _drops(d["cross_score"])
            f["joint_m"][st] = d["joint_modality"].astype(int).tolist()
        out[q] = f
    return out


def decode_lists(enc: dict, state: str) -> dict:
    """One state's lists from encode_lists: {q: {in, in_s, cross, cross_s, joint, joint_m, joint_s}} (what
    the view rebuilds in article/views/neighbours.js)."""
    out = {}
    for qi, q in enumerate(MODALITIES):
        f = enc[q]
        d = {"in": f["in"][state], "in_s": _scores(f["in_s"][state]), "cross": f["cross"][state],
             "cross_s": _scores(f["cross_s"][state]), "joint_m": f["joint_m"][state], "joint": [], "joint_s": []}
        for i, mods in enumerate(d["joint_m"]):
            nxt = {qi: 0, 1 - qi: 0}
            src = {qi: (d["in"][i], d["in_s"][i]), 1 - qi: (d["cross"][i], d["cross_s"][i])}
            row, sc = [], []
            for m in mods:
                row.append(src[m][0][nxt[m]])
                sc.append(src[m][1][nxt[m]])
                nxt[m] += 1
            d["joint"].append(row)
            d["joint_s"].append(sc)
        out[q] = d
    return out


def build(ctx: FigureContext, section: str = "main", k: int = K, **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    # the section's items file, the one the explorer writes (same path, same bytes); not the explorer's payload
    items = items_file(ctx, section, ds)
    a, b = ds.names[0], ds.names[1]
    n = len(ds)
    k = int(min(k, n - 1))
    out = []
    for mid, emb in models.items():
        x, y = emb.blocks[a], emb.blocks[b]
        closed = close_gap(x, y)
        label = model_label(ctx, mid)
        proj, lists, summary = {}, {}, {}
        mix = neighbour_mixing(x, y, k)
        for st, (xs, ys) in zip(STATES, ((x, y), closed)):
            # the explorer's layout of these points: np.vstack of the blocks, as state_payload projects them
            # (a section of more than two modalities projects all of them there: here only the first two)
            e = np.vstack([xs, ys])
            lists[st] = neighbour_lists(xs, ys, k)
            proj[st] = {m: unit_box(cached_projection(ctx, e, m)) for m in ctx.projections}
            found = partner_found(xs, ys, k)
            summary[st] = {"same_x": r4(mix[st]["x"]), "same_y": r4(mix[st]["y"]),
                           "partner_x": r4(found["x"]), "partner_y": r4(found["y"])}
        url = ctx.write_json(f"data/{slug(section)}/{slug(mid)}-neighbours.json",
                             {"model": mid, "label": label, "k": k, "proj": proj, "lists": encode_lists(lists)})
        out.append({"id": mid, "label": label, "src": url, "summary": summary})
    return {"section": section, "items": items, "n": n, "k": k, "dataset": ds.id, "models": out,
            "chance": r4((n - 1) / (2 * n - 1)), "modalities": [ds.modality(a).label, ds.modality(b).label],
            "kinds": [ds.modality(a).kind, ds.modality(b).kind], "projections": list(ctx.projections),
            "states": list(STATES)}


def _and(labels: list[str]) -> str:
    """'A', 'A and B', 'A, B and C': a list of names as a sentence writes it."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1] if labels else ""


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def describe(data: dict, opts: dict) -> dict:
    ma, mb = data["modalities"]
    k = data["k"]
    label = (f"Nearest neighbours in the full-dimensional space for {len(data['models'])} models on {data['n']} pairs, "
             f"beside a 2-D layout; click an item to list its {k} nearest items")
    caption = (f"Click a point (or choose an item below the plot) to list its {k} nearest items in the full space: "
               f"of both modalities together, of its own modality and of the other, with cosine similarities; "
               f"the true partner is marked. Close the gap to see how the lists change. The layout is only a map: "
               f"the lists, not the distances in the plot, are the neighbourhoods.")
    head = ["Model", "Gap", f"{ma} queries: share of {ma.lower()} among the {k} nearest",
            f"{mb} queries: share of {mb.lower()} among the {k} nearest",
            f"{ma} queries: partner among the {k} nearest", f"{mb} queries: partner among the {k} nearest"]
    rows = []
    for m in data["models"]:
        for st in data["states"]:
            s = m["summary"][st]
            rows.append([m["label"], st, _pct(s["same_x"]), _pct(s["same_y"]), _pct(s["partner_x"]),
                         _pct(s["partner_y"])])
    return {"label": label, "caption": caption, "tables": [
        {"summary": f"Text alternative: how often an item's {k} nearest items share its modality "
                    f"(a perfect mix gives {_pct(data['chance'])}), and how often they include its partner",
         "head": head, "rows": rows}]}


def facts(data: dict) -> dict:
    """What the prose states: per model the share of same-modality neighbours (open, closed) and of items
    whose partner is among their k nearest items; `mostly_same_open`: with the gap open, more than half of
    the second modality's items' nearest items (a caption's, for image–caption data) are of its own
    modality, for every model; `closing_mixes`: closing the gap lowers that share for every model."""
    models = []
    for m in data["models"]:
        o, c = m["summary"]["open"], m["summary"]["closed"]
        models.append({"id": m["id"], "label": m["label"], "same_y_open": o["same_y"], "same_y_closed": c["same_y"],
                       "same_x_open": o["same_x"], "same_x_closed": c["same_x"],
                       "partner_y_open": o["partner_y"], "partner_y_closed": c["partner_y"],
                       "partner_x_open": o["partner_x"], "partner_x_closed": c["partner_x"],
                       "mostly_same_open": bool(o["same_y"] > 0.5),
                       "closing_mixes": bool(c["same_y"] < o["same_y"])})
    mostly = [m for m in models if m["mostly_same_open"]]
    return {"k": data["k"], "n": data["n"], "chance": data["chance"], "modalities": data["modalities"],
            "models": models,
            "all_mostly_same_open": bool(models) and len(mostly) == len(models),
            "some_mostly_same_open": bool(mostly),
            "mostly_same_labels": _and([m["label"] for m in mostly]),
            "not_mostly_same_labels": _and([m["label"] for m in models if not m["mostly_same_open"]]),
            "all_closing_mixes": bool(models) and all(m["closing_mixes"] for m in models)}
