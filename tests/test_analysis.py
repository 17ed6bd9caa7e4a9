"""Properties of the pure analysis functions on small arrays with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import unit_rows
from exporters.analysis import clustering, gap, landscape, losses, normalize, projection, retrieval, similarity
from exporters.errors import UserError


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# -- normalization ---------------------------------------------------------------------------------
def test_l2_normalize_gives_unit_rows_and_keeps_direction(rng):
    x = rng.normal(size=(5, 3)) * 10
    n = normalize.l2_normalize(x)
    assert np.allclose(np.linalg.norm(n, axis=1), 1)
    assert np.allclose(n * np.linalg.norm(x, axis=1, keepdims=True), x)


@pytest.mark.parametrize("bad, word", [(0.0, "zero-norm"), (np.nan, "NaN"), (np.inf, "infinite")])
def test_l2_normalize_names_the_bad_item(bad, word):
    x = np.ones((3, 4))
    x[1] = bad
    with pytest.raises(UserError, match=rf"'cat-2'.*{word}|{word}.*'cat-2'|'cat-2' has"):
        normalize.l2_normalize(x, "texts", ids=["cat-1", "cat-2", "cat-3"])


def test_similarity_refuses_unnormalized_features(rng):
    with pytest.raises(UserError, match="not L2-normalized"):
        similarity.similarity_matrix([rng.normal(size=(4, 3)), unit_rows(rng, 4, 3)])


# -- similarity -----------------------------------------------------------------------------------
def test_stacked_similarity_blocks_three_modalities(rng):
    a, b, c = (unit_rows(rng, 6, 5) for _ in range(3))
    s = similarity.similarity_matrix([a, b, c])
    assert s.shape == (18, 18)
    assert np.allclose(s, s.T) and np.allclose(np.diag(s), 1)
    assert np.allclose(similarity.block(s, [6, 6, 6], 0, 1), a @ b.T)
    assert np.allclose(similarity.block(s, [6, 6, 6], 2, 1), c @ b.T)
    assert np.allclose(similarity.block(s, [6, 6, 6], 1, 1), b @ b.T)


def test_inmodal_difference_is_zero_for_rotated_copy(rng):
    x = unit_rows(rng, 8, 4)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    s = np.vstack([x, x @ q])
    s = s @ s.T
    assert np.abs(similarity.inmodal_difference(s, 8)).max() < 1e-12
    y = unit_rows(rng, 8, 4)
    s2 = np.vstack([x, y]) @ np.vstack([x, y]).T
    assert np.abs(similarity.inmodal_difference(s2, 8)).max() > 0.1


# -- gap ------------------------------------------------------------------------------------------
def test_identical_modalities_have_no_gap(rng):
    x = unit_rows(rng, 10, 6)
    assert gap.modality_distance(x, x) == 0.0


def test_gap_vector_and_closing(rng):
    x = unit_rows(rng, 50, 8, shift=np.r_[3.0, np.zeros(7)])
    y = unit_rows(rng, 50, 8, shift=np.r_[-3.0, np.zeros(7)])
    g = gap.gap_vector(x, y)
    assert np.allclose(g, x.mean(0) - y.mean(0))
    assert gap.modality_distance(x, y) > 1.0
    xr, yr = gap.close_gap(x, y, renormalize=False)
    assert gap.modality_distance(xr, yr) < 1e-12
    xc, yc = gap.close_gap(x, y)
    assert normalize.is_unit(xc) and normalize.is_unit(yc)
    assert 0 < gap.modality_distance(xc, yc) < 0.5 * gap.modality_distance(x, y)


def test_shift_along_gap_by_distance_closes_it(rng):
    x = unit_rows(rng, 40, 5, shift=np.r_[2.0, 0, 0, 0, 0])
    y = unit_rows(rng, 40, 5, shift=np.r_[-2.0, 0, 0, 0, 0])
    d = gap.modality_distance(x, y)
    xs, ys = gap.shift_along_gap(x, y, d, renormalize=False)
    assert gap.modality_distance(xs, ys) < 1e-12
    xs, ys = gap.shift_along_gap(x, y, 2 * d, renormalize=False)
    assert math.isclose(gap.modality_distance(xs, ys), d, rel_tol=1e-9)  # pushed past, same length
    xs, ys = gap.shift_along_gap(x, y, 0.0)
    assert np.allclose(xs, x) and np.allclose(ys, y)


def test_pairwise_distances_of_three_modalities(rng):
    blocks = {k: unit_rows(rng, 5, 3) for k in ("image", "text", "audio")}
    d = gap.pairwise_distances(blocks)
    assert set(d) == {"image_text", "image_audio", "text_audio"}
    assert math.isclose(d["text_audio"], gap.modality_distance(blocks["text"], blocks["audio"]))


# -- losses ---------------------------------------------------------------------------------------
def test_infonce_hand_computed_two_pairs():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    t = 10.0
    expected = math.log(math.exp(t) + math.exp(0)) - t  # each row and column alike
    assert math.isclose(losses.infonce(x, y, t), expected, rel_tol=1e-12)
    assert math.isclose(losses.infonce_one_way(x, y, t), expected, rel_tol=1e-12)


def test_infonce_symmetric_differs_from_one_way_when_asymmetric():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    y = np.array([[1.0, 0.0], [0.6, 0.8], [0.6, 0.8]])
    t = 5.0
    lg = t * x @ y.T
    row = np.mean([math.log(np.exp(lg[i]).sum()) - lg[i, i] for i in range(3)])
    col = np.mean([math.log(np.exp(lg[:, i]).sum()) - lg[i, i] for i in range(3)])
    assert math.isclose(losses.infonce_one_way(x, y, t), row, rel_tol=1e-12)
    assert math.isclose(losses.infonce(x, y, t), (row + col) / 2, rel_tol=1e-12)
    assert not math.isclose(row, col, rel_tol=1e-3)


def test_infoloob_leaves_the_positive_out():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    y = x.copy()
    t = 3.0
    lg = t * x @ y.T
    rows = [math.log(sum(math.exp(lg[i, j]) for j in range(3) if j != i)) - lg[i, i] for i in range(3)]
    # the matrix is symmetric, so both directions agree
    assert math.isclose(losses.infoloob(x, y, t), float(np.mean(rows)), rel_tol=1e-12)
    # with two pairs, InfoLOOB is just the negative's logit minus the positive's
    x2 = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert math.isclose(losses.infoloob(x2, x2, t), 0.0 - t, rel_tol=1e-12)


def test_loss_batches_are_consecutive_and_averaged(rng):
    x, y = unit_rows(rng, 100, 6), unit_rows(rng, 100, 6)
    whole = [losses.infonce_one_way(x[i:i + 50], y[i:i + 50], 20.0) for i in (0, 50)]
    assert math.isclose(losses.reference_loss(x, y, 20.0), float(np.mean(whole)), rel_tol=1e-12)
    assert not math.isclose(losses.infonce(x, y, 20.0, batch_size=None), losses.infonce(x, y, 20.0, 50), rel_tol=1e-6)


def test_uninformative_temperature_gives_log_batch():
    x = np.tile([[1.0, 0.0]], (50, 1))
    assert math.isclose(losses.infonce(x, x, 1.0, 50), math.log(50), rel_tol=1e-12)


# -- retrieval ------------------------------------------------------------------------------------
def test_recall_perfect_and_chance(rng):
    x = unit_rows(rng, 30, 30)
    r = retrieval.recall_at_k(x, x, (1, 5))
    assert r["x2y@1"] == 1.0 and r["y2x@1"] == 1.0
    perm = np.roll(np.arange(30), 1)
    r = retrieval.recall_at_k(x, x[perm], (1,))
    assert r["x2y@1"] == 0.0


# -- landscape ------------------------------------------------------------------------------------
def test_landscape_marks_original_and_sign(rng):
    x = unit_rows(rng, 60, 6, shift=np.r_[2.0, 0, 0, 0, 0, 0])
    y = x + 0.05 * rng.normal(size=x.shape)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    y = unit_rows(rng, 60, 6, shift=np.r_[-2.0, 0, 0, 0, 0, 0]) * 0.3 + y * 0.7
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    res = landscape.loss_landscape(x, y, 20.0, deltas=[-1.0, 0.0, 1.0, 3.0], batch_size=None)
    assert res["distances"] == sorted(res["distances"])
    i0 = res["deltas"].index(0.0)
    assert math.isclose(res["distances"][i0], res["original_distance"], rel_tol=1e-12)
    assert math.isclose(res["losses"][i0], res["original_loss"], rel_tol=1e-12)
    assert res["distances"][res["deltas"].index(3.0)] < 0  # pushed past each other
    assert res["closed_distance"] < res["original_distance"]


# -- clustering -----------------------------------------------------------------------------------
def test_cluster_order_groups_blocks_and_labels_them(rng):
    centers = unit_rows(rng, 3, 16) * 4
    x = np.vstack([unit_rows(rng, 5, 16, shift=c) for c in centers])
    texts = ["a red dog"] * 5 + ["a blue car"] * 5 + ["green tree"] * 5
    perm = rng.permutation(15)
    x, texts = x[perm], [texts[i] for i in perm]
    res = clustering.cluster_order(x @ x.T, n_clusters=3, texts=texts)
    assert sorted(res.order) == list(range(15)) and res.sizes == [5, 5, 5]
    groups = [res.order[0:5], res.order[5:10], res.order[10:15]]
    for g, label in zip(groups, res.labels):
        assert len({texts[i] for i in g}) == 1
        words = set(texts[g[0]].split()) - {"a"}
        assert any(w in label for w in words)
        assert label and label.count("|") <= 1


def test_filter_by_substring_is_case_insensitive():
    texts = ["A Hot Dog stand", "a cat", "DOGS running", "dodge"]
    assert clustering.filter_by_substring(texts, "dog") == [0, 2]


# -- projections ----------------------------------------------------------------------------------
def test_projections_are_deterministic(rng):
    e = np.vstack([unit_rows(rng, 25, 8, shift=np.r_[2.0, np.zeros(7)]),
                   unit_rows(rng, 25, 8, shift=np.r_[-2.0, np.zeros(7)])])
    for method in ("PCA", "UMAP", "TSNE"):
        a, b = projection.project(e, method), projection.project(e, method)
        assert a.shape == (50, 2) and np.array_equal(a, b), method
    # the first PCA axis separates the two shifted groups
    p = projection.project(e, "PCA")
    assert (np.sign(p[:25, 0]) != np.sign(p[25:, 0].mean())).all()
    with pytest.raises(UserError, match="unknown projection"):
        projection.project(e, "MDS")


def test_umap_out_of_sample_places_partners_near(rng):
    x = np.vstack([unit_rows(rng, 20, 8, shift=c) for c in (np.r_[4.0, np.zeros(7)], np.r_[0, 4.0, np.zeros(6)])])
    y = x + 0.01 * rng.normal(size=x.shape)
    fit, moved = projection.umap_out_of_sample(x, y)
    assert fit.shape == moved.shape == (40, 2)
    assert np.median(np.linalg.norm(fit - moved, axis=1)) < np.median(np.linalg.norm(fit - fit[::-1], axis=1))


def test_umap_kernels_get_numba_disk_cache(rng):
    """Every numba kernel of umap-learn and pynndescent is given numba's on-disk cache once UMAP is used, except
    the two numba cannot cache (which would warn on every build); the cached projection is the same."""
    from numba.core.caching import NullCache

    e = unit_rows(rng, 30, 6)
    first = projection.umap_2d(e)
    import pynndescent.pynndescent_ as nnd
    import umap.layouts

    assert not isinstance(umap.layouts._nb_optimize_layout_euclidean_single_epoch._cache, NullCache)
    assert isinstance(nnd.nn_descent._cache, NullCache) and isinstance(nnd.nn_descent_internal._cache, NullCache)
    assert projection._cache_kernels() == 0                       # once per process
    assert np.array_equal(projection.umap_2d(e), first)


def test_summaries_of_a_stark_gap(rng):
    from exporters.analysis import summaries

    x = unit_rows(rng, 20, 6, shift=np.r_[5.0, np.zeros(5)])
    y = unit_rows(rng, 20, 6, shift=np.r_[-5.0, np.zeros(5)])
    s = similarity.similarity_matrix([x, y])
    q = summaries.quadrant_means(s, [0, 1], 20)
    assert min(q["sim_in"]) > 0.5 > q["sim_pair"] and q["sim_cross"] < 0
    assert summaries.pc1_separation([x, y], 20)["split"] == 1.0
    labels = np.repeat([0, 1], 20)
    k = summaries.knn_same_modality(np.vstack([x[:, :2] + 10, y[:, :2] - 10]), labels)
    assert k["same"] == 1.0 and math.isclose(k["chance"], 19 / 39)
    b = summaries.infonce_bounds(1.0, 50)
    assert math.isclose(b["uniform"], math.log(50)) and b["floor"] < b["uniform"]
