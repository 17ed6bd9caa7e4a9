"""What closing the gap costs: retrieval, loss and zero-shot accuracy as the modalities slide along the gap.

The shift is gap.shift_along_gap's: x moves by -delta/2, y by +delta/2 along the unit gap direction
of the original embeddings, so delta = modality distance closes the gap (before re-normalization).
Both variants are computed: re-normalized (back onto the sphere, as the seed article closes the
gap) and raw (off the sphere: dot products are then no longer cosines, which is the point of
showing it beside). Retrieval counts ties as retrieval.recall_at_k does (content groups); the loss is
losses.LOSSES[loss] at the model's own logit scale over consecutive batches, or None where the
scale is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis.gap import gap_vector, modality_distance, shift_along_gap
from exporters.analysis.landscape import signed_distance
from exporters.analysis.losses import LOSSES
from exporters.analysis.normalize import check_finite, l2_normalize
from exporters.analysis.retrieval import recall_at_k
from exporters.errors import UserError

FRACTIONS = tuple(float(f) for f in np.round(np.linspace(0.0, 1.5, 16), 10))   # shifts as fractions of the modality distance
RECALLS = ("x2y@1", "y2x@1", "x2y@5", "y2x@5")


def closing_deltas(x: np.ndarray, y: np.ndarray, fractions: Sequence[float] = FRACTIONS) -> list[float]:
    """Shifts delta = f * modality distance: 0 is the original, 1 closes the gap, above 1 overshoots."""
    dist = modality_distance(x, y)
    return [float(f) * dist for f in fractions]


def gap_cost_curve(x: np.ndarray, y: np.ndarray, deltas: Sequence[float], logit_scale: float | None,
                   batch_size: int = 50, groups: tuple | None = None, renormalize: bool = True,
                   loss: str = "infonce") -> dict:
    """R@1 and R@5 both ways, the loss, and the signed modality distance at every shift in `deltas`.

    Lists in the order of `deltas`; `groups` = (x content groups, y content groups).
    """
    if loss not in LOSSES:
        raise UserError(f"gap cost: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if modality_distance(x, y) == 0.0:
        raise UserError("gap cost: the two modalities have the same mean, so there is no gap direction to move along")
    g = gap_vector(x, y)
    u = g / np.linalg.norm(g)
    out: dict = {"deltas": [float(d) for d in deltas], "distance": [], "loss": None if logit_scale is None else [],
                 "loss_name": loss, "logit_scale": logit_scale, "batch_size": int(min(batch_size, len(x))),
                 "renormalize": bool(renormalize), **{k: [] for k in RECALLS}}
    for d in deltas:
        xs, ys = shift_along_gap(x, y, float(d), renormalize)
        out["distance"].append(signed_distance(xs, ys, u))
        r = recall_at_k(xs, ys, (1, 5), *(groups or (None, None)))
        for k in RECALLS:
            out[k].append(r[k])
        if logit_scale is not None:
            out["loss"].append(LOSSES[loss](xs, ys, logit_scale, batch_size))
    return out


def gap_cost(x: np.ndarray, y: np.ndarray, logit_scale: float | None, fractions: Sequence[float] = FRACTIONS,
             batch_size: int = 50, groups: tuple | None = None, loss: str = "infonce") -> dict:
    """Both curves over the same shifts: {'fractions', 'renormalized': curve, 'raw': curve}."""
    deltas = closing_deltas(x, y, fractions)
    return {"fractions": [float(f) for f in fractions],
            "renormalized": gap_cost_curve(x, y, deltas, logit_scale, batch_size, groups, True, loss),
            "raw": gap_cost_curve(x, y, deltas, logit_scale, batch_size, groups, False, loss)}


# -- zero-shot classification -----------------------------------------------------------------------------------
def _labels(labels, n_items: int, n_classes: int) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != (n_items,) or not np.issubdtype(lab.dtype, np.integer):
        raise UserError(f"zero-shot: need one integer class label per image ({n_items}), got shape {lab.shape} "
                        f"of {lab.dtype}")
    bad = np.flatnonzero((lab < 0) | (lab >= n_classes))
    if bad.size:
        raise UserError(f"zero-shot: image #{bad[0]} has label {lab[bad[0]]}, but there are {n_classes} class "
                        f"prompts (labels 0..{n_classes - 1})")
    return lab


def zero_shot_accuracy(images: np.ndarray, labels: Sequence[int], class_embeddings: np.ndarray) -> float:
    """Share of images whose own class prompt is not beaten by a strictly more similar other class.

    `class_embeddings` (C, d): one embedded prompt per class (e.g. "a photo of a {class}"), row c for
    label c. An exact tie with another class counts for the image, as in retrieval.
    """
    images, classes = check_finite(images, "images"), check_finite(class_embeddings, "class prompts")
    lab = _labels(labels, len(images), len(classes))
    s = images @ classes.T
    own = s[np.arange(len(images)), lab]
    return float(np.mean((s > own[:, None]).sum(axis=1) == 0))


def zero_shot_curve(images: np.ndarray, labels: Sequence[int], class_embeddings: np.ndarray,
                    deltas: Sequence[float], direction: np.ndarray, renormalize: bool = True) -> list[float]:
    """Zero-shot accuracy with images shifted by -delta/2 and class prompts by +delta/2 along `direction`
    (the paired data's gap vector; it is made a unit vector here), one value per delta."""
    images, classes = check_finite(images, "images"), check_finite(class_embeddings, "class prompts")
    u = np.asarray(direction, float)
    if u.shape != (images.shape[1],) or not np.linalg.norm(u) > 0:
        raise UserError(f"zero-shot: the gap direction must be a non-zero vector of {images.shape[1]} values")
    u = u / np.linalg.norm(u)
    out = []
    for d in deltas:
        xi, xc = images - float(d) * u / 2.0, classes + float(d) * u / 2.0
        if renormalize:
            xi, xc = l2_normalize(xi, "shifted images"), l2_normalize(xc, "shifted class prompts")
        out.append(zero_shot_accuracy(xi, labels, xc))
    return out
