"""The cost of closing the gap (exporters/analysis/gap_cost.py): retrieval, loss and zero-shot along the gap."""

from __future__ import annotations

import numpy as np
import pytest

from exporters.analysis import gap_cost as gc
from exporters.analysis.gap import close_gap, gap_vector, modality_distance
from exporters.analysis.losses import infonce
from exporters.analysis.metrics import gap_metrics
from exporters.analysis.retrieval import recall_at_k
from exporters.errors import UserError
from test_geometry import gapped, rotation


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_zero_shift_is_the_original_and_a_full_shift_is_the_closed_gap(rng):
    x, y = gapped(rng, 60, 10)
    out = gc.gap_cost(x, y, 100.0, fractions=[0.0, 1.0], batch_size=20)
    ren, raw = out["renormalized"], out["raw"]
    r0 = recall_at_k(x, y)
    for key in gc.RECALLS:
        assert ren[key][0] == r0[key] and raw[key][0] == r0[key]
    assert ren["loss"][0] == pytest.approx(infonce(x, y, 100.0, 20))
    assert ren["distance"][0] == pytest.approx(modality_distance(x, y))
    closed = gap_metrics(x, y, 100.0, 20)["closed"]               # the article's closed gap: same numbers
    for key in gc.RECALLS:
        assert ren[key][1] == closed[key]
    assert ren["loss"][1] == pytest.approx(closed["infonce"])
    xr, yr = close_gap(x, y, renormalize=False)                    # raw: the centroids meet exactly
    assert raw["distance"][1] == pytest.approx(0.0, abs=1e-12)
    assert raw["loss"][1] == pytest.approx(infonce(xr, yr, 100.0, 20))


def test_overshooting_flips_the_signed_distance(rng):
    x, y = gapped(rng, 40, 8)
    c = gc.gap_cost(x, y, None, fractions=[0.0, 0.5, 2.5])["renormalized"]
    assert c["distance"][0] > c["distance"][1] > 0 > c["distance"][2]
    assert c["loss"] is None                                       # no scale, no invented loss


def test_gap_cost_is_unchanged_by_a_rotation_and_uses_content_groups(rng):
    x, y = gapped(rng, 50, 8)
    q = rotation(rng, 8)
    a = gc.gap_cost(x, y, 30.0, fractions=[0.0, 0.7, 1.2])
    b = gc.gap_cost(x @ q, y @ q, 30.0, fractions=[0.0, 0.7, 1.2])
    for tag in ("renormalized", "raw"):
        for key in (*gc.RECALLS, "loss", "distance"):
            assert np.allclose(a[tag][key], b[tag][key], rtol=1e-9, atol=1e-12), (tag, key)
    # every caption the same text: all texts are one answer, so image->text retrieval is perfect
    g = (np.arange(50), np.zeros(50, int))
    assert gc.gap_cost(x, y, None, [0.0, 1.0], groups=g)["raw"]["x2y@1"] == [1.0, 1.0]


def test_gap_cost_refuses_what_has_no_direction(rng):
    x, _ = gapped(rng, 10, 4)
    with pytest.raises(UserError, match="no gap direction"):
        gc.gap_cost(x, x, 100.0)
    with pytest.raises(UserError, match="unknown loss 'hinge'"):
        gc.gap_cost(*gapped(rng, 10, 4), 100.0, loss="hinge")


def test_zero_shot_by_hand():
    classes = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    images = np.array([[0.9, 0.1], [0.2, 0.8], [-0.6, 0.8], [0.6, 0.8]])
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    # image 2 (label 2): class 1 scores 0.8 > 0.6; image 3 (label 0) vs class 1: 0.6 < 0.8 -> wrong too
    assert gc.zero_shot_accuracy(images, [0, 1, 2, 0], classes) == 0.5
    tie = np.array([[np.sqrt(0.5), np.sqrt(0.5)]])
    assert gc.zero_shot_accuracy(tie, [1], classes) == 1.0          # an exact tie counts for the image
    with pytest.raises(UserError, match="label 3, but there are 3 class prompts"):
        gc.zero_shot_accuracy(images, [0, 1, 3, 0], classes)
    with pytest.raises(UserError, match="one integer class label per image"):
        gc.zero_shot_accuracy(images, [0, 1], classes)


def test_zero_shot_curve_starts_at_the_plain_accuracy_and_is_rotation_free(rng):
    images, texts = gapped(rng, 60, 8)
    classes = texts[:6]
    labels = np.arange(60) % 6
    u = gap_vector(images, texts)
    curve = gc.zero_shot_curve(images, labels, classes, [0.0, 0.5, 1.0], u)
    assert curve[0] == gc.zero_shot_accuracy(images, labels, classes)
    q = rotation(rng, 8)
    assert gc.zero_shot_curve(images @ q, labels, classes @ q, [0.0, 0.5, 1.0], u @ q) == curve
    with pytest.raises(UserError, match="non-zero vector of 8"):
        gc.zero_shot_curve(images, labels, classes, [0.0], np.zeros(8))
