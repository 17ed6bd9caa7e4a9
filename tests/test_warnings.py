"""Warnings that hide nothing: projections and clustering silence only the warnings they know (by
category and message) and let every other warning through."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from exporters.analysis import clustering, projection


class _Reducer:
    """Stands in for umap.UMAP: gives one known warning and one nobody expects."""

    embedding_ = np.zeros((4, 2))

    def _warn(self) -> None:
        warnings.warn("Tensorflow not installed; ParametricUMAP will be unavailable", ImportWarning)
        warnings.warn("something nobody expected", RuntimeWarning)

    def fit_transform(self, e):
        self._warn()
        return np.zeros((len(e), 2))

    def fit(self, e):
        self._warn()
        return self

    def transform(self, e):
        warnings.warn("transform saw something new", UserWarning)
        return np.zeros((len(e), 2))


def _record(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in seen]


def test_unexpected_warnings_are_not_swallowed(monkeypatch):
    monkeypatch.setattr(projection, "_umap", lambda n, seed, metric="cosine": _Reducer())
    e = np.eye(4)
    assert _record(lambda: projection.umap_2d(e)) == [(RuntimeWarning, "something nobody expected")]
    assert _record(lambda: projection.umap_out_of_sample(e, e)) == [
        (RuntimeWarning, "something nobody expected"), (UserWarning, "transform saw something new")]


def test_known_warnings_are_matched_by_category_and_message():
    def known_and_lookalikes():
        with projection.known_warnings_silenced():
            warnings.warn("Tensorflow not installed; ParametricUMAP will be unavailable", ImportWarning)
            warnings.warn("Tensorflow not installed; ParametricUMAP will be unavailable", UserWarning)  # other category
            warnings.warn("PyTorch not installed; something else will be unavailable", ImportWarning)   # other message

    assert _record(known_and_lookalikes) == [
        (UserWarning, "Tensorflow not installed; ParametricUMAP will be unavailable"),
        (ImportWarning, "PyTorch not installed; something else will be unavailable")]
    assert all(why for _, _, why in projection.KNOWN_WARNINGS)


def test_real_projections_raise_no_unknown_warning():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(30, 8))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # anything the projections do not silence fails the test
        assert projection.umap_2d(e).shape == (30, 2)
        fit, proj = projection.umap_out_of_sample(e[:20], e[20:])
        assert fit.shape == (20, 2) and proj.shape == (10, 2)
        assert projection.pca_2d(e).shape == (30, 2)


def test_clustering_silences_only_the_square_matrix_warning(monkeypatch):
    x = np.eye(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clustering.cluster_order(x @ x.T, n_clusters=2)   # 1 - S is square, symmetric and hollow: silenced

    real = clustering.linkage

    def linkage(d, method):
        warnings.warn("a different cluster warning", clustering.ClusterWarning)
        return real(d, method=method)

    monkeypatch.setattr(clustering, "linkage", linkage)
    with pytest.warns(clustering.ClusterWarning, match="a different cluster warning"):
        clustering.cluster_order(x @ x.T, n_clusters=2)
