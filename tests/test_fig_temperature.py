"""The temperature figure (exporters/figures/temperature.py, article/views/temperature.js), its measures
(exporters/analysis/landscape.py: landscapes_by_scale, rank_correlation, monotone) and the train
command's temperature options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from browser_support import ARTIFACTS, PageWatch, axe_violations, browser, have_browser, serve, write_synthetic
from conftest import unit_rows
from exporters.analysis import landscape as L
from exporters.analysis.losses import infonce
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import temperature as T
from exporters.world import World

ROOT = Path(__file__).resolve().parent.parent
SERIES = '\n[sections.temperature]\ndataset = "main"\nmodels = ["ModelA", "ModelB"]\n'


@pytest.fixture
def rng():
    return np.random.default_rng(5)


# -- the measures ----------------------------------------------------------------------------------
def test_landscapes_by_scale_are_loss_landscape_at_each_scale(rng):
    x = unit_rows(rng, 40, 8, shift=np.r_[2.0, np.zeros(7)])
    y = unit_rows(rng, 40, 8, shift=np.r_[-2.0, np.zeros(7)])
    deltas = [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
    lands = L.landscapes_by_scale(x, y, [1.0, 10.0, 100.0], deltas, batch_size=20)
    for scale, land in zip([1.0, 10.0, 100.0], lands):
        ref = L.loss_landscape(x, y, scale, deltas, batch_size=20)
        assert land["losses"] == ref["losses"] and land["distances"] == ref["distances"]
        assert land["distances"] == lands[0]["distances"]          # the same shifts at every scale
        assert land["best_distance"] == land["distances"][int(np.argmin(land["losses"]))]
        assert land["original_loss"] == pytest.approx(infonce(x, y, scale, 20))
    # the loss depends on the scale: the curves differ
    assert lands[0]["losses"] != lands[2]["losses"]


def test_a_rotation_leaves_the_landscapes_unchanged(rng):
    x = unit_rows(rng, 30, 6, shift=np.r_[1.5, np.zeros(5)])
    y = unit_rows(rng, 30, 6, shift=np.r_[-1.5, np.zeros(5)])
    q, r = np.linalg.qr(rng.normal(size=(6, 6)))
    q = q * np.sign(np.diag(r))
    a = L.landscapes_by_scale(x, y, [5.0, 50.0], [-1.0, 0.0, 1.0], batch_size=None)
    b = L.landscapes_by_scale(x @ q, y @ q, [5.0, 50.0], [-1.0, 0.0, 1.0], batch_size=None)
    for u, v in zip(a, b):
        assert np.allclose(u["losses"], v["losses"]) and np.allclose(u["distances"], v["distances"])


def test_rank_correlation_properties(rng):
    for _ in range(20):
        a = rng.normal(size=7)
        b = rng.normal(size=7)
        rho = L.rank_correlation(a, b)
        assert -1.0 - 1e-12 <= rho <= 1.0 + 1e-12
        assert L.rank_correlation(a, a) == pytest.approx(1.0)
        assert L.rank_correlation(a, -a) == pytest.approx(-1.0)
        assert L.rank_correlation(np.exp(a), b ** 3) == pytest.approx(rho)     # ranks only: monotone maps
        assert L.rank_correlation(b, a) == pytest.approx(rho)                   # symmetric
    # ties share their average rank: [1, 2, 2, 3] ranks [0, 1.5, 1.5, 3]
    assert L.rank_correlation([1, 2, 2, 3], [0, 1.5, 1.5, 3]) == pytest.approx(1.0)
    assert L.rank_correlation([1.0], [2.0]) is None
    assert L.rank_correlation([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError, match="against"):
        L.rank_correlation([1, 2], [1, 2, 3])


def test_monotone():
    assert L.monotone([3, 2, 1], increasing=False) and not L.monotone([3, 2, 1], increasing=True)
    assert L.monotone([1, 2, 3], increasing=True)
    assert not L.monotone([1, 1, 2], increasing=True)            # strictly
    assert not L.monotone([3, 1, 2], increasing=False) and not L.monotone([3, 1, 2], increasing=True)
    assert not L.monotone([1], increasing=True) and not L.monotone([], increasing=False)


# -- the figure on the synthetic world -------------------------------------------------------------
def _ctx(root: Path, extra: str = SERIES, scale_a: float | None = None):
    from exporters.figures._context import FigureContext

    cfg = write_synthetic(root / "data")
    text = cfg.read_text(encoding="utf-8") + extra
    if scale_a is not None:
        text = text.replace("logit_scale = 50", f"logit_scale = {scale_a}")
    cfg.write_text(text, encoding="utf-8")
    world = World(load_config(cfg), work_dir=cache_root())
    return FigureContext(world, root / "out", cache_root(), dict(world.config.options))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    ctx = _ctx(tmp_path_factory.mktemp("temperature"))
    return ctx, T.build(ctx, "main")


def test_build_landscapes(built):
    ctx, data = built
    assert data["scales"] == [1.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0]     # the own scales 50 and 30 are common ones
    assert [m["id"] for m in data["models"]] == ["ModelA", "ModelB"]
    a, b = data["models"]
    assert (a["logit_scale"], a["own_index"]) == (50.0, 5) and (b["logit_scale"], b["own_index"]) == (30.0, 4)
    for m in data["models"]:
        assert len(m["losses"]) == len(data["scales"]) == len(m["original_loss"]) == len(m["best_distance"])
        assert all(len(c) == len(m["distances"]) == 40 for c in m["losses"])
        assert m["distances"] == sorted(m["distances"])
        # the trained state is a point of every curve (delta 0)
        i0 = m["distances"].index(m["original_distance"])
        assert [c[i0] for c in m["losses"]] == m["original_loss"]
    # the loss at a model's own scale is the loss the explorer reports for it
    ds, models = ctx.world.section("main")
    x, y = models["ModelA"].blocks[ds.names[0]], models["ModelA"].blocks[ds.names[1]]
    assert a["original_loss"][5] == pytest.approx(infonce(x, y, 50.0, ctx.batch_size), rel=1e-3)


@pytest.fixture(scope="module")
def warm_a(tmp_path_factory):
    """Model A (the larger gap) at 14.2857, a scale of its own and now the warmest run of the series."""
    return T.build(_ctx(tmp_path_factory.mktemp("temperature-warm"), scale_a=14.2857), "main")


def test_own_scales_join_the_common_ones(warm_a):
    data = warm_a
    assert data["scales"] == [1.0, 5.0, 10.0, 14.29, 20.0, 30.0, 50.0, 100.0]
    assert data["models"][0]["own_index"] == 3


def test_series_and_trend(built):
    _, data = built
    s = data["series"]
    assert s["section"] == "temperature" and s["n"] == 24
    assert [r["id"] for r in s["runs"]] == ["ModelA", "ModelB"]                 # by rising temperature
    assert [r["temperature"] for r in s["runs"]] == [0.02, 0.03333]
    assert all(r["mode"] == "given" and r["eval_gap"] is None for r in s["runs"])   # no training records here
    gaps = [r["gap"] for r in s["runs"]]
    assert gaps[0] > gaps[1]                       # the synthetic ModelA has the larger gap
    assert s["trend"]["gap_falls"] and not s["trend"]["gap_rises"] and s["trend"]["spearman"] == -1.0
    for r in s["runs"]:
        for k in ("1", "5", "10"):
            assert r["recall_mean"][k] == pytest.approx((r["recall"][f"x2y@{k}"] + r["recall"][f"y2x@{k}"]) / 2,
                                                        abs=1e-3)
        assert r["recall"]["x2y@1"] <= r["recall"]["x2y@5"] <= r["recall"]["x2y@10"]


def test_facts(built):
    _, data = built
    f = T.facts(data)
    assert f["scales_text"] == "1, 5, 10, 20, 30, 50 and 100"
    assert f["own_text"] == "Model A <b>&</b>: 50 and Model B: 30"
    assert f["has_series"] and f["gap_falls"] and f["agrees_with_liang"] and not f["gap_mixed"]
    assert f["coldest"]["scale"] == "50" and f["warmest"]["scale"] == "30"
    assert not f["has_learned"] and f["learned"] is None
    lo = [m["closed_loss"][0] < m["original_loss"][0] for m in data["models"]]
    assert f["n_lowest_lower"] == sum(lo) and f["all_lowest_lower"] == all(lo)
    assert f["lead"]["label"] == "Model A <b>&</b>" and f["lead"]["scale"] == "50"


def test_facts_follow_the_data_when_the_trend_reverses(warm_a):
    # Model A (the larger gap) now the warmest: the gap grows with the temperature, against Liang et al.
    f = T.facts(warm_a)
    assert f["gap_rises"] and not f["gap_falls"] and not f["agrees_with_liang"]
    assert f["coldest"]["label"] == "Model B"


def test_absent_sections(tmp_path):
    ctx = _ctx(tmp_path, extra="")
    assert T.build(ctx, "world") is None
    data = T.build(ctx, "main")
    assert data["series"] is None
    f = T.facts(data)
    assert f["has_series"] is False and "gap_falls" not in f
    assert len(T.describe(data, {})["tables"]) == 1


def test_describe(built):
    _, data = built
    d = T.describe(data, {})
    land, series = d["tables"]
    assert len(land["rows"]) == 2 * 7
    assert [r[1] for r in land["rows"] if r[1].endswith("(own)")] == ["50 (own)", "30 (own)"]
    assert len(series["rows"]) == 2 and series["rows"][0][0] == "Model A <b>&</b>"
    assert "log axis" in d["caption"]
    quiet = T.describe(data, {"series": False})
    assert len(quiet["tables"]) == 1 and "log axis" not in quiet["caption"]


def test_build_is_deterministic(built):
    ctx, data = built
    assert json.dumps(T.build(ctx, "main"), sort_keys=True) == json.dumps(data, sort_keys=True)


# -- the train command's temperature options ------------------------------------------------------
BAD = [(["--scale", "abc"], "--scale must be a number"),
       (["--logit-scale", "0"], "positive finite"),
       (["--scale", "-5"], "positive finite"),
       (["--scale", "inf"], "positive finite"),
       (["--temperature", "warm"], "--temperature must be one of fixed, learned"),
       (["--temperature", "learned", "--scale", "150"], "clamp [1, 100]"),
       (["--temperature", "learned", "--scale", "0.5"], "clamp [1, 100]")]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_train_refuses_bad_temperatures_in_one_line(tmp_path, capsys, args, message):
    from exporters.cli import main

    assert main(["train", "--objective", "clip", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.strip().count("\n") == 0 and message in err, err
    assert not any(tmp_path.iterdir())          # nothing trained, nothing written


def test_train_bad_scale_exits_2_from_the_shell(tmp_path):
    r = subprocess.run([sys.executable, "-m", "exporters", "train", "--objective", "clip", "--scale", "-1",
                        "--out", str(tmp_path)], capture_output=True, text=True, cwd=str(ROOT))
    assert r.returncode == 2 and r.stderr.startswith("error:") and r.stderr.strip().count("\n") == 0, r.stderr


def test_train_temperature_options_reach_the_config():
    from exporters.cli import build_parser
    from exporters.commands.train import _configs
    from exporters.training.train import SHIPPED_CONFIGS

    args = build_parser().parse_args(["train", "--objective", "clip", "--name", "warm", "--logit-scale", "10"])
    (cfg,) = _configs(args)
    assert (cfg.name, cfg.init_scale, cfg.temperature) == ("warm", 10.0, "fixed")
    args = build_parser().parse_args(["train", "--objective", "clip", "--temperature", "learned",
                                      "--scale", "14.2857"])
    (cfg,) = _configs(args)
    assert (cfg.init_scale, cfg.temperature) == (14.2857, "learned")
    # the shipped series: only the temperature differs from `clip`
    from dataclasses import asdict
    base = asdict(SHIPPED_CONFIGS["clip"])
    for name, scale, mode in (("clip_t10", 10.0, "fixed"), ("clip_t100", 100.0, "fixed"),
                              ("clip_learned", 1 / 0.07, "learned")):
        c = asdict(SHIPPED_CONFIGS[name])
        assert (c["init_scale"], c["temperature"]) == (pytest.approx(scale), mode)
        assert {k: v for k, v in c.items() if k not in ("name", "init_scale", "temperature", "notes")} == \
               {k: v for k, v in base.items() if k not in ("name", "init_scale", "temperature", "notes")}


def test_trainer_refuses_bad_scales(tmp_path):
    from exporters.errors import UserError
    from exporters.training.train import TrainConfig, train

    for cfg in (TrainConfig("x", "clip", init_scale=0.0), TrainConfig("x", "clip", init_scale=float("nan")),
                TrainConfig("x", "clip", temperature="learned", init_scale=200.0)):
        with pytest.raises(UserError, match="inverse temperature"):
            train(cfg, tmp_path)
    assert not any(tmp_path.iterdir())


# -- in a real browser -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not have_browser():
        pytest.skip("needs playwright and /usr/bin/chromium")
    from exporters.site import build

    root = tmp_path_factory.mktemp("temperature-site")
    cfg = write_synthetic(root / "data")
    cfg.write_text(cfg.read_text(encoding="utf-8") + SERIES, encoding="utf-8")
    out = build(cfg, root / "site")
    with serve(out) as base, browser() as b:
        yield base, b


@pytest.mark.browser
def test_slider_moves_the_landscape_and_marks_own_scales(site):
    base, b = site
    page = b.new_page(viewport={"width": 1280, "height": 900})
    w = PageWatch(page)
    page.goto(base + "cost/")
    w.wait_figures()
    fig = "#temperature-main"
    assert page.get_attribute(fig, "data-mounted") == "ready"
    page.locator(fig).scroll_into_view_if_needed()
    # starts at the first model's own scale (Model A: 50)
    assert page.get_attribute(fig, "data-state") == "scale:50"
    # the own scales are marked under the slider: Model A at 50, Model B at 30
    marks = page.eval_on_selector_all(f"{fig} .fx-temp-own",
                                      "es => es.map(e => [e.closest('.fx-temp-scale').dataset.index, e.dataset.models])")
    assert marks == [["4", "ModelB"], ["5", "ModelA"]]
    curves = f"() => document.querySelector('{fig} .fx-temp-landscape').data"
    before = page.evaluate(curves + "[0].y")
    # move the slider with the keyboard: one step down, to 30
    page.focus(f"{fig} input[type=range]")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'scale:30'")
    after = page.evaluate(curves + "[0].y")
    assert after != before
    assert "own scale of Model B" in page.text_content(f"{fig} output")
    assert page.evaluate(curves + "[2].name") == "Model B (own scale)"
    # to the far end, then a jump button back to Model A's own scale
    page.keyboard.press("Home")
    page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'scale:1'")
    page.click(f"{fig} .fx-temp-jump[data-model=ModelA]")
    page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'scale:50'")
    assert page.input_value(f"{fig} input[type=range]") == "5"
    # the series panels: gap and R@k against the temperature on a log axis
    layout = page.evaluate(f"() => document.querySelector('{fig} .fx-temp-gap')._fullLayout.xaxis.type")
    assert layout == "log"
    xs = page.evaluate(f"() => document.querySelector('{fig} .fx-temp-gap').data[0].x")
    assert xs == [0.02, 0.03333]
    # hovering a point of the gap curve names the run
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(fig).screenshot(path="/tmp/temperature-main.png")
    xy = page.evaluate(f"""() => {{ const gd = document.querySelector('{fig} .fx-temp-gap');
        gd.scrollIntoView({{block: "center"}}); const fl = gd._fullLayout;
        const r = gd.getBoundingClientRect(); const t = gd.data[0];
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p(Math.log10(t.x[1])), r.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[1])]; }}""")
    page.mouse.move(xy[0] - 3, xy[1] - 3)
    page.mouse.move(*xy)
    page.wait_for_selector(f"{fig} .fx-temp-gap .hoverlayer .hovertext", timeout=5000)
    assert "Model B" in page.text_content(f"{fig} .fx-temp-gap .hoverlayer")
    # the second figure: the series' own landscapes, without the series panels
    assert page.get_attribute("#temperature-temperature", "data-mounted") == "ready"
    assert page.query_selector("#temperature-temperature .fx-temp-series") is None
    page.locator("#temperature-temperature").screenshot(path="/tmp/temperature-series-models.png")
    mine = [v for v in axe_violations(page) if "temperature" in v]
    assert mine == [], mine
    # a learned run (the default build has one): the same view on the same data with the first run learned
    names = page.evaluate("""async () => {
        const F = window.clipFigures, src = document.querySelector('#temperature-main').getAttribute('data-src');
        const meta = JSON.parse(JSON.stringify(await F.getJSON(src)));
        meta.series.runs[0].mode = 'learned';
        const fig = document.createElement('figure'), mount = document.createElement('div');
        mount.className = 'fig-mount'; fig.appendChild(mount); document.body.appendChild(fig);
        await F.views.temperature(fig, meta, {}, window.Plotly);
        return [fig.querySelector('.fx-temp-gap').data.map(t => t.name),
                fig.querySelector('.fx-temp-recall').data.map(t => t.name)]; }""")
    assert names == [["fixed, 24 pairs", "learned (where it ended)"],
                     ["R@1", "R@1, learned", "R@5", "R@5, learned", "R@10", "R@10, learned"]]
    assert w.errors == [], w.errors
    page.close()


def test_facts_with_a_learned_run(built):
    import copy

    _, data = built
    d = copy.deepcopy(data)
    learned = d["series"]["runs"][0]            # Model A (50) stands in for a learned run that ended at 50
    learned.update(mode="learned", init_scale=14.29)
    f = T.facts(d)
    assert f["has_learned"] and f["learned"]["scale"] == "50" and f["learned"]["init_scale"] == "14.29"
    assert f["series_fixed"] == 1 and f["few_fixed"] and f["fixed_scales_text"] == "30"
    assert f["series_text"].startswith("0.805 at inverse temperature 50 (learned)")
    assert not f["learned_between"]             # one fixed run at 30: 50 is not between the fixed ones
    rows = T.describe(d, {})["tables"][1]["rows"]
    assert rows[0][1] == "learned" and rows[1][1] == "given"
