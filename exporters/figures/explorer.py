"""Figures 1, 2, 6, 7, 9, 11: the linked explorer (similarity heatmap + scatter + hover panel).

Per model and per state (gap open / closed): the stacked cosine-similarity matrix (uint8), the 2-D
projections (PCA / UMAP / t-SNE of all items of all modalities together), the modality distance,
the loss, and the hierarchical-clustering order with caption labels. The browser switches between
these precomputed states and filters pairs by caption substring.
"""

from __future__ import annotations

from exporters.figures import _prose
from exporters.figures._context import FigureContext
from exporters.figures._sections import section_payload

ID = "explorer"
TEMPLATE = "explorer"


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    return section_payload(ctx, section)


def _model_facts(m: dict) -> dict:
    """One model of a section: its label, training record and metrics, and what the prose says about them."""
    rec = m.get("training") or None
    o, c = m["metrics"]["open"], m["metrics"].get("closed")
    sim_in = [v for v in o.get("sim_in") or [] if v is not None]
    in_lo = min(sim_in) if sim_in else None
    pair, cross = o.get("sim_pair"), o.get("sim_cross")
    pc1 = o.get("pc1") or {}
    split = pc1.get("split")
    return {
        "id": m["id"], "label": m["label"], "logit_scale": m.get("logit_scale"),
        "scale_known": m.get("logit_scale") is not None,
        "training": rec, "ours": rec is not None,
        "trained": rec is not None and rec.get("steps") != 0, "untrained": rec is not None and rec.get("steps") == 0,
        "hopfield": rec is not None and rec.get("hopfield_beta") is not None,
        "open": o, "closed": c, "distance": o["distance"],
        "pairs": [{"name": _prose.pair_name(k), "distance": p["distance"]} for k, p in o["pairs"].items()],
        # the heatmap's quadrants: one item more similar to an unrelated item of its own modality than to its
        # partner (the gap seen without a projection), or at least brighter in-modal blocks off the diagonals
        "gap_bright": in_lo is not None and pair is not None and in_lo > pair,
        "inmodal_brighter": in_lo is not None and cross is not None and in_lo > cross,
        "r1_changed": c is not None and c["r1"][0] != o["r1"][0],
        "closed_loss_lower": (c is not None and c.get("loss") is not None and o.get("loss") is not None
                              and c["loss"] < o["loss"]),
        "pairs_apart": c is not None and c.get("sim_pair") is not None and c["sim_pair"] < _prose.PAIRS_APART,
        "pc1": {"share": pc1.get("share"), "split": split,
                "is_gap": split is not None and split >= _prose.PC1_IS_GAP,
                "partly": split is not None and _prose.PC1_PARTLY <= split < _prose.PC1_IS_GAP},
        "mixing": {"open": _prose.mixing_summary(o.get("knn_same")),
                   "closed": _prose.mixing_summary(c.get("knn_same")) if c is not None else None},
        "flat_loss": _prose.flat_loss(m["label"], m.get("logit_scale"), m.get("loss_bounds"), o.get("loss")),
    }


def facts(data: dict) -> dict:
    """What the pages say about a section's models: each model's facts (`_model_facts`), the models by
    modality distance (smallest first, ties in the section's order), the project's own models (trained and
    untrained), the first untrained one against the rest, and the largest quantisation error of the
    section's similarity matrices (`max_abs_error`, as exported beside them)."""
    models = [_model_facts(m) for m in data["models"]]
    by_distance = sorted(models, key=lambda m: m["distance"])
    ours = [m for m in models if m["ours"]]
    trained = [m for m in ours if m["trained"]]
    untrained = [m for m in ours if m["untrained"]]
    u = untrained[0] if untrained else None
    trained_max = _prose.largest(m["distance"] for m in trained)
    return {
        "section": data["section"], "dataset": data["dataset"], "n": data["n"], "batch_size": data["batch_size"],
        "chance_r1": 1 / data["n"],
        "modalities": [mod["label"] for mod in data["modalities"]], "modality_count": len(data["modalities"]),
        "projections": [_prose.projection_name(p) for p in data["projections"]],
        "models": models, "by_id": _prose.by_id(models), "model_count": len(models),
        "several_models": len(models) != 1,
        "first": models[0] if models else None,
        "by_distance": by_distance,
        "smallest": by_distance[0] if models else None, "largest": by_distance[-1] if models else None,
        "ours": ours, "trained": trained, "untrained": untrained, "all_ours": len(ours) == len(models),
        "trained_training": trained[0]["training"] if trained else None,   # they share all but the objective
        "untrained_model": u,
        "trained_max_distance": trained_max,
        # the untrained model's gap against every other model of the section / every trained one
        "untrained_above_others": u is not None and _prose.exceeds_all(
            u["distance"], [m["distance"] for m in models if m["id"] != u["id"]]),
        "untrained_above_trained": u is not None and _prose.exceeds_all(u["distance"], [trained_max]),
        "max_abs_error": data.get("max_abs_error"),
    }
