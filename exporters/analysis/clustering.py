"""Reordering a similarity matrix so similar rows sit together, with short labels from the captions."""

from __future__ import annotations

import unicodedata
import warnings
from collections import Counter
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
            # square distance matrix, which is what scipy warns about (only that warning is silenced)
            warnings.filterwarnings("ignore", message="The symmetric non-negative hollow observation matrix "
                                    "looks suspiciously like an uncondensed distance matrix", category=ClusterWarning)
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

# Scripts written without spaces between words: (first, last code point, script, how a run of it is
# cut). Han, Thai, Lao, Myanmar and Khmer runs give overlapping character bigrams (one character
# stands alone), the usual cheap stand-in for a dictionary-based segmenter. In Japanese a change of
# script is itself a good word boundary: a katakana run is one (loan)word and is kept whole, and so is
# a hiragana run, mostly particles and endings (see _KANA_STOP). Hangul is written with spaces.
_UNSPACED = ((0x0E00, 0x0E7F, "thai", "bigrams"), (0x0E80, 0x0EFF, "lao", "bigrams"),
             (0x1000, 0x109F, "myanmar", "bigrams"), (0x1780, 0x17FF, "khmer", "bigrams"),
             (0x3005, 0x3007, "han", "bigrams"), (0x3040, 0x309F, "hiragana", "whole"),
             (0x30A0, 0x30FF, "katakana", "whole"), (0x31F0, 0x31FF, "katakana", "whole"),
             (0x3400, 0x4DBF, "han", "bigrams"), (0x4E00, 0x9FFF, "han", "bigrams"),
             (0xF900, 0xFAFF, "han", "bigrams"), (0x20000, 0x3134F, "han", "bigrams"))
_HOW = {script: how for _, _, script, how in _UNSPACED}
# hiragana function words; a hiragana run of one character (a particle or a word ending) never labels
_KANA_STOP = frozenset("""から まで より など ている っている ています っています いる ます ました です でした
である だった った ない れる られる する した して""".split())


def _script(ch: str) -> str | None:
    """The unspaced script of `ch`, or None for scripts written with spaces (and digits, marks...)."""
    o = ord(ch)
    if o < 0x0E00:
        return None
    for lo, hi, script, _ in _UNSPACED:
        if lo <= o <= hi:
            return script
    return None


def tokenize(text: str) -> list[tuple[str, str, bool]]:
    """Words of a caption as (key, shown, unspaced), in order.

    The text is NFKC-normalised (full-width forms, ligatures, composed accents); a word is a run of
    Unicode letters, digits and combining marks (so `naïve café` is two words and `Straße` one; `_`
    and punctuation separate words, as before), and a change between spaced and unspaced scripts
    (or between two unspaced ones) ends a word. `key` is the casefolded word, which terms are
    counted by (`Straße` and `STRASSE` are one term); `shown` is its lower-case form, which labels
    show. Runs of unspaced scripts are cut as `_UNSPACED` says and come with unspaced=True. On ASCII
    text this is exactly the former `[a-z0-9]+` on the lower-cased text.
    """
    text = unicodedata.normalize("NFKC", text)
    out: list[tuple[str, str, bool]] = []
    run: list[str] = []
    script: str | None = None

    def flush() -> None:
        if not run:
            return
        word = "".join(run)
        run.clear()
        if script is None:
            out.append((word.casefold(), word.lower(), False))
        elif _HOW[script] == "whole" or len(word) == 1:
            if not (script == "hiragana" and (len(word) == 1 or word in _KANA_STOP)):
                out.append((word.casefold(), word.lower(), True))
        else:
            out.extend((word[i:i + 2].casefold(), word[i:i + 2].lower(), True) for i in range(len(word) - 1))

    for ch in text:
        kind = unicodedata.category(ch)[0]
        if kind not in "LNM":                         # letters, numbers, marks; the rest separates
            flush()
            continue
        if kind != "M":                               # a mark belongs to the character before it
            s = _script(ch)
            if run and s != script:
                flush()                               # 'CLIP模型', '公園で': a change of script
            script = s
        run.append(ch)
    flush()
    return out


def _ngrams(text: str, n_max: int = 2) -> dict[str, str]:
    """Label terms of a caption: {key: shown}. Word 1- and 2-grams (no stop word at either end); in
    unspaced scripts the character bigrams themselves (two of them side by side add nothing)."""
    words = tokenize(text)
    grams: dict[str, str] = {}
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            g = words[i:i + n]
            if n > 1 and any(w[2] for w in g):
                continue
            if g[0][0] in _STOP or g[-1][0] in _STOP:
                continue
            grams.setdefault(" ".join(w[0] for w in g), " ".join(w[1] for w in g))
    return grams


def cluster_labels(texts: Sequence[str], groups: Sequence[Sequence[int]], top: int = 2) -> list[str]:
    """Label each group by the word n-grams most specific to it (class-based TF-IDF).

    A term scores by how many of the group's captions contain it, discounted by how many groups
    share it; two distinct terms (no one inside the other) are joined with ' | '. Terms are counted
    by their casefolded form and shown in the lower-case form most of the group's captions use.
    """
    doc_terms = [_ngrams(t) for t in texts]
    group_counts = []
    shown: dict[str, Counter] = {}
    for g in groups:
        counts: dict[str, int] = {}
        for i in g:
            for term, form in doc_terms[i].items():
                counts[term] = counts.get(term, 0) + 1
                shown.setdefault(term, Counter())[form] += 1
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
        labels.append(" | ".join(min(shown[t], key=lambda f: (-shown[t][f], f)) for t in chosen))
    return labels


def filter_by_substring(texts: Sequence[str], substring: str) -> list[int]:
    """Indices of the captions that contain `substring`, case-insensitively ('dog' finds 'hot dog';
    NFKC and casefold: 'STRASSE' finds 'Straße', a composed 'é' a decomposed one)."""
    needle = unicodedata.normalize("NFKC", substring).casefold()
    return [i for i, t in enumerate(texts) if needle in unicodedata.normalize("NFKC", t).casefold()]
