"""The `embed` job: plan shards, skip the finished ones, encode the rest on an engine, record the run.

Engines:
- `local` (the default): one process, shards in order, the `ShardEncoder` of exporters/scale/encode.py.
- `ray`: Ray Data. The pending shards are a dataset of shard specs (one row each) and
  `map_batches(ShardEncoder, compute=ActorPoolStrategy(size=workers), batch_size=1, num_gpus=...)`
  runs them on a pool of encoder actors, each loading the model once. Ray restarts a dead actor
  and retries its shard (Ray Data's actor defaults: `max_restarts=-1`, `max_task_retries=-1`); a
  shard whose encoder raises is recorded as failed (`DataContext.max_errored_blocks`) and left for
  the next run. A pool the cluster cannot place (too few CPUs or GPUs) is refused with one line
  instead of waiting for ever; Ray's warnings about its own deprecated settings are silenced by
  category and message (RAY_KNOWN_WARNINGS), every other one gets through. Without `--address` a
  single-node Ray cluster is started in this process for the job; with it, the job
  joins a running cluster (`ray start --head` ...), whose workers must see the manifest's files,
  the output folder and the model checkpoint at the same paths (shared storage).

Resuming: a finished slot leaves `slots/<fingerprint>.json` (exporters/scale/shards.py). A rerun
plans the same slots, skips every one whose fingerprint has a slot file and whose shard folder is
complete, and encodes only the others; `--rehash` ignores the slot files, so every shard's files
are read and hashed again (a shard whose content key is already there is then `reused`, not
rewritten).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

from exporters.errors import UserError
from exporters.scale.manifest import file_sha256, open_manifest, plan_shards
from exporters.scale.shards import FORMAT, INDEX, shard_complete, write_json_atomic

ENGINES = ("local", "ray")
FAULT_ENV = "EXPORTERS_SCALE_FAULT"
RAY_OBJECT_STORE_BYTES = 512 * 1024 * 1024   # a local cluster on a shared machine: small and explicit
FAILURES_LISTED = 100_000   # the run record lists at most this many; every one is in OUT/slots/*.json


def model_spec(arch: str | None = None, pretrained: str | None = None, checkpoint: str | None = None,
               random_init: bool = False, config: str | Path | None = None, model: str | None = None) -> dict:
    """The model by name: arch + exactly one of pretrained / checkpoint / random_init, or a
    `[models.<id>]` table of a build configuration. Never a silent random model."""
    if config or model:
        if not (config and model):
            raise UserError("give --config and --model together (a [models.<id>] of the configuration)")
        if arch or pretrained or checkpoint or random_init:
            raise UserError("give the model either by --config/--model or by --arch and its weights, not both")
        from exporters.config import load_config

        cfg = load_config(config)
        if model not in cfg.models:
            raise UserError(f"{config}: unknown model {model!r}; defined: {', '.join(cfg.models)}")
        e = cfg.models[model]
        if e.source != "open_clip":
            raise UserError(f"{config}: model {model!r} has source {e.source!r}; embed runs open_clip models")
        o = e.options
        spec = {"name": model, "arch": o["arch"], "pretrained": o.get("pretrained"),
                "checkpoint": str(cfg.resolve(o["checkpoint"]).resolve()) if o.get("checkpoint") else None,
                "random_init": o.get("random_init") is True,
                "checkpoint_format": o.get("checkpoint_format", "open_clip"),
                "trusted_pickle": bool(o.get("trusted_pickle", False))}
    else:
        if not arch:
            raise UserError("name the model: --arch ARCH with one of --checkpoint FILE, --pretrained TAG or "
                            "--random-init (or --config FILE --model ID)")
        given = [k for k, v in (("--pretrained", pretrained), ("--checkpoint", checkpoint),
                                ("--random-init", random_init)) if v]
        if not given:
            raise UserError(f"--arch {arch}: no weights named; give --checkpoint FILE, --pretrained TAG, or "
                            "--random-init for an untrained (seeded) model")
        if len(given) > 1:
            raise UserError(f"--arch {arch}: give exactly one of {' and '.join(given)}")
        spec = {"name": arch, "arch": arch, "pretrained": pretrained,
                "checkpoint": str(Path(checkpoint).resolve()) if checkpoint else None,
                "random_init": bool(random_init), "checkpoint_format": "open_clip", "trusted_pickle": False}
    return spec


def model_identity(spec: dict) -> dict:
    """What the shards' content depends on besides the data (checks the weights exist)."""
    import open_clip
    import torch

    from exporters.images import VERSION as IMAGE_LOADER
    from exporters.scale.encode import make_source
    from exporters.sources.openclip import _open_clip

    known = _open_clip().list_models()
    if spec["arch"] not in known:
        raise UserError(f"unknown open_clip architecture {spec['arch']!r}; known: {', '.join(known)}")
    source = make_source(spec)
    return {"arch": spec["arch"], "weights": source.weights_id(), "checkpoint_format": spec["checkpoint_format"],
            "open_clip": open_clip.__version__, "torch": torch.__version__.split("+")[0],
            "image_loader": IMAGE_LOADER}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def embed_job(manifest: str | Path, out: str | Path, spec: dict, engine: str = "local", workers: int = 1,
              gpus: float = 0, cpus_per_worker: float = 1, shard_size: int = 1000, cache: str | Path | None = None,
              address: str | None = None, rehash: bool = False, stratum_column: str | None = None,
              threads: int | None = None, progress: bool | None = None) -> dict:
    """Run `embed`; returns the run record (also written to OUT/runs/)."""
    from exporters.cache import cache_root

    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if gpus < 0:
        raise UserError(f"--gpus must be 0 or more, got {gpus}")
    if engine == "local" and (workers != 1 or gpus > 1):
        raise UserError("--engine local runs one process; --workers and more than one GPU need --engine ray")
    if engine == "ray":   # before any work: a missing extra is one line, not a traceback later
        from exporters.scale import need

        need("ray", "--engine ray")
        need("ray.data", "--engine ray")
    if engine == "local" and gpus > 0:
        import torch

        if not torch.cuda.is_available():
            raise UserError(f"--gpus {gpus:g}: torch sees no CUDA GPU on this machine; drop --gpus to run on the CPU")
    progress = sys.stderr.isatty() if progress is None else progress
    t_start = time.perf_counter()
    started = _now()
    out = Path(out).resolve()
    m = open_manifest(manifest, stratum_column)
    ident = model_identity(spec)
    plans = plan_shards(m, shard_size, ident)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    names = m.names

    done, pending = {}, []
    for p in plans:
        slot_file = out / "slots" / f"{p.fingerprint}.json"
        rec = _read_json(slot_file) if (slot_file.is_file() and not rehash) else None
        if rec is not None and (rec.get("items") == 0 or shard_complete(out, rec.get("key"), names)):
            done[p.slot] = rec
        else:
            pending.append(p)
    specs = [{"slot": p.slot, "start": p.start, "fingerprint": p.fingerprint,
              "modalities": [[c.name, c.kind] for c in m.modalities], "rows": p.rows} for p in pending]
    device = "cuda" if gpus > 0 else os.environ.get("EXPORTERS_DEVICE", "cpu")
    threads = max(1, int(round(cpus_per_worker))) if threads is None else int(threads)
    enc_kwargs = {"model": spec, "out": str(out), "threads": threads, "device": device,
                  "cache_dir": str(Path(cache or cache_root()) / "embeddings"), "fault": os.environ.get(FAULT_ENV) or None}
    t_plan = time.perf_counter()
    summaries: list[dict] = []
    startup = 0.0
    if specs:
        if engine == "local":
            summaries, startup = _run_local(specs, enc_kwargs, progress)
        else:
            summaries, startup = _run_ray(specs, enc_kwargs, workers, gpus, cpus_per_worker, address, progress)
    t_engine = time.perf_counter()

    by_slot = {s["slot"]: s for s in summaries}
    failed_shards = [p.slot for p in pending if p.slot not in by_slot]
    index_shards, all_failures, dim, logit = [], [], None, None
    for p in plans:
        rec = done.get(p.slot) or by_slot.get(p.slot)
        if rec is None:
            index_shards.append({"slot": p.slot, "start": p.start, "rows": len(p.rows), "key": None,
                                 "items": 0, "failed": None, "status": "missing"})
            continue
        index_shards.append({"slot": p.slot, "start": p.start, "rows": len(p.rows), "key": rec.get("key"),
                             "items": rec.get("items", 0), "failed": len(rec.get("failures", [])), "status": "done"})
        all_failures += [{**f, "slot": p.slot} for f in rec.get("failures", [])]
        if rec.get("key") and dim is None:
            meta = _read_json(out / "shards" / rec["key"] / "meta.json") or {}
            dim, logit = meta.get("dim"), meta.get("logit_scale")
    index = {"format": FORMAT, "manifest": m.describe(), "model": {**ident, "name": spec.get("name")},
             "modalities": names, "kinds": {c.name: c.kind for c in m.modalities}, "dim": dim, "logit_scale": logit,
             "dtype": "float32", "shard_size": shard_size, "shards": index_shards,
             "items": sum(s["items"] for s in index_shards), "rows": sum(s["rows"] for s in index_shards),
             "failed": len(all_failures), "updated": _now()}
    write_json_atomic(out / INDEX, index)

    rows_run = sum(len(p.rows) for p in pending if p.slot in by_slot)
    embedded_run = sum(s["items"] for s in summaries)
    engine_s = t_engine - t_plan
    work_s = sum(s["seconds"] for s in summaries)
    record = {
        "engine": engine, "workers": workers if engine == "ray" else 1, "gpus_per_worker": gpus,
        "cpus_per_worker": cpus_per_worker, "torch_threads_per_worker": enc_kwargs["threads"],
        "address": address, "driver_pid": os.getpid(), "shard_size": shard_size, "rehash": rehash,
        "manifest": {**m.describe(), "sha256": file_sha256(m.path)}, "model": index["model"], "out": str(out),
        "started": started, "finished": _now(),
        "seconds": {"total": round(time.perf_counter() - t_start, 3), "plan": round(t_plan - t_start, 3),
                    "engine": round(engine_s, 3), "engine_startup": round(startup, 3),
                    "shard_work": round(work_s, 3)},
        "items": {"rows": index["rows"], "rows_this_run": rows_run, "embedded_this_run": embedded_run,
                  "failed_this_run": sum(len(s["failures"]) for s in summaries),
                  "embedded_total": index["items"], "failed_total": len(all_failures)},
        "shards": {"total": len(plans), "already_done": len(done), "run": len(summaries),
                   "written": sum(s["status"] == "written" for s in summaries),
                   "reused": sum(s["status"] == "reused" for s in summaries),
                   "empty": sum(s["status"] == "empty" for s in summaries), "failed": len(failed_shards),
                   "failed_slots": failed_shards},
        "throughput": {"rows_per_second": round(rows_run / engine_s, 2) if engine_s > 0 and rows_run else None,
                       "rows_per_worker_second": round(rows_run / work_s, 2) if work_s > 0 and rows_run else None},
        "shard_runs": [{k: v for k, v in s.items() if k != "failures"} | {"failed": len(s["failures"])}
                       for s in sorted(summaries, key=lambda s: s["slot"])],
        "failures": all_failures[:FAILURES_LISTED],
        "failures_listed": min(len(all_failures), FAILURES_LISTED),
    }
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = out / "runs" / f"{stamp}-{engine}.json"
    write_json_atomic(path, record)
    record["record_path"] = str(path)
    return record


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _check_resources(have: dict, workers: int, cpus: float, gpus: float, address: str | None) -> None:
    """An actor pool the cluster cannot place would wait for ever: say so in one line instead."""
    where = f"the Ray cluster at {address}" if address else "this machine's Ray cluster"
    for what, per, flag in (("CPU", cpus, "--cpus-per-worker"), ("GPU", gpus, "--gpus")):
        need = workers * per
        if need > 0 and have.get(what, 0.0) + 1e-9 < need:
            raise UserError(f"{where} has {have.get(what, 0.0):g} {what}s; {workers} workers x {flag} {per:g} "
                            f"need {need:g}: lower --workers or {flag}"
                            + ("" if address or what == "CPU" else ", or join a cluster with GPUs (--address)"))


def _run_local(specs: list[dict], enc_kwargs: dict, progress: bool) -> tuple[list[dict], float]:
    from exporters.scale.encode import ShardEncoder

    t0 = time.perf_counter()
    enc = ShardEncoder(**enc_kwargs)
    startup = time.perf_counter() - t0
    out = []
    for i, spec in enumerate(specs):
        out.append(enc.encode(spec))
        if progress:
            print(f"\rembed: {i + 1}/{len(specs)} shards", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return out, startup


# Warnings Ray gives about itself, silenced by category and message (everything else gets through).
RAY_KNOWN_WARNINGS = tuple(
    (DeprecationWarning, rf"`{name}` (is deprecated|using substring)",
     "Ray Data's DataContext warns about its own deprecated fields whenever it creates or copies one; "
     "we set none of them")
    for name in ("use_push_based_shuffle", "use_polars", "use_arrow_tensor_v2", "write_file_retry_on_errors",
                 "retried_io_errors"))


@contextlib.contextmanager
def ray_known_warnings_silenced():
    """Silence RAY_KNOWN_WARNINGS (and nothing else) while the block runs."""
    with warnings.catch_warnings():
        for category, pattern, _why in RAY_KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern, category=category)
        yield


def _run_ray(specs: list[dict], enc_kwargs: dict, workers: int, gpus: float, cpus_per_worker: float,
             address: str | None, progress: bool) -> tuple[list[dict], float]:
    with ray_known_warnings_silenced():
        return _run_ray_quiet(specs, enc_kwargs, workers, gpus, cpus_per_worker, address, progress)


def _run_ray_quiet(specs: list[dict], enc_kwargs: dict, workers: int, gpus: float, cpus_per_worker: float,
                   address: str | None, progress: bool) -> tuple[list[dict], float]:
    from exporters.scale import need
    from exporters.scale.encode import ShardEncoder

    ray = need("ray", "--engine ray")
    need("ray.data", "--engine ray")
    t0 = time.perf_counter()
    own = not ray.is_initialized()
    if own:
        opts = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": progress,
                "configure_logging": True}
        if address:
            ray.init(address=address, **opts)
        else:   # GPUs: Ray counts the ones this machine has; the check below says when they are too few
            ray.init(num_cpus=max(1, math.ceil(workers * cpus_per_worker)),
                     object_store_memory=RAY_OBJECT_STORE_BYTES, **opts)
    try:
        _check_resources(ray.cluster_resources(), workers, cpus_per_worker, gpus, address)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = progress
        ctx.max_errored_blocks = len(specs)      # a shard that fails after its retries is recorded, not fatal
        ctx.print_on_execution_start = False
        ds = ray.data.from_items([{"spec": json.dumps(s)} for s in specs], override_num_blocks=len(specs))
        # an actor that dies is restarted and its shard retried: Ray Data's actor defaults
        # (max_restarts=-1, max_task_retries=-1; tests/test_scale.py kills one). No more actors than shards.
        ds = ds.map_batches(ShardEncoder, fn_constructor_kwargs=enc_kwargs, batch_size=1, batch_format="numpy",
                            compute=ray.data.ActorPoolStrategy(size=min(workers, len(specs))),
                            num_cpus=cpus_per_worker, num_gpus=gpus if gpus > 0 else None)
        startup = time.perf_counter() - t0
        summaries = [json.loads(str(r["summary"])) for r in ds.iter_rows()]
    finally:
        if own:
            ray.shutdown()
    return summaries, startup
