"""The geometry figure (exporters/figures/geometry.py, article/views/geometry.js): every measure of every
model as the analysis computes it, 'not defined' (no number) only for the coordinate-dependent row of
recovered models, and the facts the prose quotes. Its browser test is in tests/test_fig_gapdims.py
(one site build for both figures)."""

from __future__ import annotations

import numpy as np
import pytest

from exporters.analysis import geometry as geo
from exporters.analysis.gap import modality_distance
from exporters.figures._encoding import dumps
from exporters.figures.geometry import MEASURES, build, cell, describe, facts
from test_fig_gapdims import make_ctx, write_world


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("geometry")


@pytest.fixture(scope="module")
def ctx(root):
    return make_ctx(write_world(root / "data"), root / "out")


def _row(d, key):
    return next(r for r in d["rows"] if r["key"] == key)


def _blocks(ctx, section, mid):
    ds, models = ctx.world.section(section)
    return models[mid].blocks[ds.names[0]], models[mid].blocks[ds.names[1]]


def test_every_value_is_the_analysis_value(ctx):
    for section in ("main", "world"):
        d = build(ctx, section)
        for j, m in enumerate(d["models"]):
            x, y = _blocks(ctx, section, m["id"])
            want = {"distance": modality_distance(x, y), "rmg": geo.relative_modality_gap(x, y),
                    "alignment": geo.alignment(x, y), "separability": geo.linear_separability(x, y)["accuracy"],
                    "uniformity_x": geo.uniformity(x), "uniformity_y": geo.uniformity(y),
                    "erank_x": geo.effective_rank(x), "erank_y": geo.effective_rank(y),
                    "cos_x": geo.mean_inmodal_cosine(x), "cos_y": geo.mean_inmodal_cosine(y)}
            for k, v in want.items():
                assert _row(d, k)["values"][j] == pytest.approx(v, rel=1e-3, abs=1e-6), (section, m["id"], k)


def test_rows_cover_each_measure_per_modality(ctx):
    d = build(ctx, "world")
    keys = [r["key"] for r in d["rows"]]
    assert keys == ["distance", "rmg", "alignment", "separability", "uniformity_x", "uniformity_y", "erank_x",
                    "erank_y", "cos_x", "cos_y", "top_share"]
    assert {r["measure"] for r in d["rows"]} == {m[0] for m in MEASURES}
    assert _row(d, "uniformity_x")["modality"] == "Image" and _row(d, "rmg")["modality"] is None
    assert _row(d, "erank_x")["range"] == [1.0, float(min(24 - 1, 16))]
    for r in d["rows"]:
        assert r["definition"] and r["source"] and len(r["values"]) == len(r["cells"]) == 2
        lo, hi = r["range"]
        assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in r["values"]), r["key"]    # the colour's range holds


def test_coordinate_dependent_row_is_not_defined_for_recovered_models(ctx):
    main, world = build(ctx, "main"), build(ctx, "world")
    assert [m["coordinates"] for m in main["models"]] == [False, False]
    top = _row(main, "top_share")
    assert top["values"] == [None, None] and top["cells"] == ["not defined"] * 2 and top["coordinate_dependent"]
    for r in main["rows"]:
        if r["key"] != "top_share":
            assert None not in r["values"]                       # everything else depends on inner products only
    x, y = _blocks(ctx, "world", "Arr")
    assert _row(world, "top_share")["values"][0] == pytest.approx(geo.dimension_gap(x, y)["share"][0], rel=1e-3)
    f = facts(main)
    assert f["any_not_defined"] and f["none_defined"] and [r["top_share"] for r in f["rows"]] == ["not defined"] * 2
    assert not facts(world)["any_not_defined"]
    desc = describe(main, {})
    assert "not defined for models whose embeddings were recovered" in desc["caption"]
    assert desc["tables"][0]["rows"][-1][1:3] == ["not defined", "not defined"]
    assert "not defined" not in describe(world, {})["caption"]


def test_identical_modalities_have_no_gap_and_chance_separability(root):
    d = build(make_ctx(write_world(root / "data", ("Same", "Arr"), "same"), root / "out-same"), "world")
    assert _row(d, "distance")["values"][0] == 0.0
    assert _row(d, "rmg")["values"][0] == pytest.approx(0.0, abs=1e-9)
    assert _row(d, "alignment")["values"][0] == 0.0
    assert _row(d, "separability")["values"][0] == 0.5
    f = facts(d)
    assert f["rmg_min_label"] == "Identical modalities" and f["rmg_min"] == "0.00"
    assert f["sep_min_label"] == "Identical modalities" and f["sep_min"] == "50 %"
    assert not f["all_separable"] and not f["none_separable"] and f["n_separable"] == 1


def test_facts_extremes_and_the_untrained_model(ctx):
    d = build(ctx, "world")
    f = facts(d)
    rmg = _row(d, "rmg")["values"]
    hi = int(np.argmax(rmg))
    assert f["rmg_max_label"] == d["models"][hi]["label"] and f["rmg_max"] == cell(rmg[hi], "rmg")
    assert f["test_items"] == 2 * round(0.3 * 24) and f["a"] == "image" and f["b"] == "text"
    assert not f["has_untrained"]
    # the untrained model is whichever the training record says never took a step
    d["models"][hi]["untrained"] = True
    f = facts(d)
    assert f["has_untrained"] and f["untrained_label"] == d["models"][hi]["label"] and f["untrained_largest_rmg"]
    assert f["untrained"]["rmg"] == cell(rmg[hi], "rmg")
    cos = min(_row(d, "cos_x")["values"][hi], _row(d, "cos_y")["values"][hi])
    assert f["untrained_cone"] == (cos > 0.2)


def test_cells_are_worded_per_measure():
    assert cell(None, "rmg") == "not defined"
    assert cell(0.987, "separability") == "99 %" and cell(0.5, "top_share") == "50 %"
    assert cell(17.84, "erank") == "17.8" and cell(-2.346, "uniformity") == "-2.35"
    assert cell(-0.001, "cos") == "0.00" and cell(-0.0004, "separability") == "0 %"     # never "-0.00"


def test_build_is_deterministic(ctx):
    assert dumps(build(ctx, "main")) == dumps(build(ctx, "main"))
    assert build(ctx, "no_such_section") is None
