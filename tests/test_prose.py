"""The article's statements about what a figure shows follow the data the build shows.

Each test renders the page sources (no MkDocs, PCA only) for a tiny synthetic world twice, once where
a statement is true and once where it is not, and checks that the prose flips with the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_support import _embeddings, _write_folder
from exporters.site import export

N = 24
TEXTS = [f"a {w} number {i}" for i, w in zip(range(N), ["dog", "cat", "car", "tree"] * 6)]


def _render(root: Path, gap: float, logit_scale: float) -> dict[str, str]:
    _write_folder(root, "main", TEXTS, {"M": _embeddings(N, 2, gap, 11)})
    cfg = root / "prose.toml"
    cfg.write_text(f"""
title = "Prose test"
[options]
projections = ["PCA"]
[datasets.main]
source = "reference"
path = "main"
[models.M]
source = "reference"
label = "Model <b>M</b>"
logit_scale = {logit_scale}
[sections.main]
dataset = "main"
models = ["M"]
""", encoding="utf-8")
    out = root / "docs"
    export(cfg, out)
    return {p.stem: re.sub(r"\s+", " ", p.read_text(encoding="utf-8")) for p in out.glob("*.md")}


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A stark gap: each modality sits far out along its own axis."""
    return _render(tmp_path_factory.mktemp("wide"), gap=3.0, logit_scale=50)


@pytest.fixture(scope="module")
def none(tmp_path_factory):
    """No gap: both modalities are noisy copies of the same vectors; evaluated at logit scale 1."""
    return _render(tmp_path_factory.mktemp("none"), gap=0.0, logit_scale=1)


BRIGHT = "the in-modal quadrants are bright and the cross-modal quadrants dark"
ISLANDS = "form separate islands in every view"
PC1_GAP = "It is the gap:"
NO_INFO = "carries no information about its embeddings"


def test_quadrant_sentence_follows_the_similarities(wide, none):
    assert BRIGHT in wide["index"]
    assert BRIGHT not in none["index"]
    assert "the diagonals of the cross-modal quadrants stand out" in none["index"]


def test_projection_sentences_follow_the_projection(wide, none):
    assert PC1_GAP in wide["index"] and ISLANDS in wide["index"]
    assert PC1_GAP not in none["index"] and ISLANDS not in none["index"]
    assert "It does not follow the gap" in none["index"]
    assert "No view separates the modalities into islands" in none["index"]


def test_retrieval_is_explained_by_ranking_not_by_comparing_captions(wide):
    assert "retrieval only compares captions with each other" not in wide["index"]
    assert "shifts every candidate alike" in wide["index"]


def test_loss_at_logit_scale_one_is_flagged(wide, none):
    assert NO_INFO in none["gap"] and "ln 24" in none["gap"]
    assert NO_INFO not in wide["gap"]
    # a loss without information is not ranked as cheaper or dearer to close
    assert "Closing the gap raises the loss" not in none["gap"]
    assert "Closing the gap lowers the loss" not in none["gap"]


def test_numbers_are_the_exported_ones_and_labels_stay_text(wide):
    idx = wide["index"]
    assert "Model &lt;b&gt;M&lt;/b&gt;" in idx and "<b>M</b>" not in idx
    # no model of this build was trained by the project: no sentence about our own training
    assert "small models of this project" not in idx
    assert "Our own InfoLOOB-trained models" not in wide["gap"]
