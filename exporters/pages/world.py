"""Facts of the chapter on the shapes world (article/pages/world.md.j2): our models trained from one
initialisation with different objectives, the untrained one, CLIP against the InfoLOOB objectives,
CyCLIP's symmetry against CLIP's, and the loss along the gap."""

from __future__ import annotations

from typing import Any

from exporters.figures import _prose

LOOB = ("infoloob", "cloob")   # the objectives that leave the positive pair out of the denominator


def _pct(v: float | None) -> float | None:
    return None if v is None else 100 * v


def _clip_against_loob(clip: dict, loobs: list[dict]) -> dict:
    """Does the large models' finding (CLOOB's gap far smaller than CLIP's) hold for ours? And where a CLOOB
    model departs from the paper's Hopfield β, how it retrieves against CLIP (its training record's numbers)."""
    smaller = [m for m in loobs if m["distance"] < clip["distance"]]
    t = clip["training"]
    undertrained = []
    for m in loobs:
        tr = m["training"]
        if tr["objective"] != "cloob" or tr.get("hopfield_beta") is None or tr["hopfield_beta"] == _prose.PAPER_HOPFIELD_BETA:
            continue
        undertrained.append({"label": m["label"], "hopfield_beta": tr["hopfield_beta"], "notes": tr["notes"],
                             "evaluated": bool(tr.get("eval_r1")), "eval_pairs": tr.get("eval_pairs"),
                             "r1_percent": _pct(tr["eval_r1"][0]) if tr.get("eval_r1") else None,
                             "chance_percent": _pct(tr.get("eval_chance_r1"))})
    return {"clip": clip, "loobs": loobs, "steps": t["steps"], "scale": t["scale"],
            "all_smaller": len(smaller) == len(loobs), "some_smaller": 0 < len(smaller) < len(loobs),
            "not_all_smaller": len(smaller) < len(loobs),
            "undertrained": undertrained, "paper_hopfield_beta": _prose.PAPER_HOPFIELD_BETA,
            "clip_evaluated": bool(t.get("eval_r1")),
            "clip_r1_percent": _pct(t["eval_r1"][0]) if t.get("eval_r1") else None}


def _symmetry(cy: dict, cl: dict, cy_distance: float, cl_distance: float) -> dict:
    """CyCLIP's in-modal asymmetry against CLIP's (how many times smaller or larger) and their gaps."""
    more = cy["mean_abs"] < cl["mean_abs"]
    num, den = (cl["mean_abs"], cy["mean_abs"]) if more else (cy["mean_abs"], cl["mean_abs"])
    return {"cyclip": cy, "clip": cl, "more_symmetric": more, "ratio": num / den if den else None,
            "cyclip_distance": cy_distance, "clip_distance": cl_distance, "gap_larger": cy_distance > cl_distance}


def facts(pages: Any) -> dict:
    world = pages.facts("explorer", "world") if pages.has("world") else None
    if world is None:
        return {"world": None}
    trained, u = world["trained"], world["untrained_model"]
    by_objective = {m["training"]["objective"]: m for m in trained}    # a later model wins
    loobs = [m for m in trained if m["training"]["objective"] in LOOB]
    clip_loob = _clip_against_loob(by_objective["clip"], loobs) if "clip" in by_objective and loobs else None
    inm = pages.facts("inmodal", "world")
    symmetry = None
    if inm is not None and "cyclip" in by_objective and "clip" in by_objective:
        cy_id, cl_id = by_objective["cyclip"]["id"], by_objective["clip"]["id"]
        if cy_id in inm["by_id"] and cl_id in inm["by_id"]:
            symmetry = _symmetry(inm["by_id"][cy_id], inm["by_id"][cl_id],
                                 by_objective["cyclip"]["distance"], by_objective["clip"]["distance"])
    return {
        "world": world, "trained": trained, "training": world["trained_training"], "untrained": u,
        "caption": f"Our models on {world['n']} shapes pairs; the first shown is the untrained one.",
        "clip_loob": clip_loob, "symmetry": symmetry, "landscape": pages.facts("landscape", "world"),
    }
