"""Properties of the geometry measures (exporters/analysis/geometry.py), and small cases worked by hand."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import unit_rows
from exporters.analysis import geometry as geo
from exporters.analysis.gap import modality_distance
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def gapped(rng, n=60, d=12, shift=2.0):
    """Two paired modalities with a real gap: y is a noisy copy of x, both pushed apart along axis 0."""
    base = rng.normal(size=(n, d))
    e0 = np.eye(d)[0]
    x = base + shift * e0 + 0.3 * rng.normal(size=(n, d))
    y = base - shift * e0 + 0.3 * rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True), y / np.linalg.norm(y, axis=1, keepdims=True)


def rotation(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def coordinate_free(x, y):
    """Every coordinate-free measure of the pair, as one flat dict."""
    return {
        "distance": modality_distance(x, y),
        "rmg": geo.relative_modality_gap(x, y),
        "alignment": geo.alignment(x, y),
        "uniformity_x": geo.uniformity(x), "uniformity_y": geo.uniformity(y),
        "separability": geo.linear_separability(x, y)["accuracy"],
        "erank_x": geo.effective_rank(x), "erank_y": geo.effective_rank(y),
        "erank_x_raw": geo.effective_rank(x, centre=False),
        "cos_x": geo.mean_inmodal_cosine(x), "cos_y": geo.mean_inmodal_cosine(y),
    }


# -- the properties the issue asks for ------------------------------------------------------------------------
def test_identical_modalities_have_no_gap_rmg_zero_and_chance_separability(rng):
    x = unit_rows(rng, 40, 8)
    assert modality_distance(x, x) == 0.0
    assert geo.relative_modality_gap(x, x) == pytest.approx(0.0, abs=1e-12)   # sum_i x_i . x_i = N to rounding
    assert geo.relative_modality_gap_direct(x, x) == pytest.approx(0.0, abs=1e-12)
    assert geo.alignment(x, x) == 0.0
    assert np.all(geo.dimension_gap(x, x)["abs_gap"] == 0.0)
    # a held-out pair's two items are the same point: whatever the classifier says, one of them is wrong
    assert geo.linear_separability(x, x)["accuracy"] == 0.5


def test_a_rotation_changes_no_coordinate_free_measure(rng):
    x, y = gapped(rng)
    q = rotation(rng, x.shape[1])
    before, after = coordinate_free(x, y), coordinate_free(x @ q, y @ q)
    for k in before:
        assert after[k] == pytest.approx(before[k], rel=1e-9, abs=1e-12), k


def test_a_rotation_changes_the_coordinate_dependent_measures(rng):
    """Why they are flagged: the same embeddings, rotated, give another per-dimension gap and ablation."""
    x, y = gapped(rng)
    q = rotation(rng, x.shape[1])
    a, b = geo.dimension_gap(x, y), geo.dimension_gap(x @ q, y @ q)
    assert a["dimension"][0] == 0                       # the gap was put on axis 0
    assert not np.allclose(a["abs_gap"], b["abs_gap"])
    da = geo.ablate_gap_dimensions(x, y, [1])["distance"]
    db = geo.ablate_gap_dimensions(x @ q, y @ q, [1])["distance"]
    assert abs(da[0] - db[0]) > 0.05
    assert set(geo.COORDINATE_DEPENDENT) == {"dimension_gap", "ablate_gap_dimensions"}
    assert not set(geo.COORDINATE_DEPENDENT) & set(geo.COORDINATE_FREE)


@pytest.mark.parametrize("n, d", [(2, 3), (7, 5), (50, 16), (200, 64)])
def test_rmg_in_linear_time_equals_its_quadratic_definition(rng, n, d):
    x, y = gapped(rng, n, d)
    assert geo.relative_modality_gap(x, y) == pytest.approx(geo.relative_modality_gap_direct(x, y), rel=1e-12)
    z = unit_rows(rng, n, d)  # unrelated pairs too
    assert geo.relative_modality_gap(x, z) == pytest.approx(geo.relative_modality_gap_direct(x, z), rel=1e-12)


def test_mean_inmodal_cosine_equals_the_pairwise_mean(rng):
    x = unit_rows(rng, 30, 6, shift=np.r_[1.5, np.zeros(5)])
    s = x @ x.T
    assert geo.mean_inmodal_cosine(x) == pytest.approx((s.sum() - np.trace(s)) / (30 * 29), rel=1e-12)


def test_recovered_embeddings_say_their_coordinates_are_not_defined():
    from exporters.sources.reference import copy_embeddings

    emb = copy_embeddings(ROOT / "data" / "seed-article" / "MSCOCO-Val_size-100", "CLIP")
    assert geo.coordinates_defined(emb) is False
    x = np.eye(3)
    assert geo.coordinates_defined(EmbeddingSet("m", "d", {"image": x, "text": x}, None, {"source": "arrays"}))
    assert geo.coordinates_defined(EmbeddingSet("m", "d", {"image": x, "text": x}, None, {"source": "open_clip"}))


# -- small cases worked by hand ----------------------------------------------------------------------------------
def test_rmg_by_hand():
    # x = (e1, e2), y = (e1, -e2): pair cosines 1 and -1 -> m = mean((0, 1)) = 1/2;
    # in-modal: x1.x2 = 0 and y1.y2 = 0 -> dissimilarity 1/2 each -> RMG = 0.5 / (0.5 + 0.5) = 0.5
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [0.0, -1.0]])
    assert geo.relative_modality_gap(x, y) == pytest.approx(0.5)
    assert geo.relative_modality_gap_direct(x, y) == pytest.approx(0.5)
    # antipodal pairs inside two tight clusters: pair dissimilarity 1, in-modal 0 -> RMG 1
    x2 = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert geo.relative_modality_gap(x2, -x2) == pytest.approx(1.0)


def test_alignment_and_uniformity_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert geo.alignment(x, y) == pytest.approx(2.0)           # ||e1 - e2||^2 = 2 for both pairs
    assert geo.alignment(x, y, alpha=1) == pytest.approx(math.sqrt(2))
    assert geo.uniformity(x) == pytest.approx(-2.0 * 2.0)      # one pair at squared distance 2: log e^(-4)
    pts = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])     # squared distances 4, 2, 2
    assert geo.uniformity(pts, t=1.0) == pytest.approx(math.log((math.exp(-4) + 2 * math.exp(-2)) / 3))
    assert geo.uniformity(np.array([[1.0, 0.0]] * 3)) == pytest.approx(0.0)


def test_uniformity_blocks_give_the_same_number_and_respect_the_bound(rng):
    x = unit_rows(rng, 37, 5)
    assert geo.uniformity(x, block=4) == pytest.approx(geo.uniformity(x), rel=1e-12)
    assert geo.uniformity(x) >= -2 * geo.UNIFORMITY_T * 37 / 36


def test_effective_rank_by_hand(rng):
    # k orthonormal directions with equal singular values: erank k (uncentred)
    assert geo.effective_rank(np.eye(4)[:3], centre=False) == pytest.approx(3.0)
    # one direction only
    assert geo.effective_rank(np.tile([[0.6, 0.8]], (5, 1)), centre=False) == pytest.approx(1.0)
    assert geo.effective_rank(np.tile([[0.6, 0.8]], (5, 1))) is None   # centred: nothing left
    # singular values (3, 1): p = (3/4, 1/4)
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert geo.effective_rank(np.diag([3.0, 1.0]), centre=False) == pytest.approx(math.exp(h))
    # centring removes the cone's shared offset
    x = unit_rows(rng, 50, 10, shift=np.r_[5.0, np.zeros(9)])
    assert geo.effective_rank(x) > geo.effective_rank(x, centre=False)


def test_mean_inmodal_cosine_by_hand():
    assert geo.mean_inmodal_cosine(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])) == pytest.approx(-1 / 3)
    assert geo.mean_inmodal_cosine(np.array([[1.0, 0.0]] * 4)) == pytest.approx(1.0)


def test_dimension_gap_sorted_with_ids_and_shares():
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])     # mean (.5, .5, 0)
    y = np.array([[0.0, 0.0, 1.0], [0.0, 0.6, 0.8]])     # mean (0, .3, .9)
    g = geo.dimension_gap(x, y)
    assert g["dimension"].tolist() == [2, 0, 1]
    assert g["abs_gap"] == pytest.approx([0.9, 0.5, 0.2])
    assert g["share"] == pytest.approx(np.cumsum([0.81, 0.25, 0.04]) / 1.1)
    assert g["abs_gap"] @ g["abs_gap"] == pytest.approx(modality_distance(x, y) ** 2)


def test_ablation_of_the_gap_dimension(rng):
    """A gap put on one axis: dropping that axis (k = 1) removes most of the distance; k = 0 is the original."""
    x, y = gapped(rng, 80, 10, shift=3.0)
    out = geo.ablate_gap_dimensions(x, y, [0, 1, 2])
    assert out["k"] == [0, 1, 2]
    assert out["distance"][0] == pytest.approx(modality_distance(x, y))
    assert out["rmg"][0] == pytest.approx(geo.relative_modality_gap(x, y))
    assert out["distance"][1] < 0.3 * out["distance"][0]
    assert out["rmg"][1] < out["rmg"][0]
    assert all(0 <= v <= 1 for v in out["x2y@1"] + out["y2x@1"])
    with pytest.raises(UserError, match="k = 10 is outside 0..9"):
        geo.ablate_gap_dimensions(x, y, [10])


def test_separability_finds_a_gap_and_is_seeded(rng):
    x, y = gapped(rng, 100, 12, shift=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no convergence warning hidden
        a = geo.linear_separability(x, y, seed=3)
    assert a["accuracy"] > 0.85 and a["chance"] == 0.5 and a["test_pairs"] == 30
    assert geo.linear_separability(x, y, seed=3) == a


def test_measures_refuse_bad_input(rng):
    x = unit_rows(rng, 5, 3)
    with pytest.raises(UserError, match="not L2-normalized"):
        geo.relative_modality_gap(2 * x, x)
    with pytest.raises(UserError, match="differ in shape"):
        geo.alignment(x, x[:4])
    with pytest.raises(UserError, match="at least 2"):
        geo.mean_inmodal_cosine(x[:1])
    with pytest.raises(UserError, match="cannot be split"):
        geo.linear_separability(x[:2], x[:2], test_share=0.01)
