"""Issue 12: `embed` on Ray Data and analyses that stream over shards (exporters/scale/, docs/scale.md).

Everything runs here for real: the shapes world (generated, no download) with the shipped CLIP
checkpoint, a local Ray cluster on this machine for `--engine ray`. The Ray tests are marked
`slow` (`pytest -m "not slow"` is the fast lane).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from exporters.analysis.gap import gap_vector, modality_distance
from exporters.analysis.retrieval import content_groups, recall_at_k
from exporters.cli import main
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset
from exporters.scale import reference as ref
from exporters.scale.manifest import shapes_manifest, write_manifest
from exporters.scale.shards import ShardSet, write_array_shards
from exporters.scale.stream import sample_pairs_for, stream_metrics
from exporters.sources.openclip import OpenClipSource

ROOT = Path(__file__).resolve().parent.parent
CKPT = ROOT / "models" / "clip.safetensors"
ARCH = "ShapesViT-T-32"
N_GOOD = 240
SHARD = 64
MODEL_ARGS = ["--arch", ARCH, "--checkpoint", str(CKPT)]
TOL = 1e-6

faiss = pytest.importorskip("faiss")


# -- a manifest of the shapes world with four bad items ------------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scale")


@pytest.fixture(scope="module")
def manifest(work: Path) -> Path:
    good = shapes_manifest(work / "good.csv", N_GOOD)
    import csv

    rows = list(csv.DictReader(open(good, encoding="utf-8")))
    (work / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    bad = [{"id": "bad-missing", "image": "images/does-not-exist.png", "caption": "a red circle", "stratum": "circle"},
           {"id": "bad-corrupt", "image": "images/corrupt.png", "caption": "a blue square", "stratum": "square"},
           {"id": "bad-caption", "image": rows[0]["image"], "caption": "   ", "stratum": "cross"},
           {"id": "bad-url", "image": "https://example.org/x.png", "caption": "a cross", "stratum": "cross"}]
    # bad items spread over shards 0, 1 and 3
    rows = rows[:10] + bad[:2] + rows[10:100] + bad[2:3] + rows[100:200] + bad[3:] + rows[200:]
    return write_manifest(work / "pairs.csv", rows)


def _good_rows(manifest: Path) -> list[dict]:
    import csv

    return [r for r in csv.DictReader(open(manifest, encoding="utf-8")) if not r["id"].startswith("bad-")]


@pytest.fixture(scope="module")
def local_out(work: Path, manifest: Path) -> Path:
    out = work / "out-local"
    assert main(["embed", "--manifest", str(manifest), "--out", str(out), "--shard-size", str(SHARD),
                 *MODEL_ARGS]) == 0
    return out


@pytest.fixture(scope="module")
def in_memory(manifest: Path):
    """The single-process path on the good items: OpenClipSource.embed on one PairedDataset."""
    rows = _good_rows(manifest)
    paths = [str((manifest.parent / r["image"]).resolve()) for r in rows]
    ds = PairedDataset("scale-test", tuple(r["id"] for r in rows),
                       (Modality("image", "image", "Image", tuple(paths)),
                        Modality("text", "text", "Text", tuple(r["caption"] for r in rows))))
    emb = OpenClipSource(ARCH, checkpoint=str(CKPT)).embed(ds)
    return ds, emb


def _load_all(out: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    ss = ShardSet(out)
    arrays = {n: ss.gather(n, np.arange(ss.n)) for n in ss.names}
    return arrays, ss.ids(np.arange(ss.n))


def _latest_record(out: Path) -> dict:
    return json.loads(sorted((out / "runs").glob("*.json"))[-1].read_text())


# -- embed, local engine ----------------------------------------------------------------------------

def test_local_shards_equal_the_single_process_path(local_out: Path, in_memory):
    ds, emb = in_memory
    arrays, ids = _load_all(local_out)
    assert ids == list(ds.ids)
    for name in ("image", "text"):
        assert arrays[name].shape == emb.blocks[name].shape
        assert np.abs(arrays[name] - emb.blocks[name]).max() < TOL
        assert np.allclose(np.linalg.norm(arrays[name], axis=1), 1.0, atol=1e-6)
    index = json.loads((local_out / "index.json").read_text())
    assert index["dim"] == 64 and index["items"] == N_GOOD and index["rows"] == N_GOOD + 4
    assert index["logit_scale"] == pytest.approx(emb.logit_scale)


def test_shard_keys_are_the_single_process_cache_keys(local_out: Path):
    """A shard's key is OpenClipSource.embed's own cache key for its items: embedding the shard's
    dataset in one process finds the entry the shard run stored (a cache hit) and gives its rows."""
    from exporters.cache import cache_key

    ss = ShardSet(local_out)
    s = ss.shards[1]
    meta = json.loads((local_out / "shards" / s["key"] / "meta.json").read_text())
    items = ss.items(1)
    ds = PairedDataset("scale-shard", tuple(items["ids"]),
                       (Modality("image", "image", "Image", tuple(items["items"]["image"])),
                        Modality("text", "text", "Text", tuple(items["items"]["text"]))))
    emb = OpenClipSource(ARCH, checkpoint=str(CKPT)).embed(ds)
    assert emb.provenance["cache_hit"] is True
    parts = {k: v for k, v in emb.provenance.items() if k not in ("source", "cache_hit")}
    assert cache_key(parts) == s["key"] == meta["key"]
    assert parts["weights"].startswith("sha256:")
    lo = int(ss.offsets[1])
    got = ss.gather("image", np.arange(lo, lo + len(items["ids"])))
    assert np.abs(got - emb.blocks["image"]).max() < TOL


def test_bad_items_are_recorded_and_skipped(local_out: Path):
    rec = _latest_record(local_out)
    assert rec["items"]["failed_total"] == 4 and rec["items"]["embedded_total"] == N_GOOD
    by_id = {f["id"]: f for f in rec["failures"]}
    assert set(by_id) == {"bad-missing", "bad-corrupt", "bad-caption", "bad-url"}
    assert "not a readable image" in by_id["bad-missing"]["reason"]
    assert "not a readable image" in by_id["bad-corrupt"]["reason"]
    assert by_id["bad-caption"] == {**by_id["bad-caption"], "modality": "text", "reason": "empty caption"}
    assert "remote URL" in by_id["bad-url"]["reason"]
    assert sorted(f["slot"] for f in rec["failures"]) == [0, 0, 1, 3]
    _, ids = _load_all(local_out)
    assert not [i for i in ids if i.startswith("bad-")]          # never an invented vector
    assert rec["shards"] == {**rec["shards"], "total": 4, "written": 4, "failed": 0}


def test_local_resume_does_only_the_missing_shard(work: Path, manifest: Path, local_out: Path):
    out = work / "out-resume-local"
    shutil.copytree(local_out, out)
    before, _ = _load_all(out)
    ss = ShardSet(out)
    gone = ss.shards[2]
    shutil.rmtree(out / "shards" / gone["key"])
    assert main(["embed", "--manifest", str(manifest), "--out", str(out), "--shard-size", str(SHARD),
                 *MODEL_ARGS]) == 0
    rec = _latest_record(out)
    assert rec["shards"]["already_done"] == 3 and rec["shards"]["run"] == 1
    assert [s["slot"] for s in rec["shard_runs"]] == [gone["slot"]]
    assert rec["items"]["rows_this_run"] == gone["rows"]
    after, _ = _load_all(out)
    for n in before:
        assert np.abs(after[n] - before[n]).max() < TOL
    # a third run has nothing to do
    assert main(["embed", "--manifest", str(manifest), "--out", str(out), "--shard-size", str(SHARD),
                 *MODEL_ARGS]) == 0
    rec = _latest_record(out)
    assert rec["shards"]["already_done"] == 4 and rec["shards"]["run"] == 0


# -- streaming analyses == in-memory analyses ---------------------------------------------------------

def test_streaming_metrics_equal_the_in_memory_analyses(local_out: Path, in_memory):
    ds, emb = in_memory
    x, y = emb.pair()
    ss = ShardSet(local_out)
    r = stream_metrics(ss, ks=(1, 5, 10), retrieval="exact")
    assert r["n"] == N_GOOD and r["pair"] == ["image", "text"]
    assert np.abs(np.array(r["gap"]["vector"]) - gap_vector(x, y)).max() < TOL
    assert abs(r["gap"]["distance"] - modality_distance(x, y)) < TOL
    c = r["cosine"]
    assert abs(c["inmodal_x"] - ref.mean_inmodal_cosine(x)) < TOL
    assert abs(c["inmodal_y"] - ref.mean_inmodal_cosine(y)) < TOL
    assert abs(c["crossmodal"] - ref.crossmodal_mean_cosine(x, y)) < TOL
    assert abs(c["matched"] - ref.matched_mean_cosine(x, y)) < TOL
    assert abs(r["rmg"] - ref.relative_modality_gap(x, y)) < TOL
    assert abs(r["alignment"] - ref.alignment(x, y)) < TOL
    assert abs(r["rmg"] - ref.relative_modality_gap_direct(x, y)) < TOL
    per_dim, want = r["gap"]["per_dimension"], ref.dimension_gap(x, y)
    assert per_dim["dimension"] == want["dimension"].tolist()
    assert np.abs(np.array(per_dim["abs_gap"]) - want["abs_gap"]).max() < TOL
    assert np.abs(np.array(per_dim["share"]) - want["share"]).max() < TOL
    for name, block in (("image", x), ("text", y)):
        u = r["uniformity"][name]
        assert u["mode"] == "exact" and u["pairs"] == N_GOOD * (N_GOOD - 1) // 2
        assert abs(u["value"] - ref.uniformity(block)) < TOL
    # R@k with identical content as one answer, exactly as analysis/retrieval.py
    mem = recall_at_k(x, y, (1, 5, 10), ds.content_groups("image"), ds.content_groups("text"))
    for k in (1, 5, 10):
        assert abs(r["retrieval"][f"image2text@{k}"] - mem[f"x2y@{k}"]) < TOL
        assert abs(r["retrieval"][f"text2image@{k}"] - mem[f"y2x@{k}"]) < TOL
    # sampled uniformity: the documented seeded pairs, identical to the definition on those pairs
    r2 = stream_metrics(ss, retrieval="off", exact_pairs=0, uniformity_pairs=5000, seed=7)
    pairs = sample_pairs_for(N_GOOD, 5000, 7)
    assert r2["uniformity"]["image"]["mode"] == "sampled"
    assert abs(r2["uniformity"]["image"]["value"] - ref.uniformity_on_pairs(x, pairs)) < TOL
    assert abs(r2["uniformity"]["image"]["value"] - ref.uniformity(x)) < 6 * r2["uniformity"]["image"]["stderr"]


def _synthetic(n: int, d: int, seed: int = 0, dup_every: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) + 0.8
    y = x + rng.normal(scale=1.5, size=(n, d)) - 1.6
    if dup_every:   # identical texts: every dup_every-th item repeats the previous one's text
        for i in range(dup_every, n, dup_every):
            y[i] = y[i - 1]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)


def test_streaming_equals_in_memory_on_synthetic_shards_with_duplicates(tmp_path: Path):
    x, y = _synthetic(1500, 32, dup_every=7)
    groups_y = content_groups([y[i].tobytes() for i in range(len(y))])
    content = {"image": np.stack([np.zeros(len(x)), np.arange(len(x))], 1).astype(np.uint64),
               "text": np.stack([np.ones(len(y)), groups_y], 1).astype(np.uint64)}
    strata = [["a", "b", "c"][i % 3] if i % 10 else "rare" for i in range(len(x))]
    write_array_shards(tmp_path / "s1", {"image": x, "text": y}, shard_size=400, content=content, strata=strata)
    ss = ShardSet(tmp_path / "s1")
    r = stream_metrics(ss, ks=(1, 5, 10), retrieval="exact", block_bytes=64 * 1024)   # many small blocks
    assert abs(r["gap"]["distance"] - modality_distance(x, y)) < 1e-9
    assert abs(r["rmg"] - ref.relative_modality_gap(x, y)) < 1e-9
    assert abs(r["cosine"]["inmodal_y"] - ref.mean_inmodal_cosine(y)) < 1e-9
    assert abs(r["uniformity"]["text"]["value"] - ref.uniformity(y)) < 1e-9
    mem = recall_at_k(x, y, (1, 5, 10), None, groups_y)
    for k in (1, 5, 10):
        assert r["retrieval"][f"image2text@{k}"] == mem[f"x2y@{k}"]
        assert r["retrieval"][f"text2image@{k}"] == mem[f"y2x@{k}"]
    # approximate index: its R@k and the measured recall are reported; on this size it is close
    a = stream_metrics(ss, ks=(1, 10), retrieval="approx", recall_queries=300)["retrieval"]
    m = a["image2text_measured"]
    assert a["mode"] == "approx" and a["index"]["type"].startswith("IVF")
    assert m["queries"] == 300 and 0.0 <= m["neighbour_recall@10"] <= 1.0
    assert abs(m["exact@10"] - mem["x2y@10"]) < 4 * m["exact@10_stderr"] + 0.02
    assert a["image2text@10"] >= mem["x2y@10"] - 0.05        # an approximate rank can only be too small


def test_moments_merge_in_any_order(tmp_path: Path):
    from exporters.scale.stream import PairMoments

    x, y = _synthetic(900, 16, seed=3)
    whole = PairMoments(16)
    whole.update(x, y)
    parts = [PairMoments(16) for _ in range(3)]
    for p, sl in zip(parts, (slice(0, 100), slice(100, 650), slice(650, 900))):
        p.update(x[sl], y[sl])
    merged = parts[2].merge(parts[0]).merge(parts[1])
    a, b = whole.metrics(), merged.metrics()
    assert abs(a["rmg"] - b["rmg"]) < 1e-12 and abs(a["gap"]["distance"] - b["gap"]["distance"]) < 1e-12


def test_several_folders_read_as_one_set(tmp_path: Path):
    """A very large manifest is embedded in parts (one --out each); inspect-shards reads them as one."""
    x, y = _synthetic(700, 16, seed=9)
    write_array_shards(tmp_path / "p1", {"image": x[:300], "text": y[:300]}, shard_size=128,
                       ids=[f"a{i}" for i in range(300)])
    write_array_shards(tmp_path / "p2", {"image": x[300:], "text": y[300:]}, shard_size=128,
                       ids=[f"b{i}" for i in range(400)])
    ss = ShardSet([tmp_path / "p1", tmp_path / "p2"])
    assert ss.n == 700 and np.abs(ss.gather("text", np.arange(700)) - y).max() < 1e-6
    r = stream_metrics(ss, retrieval="exact")
    assert abs(r["rmg"] - ref.relative_modality_gap(x, y)) < 1e-9
    assert r["retrieval"]["image2text@5"] == recall_at_k(x, y, (5,))["x2y@5"]


def test_stratified_sample_is_reproducible_and_proportional(tmp_path: Path):
    from exporters.scale.sample import stratified_sample, write_sample

    x, y = _synthetic(1000, 8, seed=5)
    strata = ["big"] * 700 + ["mid"] * 250 + ["small"] * 50
    ids = [f"id-{i}" for i in range(1000)]
    write_array_shards(tmp_path / "a", {"image": x, "text": y}, shard_size=300, ids=ids, strata=strata)
    perm = np.random.default_rng(1).permutation(1000)     # other order, other shard size: same sample
    write_array_shards(tmp_path / "b", {"image": x[perm], "text": y[perm]}, shard_size=77,
                       ids=[ids[i] for i in perm], strata=[strata[i] for i in perm])
    sa = stratified_sample(ShardSet(tmp_path / "a"), 100, seed=3)
    sb = stratified_sample(ShardSet(tmp_path / "b"), 100, seed=3)
    assert sorted(sa["ids"]) == sorted(sb["ids"])
    assert sa["allocation"] == {"big": 70, "mid": 25, "small": 5}
    assert sorted(stratified_sample(ShardSet(tmp_path / "a"), 100, seed=4)["ids"]) != sorted(sa["ids"])
    path = write_sample(ShardSet(tmp_path / "a"), sa, tmp_path / "sample.npz")
    with np.load(path) as z:
        rows = [ids.index(i) for i in z["ids"]]
        assert np.abs(z["image"] - x[rows]).max() < 1e-6


def test_inspect_shards_command(local_out: Path, capsys):
    assert main(["inspect-shards", "--shards", str(local_out), "--sample", "20"]) == 0
    text = capsys.readouterr().out
    assert "modality distance" in text and "RMG" in text and "R@1" in text and "stratified sample: 20" in text
    assert main(["inspect-shards", "--shards", str(local_out), "--json", "--retrieval", "off"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n"] == N_GOOD and "retrieval" not in data


# -- one-line errors ---------------------------------------------------------------------------------

def test_model_must_be_named(manifest: Path, tmp_path: Path, capsys):
    assert main(["embed", "--manifest", str(manifest), "--out", str(tmp_path / "o"), "--arch", ARCH]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no weights named" in err and "--random-init" in err
    assert main(["embed", "--manifest", str(manifest), "--out", str(tmp_path / "o")]) == 2
    assert "name the model" in capsys.readouterr().err


def test_gpus_without_cuda_is_one_line(manifest: Path, tmp_path: Path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert main(["embed", "--manifest", str(manifest), "--out", str(tmp_path / "o"), "--gpus", "1",
                 *MODEL_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA GPU" in err and "--gpus" in err
    assert not (tmp_path / "o").exists()


def test_only_the_known_ray_warnings_are_silenced():
    from exporters.scale.run import RAY_KNOWN_WARNINGS, ray_known_warnings_silenced

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with ray_known_warnings_silenced():
            warnings.warn("`use_polars` is deprecated, please configure `use_polars_sort`  instead.",
                          DeprecationWarning)
            warnings.warn("`use_polars` is deprecated, please configure `use_polars_sort`  instead.", UserWarning)
            warnings.warn("`shuffle_strategy` is deprecated", DeprecationWarning)
    assert [(w.category, str(w.message)) for w in seen] == [
        (UserWarning, "`use_polars` is deprecated, please configure `use_polars_sort`  instead."),
        (DeprecationWarning, "`shuffle_strategy` is deprecated")]
    assert all(why for _, _, why in RAY_KNOWN_WARNINGS)


def test_missing_ray_is_one_line_naming_the_extra(manifest: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)        # `import ray` raises ImportError
    assert main(["embed", "--manifest", str(manifest), "--out", str(tmp_path / "o"), "--engine", "ray",
                 *MODEL_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'ray'" in err and ".[scale]" in err
    assert not (tmp_path / "o").exists()


def test_manifest_errors_are_one_line(tmp_path: Path, capsys):
    write_manifest(tmp_path / "m.csv", [{"name": "a", "caption": "x"}])
    assert main(["embed", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o"), *MODEL_ARGS]) == 2
    assert "no item id column" in capsys.readouterr().err
    write_manifest(tmp_path / "d.csv", [{"id": "a", "image": "x.png", "caption": "x"},
                                        {"id": "a", "image": "y.png", "caption": "y"}])
    assert main(["embed", "--manifest", str(tmp_path / "d.csv"), "--out", str(tmp_path / "o"), *MODEL_ARGS]) == 2
    assert "repeats id 'a'" in capsys.readouterr().err


def test_parquet_manifest_gives_the_same_shards(work: Path, manifest: Path, local_out: Path):
    import csv

    rows = list(csv.DictReader(open(manifest, encoding="utf-8")))[:SHARD]
    pq = write_manifest(work / "pairs.parquet", rows)
    out = work / "out-parquet"
    assert main(["embed", "--manifest", str(pq), "--out", str(out), "--shard-size", str(SHARD), *MODEL_ARGS]) == 0
    assert ShardSet(out).shards[0]["key"] == ShardSet(local_out).shards[0]["key"]


# -- Ray Data: one local cluster for the module ------------------------------------------------------
# Started once (2 CPUs, a 128 MB object store, no dashboard) and shared: the `python -m exporters`
# run joins it with --address, the in-process runs find it initialised. Each Ray test is `slow`.

RAY_OBJECT_STORE = 128 * 1024 * 1024


@pytest.fixture(scope="module")
def ray_cluster() -> str:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, object_store_memory=RAY_OBJECT_STORE, include_dashboard=False, logging_level="WARNING",
             log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _ray_args(manifest: Path, out: Path, *extra: str) -> list[str]:
    return ["embed", "--manifest", str(manifest), "--out", str(out), "--shard-size", str(SHARD), "--engine", "ray",
            *MODEL_ARGS, *extra]


@pytest.fixture(scope="module")
def ray_out(work: Path, manifest: Path, ray_cluster: str) -> Path:
    """`python -m exporters embed --engine ray --workers 2`, a process of its own joining the cluster."""
    out = work / "out-ray"
    p = subprocess.run([sys.executable, "-m", "exporters", *_ray_args(manifest, out, "--workers", "2",
                                                                       "--address", ray_cluster)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "240 of 244 items embedded, 4 failed" in p.stdout
    return out


@pytest.mark.slow
def test_ray_engine_end_to_end_equals_local_and_in_memory(ray_out: Path, local_out: Path, in_memory, capsys):
    ray_arrays, ray_ids = _load_all(ray_out)
    loc_arrays, loc_ids = _load_all(local_out)
    _, emb = in_memory
    assert ray_ids == loc_ids
    for n in ("image", "text"):
        assert np.abs(ray_arrays[n] - loc_arrays[n]).max() < TOL
        assert np.abs(ray_arrays[n] - emb.blocks[n]).max() < TOL
    assert [s["key"] for s in ShardSet(ray_out).shards] == [s["key"] for s in ShardSet(local_out).shards]
    rec = _latest_record(ray_out)
    assert rec["engine"] == "ray" and rec["workers"] == 2 and rec["items"]["failed_total"] == 4
    assert rec["shards"]["written"] == 4 and len(rec["shard_runs"]) == 4
    assert rec["driver_pid"] not in {s["pid"] for s in rec["shard_runs"]}   # encoded in Ray's actors
    assert rec["throughput"]["rows_per_second"] > 0
    # the streaming inspect on the Ray output prints the numbers of the local output
    assert main(["inspect-shards", "--shards", str(ray_out), "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["inspect-shards", "--shards", str(local_out), "--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    for key in ("rmg", "alignment"):
        assert abs(a[key] - b[key]) < TOL
    assert abs(a["gap"]["distance"] - b["gap"]["distance"]) < TOL
    assert a["retrieval"]["image2text@1"] == b["retrieval"]["image2text@1"]


@pytest.mark.slow
def test_ray_survives_a_killed_worker(work: Path, manifest: Path, local_out: Path, ray_cluster: str, monkeypatch):
    """An encoder actor dies by SIGKILL in the middle of shard 1 (EXPORTERS_SCALE_FAULT); Ray restarts
    it and retries the shard; the job completes with every shard and the same numbers."""
    out, marker = work / "out-ray-killed", work / "killed.pid"
    monkeypatch.setenv("EXPORTERS_SCALE_FAULT", f"kill:1:{marker}")
    with warnings.catch_warnings(record=True) as seen:     # Ray Data in this process: no warning leaks
        warnings.simplefilter("always")
        assert main(_ray_args(manifest, out, "--workers", "2")) == 0
    assert [(w.category.__name__, str(w.message)) for w in seen] == []
    killed = int(marker.read_text())
    rec = _latest_record(out)
    assert rec["shards"]["written"] == 4 and rec["shards"]["failed"] == 0
    slot1 = next(s for s in rec["shard_runs"] if s["slot"] == 1)
    assert slot1["pid"] != killed                                       # done by the restarted actor
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)                                              # the killed process is gone
    a, _ = _load_all(out)
    b, _ = _load_all(local_out)
    for n in a:
        assert np.abs(a[n] - b[n]).max() < TOL


@pytest.mark.slow
def test_ray_resume_does_only_the_missing_shard(work: Path, manifest: Path, ray_out: Path, monkeypatch, capsys):
    """A shard whose encoder raises is recorded as failed (exit 1, the slot named) and the job goes on;
    a rerun does only what is missing."""
    out = work / "out-ray-resume"
    shutil.copytree(ray_out, out)
    before, _ = _load_all(out)
    gone = ShardSet(out).shards[3]
    shutil.rmtree(out / "shards" / gone["key"])
    with monkeypatch.context() as m:
        m.setenv("EXPORTERS_SCALE_FAULT", f"raise:{gone['slot']}")
        assert main(_ray_args(manifest, out, "--workers", "2")) == 1
    assert f"slots [{gone['slot']}]" in capsys.readouterr().err
    rec = _latest_record(out)
    assert rec["shards"]["failed"] == 1 and rec["shards"]["failed_slots"] == [gone["slot"]]
    assert json.loads((out / "index.json").read_text())["shards"][gone["slot"]]["status"] == "missing"
    with pytest.raises(UserError, match="unfinished"):
        ShardSet(out)
    with warnings.catch_warnings(record=True) as seen:     # one shard left: a pool of one actor, no warning
        warnings.simplefilter("always")
        assert main(_ray_args(manifest, out, "--workers", "2")) == 0
    assert [(w.category.__name__, str(w.message)) for w in seen] == []
    rec = _latest_record(out)
    assert rec["shards"]["already_done"] == 3 and rec["shards"]["run"] == 1 and rec["shards"]["written"] == 1
    assert [s["slot"] for s in rec["shard_runs"]] == [gone["slot"]]
    assert rec["items"]["rows_this_run"] == gone["rows"]
    assert rec["items"]["failed_this_run"] == 1 and rec["items"]["failed_total"] == 4   # slot 3 holds bad-url
    after, _ = _load_all(out)
    for n in before:
        assert np.abs(after[n] - before[n]).max() < TOL


@pytest.mark.slow
def test_ray_refuses_what_the_cluster_cannot_place(work: Path, manifest: Path, ray_cluster: str, capsys):
    """GPUs (or CPUs) the cluster does not have: one line and exit 2, not an actor pool waiting for ever."""
    assert main(_ray_args(manifest, work / "out-gpu", "--gpus", "1")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "0 GPUs" in err and "--gpus 1" in err
    assert main(_ray_args(manifest, work / "out-cpu", "--workers", "3")) == 2
    assert "2 CPUs" in capsys.readouterr().err
