"""Benchmarks of issue 12 (docs/scale.md): embed throughput, per-item costs, streaming memory vs N.

    .venv/bin/python benchmarks/scale.py                       # all three parts, as in docs/scale.md
    .venv/bin/python benchmarks/scale.py --part throughput --pairs 5000
    .venv/bin/python benchmarks/scale.py --part memory --sizes 10000 50000 200000 --dim 512

throughput: the first --pairs pairs of the shapes world's training split (generated PNGs, no
    download) embedded with the shipped CLIP checkpoint (ShapesViT-T-32) by `embed --engine local`
    and `--engine ray` with 1 and 2 workers (one CPU and one torch thread each), each run a fresh
    process with its own output folder and cache. Items/s = manifest rows / the engine phase
    (Ray start, actor start and model load included); per worker-second = rows / the seconds the
    encoders spent inside shards (startup excluded).
costs: per-item milliseconds of each step on this machine, one thread, batches of 64.
memory: synthetic L2-normalised pairs (d = --dim, clustered: `write_synthetic`) written as shards
    of 10,000 rows; each N is
    measured in a fresh process: the peak of Python/numpy allocations (tracemalloc) and the
    process's maximum resident set (ru_maxrss) for the streaming metrics (one pass of sums,
    sampled uniformity with 200,000 pairs, a stratified sample of 1,000), then for R@k (exact
    IndexFlatIP up to --exact-max, IVF-PQ with measured recall above). faiss allocates outside
    tracemalloc's view: its index size is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CKPT = ROOT / "models" / "clip.safetensors"
MODEL = ["--arch", "ShapesViT-T-32", "--checkpoint", str(CKPT)]


def _load() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


# -- throughput ------------------------------------------------------------------------------------

def throughput(work: Path, pairs: int, shard_size: int) -> list[dict]:
    from exporters.scale.manifest import shapes_manifest

    manifest = work / f"train-{pairs}.csv"
    t0 = time.perf_counter()
    shapes_manifest(manifest, pairs, split="train", image_dir=work / "images")
    print(f"manifest: {pairs} shapes pairs (PNGs written or found) in {time.perf_counter() - t0:.1f} s", flush=True)
    runs = []
    for engine, workers in (("local", 1), ("ray", 1), ("ray", 2)):
        tag = f"{engine}-{workers}"
        out, cache = work / f"out-{tag}", work / f"cache-{tag}"
        for p in (out, cache):
            subprocess.run(["rm", "-rf", str(p)], check=True)
        cmd = [sys.executable, "-m", "exporters", "embed", "--manifest", str(manifest), "--out", str(out),
               "--cache", str(cache), "--shard-size", str(shard_size), "--engine", engine, *MODEL, "--json"]
        if engine == "ray":
            cmd += ["--workers", str(workers)]
        load = _load()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "EXPORTERS_PROGRESS": "0"})
        wall = time.perf_counter() - t0
        if p.returncode:
            raise SystemExit(f"{tag} failed:\n{p.stderr[-3000:]}")
        rec = json.loads(p.stdout)
        row = {"run": tag, "engine": engine, "workers": workers, "rows": rec["items"]["rows"],
               "items_per_s": rec["throughput"]["rows_per_second"],
               "per_worker_second": rec["throughput"]["rows_per_worker_second"],
               "engine_s": rec["seconds"]["engine"], "startup_s": rec["seconds"]["engine_startup"],
               "plan_s": rec["seconds"]["plan"], "process_wall_s": round(wall, 1), "load_before": load}
        runs.append(row)
        print(json.dumps(row), flush=True)
    return runs


# -- per-item costs ------------------------------------------------------------------------------------

def costs(work: Path, n: int = 2048) -> dict:
    import torch

    from exporters.cache import file_digest
    from exporters.images import load_rgb
    from exporters.scale.manifest import open_manifest, shapes_manifest
    from exporters.sources.openclip import BATCH, OpenClipSource

    torch.set_num_threads(1)
    manifest = shapes_manifest(work / f"costs-{n}.csv", n, split="train", image_dir=work / "images")
    rows = list(open_manifest(manifest).rows())
    paths, captions = [r["image"] for r in rows], [r["text"] for r in rows]
    model, preprocess, tokenizer = OpenClipSource("ShapesViT-T-32", checkpoint=str(CKPT)).load()
    t = {}
    s = time.perf_counter()
    for p in paths:
        file_digest(p)
    t["sha256 of the image file"] = time.perf_counter() - s
    s = time.perf_counter()
    images = [load_rgb(p) for p in paths]
    t["decode (load_rgb)"] = time.perf_counter() - s
    s = time.perf_counter()
    tensors = [preprocess(im) for im in images]
    t["preprocess (model transform)"] = time.perf_counter() - s
    with torch.no_grad():
        model.encode_image(torch.stack(tensors[:BATCH]))      # warm-up (kernel selection)
        model.encode_text(tokenizer(captions[:BATCH]))
        s = time.perf_counter()
        for lo in range(0, n, BATCH):
            model.encode_image(torch.stack(tensors[lo:lo + BATCH]))
        t["image tower forward"] = time.perf_counter() - s
        s = time.perf_counter()
        toks = [tokenizer(captions[lo:lo + BATCH]) for lo in range(0, n, BATCH)]
        t["tokenize"] = time.perf_counter() - s
        s = time.perf_counter()
        for tk in toks:
            model.encode_text(tk)
        t["text tower forward"] = time.perf_counter() - s
    per_item = {k: round(v / n * 1000, 4) for k, v in t.items()}
    per_item["sum of the steps"] = round(sum(t.values()) / n * 1000, 4)
    return {"items": n, "ms_per_item": per_item, "load_after": _load(),
            "vit_b_32": vit_b_32_costs(images[:128], captions[:128])}


def vit_b_32_costs(images, captions, batch: int = 32) -> dict:
    """ViT-B/32 at 224 px on this CPU, one thread: the forward cost does not depend on the weights,
    so an untrained model (random_init, nothing downloaded) measures what a pretrained one costs."""
    import open_clip
    import torch

    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    model.eval()
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    n = len(images)
    t = {}
    s = time.perf_counter()
    tensors = [preprocess(im) for im in images]
    t["preprocess to 224 px"] = time.perf_counter() - s
    with torch.no_grad():
        model.encode_image(torch.stack(tensors[:batch]))      # warm-up
        model.encode_text(tokenizer(captions[:batch]))
        s = time.perf_counter()
        for lo in range(0, n, batch):
            model.encode_image(torch.stack(tensors[lo:lo + batch]))
        t["image tower forward"] = time.perf_counter() - s
        s = time.perf_counter()
        for lo in range(0, n, batch):
            model.encode_text(tokenizer(captions[lo:lo + batch]))
        t["tokenize + text tower forward"] = time.perf_counter() - s
    out = {k: round(v / n * 1000, 3) for k, v in t.items()}
    out["sum"] = round(sum(t.values()) / n * 1000, 3)
    out["items"] = n
    return out


# -- memory vs N -------------------------------------------------------------------------------------

def write_synthetic(folder: Path, n: int, d: int, shard: int = 10_000, seed: int = 0, clusters: int = 200) -> None:
    """Pairs with the structure real embeddings have, in blocks: items drawn around `clusters` centres
    (stratum = centre mod 10), an image and a noisier text view of each, the two modalities offset
    in opposite directions along the first d/8 axes (a modality gap)."""
    from exporters.scale.shards import write_block_shards

    centres = np.random.default_rng([seed, 10 ** 6]).normal(size=(clusters, d))
    gap = np.zeros(d)
    gap[: d // 8] = 0.75

    def blocks():
        for slot, lo in enumerate(range(0, n, shard)):
            m = min(shard, n - lo)
            rng = np.random.default_rng([seed, slot])
            label = rng.integers(0, clusters, size=m)
            z = centres[label] + 0.3 * rng.normal(size=(m, d))
            x = z + gap + 0.5 * rng.normal(size=(m, d))
            y = z - gap + 0.9 * rng.normal(size=(m, d))
            yield {"image": x, "text": y}, None, [f"s{int(v) % 10}" for v in label], None
    write_block_shards(folder, blocks())


def memory_child(folder: Path, exact_max: int, knn_max: int | None = None) -> dict:
    import tracemalloc

    from exporters.scale.knn import recall_at_k
    from exporters.scale.sample import stratified_sample
    from exporters.scale.shards import ShardSet
    from exporters.scale.stream import moments, uniformity

    ss = ShardSet(folder)
    out = {"n": ss.n, "dim": ss.dim, "rss_start_mb": _maxrss_mb(),
           "shard_bytes_per_pair": round(sum(p.stat().st_size for p in folder.rglob("*.npy")) / ss.n, 1)}
    tracemalloc.start()
    t0 = time.perf_counter()
    m = moments(ss, "image", "text").metrics()
    u = uniformity(ss, "image")
    s = stratified_sample(ss, 1000, seed=0)
    out["stream_s"] = round(time.perf_counter() - t0, 2)
    out["stream_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 1)
    out["stream_rss_mb"] = _maxrss_mb()
    out["distance"], out["rmg"], out["uniformity_mode"] = m["gap"]["distance"], m["rmg"], u["mode"]
    out["sample"] = len(s["ids"])
    if knn_max is not None and ss.n > knn_max:
        tracemalloc.stop()
        return out
    tracemalloc.reset_peak()
    out["peak_rss_reset"] = _reset_peak_rss()
    out["rss_before_knn_mb"] = _maxrss_mb()
    t0 = time.perf_counter()
    mode = "exact" if ss.n <= exact_max else "approx"
    r = recall_at_k(ss, "image", "text", (1, 10), mode=mode, recall_queries=500, threads=2)
    out["knn_s"] = round(time.perf_counter() - t0, 2)
    out["knn_mode"], out["knn_index"] = mode, r["index"]["type"]
    out["knn_index_mb"] = round(r["index"]["bytes"] / 2 ** 20, 1)
    out["knn_peak_heap_mb"] = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 1)
    out["knn_rss_mb"] = _maxrss_mb()
    out["R@1 image2text"] = r["image2text@1"]
    if mode == "approx":
        meas = r["image2text_measured"]
        out["approx_neighbour_recall@10"] = meas["neighbour_recall@10"]
        out["approx_vs_exact_R@10"] = [meas["approx@10"], meas["exact@10"], meas["exact@10_stderr"]]
    tracemalloc.stop()
    return out


def _maxrss_mb() -> float:
    """The peak resident set of this process image (VmHWM). Not ru_maxrss: Linux carries that over
    fork and exec, so a child would report its parent's peak (torch and a model: 1.6 GB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _reset_peak_rss() -> bool:
    """Start VmHWM again from the current resident set (Linux >= 4.0), so each phase has its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory(work: Path, sizes: list[int], d: int, exact_max: int, knn_max: int | None = None) -> list[dict]:
    rows = []
    for n in sizes:
        folder = work / f"synthetic-{n}-{d}"
        if not (folder / "index.json").is_file():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--write-synthetic", str(folder), "--n", str(n),
                            "--dim", str(d)], check=True)
            print(f"wrote {n} x {d} synthetic pairs in {time.perf_counter() - t0:.1f} s", flush=True)
        cmd = [sys.executable, __file__, "--memory-child", str(folder), "--exact-max", str(exact_max)]
        p = subprocess.run(cmd + (["--knn-max", str(knn_max)] if knn_max is not None else []),
                           capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(p.stderr[-3000:])
        row = json.loads(p.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("all", "throughput", "costs", "memory"), default="all")
    ap.add_argument("--pairs", type=int, default=50_000)
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--exact-max", type=int, default=50_000)
    ap.add_argument("--knn-max", type=int, help="skip R@k above this N (the streaming part alone)")
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--write-synthetic", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.write_synthetic:
        write_synthetic(a.write_synthetic, a.n, a.dim)
        return
    if a.memory_child:
        print(json.dumps(memory_child(a.memory_child, a.exact_max, a.knn_max)))
        return
    tmp = None
    if a.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-scale-")
        a.work = Path(tmp.name)
    a.work.mkdir(parents=True, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count(), "load_at_start": _load()}}
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()}", flush=True)
    if a.part in ("all", "costs"):
        results["costs"] = costs(a.work)
        print(json.dumps(results["costs"], indent=1), flush=True)
    if a.part in ("all", "throughput"):
        results["throughput"] = throughput(a.work, a.pairs, a.shard_size)
    if a.part in ("all", "memory"):
        results["memory"] = memory(a.work, a.sizes, a.dim, a.exact_max, a.knn_max)
    print_tables(results)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    if tmp:
        tmp.cleanup()


def print_tables(r: dict) -> None:
    if "throughput" in r:
        print("\nembed throughput (shapes world, ShapesViT-T-32, CPU, 1 thread per worker)")
        print(f"{'run':<9} {'items':>7} {'items/s':>8} {'per worker-s':>13} {'engine s':>9} {'startup s':>10} {'load avg before':>18}")
        base = r["throughput"][0]["items_per_s"]
        for t in r["throughput"]:
            print(f"{t['run']:<9} {t['rows']:>7} {t['items_per_s']:>8.1f} {t['per_worker_second']:>13.1f} "
                  f"{t['engine_s']:>9.1f} {t['startup_s']:>10.1f} {t['load_before']:>18}   "
                  f"x{t['items_per_s'] / base:.2f} of {r['throughput'][0]['run']}")
    if "memory" in r:
        print("\nstreaming analyses: memory vs N (synthetic, d = %d)" % r["memory"][0]["dim"])
        print(f"{'N':>8} {'stream heap MB':>15} {'stream maxRSS MB':>17} {'stream s':>9} {'R@k':>7} "
              f"{'index MB':>9} {'R@k heap MB':>12} {'R@k maxRSS MB':>14} {'R@k s':>7}")
        b = r["memory"][0]
        for m in r["memory"]:
            knn = (f"{m['knn_mode']:>7} {m['knn_index_mb']:>9.1f} {m['knn_peak_heap_mb']:>12.1f} "
                   f"{m['knn_rss_mb']:>14.1f} {m['knn_s']:>7.1f}") if "knn_mode" in m else f"{'(skipped)':>7}"
            print(f"{m['n']:>8} {m['stream_peak_mb']:>15.1f} {m['stream_rss_mb']:>17.1f} {m['stream_s']:>9.1f} {knn}")
        for m in r["memory"][1:]:
            print(f"N x{m['n'] / b['n']:.0f} of {b['n']}: stream heap x{m['stream_peak_mb'] / b['stream_peak_mb']:.2f}, "
                  f"stream maxRSS x{m['stream_rss_mb'] / b['stream_rss_mb']:.2f}, stream time "
                  f"x{m['stream_s'] / b['stream_s']:.2f}")


if __name__ == "__main__":
    main()
