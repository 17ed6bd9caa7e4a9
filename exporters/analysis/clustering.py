"""Reordering a similarity matrix so similar rows sit together, with short labels from the captions."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import ClusterWarning, fcluster, linkage


@dataclass(frozen=True)
class Clustering:
    order: list[int]          # item indices in display order
    sizes: list[int]          # cluster sizes in display order
    labels: list[str]         # one short label per cluster ('' when no text was given)
    assignment: list[int]     # cluster number (0-based, display order) of every item


def cluster_order(cross: np.ndarray, n_clusters: int = 10, texts: Sequence[str] | None = None) -> Clustering:
    """Complete-linkage clustering of the rows of `1 - cross` (rows as observations, Euclidean).

    This is the seed article's recipe, so its `cluster_sort_idcs` partition is reproduced; the
    order within the display is cluster by cluster, items in their original order inside a cluster.
    """
    d = 1.0 - np.asarray(cross, float)
    n = d.shape[0]
    k = max(1, min(n_clusters, n))
    if n < 2:
        ids = np.zeros(n, int)
    else:
        with warnings.catch_warnings():
            # rows are observations on purpose (the seed's recipe), even when 1 - S looks like a
            # square distance matrix, which is what scipy warns about
            warnings.simplefilter("ignore", ClusterWarning)
            ids = fcluster(linkage(d, method="complete"), k, criterion="maxclust") - 1
    order = np.argsort(ids, kind="stable")
    uniq = sorted(set(ids.tolist()))
    remap = {c: i for i, c in enumerate(uniq)}
    assignment = [remap[c] for c in ids.tolist()]
    sizes = [int((ids == c).sum()) for c in uniq]
    groups = [[i for i in range(n) if ids[i] == c] for c in uniq]
    labels = cluster_labels(texts, groups) if texts is not None else [""] * len(uniq)
    return Clustering(order=order.tolist(), sizes=sizes, labels=labels, assignment=assignment)


_STOP = frozenset("""a an the of on in at to and or with for from by is are be as its it this that
there their his her two three some several other into near next while over under up down out
front top side sitting standing""".split())


def _ngrams(text: str, n_max: int = 2) -> set[str]:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower())]
    grams: set[str] = set()
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            g = words[i:i + n]
            if g[0] in _STOP or g[-1] in _STOP:
                continue
            grams.add(" ".join(g))
    return grams


def cluster_labels(texts: Sequence[str], groups: Sequence[Sequence[int]], top: int = 2) -> list[str]:
    """Label each group by the word n-grams most specific to it (class-based TF-IDF).

    A term scores by how many of the group's captions contain it, discounted by how many groups
    share it; two distinct terms (no one inside the other) are joined with ' | '.
    """
    doc_terms = [_ngrams(t) for t in texts]
    group_counts = []
    for g in groups:
        counts: dict[str, int] = {}
        for i in g:
            for term in doc_terms[i]:
                counts[term] = counts.get(term, 0) + 1
        group_counts.append(counts)
    n_groups = len(groups)
    df: dict[str, int] = {}
    for counts in group_counts:
        for term in counts:
            df[term] = df.get(term, 0) + 1
    labels = []
    for g, counts in zip(groups, group_counts):
        scored = sorted(counts, key=lambda t: (-(counts[t] / max(len(g), 1))
                                               * np.log(1 + n_groups / df[t]) * (1 + 0.25 * t.count(" ")), t))
        chosen: list[str] = []
        for term in scored:
            if any(term in c or c in term for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top:
                break
        labels.append(" | ".join(chosen))
    return labels


def filter_by_substring(texts: Sequence[str], substring: str) -> list[int]:
    """Indices of the captions that contain `substring`, case-insensitively ('dog' finds 'hot dog')."""
    needle = substring.casefold()
    return [i for i, t in enumerate(texts) if needle in t.casefold()]
