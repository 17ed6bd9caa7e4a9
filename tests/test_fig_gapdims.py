"""The gapdims figure (exporters/figures/gapdims.py, article/views/gapdims.js): the gap per embedding
dimension and the top-k dimension ablation, defined only where the embeddings' coordinates are; and,
in one browser test for both, the gapdims and geometry figures on the built cost page."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from browser_support import ARTIFACTS, PageWatch, axe_violations, browser, have_browser, serve, write_synthetic
from exporters.analysis import geometry as geo
from exporters.analysis.gap import modality_distance
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.figures.gapdims import ablation_ks, build, describe, facts
from exporters.world import World

N, D = 24, 16
WORLD = """
[models.Arr]
source = "arrays"
path = "emb_arr.npz"
label = "Arrays <i>one</i>"
logit_scale = 30
[models.Arr2]
source = "arrays"
path = "emb_arr2.npz"
label = "Arrays two"
logit_scale = 20
[models.Same]
source = "arrays"
path = "emb_same.npz"
label = "Identical modalities"
[sections.world]
dataset = "main"
models = {models}
"""


def _unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def world_embeddings(seed: int = 0, gap_dims: int = 2, shift: float = 1.5):
    """Paired unit embeddings whose gap lives in the first `gap_dims` dimensions."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(N, D))
    off = np.zeros(D)
    off[:gap_dims] = shift
    return _unit(base + 0.4 * rng.normal(size=(N, D)) + off), _unit(base + 0.4 * rng.normal(size=(N, D)) - off)


def write_world(root: Path, models: tuple[str, ...] = ("Arr", "Arr2"), name: str = "world") -> Path:
    """The synthetic configuration (tests/browser_support.py) plus a `world` section of `models`: Arr and
    Arr2 have real coordinates (the `arrays` source), Same has two identical modalities, and the
    synthetic ModelA / ModelB were recovered from similarity matrices."""
    if not (root / "synthetic.toml").exists():
        write_synthetic(root)
        for stem, (x, y) in {"arr": world_embeddings(0, 2), "arr2": world_embeddings(1, 5, 0.8)}.items():
            np.savez(root / f"emb_{stem}.npz", image=x.astype(np.float32), text=y.astype(np.float32))
        x, _ = world_embeddings(2)
        np.savez(root / "emb_same.npz", image=x.astype(np.float32), text=x.astype(np.float32))
    cfg = root / f"{name}.toml"
    cfg.write_text((root / "synthetic.toml").read_text(encoding="utf-8") + WORLD.replace("{models}", json.dumps(list(models))),
                   encoding="utf-8")
    return cfg


def make_ctx(cfg: Path, out: Path) -> FigureContext:
    world = World(load_config(cfg), work_dir=cache_root())
    return FigureContext(world, out, cache_root(), dict(world.config.options))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("gapdims")


@pytest.fixture(scope="module")
def ctx(root):
    return make_ctx(write_world(root / "data"), root / "out")


@pytest.fixture(scope="module")
def mixed(root):
    return make_ctx(write_world(root / "data", ("ModelA", "Arr"), "mixed"), root / "out-mixed")


def _blocks(ctx, section, mid):
    ds, models = ctx.world.section(section)
    e = models[mid]
    return e.blocks[ds.names[0]], e.blocks[ds.names[1]]


# -- ablation_ks ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3, 16, 64, 65, 200, 512, 1024])
def test_ablation_ks_are_sorted_unique_and_drop_at_most_half(d):
    ks = ablation_ks(d)
    assert ks[0] == 0 and ks == sorted(set(ks)) and max(ks) <= d // 2
    assert all(k in ks for k in range(min(32, d // 2) + 1))         # dense at first
    assert (d // 2 >= 48) == (48 in ks)


# -- models without coordinates ---------------------------------------------------------------------------------------
def test_recovered_models_get_no_number(ctx):
    d = build(ctx, "main")
    assert [m["coordinates"] for m in d["models"]] == [False, False]
    for m in d["models"]:            # no gap, no ablation, not even the recovered set's dimension count
        assert set(m) == {"id", "label", "coordinates", "untrained", "source"} and m["source"] == "gram"
    f = facts(d)
    assert f["none_defined"] and not f["any_defined"] and f["rows"] == []
    assert d["note"] == f"Not defined for Model A <b>&</b> and Model B: {d['not_defined']}."
    assert f["undefined_labels"] == "Model A <b>&</b> and Model B"
    desc = describe(d, {})
    assert desc["caption"].startswith("Not defined for Model A <b>&</b> and Model B: their embeddings were recovered")
    cells = [c for t in desc["tables"] for r in t["rows"] for c in r[1:]]
    assert cells and set(cells) == {"not defined"}


def test_mixed_section_draws_only_the_model_with_coordinates(mixed):
    d = build(mixed, "world")
    assert [m["coordinates"] for m in d["models"]] == [False, True]
    f = facts(d)
    assert f["any_defined"] and not f["all_defined"] and f["n_defined"] == 1 and f["n_undefined"] == 1
    assert f["defined_labels"] == "Arrays <i>one</i>" and f["undefined_labels"] == "Model A <b>&</b>"
    assert d["note"].startswith("Not defined for Model A <b>&</b>: their embeddings")
    desc = describe(d, {})
    assert "Not defined for Model A <b>&</b>" in desc["caption"]
    main = desc["tables"][0]
    assert main["rows"][1] == ["Model A <b>&</b>"] + ["not defined"] * (len(main["head"]) - 1)
    assert len(desc["tables"]) == 2                   # the per-k table only for the model with coordinates


# -- models with coordinates --------------------------------------------------------------------------------------------
def test_gap_per_dimension_is_the_sorted_mean_difference(ctx):
    d = build(ctx, "world")
    m = d["models"][0]
    x, y = _blocks(ctx, "world", "Arr")
    g = np.abs(x.mean(0) - y.mean(0))
    assert m["dims"] == D and sorted(m["dimension"]) == list(range(D))
    assert np.allclose(m["abs_gap"], g[m["dimension"]], rtol=1e-3, atol=1e-6)
    assert all(a >= b for a, b in zip(m["abs_gap"], m["abs_gap"][1:]))
    assert set(m["dimension"][:2]) == {0, 1}                       # where the gap was put
    assert m["share"][-1] == pytest.approx(1.0) and all(a <= b for a, b in zip(m["share"], m["share"][1:]))
    sq = np.sort(g)[::-1] ** 2
    assert m["dims_for_half"] == int(np.argmax(np.cumsum(sq) / sq.sum() >= 0.5) + 1)


def test_ablation_matches_the_analysis_and_shrinks_a_gap_in_few_dimensions(ctx):
    d = build(ctx, "world")
    m = d["models"][0]
    ab = m["ablation"]
    x, y = _blocks(ctx, "world", "Arr")
    assert ab["k"] == ablation_ks(D) == list(range(D // 2 + 1))
    assert ab["distance"][0] == pytest.approx(modality_distance(x, y), rel=1e-3)
    ref = geo.ablate_gap_dimensions(x, y, [2], (ctx.world.section("world")[0].content_groups("image"),
                                                ctx.world.section("world")[0].content_groups("text")))
    i = ab["k"].index(2)
    assert ab["distance"][i] == pytest.approx(ref["distance"][0], rel=1e-3)
    assert ab["r1_x2y"][i] == pytest.approx(ref["x2y@1"][0], abs=1e-4)
    assert ab["distance"][2] < 0.5 * ab["distance"][0]             # the gap lived in two dimensions
    f = facts(d)
    assert f["all_defined"] and f["one_dims"] and f["dims"] == D and f["k"] == 8   # min(ABLATE_K, d // 2)
    assert f["gap_shrinks"] and f["concentrated"] and f["even_half"] == 8
    r = f["rows"][0]
    assert r["distance_k"] == ab["distance"][ab["k"].index(8)] and r["distance_drop"] > 0.5
    assert r["r1_change"] == pytest.approx(max(abs(ab["r1_x2y"][8] - ab["r1_x2y"][0]),
                                               abs(ab["r1_y2x"][8] - ab["r1_y2x"][0])), abs=1e-3)
    assert f["r1_stable"] == (max(x["r1_change"] for x in f["rows"]) <= 0.1)
    assert not f["has_untrained"]


def test_untrained_facts_come_from_the_data():
    d = {"models": [{"id": "u", "label": "U", "coordinates": True, "untrained": True, "dims": 4,
                     "dimension": [2, 0, 1, 3], "abs_gap": [0.5, 0.1, 0.1, 0.1], "share": [0.89, 0.93, 0.96, 1.0],
                     "dims_for_half": 1, "k_quoted": 2,
                     "ablation": {"k": [0, 1, 2], "distance": [0.5, 0.2, 0.1], "rmg": [0.4, 0.2, 0.1],
                                  "r1_x2y": [0.5, 0.5, 0.25], "r1_y2x": [0.5, 0.5, 0.5]}}],
         "not_defined": "x", "modalities": ["Image", "Text"]}
    f = facts(d)
    assert f["has_untrained"] and f["untrained_label"] == "U" and f["untrained_concentrated"]
    assert f["untrained_half"] == 1 and f["untrained_even_half"] == 2 and f["drop_range"] == "80 %"
    assert f["r1_change_max"] == "0.25" and not f["r1_stable"]


def test_build_is_deterministic(ctx):
    from exporters.figures._encoding import dumps

    assert dumps(build(ctx, "world")) == dumps(build(ctx, "world"))
    assert build(ctx, "no_such_section") is None
    assert FIGURES["gapdims"].build(ctx) is not None               # the default section is main


# -- in the browser: gapdims and geometry on the built cost page -------------------------------------------------------
BROWSER = [pytest.mark.browser, pytest.mark.build,
           pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")]
FIGS = ["#gapdims-main", "#gapdims-world", "#geometry-main", "#geometry-world"]
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout, b = gd.getBoundingClientRect(), t = gd.data[trace];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[k])]; }"""
CELL_XY = """([sel, r, c]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout, b = gd.getBoundingClientRect();
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(c), b.top + fl.yaxis._offset + fl.yaxis.l2p(r)]; }"""


@pytest.fixture(scope="module")
def cost_page(tmp_path_factory):
    """The cost chapter of a synthetic site with a `world` section of models with coordinates, open in
    Chromium with every figure mounted."""
    from exporters.site import build as build_site

    root = tmp_path_factory.mktemp("gapdims-site")
    site = build_site(write_world(root / "data"), root / "site")
    with browser() as b, serve(site) as base:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        yield w, site


def _hover(p, xy_js, args):
    x, y = p.evaluate(xy_js, args)
    p.mouse.move(5, 5)
    p.mouse.move(x, y)


def test_browser_both_figures_mount_without_errors(cost_page):
    w, site = cost_page
    p = w.page
    assert [p.eval_on_selector(f, "f => f.dataset.mounted") for f in FIGS] == ["ready"] * 4
    assert w.errors == []
    # main: recovered models only, so a note and no plot; world: two models with curves
    assert p.eval_on_selector("#gapdims-main", "f => f.getAttribute('data-state')") == "none-defined"
    assert p.locator("#gapdims-main .js-plotly-plot").count() == 0
    note = p.locator("#gapdims-main [data-role=not-defined]").inner_text()
    assert note.startswith("Not defined for Model A <b>&</b> and Model B: their embeddings were recovered")
    assert p.evaluate("() => document.querySelector('#gapdims-world .fx-gapdims-gap').data.length") == 2
    assert p.locator("#gapdims-world [data-role=not-defined]").count() == 0
    assert axe_violations(p, context=", ".join(FIGS)) == []
    ARTIFACTS.mkdir(exist_ok=True)
    for f in FIGS:
        p.locator(f).screenshot(path=f"/tmp/{f[1:]}.png")


def test_browser_gapdims_hover_and_selects(cost_page):
    w, site = cost_page
    p = w.page
    data = json.loads((site / p.eval_on_selector("#gapdims-world", "f => f.dataset.src")).read_text(encoding="utf-8"))
    m = data["models"][1]
    _hover(p, POINT_XY, ["#gapdims-world .fx-gapdims-gap", 1, 0])
    p.wait_for_selector("#gapdims-world [data-role=gap-point]")
    text = p.locator("#gapdims-world [data-role=gap-point]").inner_text()
    assert m["label"] in text and f"dimension: {m['dimension'][0]}" in text and "rank: 1 of 16" in text
    assert p.eval_on_selector("#gapdims-world", "f => f.getAttribute('data-state')") == "gap|distance"
    # the ablation panel: R@1 text -> image, then a hover at k = 3
    p.select_option("#gapdims-world .fx-controls select >> nth=1", "r1_y2x")
    p.wait_for_function("() => document.querySelector('#gapdims-world').getAttribute('data-state') === 'gap|r1_y2x'")
    assert p.evaluate("() => document.querySelector('#gapdims-world .fx-gapdims-ablation').data[0].y") == \
        data["models"][0]["ablation"]["r1_y2x"]
    _hover(p, POINT_XY, ["#gapdims-world .fx-gapdims-ablation", 0, 3])
    p.wait_for_selector("#gapdims-world [data-role=ablation-point]")
    text = p.locator("#gapdims-world [data-role=ablation-point]").inner_text()
    ab = data["models"][0]["ablation"]
    assert "top 3 gap dimensions dropped" in text and f"{ab['distance'][3]:.3f}" in text
    p.select_option("#gapdims-world .fx-controls select >> nth=0", "share")
    p.wait_for_function("() => document.querySelector('#gapdims-world').getAttribute('data-state') === 'share|r1_y2x'")
    traces = p.evaluate("() => document.querySelector('#gapdims-world .fx-gapdims-gap').data.map(t => t.name)")
    assert traces[-1] == "spread evenly" and len(traces) == 3
    assert "?gapdims-world=abl:r1_y2x,gap:share" in unquote(p.url)
    p.locator("#gapdims-world").screenshot(path="/tmp/gapdims-world-share.png")


def test_browser_geometry_hover_and_colour_select(cost_page):
    w, site = cost_page
    p = w.page
    data = json.loads((site / p.eval_on_selector("#geometry-main", "f => f.dataset.src")).read_text(encoding="utf-8"))
    keys = [r["key"] for r in data["rows"]]
    r = keys.index("rmg")
    _hover(p, CELL_XY, ["#geometry-main .fx-geometry", r, 1])
    p.wait_for_selector("#geometry-main [data-role=measure][data-key=rmg]")
    text = p.locator("#geometry-main [data-role=measure]").inner_text()
    assert "relative modality gap of Model B" in text and f"value: {data['rows'][r]['cells'][1]}" in text
    assert "definition: m / (m + a)" in text and "Schrodi et al., ICLR 2025" in text
    # the coordinate-dependent row: no number for a recovered model, and the reason
    t = keys.index("top_share")
    _hover(p, CELL_XY, ["#geometry-main .fx-geometry", t, 0])
    p.wait_for_selector("#geometry-main [data-role=measure][data-key=top_share]")
    text = p.locator("#geometry-main [data-role=measure]").inner_text()
    assert "value: not defined: the embeddings were recovered from a similarity matrix" in text
    z = p.evaluate("() => document.querySelector('#geometry-main .fx-geometry').data[0].z")
    assert z[t] == [None, None] and all(v is not None for row in z[:t] for v in row)
    assert p.eval_on_selector("#geometry-main", "f => f.getAttribute('data-state')") == "range"
    p.select_option("#geometry-main .fx-controls select", "models")
    p.wait_for_function("() => document.querySelector('#geometry-main').getAttribute('data-state') === 'models'")
    z = p.evaluate("() => document.querySelector('#geometry-main .fx-geometry').data[0].z")
    assert sorted(z[keys.index("rmg")]) == [0, 1]                  # two models: lowest and highest
    # the world: every cell has a number
    zw = p.evaluate("() => document.querySelector('#geometry-world .fx-geometry').data[0].z")
    assert all(v is not None for row in zw for v in row)
    assert w.errors == []
    p.locator("#geometry-main").screenshot(path="/tmp/geometry-main-models.png")


for _t in (test_browser_both_figures_mount_without_errors, test_browser_gapdims_hover_and_selects,
           test_browser_geometry_hover_and_colour_select):
    for _mark in BROWSER:
        _mark(_t)
