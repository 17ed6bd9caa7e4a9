"""Quadrant statistics and full-space neighbours (exporters/analysis/quadrants.py, neighbours.py)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import unit_rows
from exporters.analysis import neighbours as nb
from exporters.analysis import quadrants as qd
from exporters.analysis.retrieval import recall_at_k
from exporters.errors import UserError
from test_geometry import gapped, rotation


@pytest.fixture
def rng():
    return np.random.default_rng(3)


# -- similarity distributions -------------------------------------------------------------------------------
def test_histograms_count_every_pair_once(rng):
    x, y = gapped(rng, 30, 6)
    h = qd.similarity_histograms(x, y)
    assert len(h["edges"]) == 41 and h["edges"][0] == -1.0 and h["edges"][-1] == 1.0
    assert sum(h["in_x"]) == sum(h["in_y"]) == 30 * 29 // 2
    assert sum(h["cross_matched"]) == 30 and sum(h["cross_other"]) == 30 * 29
    # identical vectors have cosine 1 (or 1 + rounding): the last bin holds them
    same = qd.similarity_histograms(x, x)
    assert same["cross_matched"][-1] == 30


def test_histograms_by_hand_and_with_duplicate_content():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [-1.0, 0.0]])
    h = qd.similarity_histograms(x, y, bins=[-1.0, -0.5, 0.5, 1.0])
    assert h["in_x"] == [0, 1, 0]           # x0.x1 = 0
    assert h["in_y"] == [1, 0, 0]           # y0.y1 = -1
    assert h["cross_matched"] == [0, 1, 1]  # x0.y0 = 1, x1.y1 = 0
    assert h["cross_other"] == [1, 1, 0]    # x0.y1 = -1, x1.y0 = 0
    # the two captions are one text: every cross pair pairs an image with its own caption's content
    d = qd.similarity_histograms(x, y, bins=[-1.0, -0.5, 0.5, 1.0], groups=(np.arange(2), np.zeros(2, int)))
    assert d["cross_matched"] == [1, 2, 1] and d["cross_other"] == [0, 0, 0]


def test_partner_ranks_and_margins_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    y = np.array([[1.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5)], [0.0, 1.0]])
    # s = x y^T: row 0 (1, .707, 0); row 1 (0, .707, 1); row 2 (.707, 1, .707)
    r = qd.partner_ranks(x, y)
    assert r["x2y_rank"].tolist() == [0, 1, 1]
    assert r["x2y_margin"] == pytest.approx([1 - np.sqrt(0.5), np.sqrt(0.5) - 1, np.sqrt(0.5) - 1])
    assert r["y2x_rank"].tolist() == [0, 1, 1]
    rk = recall_at_k(x, y, (1,))
    assert rk["x2y@1"] == np.mean(r["x2y_rank"] == 0) and rk["y2x@1"] == np.mean(r["y2x_rank"] == 0)


def test_margins_leave_out_duplicate_content():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])     # both captions the same text
    r = qd.partner_ranks(x, y, groups=(np.array([0, 1]), np.array([0, 0])))
    assert np.isnan(r["x2y_margin"]).all()       # no caption of other content exists
    assert r["x2y_rank"].tolist() == [0, 0]


def test_hubness_by_hand_and_no_hubs_in_a_permutation():
    y = np.eye(3)
    x = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.8, 0.0, 0.2]])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    h = qd.hubness(x, y)
    assert h["x2y_occurrence"].tolist() == [3, 0, 0]     # y0 is every image's nearest text: a hub
    assert h["x2y_max"] == 3 and h["x2y_never"] == 2
    assert h["x2y_skewness"] == pytest.approx(qd.skewness([3, 0, 0]))
    # m2 = (4 + 1 + 1)/3 = 2, m3 = (8 - 1 - 1)/3 = 2 -> skew = 2 / 2^1.5
    assert qd.skewness([3, 0, 0]) == pytest.approx(2 / 2 ** 1.5)
    p = qd.hubness(np.eye(3), np.eye(3))
    assert p["x2y_occurrence"].tolist() == [1, 1, 1] and p["x2y_skewness"] is None
    assert qd.hubness(x, y, k=2)["x2y_occurrence"].sum() == 6


def test_quadrants_are_unchanged_by_a_rotation(rng):
    x, y = gapped(rng, 40, 6)
    q = rotation(rng, 6)
    a, b = qd.partner_ranks(x, y), qd.partner_ranks(x @ q, y @ q)
    assert all(np.allclose(a[k], b[k]) for k in a)
    ha, hb = qd.hubness(x, y), qd.hubness(x @ q, y @ q)
    assert ha["x2y_skewness"] == pytest.approx(hb["x2y_skewness"]) and ha["y2x_never"] == hb["y2x_never"]


# -- neighbours --------------------------------------------------------------------------------------------
def test_neighbours_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    y = np.array([[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    out = nb.neighbours(x, y, "x", 0, k=2)
    assert [(e["index"], round(e["score"], 4)) for e in out["in_modal"]] == [(2, 0.7071), (1, 0.0)]
    assert [(e["index"], e["score"], e["partner"]) for e in out["cross_modal"]] == [(2, 1.0, False), (0, 0.6, True)]
    assert [(e["modality"], e["index"]) for e in out["joint"]] == [("y", 2), ("x", 2)]
    # query a caption: its partner is x[1]
    cap = nb.neighbours(x, y, "y", 1, k=3)
    assert [e["partner"] for e in cap["cross_modal"]] == [True, False, False]
    assert all(e["modality"] == "y" and e["index"] != 1 for e in cap["in_modal"])


def test_neighbours_order_ties_deterministically():
    x = np.array([[1.0, 0.0]] * 3)
    y = np.array([[1.0, 0.0]] * 3)
    j = nb.neighbours(x, y, "y", 1, k=5)["joint"]
    assert [(e["modality"], e["index"]) for e in j] == [("x", 0), ("x", 1), ("x", 2), ("y", 0), ("y", 2)]


def test_neighbours_refuse_unknown_items(rng):
    x = unit_rows(rng, 4, 3)
    with pytest.raises(UserError, match="item 4 does not exist; there are 4 pairs"):
        nb.neighbours(x, x, "x", 4)
    with pytest.raises(UserError, match="modality must be 'x' or 'y'"):
        nb.neighbours(x, x, "image", 0)


def test_with_the_gap_open_captions_neighbour_captions_and_closing_mixes_them(rng):
    x, y = gapped(rng, 80, 16, shift=2.5)
    mix = nb.neighbour_mixing(x, y, k=10)
    assert mix["open"]["y"] > 0.9 and mix["open"]["x"] > 0.9
    assert mix["closed"]["y"] < mix["open"]["y"] - 0.2
    assert mix["open"]["chance"] == pytest.approx(79 / 159)
    # the per-item lists agree with the summary, open and closed
    share = {"open": [], "closed": []}
    for i in range(80):
        oc = nb.neighbours_open_closed(x, y, "y", i, k=10)
        for tag in share:
            share[tag].append(np.mean([e["modality"] == "y" for e in oc[tag]["joint"]]))
    for tag in share:
        assert np.mean(share[tag]) == pytest.approx(mix[tag]["y"])


def test_same_modality_fraction_by_hand_and_under_rotation(rng):
    x = np.array([[1.0, 0.0], [0.8, 0.6]])
    y = np.array([[-1.0, 0.0], [-0.8, -0.6]])
    f = nb.same_modality_fraction(x, y, k=1)
    assert f["x"] == 1.0 and f["y"] == 1.0 and f["chance"] == pytest.approx(1 / 3)
    a, b = gapped(rng, 30, 6)
    q = rotation(rng, 6)
    assert nb.neighbour_mixing(a, b) == nb.neighbour_mixing(a @ q, b @ q)
