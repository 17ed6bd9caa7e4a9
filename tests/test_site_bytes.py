"""benchmarks/site_bytes.py on the synthetic site: what it counts adds up, and what the page fetched
is what the server sent. No byte budget is asserted here (the benchmark prints it as a ratio)."""

from __future__ import annotations

import gzip
import json
import sys
import urllib.request
from pathlib import Path

import pytest

from browser_support import have_browser, synthetic_site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import site_bytes  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return synthetic_site(tmp_path_factory.mktemp("synthetic-bytes"))[1]


def test_server_gzips_text_and_sends_matrices_as_they_are(site):
    with site_bytes.serve(site) as (base, log):
        req = urllib.request.Request(base + "assets/figures.js", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(r.read()) == (site / "assets" / "figures.js").read_bytes()
        (binfile,) = [p for p in (site / "data" / "main").glob("*-open.bin")][:1]
        rel = str(binfile.relative_to(site))
        req = urllib.request.Request(base + rel, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            assert r.headers.get("Content-Encoding") is None and r.read() == binfile.read_bytes()
        rows = log.since(0)
    assert rows[0][0] == "assets/figures.js" and rows[0][1] == (site / "assets" / "figures.js").stat().st_size
    assert rows[0][2] < rows[0][1]
    assert rows[1] == (rel, binfile.stat().st_size, binfile.stat().st_size)


def test_measure_adds_up(site):
    res = site_bytes.measure(site, seed=site / "no-seed-here")
    fv, w = res["first_view"], res["whole_article"]
    assert w["pages"] == len(json.loads((site / "data" / "manifest.json").read_text())["pages"])
    assert 0 < fv["requests"] <= w["requests"] and 0 < fv["bytes_gzip"] <= fv["bytes_raw"]
    assert w["bytes_gzip"] == sum(k["bytes_gzip"] for k in w["by_kind"].values())
    assert w["requests"] == sum(k["requests"] for k in w["by_kind"].values())
    assert w["by_kind"]["plotly"]["requests"] == 1                        # one HTTP cache: plotly once
    assert w["page_errors"] == []
    s = res["similarity"]
    files = [p for p in site.rglob("*.bin")]
    assert 0 < s["files"] <= len(files) and s["bytes"] <= sum(p.stat().st_size for p in files)
    assert s["bytes_per_cell"] < s["before_bytes_per_cell"]
    assert res["seed"]["found"] is False and "ratio_to_seed" not in res
