"""`make bench`: every figure of issue 11 in one JSON file, each beside its target and a baseline
measured in the same run, plus the older micro-benchmarks.

    python benchmarks/run.py [--out build/bench.json] [--only build,projections,...]

Parts (each also runs alone: `python benchmarks/<module>.py`):
- build        benchmarks/build_time.py: cold `make site`, no-op rebuild, forced warm rebuild;
- projections  benchmarks/projections.py: UMAP, t-SNE, openTSNE, PCA at 10,000 points;
- check        `make check`'s fast lane, timed against pytest's collection of the same tests;
- site_bytes   benchmarks/site_bytes.py `measure()` (plotly bundle, whole-article bytes, B/cell);
- tiles        benchmarks/tiles.py `measure()` (the 5,000-pair tiled heatmap);
  both read the published site/ (`make bench` runs `make site` first: a no-op when it is current);
- micro        the three below.
A part whose module is absent is reported as "missing"; one that fails, with its one-line error.

Micro-benchmarks:
1. Embedding cache: a warm rebuild against the cold encode of the same pairs (a random-init
   open_clip model registered here, 200 generated images).
2. Analyses on 5000 pairs x 512 dims: the whole metrics table (distance, three losses, retrieval,
   original and closed) against one plain similarity-matrix product (the unavoidable floor).
3. Heatmap bytes: one 200 x 200 similarity matrix as the seed article shipped it (CSV, %.18e)
   against a float32 binary and our quantized uint8 payload (base64 in JSON), with its error.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def unit(rng, n, d, shift=0.0):
    x = rng.normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_cache() -> None:
    import open_clip
    from PIL import Image

    from exporters.pairs import Modality, PairedDataset
    from exporters.sources.openclip import OpenClipSource

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = {"embed_dim": 64, "vision_cfg": {"image_size": 64, "patch_size": 8, "width": 128, "layers": 2},
               "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 2}}
        (tmp / "Bench-Tiny.json").write_text(json.dumps(cfg))
        open_clip.add_model_config(tmp)
        rng = np.random.default_rng(0)
        paths = []
        for i in range(200):
            p = tmp / f"{i}.png"
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(p)
            paths.append(str(p))
        ds = PairedDataset("bench_v1", tuple(map(str, range(200))),
                           (Modality("image", "image", "Image", tuple(paths)),
                            Modality("text", "text", "Text", tuple(f"caption number {i}" for i in range(200)))))
        import os
        os.environ["EXPORTERS_PROGRESS"] = "0"
        t0 = time.perf_counter()
        OpenClipSource("Bench-Tiny", random_init=True).embed(ds, tmp / "cache")
        cold = time.perf_counter() - t0
        warm = timed(lambda: OpenClipSource("Bench-Tiny", random_init=True).embed(ds, tmp / "cache"))
    print(f"embedding cache      cold {cold:8.3f} s   warm {warm:8.3f} s   warm/cold = {warm / cold:.3f}")
    return {"cold_s": round(cold, 3), "warm_s": round(warm, 4), "warm_over_cold": round(warm / cold, 4)}


def bench_analyses() -> None:
    from exporters.analysis.metrics import gap_metrics

    rng = np.random.default_rng(1)
    x, y = unit(rng, 5000, 512, 0.3), unit(rng, 5000, 512, -0.3)
    floor = timed(lambda: x @ y.T)
    full = timed(lambda: gap_metrics(x, y, 100.0, 50), repeat=1)
    print(f"metrics, 5000 pairs  one x@y.T {floor:8.3f} s   full table {full:8.3f} s   table/product = {full / floor:.1f}")
    return {"product_s": round(floor, 4), "table_s": round(full, 3), "table_over_product": round(full / floor, 1)}


def bench_heatmap_bytes() -> None:
    rng = np.random.default_rng(2)
    e = np.vstack([unit(rng, 100, 512, 0.3), unit(rng, 100, 512, -0.3)])
    s = e @ e.T
    buf = io.StringIO()
    np.savetxt(buf, s, delimiter=",", fmt="%.18e")
    csv_bytes = len(buf.getvalue().encode())
    f32 = s.astype(np.float32).nbytes
    line = f"heatmap 200x200      seed CSV {csv_bytes:9d} B   float32 {f32:7d} B ({f32 / csv_bytes:.3f})"
    from exporters.figures._encoding import dequantize, quantize

    packed = quantize(s)
    payload = json.dumps(packed, separators=(",", ":")).encode()
    err = float(np.abs(dequantize(packed) - s).max())
    line += f"   ours (uint8) {len(payload):7d} B ({len(payload) / csv_bytes:.3f}, max error {err:.4f})"
    print(line)
    return {"seed_csv_B": csv_bytes, "float32_B": f32, "ours_B": len(payload),
            "ours_over_csv": round(len(payload) / csv_bytes, 4), "max_error": round(err, 5)}


def micro() -> dict:
    return {"heatmap_bytes": bench_heatmap_bytes(), "analyses": bench_analyses(), "embedding_cache": bench_cache()}


def check_lane() -> dict:
    """`make check`'s fast lane, timed, against pytest collecting the same tests (the floor of any run)."""
    fast = _make_var("FAST")
    env = dict(os.environ, EXPORTERS_PROGRESS="0")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", fast]
    t = time.perf_counter()
    col = subprocess.run([*cmd, "--collect-only"], cwd=ROOT, env=env, capture_output=True, text=True)
    collect = time.perf_counter() - t
    t = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    sec = time.perf_counter() - t
    tail = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    print(f"make check           {sec:8.2f} s   collect {collect:6.2f} s   {tail}", file=sys.stderr)
    return {"marker": fast, "seconds": round(sec, 2), "collect_s": round(collect, 2), "ratio_to_collect":
            round(sec / collect, 1), "passed": run.returncode == 0 and col.returncode == 0, "summary": tail,
            "target_s": 60.0, "meets": run.returncode == 0 and sec < 60.0}


def _make_var(name: str) -> str:
    """A variable's value as the Makefile defines it (one source for the fast lane's marker)."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith(f"{name} :=") or line.startswith(f"{name} ="):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"Makefile: no {name} variable")


def _module_measure(module: str):
    def run() -> dict:
        if not (ROOT / "benchmarks" / f"{module}.py").is_file():
            return {"status": "missing", "why": f"benchmarks/{module}.py is not in this checkout"}
        mod = importlib.import_module(module)
        if not hasattr(mod, "measure"):
            return {"status": "missing", "why": f"benchmarks/{module}.py has no measure()"}
        return mod.measure()
    return run


PARTS = {
    "build": _module_measure("build_time"),
    "projections": _module_measure("projections"),
    "check": check_lane,
    "site_bytes": _module_measure("site_bytes"),
    "tiles": _module_measure("tiles"),
    "micro": micro,
}


def _get(d: dict, *path: str):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def summary(parts: dict) -> list[dict]:
    """The issue's figures beside their targets: mine from the parts above; G's and H's parts list
    their own under `figures` (copied as they are)."""
    rows = []
    b = parts.get("build") or {}
    if "cold" in b:
        rows.append({"figure": "cold make site, 2 cores", "value": b["cold"]["seconds"], "unit": "s",
                     "target": "<= 180", "meets": b["meets"]["cold"],
                     "baseline": {"warm forced rebuild, s": b["warm"]["seconds"]},
                     "ratio": b["ratios"]["cold_over_warm"]})
        rows.append({"figure": "rebuild with nothing changed", "value": b["noop"]["seconds"], "unit": "s",
                     "target": "< 5", "meets": b["meets"]["noop"], "baseline": {"cold build, s": b["cold"]["seconds"]},
                     "ratio": b["ratios"]["noop_over_cold"]})
    p = _get(parts, "projections", "methods") or {}
    for name, v in p.items():
        rows.append({"figure": f"{name} at {parts['projections']['points']} points", "value": v["seconds"],
                     "unit": "s", "target": "reported", "baseline": {"pca, s": p["pca"]["seconds"]},
                     "ratio": v["ratio_to_pca"], "quality": {"knn_kept": v["knn_kept"], "knn_same": v["knn_same"]}})
    c = parts.get("check") or {}
    if "seconds" in c:
        rows.append({"figure": "make check (fast lane)", "value": c["seconds"], "unit": "s", "target": "< 60",
                     "meets": c["meets"], "baseline": {"pytest collection, s": c["collect_s"]},
                     "ratio": c["ratio_to_collect"]})
    g = parts.get("site_bytes") or {}
    if "whole_article" in g and not isinstance(g.get("figures"), list):
        w, sim, pl = g["whole_article"], g.get("similarity") or {}, g.get("plotly") or {}
        seed = g.get("ratio_to_seed") or {}
        rows.append({"figure": "whole article, every page once, gzipped", "value": w["bytes_gzip"], "unit": "B",
                     "target": "<= 1200000", "meets": _get(g, "target", "met"), "raw_bytes": w["bytes_raw"],
                     "baseline": {"seed article, B gzip": _get(g, "seed", "whole_article", "bytes_gzip")},
                     "ratio": seed.get("whole_gzip")})
        if sim:
            rows.append({"figure": "similarity data on the wire (gzip)", "value": sim.get("bytes_per_cell"),
                         "unit": "B/cell", "target": "<= 0.5", "meets": _get(g, "target", "similarity_met"),
                         "max_abs_error": sim.get("max_abs_error"),
                         "baseline": {"before (base64 of the full matrix), B/cell": sim.get("before_bytes_per_cell")},
                         "ratio": sim.get("ratio")})
        if "ratio_gzip" in pl:
            rows.append({"figure": "plotly.js bundle (gzip)", "value": pl.get("bytes_gzip"), "unit": "B",
                         "target": "only the trace types used, loaded once",
                         "baseline": {"full plotly.min.js, B gzip": pl.get("full_bytes_gzip")}, "ratio": pl["ratio_gzip"]})
    for key in ("site_bytes", "tiles"):
        v = parts.get(key) or {}
        if isinstance(v.get("figures"), list):
            rows.extend(v["figures"])
        elif v.get("status") in ("missing", "failed"):
            rows.append({"figure": key, "status": v["status"], "why": v.get("why")})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench.json", help="JSON file (default: %(default)s)")
    ap.add_argument("--only", default="", help=f"comma-separated parts of {', '.join(PARTS)} (default: all)")
    args = ap.parse_args(argv)
    only = [p for p in args.only.split(",") if p]
    unknown = [p for p in only if p not in PARTS]
    if unknown:
        print(f"error: --only {','.join(unknown)}: unknown part; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "benchmarks"))
    parts: dict = {}
    for name, fn in PARTS.items():
        if only and name not in only:
            continue
        t = time.perf_counter()
        try:
            parts[name] = fn()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one part failing must not lose the others' numbers
            parts[name] = {"status": "failed", "why": f"{type(exc).__name__}: {str(exc)[:500]}"}
            print(f"{name}: failed: {parts[name]['why']}", file=sys.stderr)
        parts[name]["part_seconds"] = round(time.perf_counter() - t, 1)
    result = {"issue": 11, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                       "platform": platform.platform()},
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "figures": summary(parts), "parts": parts}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
