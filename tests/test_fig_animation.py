"""Figure 8 of issue 10, the gap-closing animation (exporters/figures/animation.py, article/views/animation.js).

Unit tests on the synthetic world: every frame of the per-model files is gap_animation's, in one
basis, within the stated rounding; the plot range covers every frame; facts and the text
alternative follow the data; the output is deterministic; the frames are the same for a rotated
copy of the embeddings (the seed article's models are known only up to a rotation). A browser test
moves the slider, toggles re-normalization, plays, and hovers a point on the built synthetic site.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from browser_support import HOSTILE, PageWatch, axe_violations, browser, have_browser, serve, synthetic_site, write_synthetic
from exporters.analysis.animation import FRACTIONS, gap_animation
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.figures._encoding import dumps
from exporters.figures._sections import section_payload
from exporters.world import World

ANI = FIGURES["animation"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    cfg = write_synthetic(tmp_path_factory.mktemp("synthetic-animation"))
    return World(load_config(cfg), work_dir=cache_root())


def _ctx(world, out):
    return FigureContext(world, out, cache_root(), {**world.config.options, "projections": ["PCA"]})


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("animation-out")
    ctx = _ctx(world, out)
    return ctx, ANI.build(ctx, section="main")


def _model_file(ctx, d, k):
    """A model's file with its frames unpacked (ANI.decode_frames, as the view does)."""
    f = json.loads((ctx.out_dir / d["models"][k]["src"]).read_text())
    return {**f, **ANI.decode_frames(f)}


def test_frames_are_gap_animation_in_one_basis(built, world):
    ctx, d = built
    assert d["fractions"] == list(FRACTIONS) and len(d["fractions"]) == 11 and d["variants"] == ["renormalized", "raw"]
    assert [m["id"] for m in d["models"]] == ["ModelA", "ModelB"]
    for k, m in enumerate(d["models"]):
        emb = world.embeddings(m["id"], "main")
        ref = gap_animation(emb.blocks["image"], emb.blocks["text"], FRACTIONS)
        f = _model_file(ctx, d, k)
        assert f["model"] == m["id"] and f["variance_share"] == m["variance_share"]
        for v in ("renormalized", "raw"):
            assert len(f[v]) == 11
            for got, want in zip(f[v], ref[v]):
                # a raw frame is frame 0 plus its shift stored to 6 decimals: 5e-7 more
                bound = 5e-4 + (5e-7 if v == "raw" else 0.0) + 1e-12
                assert np.abs(np.array(got["ax"]) - want["x"][:, 0]).max() <= bound
                assert np.abs(np.array(got["by"]) - want["y"][:, 1]).max() <= bound
                assert np.allclose(got["ca"], want["x"].mean(0), atol=5e-4)
                assert got["distance"] == pytest.approx(want["distance"], rel=1e-3, abs=1e-12)
            # the fixed range holds every point of every frame
            for fr in f[v]:
                assert f["range"]["x"][0] <= min(fr["ax"] + fr["bx"]) and max(fr["ax"] + fr["bx"]) <= f["range"]["x"][1]
                assert f["range"]["y"][0] <= min(fr["ay"] + fr["by"]) and max(fr["ay"] + fr["by"]) <= f["range"]["y"][1]
        # frame 0 is the same in both variants; raw closes exactly, re-normalized leaves a little
        assert f["renormalized"][0] == f["raw"][0]
        assert f["raw"][-1]["ca"] == pytest.approx(f["raw"][-1]["cb"], abs=1e-3)
        assert 0 < f["renormalized"][-1]["distance"] < f["renormalized"][0]["distance"] / 5
        # the distance shrinks at every step of the raw shift, linearly
        raw = [fr["distance"] for fr in f["raw"]]
        assert np.allclose(raw, [raw[0] * (1 - t) for t in FRACTIONS], rtol=2e-3, atol=1e-9)


@pytest.mark.slow
def test_items_file_is_the_explorers(world, tmp_path):
    ctx = _ctx(world, tmp_path / "a")
    d = ANI.build(ctx, section="main")
    mine = (ctx.out_dir / d["items"]).read_bytes()
    ctx2 = _ctx(world, tmp_path / "b")
    p = section_payload(ctx2, "main")
    assert p["items"] == d["items"] and (ctx2.out_dir / p["items"]).read_bytes() == mine


def test_rotated_embeddings_give_the_same_frames(built, world):
    """Defined for models recovered from a similarity matrix: any rotation gives the same picture."""
    emb = world.embeddings("ModelA", "main")
    x, y = emb.blocks["image"], emb.blocks["text"]
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(x.shape[1], x.shape[1])))
    a, b = gap_animation(x, y), gap_animation(x @ q, y @ q)
    for v in ("renormalized", "raw"):
        for f0, f1 in zip(a[v], b[v]):
            assert np.allclose(f0["x"], f1["x"], atol=1e-9) and np.allclose(f0["y"], f1["y"], atol=1e-9)


def test_facts_follow_the_data(built):
    _, d = built
    f = ANI.facts(d)
    assert f["frames"] == 11 and f["steps"] == 10 and f["n"] == 24
    assert f["raw_closes_exactly"] is True
    shares = [m["distances"]["renormalized"][-1] / m["distances"]["renormalized"][0] for m in d["models"]]
    assert f["left_share_max"] == pytest.approx(max(shares), rel=1e-3)
    assert f["left_share_min"] == pytest.approx(min(shares), rel=1e-3)
    assert f["left_share_max_model"] == d["models"][int(np.argmax(shares))]["label"]
    assert f["renorm_leaves_gap_everywhere"] == all(s > 0.01 for s in shares)
    assert f["first"]["start"] == d["models"][0]["distances"]["raw"][0]
    assert f["pc1_share_max"] == max(m["variance_share"][0] for m in d["models"])


def test_describe_and_determinism(built, world, tmp_path):
    ctx, d = built
    s = ANI.describe(d, {})
    assert "24 image–text pairs" in s["label"] and "10 steps" in s["label"]
    rows = s["tables"][0]["rows"]
    assert len(rows) == 2 and rows[0][0] == "Model A <b>&</b>"
    assert rows[0][1] == f"{d['models'][0]['distances']['renormalized'][0]:.3f}"
    ctx2 = _ctx(world, tmp_path)
    again = ANI.build(ctx2, section="main")
    assert dumps(again) == dumps(d)
    assert (ctx2.out_dir / again["models"][0]["src"]).read_bytes() == (ctx.out_dir / d["models"][0]["src"]).read_bytes()
    assert ANI.build(ctx2, section="world") is None
    # a model's file stays small: 11 frames x 2 variants x 48 points x 2 coordinates
    assert ctx.written[d["models"][0]["src"]] < 25_000


# -- in the browser -------------------------------------------------------------------------------------
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout, b = gd.getBoundingClientRect(), t = gd.data[trace];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[k])]; }"""
XS = "sel => document.querySelector(sel + ' .fx-anim-plot').data[0].x.slice()"


@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_animation_in_the_browser(tmp_path_factory):
    _, site = synthetic_site(tmp_path_factory.mktemp("browser-synthetic"))
    index = json.loads((site / "data" / "animation-main.json").read_text())
    first = ANI.decode_frames(json.loads((site / index["models"][0]["src"]).read_text()))
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        fig = "#animation-main"
        assert page.get_attribute(fig, "data-mounted") == "ready"
        assert page.get_attribute(fig, "data-state") == "ModelA|0|1"
        x0 = page.evaluate(XS, fig)
        assert x0 == first["renormalized"][0]["ax"]
        layout0 = page.evaluate(f"() => document.querySelector('{fig} .fx-anim-plot').layout.xaxis.range.slice()")
        # the slider, by keyboard: three steps along the gap; the points move, the axes do not
        slider = page.locator(f"{fig} input[type=range]")
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|3|1'")
        x3 = page.evaluate(XS, fig)
        assert x3 == first["renormalized"][3]["ax"] and x3 != x0
        assert page.evaluate(f"() => document.querySelector('{fig} .fx-anim-plot').layout.xaxis.range.slice()") == layout0
        assert "30% of the modality distance" in page.inner_text(f"{fig} .fx-anim-readout")
        assert slider.get_attribute("aria-valuetext") == "30% of the gap"
        # re-normalization off: the raw frame, and the URL keeps the state
        page.locator(fig).get_by_label("Re-normalize onto the sphere").uncheck()
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|3|0'")
        xr = page.evaluate(XS, fig)
        assert xr == first["raw"][3]["ax"] and xr != x3
        assert "renorm%3A0" in page.url or "renorm:0" in page.url
        # the last step of the raw shift: the centroids meet
        slider.fill("10")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|10|0'")
        c = page.evaluate(f"() => {{ const t = document.querySelector('{fig} .fx-anim-plot').data[2]; return [t.x, t.y]; }}")
        assert c[0][0] == pytest.approx(c[0][1], abs=1e-3) and c[1][0] == pytest.approx(c[1][1], abs=1e-3)
        page.locator(fig).screenshot(path="/tmp/animation-raw-closed.png")
        # play from the start: the frames advance on their own
        slider.fill("0")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|0|0'")
        page.locator(f"{fig} button.fx-play").click()
        page.wait_for_function(f"() => +document.querySelector('{fig}').dataset.state.split('|')[1] >= 2", timeout=10000)
        # another model (which stops the playback): its own file
        page.select_option(f"{fig} select", "ModelB")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.startsWith('ModelB|')")
        assert page.get_attribute(f"{fig} button.fx-play", "aria-pressed") == "false"
        # hover text item 0 (a hostile caption): the panel shows it as text
        page.locator(fig).get_by_label("Re-normalize onto the sphere").check()
        slider.fill("0")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelB|0|1'")
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-anim-plot", 1, 0])
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.hover === '1:0'")
        assert page.evaluate(f"() => document.querySelector('{fig} .fx-panel .fx-caption').textContent") == HOSTILE[0]
        page.locator(fig).screenshot(path="/tmp/animation-hover.png")
        assert w.errors == []
        # axe on this figure alone (the page's other figures have their own tests)
        assert axe_violations(page, context="#animation-main") == []
