"""Projection honesty and the gap-closing animation (exporters/analysis/honesty.py, animation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from exporters.analysis import animation as an
from exporters.analysis import honesty as ho
from exporters.analysis.gap import modality_distance, shift_along_gap
from exporters.analysis.projection import pca_2d
from exporters.errors import UserError
from test_geometry import gapped, rotation


@pytest.fixture
def rng():
    return np.random.default_rng(17)


# -- honesty ---------------------------------------------------------------------------------------------
def test_a_plane_drawn_as_itself_is_perfectly_honest(rng):
    x, y = gapped(rng, 40, 2)                     # 2-D data: the "projection" is the data
    h = ho.projection_honesty(x, y, x, y, k=5)
    assert h["knn_recall"] == 1.0
    assert h["exaggeration"] == pytest.approx(1.0)
    assert h["plot_distance"] == pytest.approx(modality_distance(x, y))


def test_centroid_ratio_by_hand():
    a, b = np.array([[0.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [2.0, 2.0]])
    # centroids (0, 1) and (2, 1): distance 2; six pairwise distances 2, 2, 2, 2, 2*sqrt2, 2*sqrt2
    assert ho.centroid_ratio(a, b) == pytest.approx(2 / ((8 + 4 * np.sqrt(2)) / 6))
    # scaling a picture changes nothing
    assert ho.centroid_ratio(10 * a, 10 * b) == pytest.approx(ho.centroid_ratio(a, b))


def test_knn_recall_by_hand_and_a_scrambled_plot():
    full = np.array([[0.0], [1.0], [10.0], [11.0]])
    plot = np.array([[0.0], [10.0], [1.0], [11.0]])      # pairs broken up
    # k=1: full NN 0->1, 1->0, 2->3, 3->2; plot NN 0->2, 1->3, 2->0, 3->1: nothing kept
    assert ho.knn_recall(full, plot, k=1) == 0.0
    assert ho.knn_recall(full, full, k=2) == 1.0
    with pytest.raises(UserError, match="k = 4 must be between 1 and 3"):
        ho.knn_recall(full, plot, k=4)


def test_a_picture_that_hides_the_gap_scores_below_one(rng):
    x, y = gapped(rng, 50, 8, shift=2.5)
    p = rng.normal(size=(100, 2))                 # random positions: no gap drawn, neighbourhoods lost
    h = ho.projection_honesty(x, y, p[:50], p[50:], k=10)
    assert h["exaggeration"] < 0.5 and h["knn_recall"] < 0.3
    pc = pca_2d(np.vstack([x, y]))                # PCA keeps the gap (it is the main direction here)
    h2 = ho.projection_honesty(x, y, pc[:50], pc[50:], k=10)
    assert h2["exaggeration"] > 0.8 and h2["knn_recall"] > h["knn_recall"]


def test_honesty_of_the_full_space_is_unchanged_by_a_rotation(rng):
    x, y = gapped(rng, 30, 6)
    p = rng.normal(size=(60, 2))
    q = rotation(rng, 6)
    a, b = ho.projection_honesty(x, y, p[:30], p[30:]), ho.projection_honesty(x @ q, y @ q, p[:30], p[30:])
    assert a["knn_recall"] == b["knn_recall"]
    assert a["exaggeration"] == pytest.approx(b["exaggeration"], rel=1e-9)


# -- animation ------------------------------------------------------------------------------------------
def test_every_frame_is_projected_in_the_first_frames_basis(rng):
    x, y = gapped(rng, 30, 6)
    out = an.gap_animation(x, y, fractions=[0.0, 0.5, 1.0])
    basis = out["basis"]
    assert np.allclose(basis["axes"] @ basis["axes"].T, np.eye(2))
    first = out["renormalized"][0]
    assert np.allclose(first["x"], an.project(x, basis)) and np.allclose(first["y"], an.project(y, basis))
    for tag, renorm in (("renormalized", True), ("raw", False)):
        xs, ys = shift_along_gap(x, y, out["deltas"][2], renorm)
        assert np.allclose(out[tag][2]["x"], (xs - basis["mean"]) @ basis["axes"].T)
    # raw: the last frame closes the gap exactly, in the full space and in the picture
    assert out["raw"][2]["distance"] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(out["raw"][2]["x"].mean(0), out["raw"][2]["y"].mean(0))
    # the x centroid starts on the positive side of axis 1 (the sign convention)
    assert first["x"][:, 0].mean() > first["y"][:, 0].mean()


def test_first_frame_matches_pca_up_to_sign_and_frames_are_rotation_free(rng):
    x, y = gapped(rng, 30, 6)
    out = an.gap_animation(x, y, fractions=[0.0, 1.0])
    ref = pca_2d(np.vstack([x, y]))
    got = np.vstack([out["renormalized"][0]["x"], out["renormalized"][0]["y"]])
    assert np.allclose(np.abs(got), np.abs(ref))
    q = rotation(rng, 6)
    rot = an.gap_animation(x @ q, y @ q, fractions=[0.0, 1.0])
    for tag in ("renormalized", "raw"):
        for f0, f1 in zip(out[tag], rot[tag]):
            assert np.allclose(f0["x"], f1["x"]) and np.allclose(f0["y"], f1["y"])


def test_animation_needs_a_gap(rng):
    x, _ = gapped(rng, 10, 4)
    with pytest.raises(UserError, match="no gap to close"):
        an.gap_animation(x, x)
