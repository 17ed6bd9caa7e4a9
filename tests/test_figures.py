"""Figure exporters: encodings, every registered figure on a synthetic world, determinism."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from browser_support import HOSTILE, write_synthetic
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES, REGISTRY
from exporters.errors import UserError
from exporters.figures._encoding import (dequantize, pack_matrix, pack_points, quantize, unit_box, unpack_matrix,
                                        unpack_points)
from exporters.site import export, export_world
from exporters.world import World


def _unit_rows(rng, n, d, shift):
    x = rng.normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_quantize_error_bound():
    rng = np.random.default_rng(0)
    m = rng.uniform(-0.3, 1.0, size=(50, 40))            # not square: every cell is stored
    q = quantize(m)
    back = dequantize(q)
    assert q["encoding"] == "u8" and len(base64.b64decode(q["b64"])) == 50 * 40
    assert np.abs(back - m).max() <= q["max_abs_error"] <= q["scale"] / 2 * (1 + 1e-3)
    assert q["max_abs_error"] >= q["scale"] / 2                       # a bound, rounded up


def test_symmetric_matrix_keeps_the_upper_triangle_within_half_a_step():
    rng = np.random.default_rng(1)
    e = np.vstack([_unit_rows(rng, 60, 32, 0.4), _unit_rows(rng, 60, 32, -0.4)])
    s = e @ e.T                                          # symmetric up to floating-point noise
    meta, payload = pack_matrix(s)
    assert meta["encoding"] == "u8-upper" and len(payload) == 120 * 121 // 2
    back = unpack_matrix(meta, payload)
    assert np.array_equal(back, back.T)
    err = np.abs(back - s).max()
    assert err <= meta["max_abs_error"] <= meta["scale"] / 2 * (1 + 1e-3)
    assert err > meta["scale"] / 2 * 0.9                 # the bound is tight, not a loose guess
    # a matrix that is not symmetric is not folded, whatever its shape
    a = s.copy()
    a[3, 70] += 0.5
    meta_a, payload_a = pack_matrix(a)
    assert meta_a["encoding"] == "u8" and len(payload_a) == 120 * 120
    assert np.abs(unpack_matrix(meta_a, payload_a) - a).max() <= meta_a["max_abs_error"]
    with pytest.raises(UserError, match="upper triangle"):
        unpack_matrix(meta, payload[:-1])


SEED_COPY = Path(__file__).resolve().parent.parent / "data" / "seed-article"


@pytest.mark.parametrize("folder", sorted(p.name for p in SEED_COPY.iterdir() if (p / "similarities.npz").is_file()))
def test_real_similarities_cost_at_most_half_a_byte_per_cell_gzipped(folder):
    """Issue 11: the seed's real matrices (and their closed-gap versions, as the explorer ships them)
    at <= 0.5 B per cell of the full matrix once gzipped, within half a quantisation step."""
    import gzip

    from exporters.analysis.gap import close_gap
    from exporters.reference_copy import unpack

    with np.load(SEED_COPY / folder / "similarities.npz") as z:
        mats = {k: unpack(z[k], folder) for k in z.files}
    assert mats
    for name, s in mats.items():
        variants = [("open", s)]
        if not folder.startswith("Triplet"):             # two modalities: the explorer ships both states
            w, v = np.linalg.eigh(s)                     # embeddings back from the Gram matrix
            e = v[:, w > 1e-9] * np.sqrt(w[w > 1e-9])
            n = s.shape[0] // 2
            c = np.vstack(close_gap(e[:n], e[n:]))
            variants.append(("closed", c @ c.T))
        for label, m in variants:
            meta, payload = pack_matrix(m)
            per_cell = len(gzip.compress(payload, 6)) / m.size
            assert per_cell <= 0.5, f"{folder}/{name} {label}: {per_cell:.3f} B per cell"
            err = np.abs(unpack_matrix(meta, payload) - m).max()
            assert err <= meta["max_abs_error"] <= meta["scale"] / 2 * (1 + 1e-3) + 1e-9, (folder, name, label)
            # the same step as the base64 encoding before it: 256 levels over the matrix's range
            assert meta["scale"] == pytest.approx((m.max() - m.min()) / 255, rel=1e-12)


def test_unit_box_range_and_precision():
    p = unit_box(np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 15.0]]))
    assert min(p["x"]) == -1 and max(p["x"]) == 1 and max(p["y"]) == 1
    assert all(round(v, 3) == v for v in p["x"] + p["y"])


def test_points_round_trip_exactly_and_refuse_what_is_not_a_unit_box():
    rng = np.random.default_rng(3)
    box = unit_box(rng.normal(size=(500, 2)))
    meta, payload = pack_points(box)
    assert meta == {"encoding": "i16-xy", "points": 500, "step": 0.001} and len(payload) == 2000
    assert unpack_points(meta, payload) == box                      # the very numbers of the JSON it replaces
    # interleaved x0 y0 x1 y1, little-endian: what the page's DataView reads
    assert np.frombuffer(payload[:4], "<i2").tolist() == [round(box["x"][0] * 1000), round(box["y"][0] * 1000)]
    with pytest.raises(UserError, match="unit_box"):
        pack_points({"x": [0.5, 2.0], "y": [0.0, 0.0]})
    with pytest.raises(UserError, match="4 values for 3 points"):
        unpack_points({**meta, "points": 3}, payload[:8])


@pytest.fixture(scope="module")
def synthetic_cfg(tmp_path_factory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synthetic-fig"))


def test_every_registered_figure_builds(synthetic_cfg, tmp_path):
    from exporters.figures._context import FigureContext

    world = World(load_config(synthetic_cfg), work_dir=cache_root())
    ctx = FigureContext(world, tmp_path, cache_root(), dict(world.config.options))
    assert [m.ID for m in REGISTRY] == list(FIGURES)
    for fid, mod in FIGURES.items():
        data = mod.build(ctx)
        if fid == "large":
            assert data is None          # no large section in this config: the page shows a note
            continue
        assert data is not None, fid
        blob = json.dumps(data)
        assert len(blob) < 200_000, f"{fid} index too big"
        assert (tmp_path / "assets").exists() is False  # figures write data only


def test_explorer_payload_contents(synthetic_cfg, tmp_path):
    from exporters.figures._context import FigureContext

    world = World(load_config(synthetic_cfg), work_dir=cache_root())
    ctx = FigureContext(world, tmp_path, cache_root(), dict(world.config.options))
    d = FIGURES["explorer"].build(ctx, section="main")
    assert d["n"] == 24 and d["states"] == ["open", "closed"] and d["projections"] == ["PCA", "TSNE"]
    assert sorted(d["models"][0]["states"]) == ["closed", "open"]          # one file per state
    meta = json.loads((tmp_path / d["models"][0]["states"]["open"]).read_text())["sim"]
    import gzip
    raw = (tmp_path / meta["src"]).read_bytes()
    assert meta["encoding"] == "u8-upper" and meta["gzip"] and len(gzip.decompress(raw)) == 48 * 49 // 2
    sim = dequantize(meta, tmp_path)
    assert sim.shape == (48, 48)
    assert np.allclose(np.diag(sim), 1.0, atol=meta["max_abs_error"])
    # the decoded matrix is the exporter's own, within the stated bound
    from exporters.analysis.similarity import similarity_matrix
    emb = world.embeddings(d["models"][0]["id"], "main")
    exact = similarity_matrix([emb.blocks[k] for k in ("image", "text")])
    assert np.abs(sim - exact).max() <= meta["max_abs_error"]
    # closing the gap shrinks the modality distance
    mo, mc = d["models"][0]["metrics"]["open"], d["models"][0]["metrics"]["closed"]
    assert mc["distance"] < mo["distance"] / 5
    items = json.loads((tmp_path / d["items"]).read_text())
    assert items["modalities"][1]["items"][:len(HOSTILE)] == HOSTILE   # captions kept verbatim as data
    sub = FIGURES["explorer"].build(ctx, section="subset")
    assert 3 <= sub["n"] < 24                                         # filtered by "dog"


def test_export_is_byte_identical(synthetic_cfg, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    export(synthetic_cfg, a)
    export(synthetic_cfg, b)
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert fa == fb and len(fa) > 50
    diff = [str(p) for p in fa if (a / p).read_bytes() != (b / p).read_bytes()]
    assert diff == []


def test_absent_sections_become_notes(tmp_path):
    cfg_src = write_synthetic(tmp_path / "d")
    text = cfg_src.read_text().split("[sections.subset]")[0]
    cfg = tmp_path / "d" / "only_main.toml"
    cfg.write_text(text)
    out = export_world(World(load_config(cfg), work_dir=cache_root()), tmp_path / "docs", cache_root())
    aug = (tmp_path / "docs" / "augmentations.md").read_text()
    assert 'data-absent="augmentations"' in aug and 'data-figure=' not in aug
    assert 'data-absent="explorer"' in (tmp_path / "docs" / "modalities.md").read_text()
    assert out["figures"]


def test_every_figure_has_its_view_and_every_view_its_figure(tmp_path, monkeypatch):
    """assets/figures.js is _core.js, each figure's article/views/<id>.js in id order, then _boot.js; a
    view without a module (or a module without a view) stops the build with the file named."""
    import shutil

    import exporters.site as site

    js = site.figures_js()
    heads = [line for line in js.splitlines() if line.startswith("/* ==== article/views/")]
    assert heads == [f"/* ==== article/views/{n}.js ==== */" for n in ["_core", *sorted(FIGURES), "_boot"]]
    for fid in FIGURES:
        assert f"F.views.{fid} = " in js or f'F.views["{fid}"] = ' in js, f"{fid}.js does not register its view"
    fake = tmp_path / "article" / "views"
    shutil.copytree(site._shipped("article", "views"), fake)
    monkeypatch.setattr(site, "_shipped", lambda *parts: tmp_path.joinpath(*parts))
    (fake / "stray.js").write_text("/* a view of no figure */\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"view\(s\) stray without a figure module"):
        site.figures_js()
    (fake / "stray.js").unlink()
    (fake / "explorer.js").unlink()
    with pytest.raises(UserError, match=r"no view for figure\(s\) explorer"):
        site.figures_js()
