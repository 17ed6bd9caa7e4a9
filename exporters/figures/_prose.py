"""Small pieces of the facts that several figures' `facts(data)` and the pages' `facts(pages)` share.

Each returns plain numbers, labels and booleans for a sentence of the article; the page templates (and
the prose macros in templates/_macros.html.j2) only interpolate them and branch on the booleans.
"""

from __future__ import annotations

from typing import Any, Iterable

PROJECTION_NAMES = {"PCA": "PCA", "UMAP": "UMAP", "TSNE": "t-SNE"}   # the names a reader knows
ISLANDS = 0.9       # a projection whose points have this share of own-modality neighbours shows islands
PC1_IS_GAP = 0.9    # PC1 puts this share of the items on their own modality's side: PC1 is the gap
PC1_PARTLY = 0.7    # ... this share: PC1 partly follows the gap
PAIRS_APART = 0.9   # after closing, true pairs below this mean cosine do not coincide
PAPER_HOPFIELD_BETA = 8   # CLOOB's Hopfield β in Fürst et al. (2022)


def projection_name(method: str) -> str:
    return PROJECTION_NAMES.get(method, method)


def pair_name(key: str) -> str:
    """A modality pair's key ("image_text") as the page writes it ("image–text")."""
    return key.replace("_", "–")


def mixing(knn: dict | None) -> list[dict]:
    """[{name, same}] per projection, in the figure's order: the share of each point's nearest neighbours
    in the plot that are of its own modality (templates/_macros.html.j2 `mixing` lists them)."""
    return [{"name": projection_name(m), "same": k["same"]} for m, k in (knn or {}).items()]


def mixing_summary(knn: dict | None) -> dict:
    """k, what a complete mix gives (`chance`), and whether every / some / no view shows the modalities as
    separate islands (a share of own-modality neighbours of at least ISLANDS)."""
    vals = list((knn or {}).values())
    same = [v["same"] for v in vals]
    return {"k": vals[0]["k"] if vals else None, "chance": vals[0]["chance"] if vals else None,
            "views": mixing(knn),
            "islands_all": bool(same) and min(same) >= ISLANDS,
            "islands_some": bool(same) and max(same) >= ISLANDS}


def flat_loss(label: str, scale: float | None, bounds: dict | None, loss: float | None) -> dict | None:
    """The facts of the sentence saying that a loss at logit scale <= 1 carries no information (None when
    the model's scale is larger or unknown): logits then differ by at most 2 × scale, so no embedding could
    bring the batch's loss below `floor`, and equal similarities give ln(batch) = `uniform`."""
    if not bounds or scale is None or scale > 1:
        return None
    return {"label": label, "scale": scale, "spread": 2 * scale, "batch": bounds["batch"],
            "floor": bounds["floor"], "uniform": bounds["uniform"], "loss": loss}


def largest(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def exceeds_all(value: float | None, others: Iterable[float | None]) -> bool:
    """value > every one of `others` (False when there are none, or a number is missing)."""
    top = largest(others)
    return value is not None and top is not None and value > top


def by_id(rows: Iterable[dict]) -> dict[str, Any]:
    """{row id: row}; a later row wins, as a loop that updates a dict would do."""
    return {r["id"]: r for r in rows}
