"""The numbers the article quotes for one model on one dataset, before and after closing the gap."""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap, modality_distance
from exporters.analysis.losses import infoloob, infonce, reference_loss
from exporters.analysis.retrieval import recall_at_k


def gap_metrics(x: np.ndarray, y: np.ndarray, logit_scale: float | None, batch_size: int = 50,
                groups: tuple | None = None) -> dict:
    """Modality distance, losses and R@1/R@5 of paired L2-normalized blocks, original and closed.

    `groups` = (x content groups, y content groups) makes identical items one answer in R@k.
    Losses use the model's own logit scale; when it is unknown they are None (a loss at an
    invented temperature would be meaningless).
    """
    xc, yc = close_gap(x, y)
    out: dict = {"pairs": int(len(x)), "logit_scale": logit_scale, "batch_size": int(min(batch_size, len(x)))}
    for tag, (a, b) in {"original": (x, y), "closed": (xc, yc)}.items():
        row: dict = {"distance": modality_distance(a, b)}
        if logit_scale is not None:
            row["infonce"] = infonce(a, b, logit_scale, batch_size)
            row["infoloob"] = infoloob(a, b, logit_scale, batch_size)
            row["reference_loss"] = reference_loss(a, b, logit_scale, batch_size)
        else:
            row["infonce"] = row["infoloob"] = row["reference_loss"] = None
        row.update(recall_at_k(a, b, (1, 5), *(groups or (None, None))))
        out[tag] = row
    return out


def format_table(rows: dict[str, dict]) -> str:
    """A plain-text table of `gap_metrics` results keyed by model."""
    cols = [("distance", "dist"), ("infonce", "InfoNCE"), ("reference_loss", "ref.loss"), ("infoloob", "InfoLOOB"),
            ("x2y@1", "R@1 i→t"), ("y2x@1", "R@1 t→i"), ("x2y@5", "R@5 i→t"), ("y2x@5", "R@5 t→i")]
    head = f"{'model':<18} {'state':<8} {'scale':>6} " + " ".join(f"{c[1]:>9}" for c in cols)
    lines = [head, "-" * len(head)]
    for model, m in rows.items():
        for state in ("original", "closed"):
            r = m[state]
            cells = " ".join(f"{'-':>9}" if r[k] is None else f"{r[k]:>9.4f}" for k, _ in cols)
            scale = "-" if m["logit_scale"] is None else f"{m['logit_scale']:.0f}"
            lines.append(f"{model:<18} {state:<8} {scale:>6} {cells}")
    return "\n".join(lines)
