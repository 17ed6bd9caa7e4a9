"""Figure `neighbours`: the new measures (every item's lists at once, partner among the k nearest), the
figure on the synthetic world, and the view in a real browser (click an item, its lists with the partner
marked, follow a neighbour, toggle the gap)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from browser_support import HOSTILE, PageWatch, axe_violations, browser, have_browser, serve, synthetic_site, write_synthetic
from conftest import unit_rows
from exporters.analysis import neighbours as nb
from exporters.analysis.gap import close_gap
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.errors import UserError
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.world import World
from test_geometry import gapped, rotation

FIG = FIGURES["neighbours"]


# -- measures: properties on random arrays -------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_lists_equal_the_one_item_lists(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(3, 30)), int(rng.integers(2, 9))
    x, y = gapped(rng, n, d, shift=float(rng.uniform(0, 3)))
    k = int(rng.integers(1, 2 * n))
    L = nb.neighbour_lists(x, y, k)
    for qi, q in enumerate(nb.MODALITIES):
        for i in range(n):
            one = nb.neighbours(x, y, q, i, k)
            assert L[q]["in_index"][i].tolist() == [e["index"] for e in one["in_modal"]]
            assert L[q]["cross_index"][i].tolist() == [e["index"] for e in one["cross_modal"]]
            assert L[q]["joint_index"][i].tolist() == [e["index"] for e in one["joint"]]
            assert [nb.MODALITIES[m] for m in L[q]["joint_modality"][i]] == [e["modality"] for e in one["joint"]]
            assert np.allclose(L[q]["joint_score"][i], [e["score"] for e in one["joint"]])
            assert i not in L[q]["in_index"][i]
    # scores fall along each list
    assert all((np.diff(L[q][f"{w}_score"], axis=1) <= 1e-12).all() for q in "xy" for w in ("in", "cross", "joint"))


def test_lists_keep_ties_in_a_fixed_order():
    x = np.array([[1.0, 0.0]] * 3)
    L = nb.neighbour_lists(x, x.copy(), 5)
    assert L["y"]["joint_modality"][1].tolist() == [0, 0, 0, 1, 1]
    assert L["y"]["joint_index"][1].tolist() == [0, 1, 2, 0, 2]


@pytest.mark.parametrize("seed", range(4))
def test_partner_found_agrees_with_the_lists_and_ignores_rotations(seed):
    rng = np.random.default_rng(seed)
    x, y = gapped(rng, 25, 6, shift=1.5)
    f = nb.partner_found(x, y, 8)
    hits = [any(e["partner"] for e in nb.neighbours(x, y, "y", i, 8)["joint"]) for i in range(25)]
    assert f["y"] == pytest.approx(np.mean(hits)) and f["k"] == 8
    q = rotation(rng, 6)
    assert nb.partner_found(x @ q, y @ q, 8) == f
    # identical modalities: every item's partner is itself, at similarity 1, the nearest of all
    same = unit_rows(rng, 10, 4)
    assert nb.partner_found(same, same.copy(), 1) == {"k": 1, "x": 1.0, "y": 1.0}
    # k = 2N - 1 lists everything: the partner is always there
    assert nb.partner_found(x, y, 49)["x"] == 1.0


def test_a_wide_gap_hides_the_partner_and_closing_it_brings_it_back():
    rng = np.random.default_rng(7)
    x, y = gapped(rng, 80, 16, shift=3.0)
    assert nb.partner_found(x, y, 10)["y"] < 0.1          # 10 nearest of a caption: (nearly) all captions
    assert nb.partner_found(*close_gap(x, y), 10)["y"] > 0.9


def test_lists_refuse_bad_input():
    with pytest.raises(UserError, match="same shape"):
        nb.neighbour_lists(np.eye(3), np.eye(2), 2)
    with pytest.raises(UserError, match="at least 1"):
        nb.neighbour_lists(np.eye(3), np.eye(3), 0)


@pytest.mark.parametrize("seed", range(4))
def test_encoded_lists_decode_to_the_lists(seed):
    """The file's encoding (joint lists rebuilt from the in- and cross-modal lists and joint_m, scores
    as drops in thousandths) gives back every list exactly and every score to 3 decimals, ties included."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(3, 30)), int(rng.integers(2, 9))
    x, y = gapped(rng, n, d, shift=float(rng.uniform(0, 3)))
    if seed == 0:   # exact ties: repeated items
        x[1], y[2] = x[0], y[0]
    k = int(rng.integers(1, 2 * n))
    lists = {"open": nb.neighbour_lists(x, y, k), "closed": nb.neighbour_lists(*close_gap(x, y), k)}
    enc = json.loads(json.dumps(FIG.encode_lists(lists)))
    for st, L in lists.items():
        got = FIG.decode_lists(enc, st)
        for q in nb.MODALITIES:
            for w, idx in (("in", "in_index"), ("cross", "cross_index"), ("joint", "joint_index"), ("joint_m", "joint_modality")):
                assert got[q][w] == L[q][idx].tolist(), (st, q, w)
            for w in ("in", "cross", "joint"):
                assert np.abs(np.array(got[q][f"{w}_s"]) - L[q][f"{w}_score"]).max() <= 5e-4 + 1e-9, (st, q, w)


# -- the figure on the synthetic world -----------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("fig-neighbours")
    cfg = write_synthetic(root / "data")
    world = World(load_config(cfg), work_dir=cache_root())
    # PCA only, to keep the fast lane fast (t-SNE layouts are drawn in the browser test's build)
    ctx = FigureContext(world, root / "out", cache_root(), {**world.config.options, "projections": ["PCA"]})
    return world, ctx, FIG.build(ctx, section="main")


def test_build_writes_one_small_file_per_model(built):
    world, ctx, d = built
    assert d["n"] == 24 and d["k"] == 10 and d["projections"] == ["PCA"]
    assert d["chance"] == pytest.approx(23 / 47, abs=1e-4)
    m = d["models"][0]
    f = json.loads((ctx.out_dir / m["src"]).read_text())
    assert sorted(f["proj"]) == ["closed", "open"] and sorted(f["lists"]["x"]["in"]) == ["closed", "open"] and f["k"] == 10
    emb = world.embeddings("ModelA", "main")
    x, y = emb.blocks["image"], emb.blocks["text"]
    one = nb.neighbours(x, y, "y", 3, 10)
    assert sorted(f["lists"]["y"]) == sorted(FIG.FIELDS)   # the joint list is not stored, only its modalities
    got = FIG.decode_lists(f["lists"], "open")["y"]
    assert got["joint"][3] == [e["index"] for e in one["joint"]]
    assert got["joint_m"][3] == [nb.MODALITIES.index(e["modality"]) for e in one["joint"]]
    assert got["joint_s"][3] == pytest.approx([e["score"] for e in one["joint"]], abs=5e-4)
    assert got["cross_s"][3] == pytest.approx([e["score"] for e in one["cross_modal"]], abs=5e-4)
    closed = nb.neighbours(*close_gap(x, y), "x", 5, 10)
    assert FIG.decode_lists(f["lists"], "closed")["x"]["in"][5] == [e["index"] for e in closed["in_modal"]]
    # the layouts are the explorer's (the same cached projection of the same points), 2N points each
    proj = f["proj"]["open"]
    assert sorted(proj) == ["PCA"] and len(proj["PCA"]["x"]) == 48
    ex = FIGURES["explorer"].build(ctx, section="main")
    ex_open = json.loads((ctx.out_dir / ex["models"][0]["states"]["open"]).read_text())
    assert ex_open["proj"]["PCA"] == proj["PCA"]
    # the summary is the analysis's
    mix = nb.neighbour_mixing(x, y, 10)
    assert m["summary"]["open"]["same_y"] == pytest.approx(mix["open"]["y"], abs=1e-3)
    assert m["summary"]["closed"]["same_x"] == pytest.approx(mix["closed"]["x"], abs=1e-3)
    assert m["summary"]["open"]["partner_y"] == pytest.approx(nb.partner_found(x, y, 10)["y"], abs=1e-3)
    # small: no matrix, the lists of 24 items in two states
    assert (ctx.out_dir / m["src"]).stat().st_size < 40_000 and len(json.dumps(d)) < 5_000


def test_build_is_deterministic_and_absent_sections_give_none(built):
    world, ctx, d = built
    ctx2 = FigureContext(world, ctx.out_dir.parent / "out2", cache_root(), dict(ctx.options))
    d2 = FIG.build(ctx2, section="main")
    assert d2 == d
    src = d["models"][1]["src"]
    assert (ctx.out_dir / src).read_bytes() == (ctx2.out_dir / src).read_bytes()
    assert FIG.build(ctx, section="world") is None


def test_facts_and_describe(built):
    _, _, d = built
    f = FIG.facts(d)
    a, b = f["models"]
    assert a["same_y_open"] == d["models"][0]["summary"]["open"]["same_y"]
    assert a["mostly_same_open"] == (a["same_y_open"] > 0.5)
    # ModelA's gap is wide: its captions' nearest items are mostly captions, and closing mixes them
    assert a["mostly_same_open"] and a["closing_mixes"]
    assert f["all_mostly_same_open"] == (a["mostly_same_open"] and b["mostly_same_open"])
    d2 = json.loads(json.dumps(d))
    d2["models"][1]["summary"]["open"]["same_y"] = 0.3
    f2 = FIG.facts(d2)
    assert not f2["all_mostly_same_open"] and f2["some_mostly_same_open"]
    assert f2["mostly_same_labels"] == "Model A <b>&</b>" and f2["not_mostly_same_labels"] == "Model B"
    t = FIG.describe(d, {})
    assert "10 nearest" in t["caption"] and len(t["tables"][0]["rows"]) == 4
    assert t["tables"][0]["rows"][0][3] == f"{100 * a['same_y_open']:.0f}%"


# -- in the browser ------------------------------------------------------------------------------------
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout; const b = gd.getBoundingClientRect(); const t = gd.data[trace];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[k])]; }"""




@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_neighbours_in_the_browser(tmp_path_factory):
    cfg, site = synthetic_site(tmp_path_factory.mktemp("browser-neighbours"))
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        fig = "#neighbours-main"
        assert page.eval_on_selector(fig, "f => f.dataset.mounted") == "ready"
        assert page.eval_on_selector(fig, "f => f.dataset.state") == "ModelA|PCA|0|1|0"
        # click text #2 in the layout (trace 1 holds the texts): its lists appear, its image is the partner
        page.mouse.move(5, 5)
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-nb-scatter", 1, 2])
        page.mouse.move(x, y)
        page.wait_for_timeout(150)
        page.mouse.click(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|PCA|0|1|2'")
        lists = f"{fig} .fx-nb-lists"
        assert page.inner_text(f"{lists} .fx-item-head") == "Chosen: Text #2"
        assert page.eval_on_selector(f"{lists} .fx-item .fx-caption", "e => e.textContent") == HOSTILE[2]
        blocks = page.eval_on_selector_all(f"{lists} ol", "os => os.map(o => o.children.length)")
        assert blocks == [10, 10, 10]
        # the lists are the exporter's: the joint list of text 2 with the gap open
        world = World(load_config(cfg), work_dir=cache_root())
        emb = world.embeddings("ModelA", "main")
        want = nb.neighbours(emb.blocks["image"], emb.blocks["text"], "y", 2, 10)
        shown = page.eval_on_selector_all(f"{lists} ol >> nth=0 >> li", "ls => ls.map(l => [l.dataset.modality, l.dataset.index])")
        assert shown == [[str(nb.MODALITIES.index(e["modality"])), str(e["index"])] for e in want["joint"]]
        scores = page.eval_on_selector_all(f"{lists} ol >> nth=0 >> .fx-nb-score", "ss => ss.map(s => s.textContent)")
        assert [float(v) for v in scores] == pytest.approx([e["score"] for e in want["joint"]], abs=5e-4 + 1e-9)
        # the partner is marked in the cross-modal list (image 2), and only there and in the joint list
        partner = page.eval_on_selector_all(f"{lists} .fx-nb-partner", "ls => ls.map(l => [l.dataset.modality, l.dataset.index, l.textContent])")
        assert partner and all(p[:2] == ["0", "2"] and "true partner" in p[2] for p in partner)
        assert page.eval_on_selector_all(f"{lists} ol >> nth=2 >> .fx-nb-partner", "ls => ls.length") == 1
        n_same_open = sum(e["modality"] == "y" for e in want["joint"])
        assert f"{n_same_open} of its 10 nearest items are text items (gap open)" in page.inner_text(lists)
        # the layout marks the partner and draws lines to the 10 nearest
        star = page.evaluate(f"() => document.querySelector('{fig} .fx-nb-scatter').data[4].customdata")
        assert star == [[0, 2]]
        page.locator(fig).screenshot(path="/tmp/neighbours-open.png")
        # the gap toggle: the joint list changes to the closed state's
        page.locator(fig).get_by_label("Close the modality gap").check()
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|PCA|1|1|2'")
        want_c = nb.neighbours(*close_gap(emb.blocks["image"], emb.blocks["text"]), "y", 2, 10)
        shown_c = page.eval_on_selector_all(f"{lists} ol >> nth=0 >> li", "ls => ls.map(l => [l.dataset.modality, l.dataset.index])")
        assert shown_c == [[str(nb.MODALITIES.index(e["modality"])), str(e["index"])] for e in want_c["joint"]]
        n_same_closed = sum(e["modality"] == "y" for e in want_c["joint"])
        assert f"{n_same_closed} of its 10 nearest items are text items (gap closed)" in page.inner_text(lists)
        assert "gap closed" in page.inner_text(f"{fig} .fx-meta")
        page.locator(fig).screenshot(path="/tmp/neighbours-closed.png")
        # following a neighbour from the list (a keyboard-reachable button) makes it the query
        first = page.eval_on_selector(f"{lists} ol >> nth=0 >> li", "l => [l.dataset.modality, l.dataset.index]")
        page.locator(f"{lists} ol >> nth=0 >> li >> nth=0 >> button").focus()
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|PCA|1|{first[0]}|{first[1]}'")
        # the number input chooses an item too
        page.fill(f"{fig} input[type=number]", "5")
        page.press(f"{fig} input[type=number]", "Enter")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.endsWith('|5')")
        assert "neighbours" in page.url
        assert axe_violations(page, context="#neighbours-main") == []
        assert w.errors == []
        page.close()
