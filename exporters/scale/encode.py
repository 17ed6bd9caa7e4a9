"""`ShardEncoder`: one open_clip model that turns a shard of manifest rows into L2-normalised float32 arrays.

The same class is a Ray Data actor (`map_batches(ShardEncoder, ...)`, one shard per call) and the
local engine's encoder, so both engines compute the same numbers.

Per item, before anything is encoded: every image goes through the project's one image loader
(`exporters.images.load_rgb`) and the model's own preprocessing, every caption must be non-empty.
An item with an unreadable or missing image, a remote URL, an empty caption, or an embedding with
no direction (NaN, infinite or zero) is recorded - id, manifest row, modality, reason - and skipped;
it never gets a vector and never stops the shard.

The kept items are a `PairedDataset` of their own, and `OpenClipSource.embed` (the single-process
path) runs on it with the features computed here: its cache key, its embeddings-cache entry and its
L2 normalisation are the ones every other build uses, not a copy of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import numpy as np

from exporters.cache import cache_key, file_digest
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset
from exporters.scale.shards import content_key, write_json_atomic, write_shard

SHARD_DATASET = "scale-shard"


def make_source(model: dict, device: str = "cpu"):
    """The model source a model spec names (see run.model_spec): an OpenClipSource, or the
    converted CyCLIP/CLOOB checkpoint source of exporters/sources/checkpoints.py."""
    fmt = model.get("checkpoint_format") or "open_clip"
    if fmt != "open_clip":
        from exporters.sources.checkpoints import converted_source

        src = converted_source(model["name"], model["arch"], model["checkpoint"], fmt,
                               bool(model.get("trusted_pickle", False)))
    else:
        from exporters.sources.openclip import OpenClipSource

        src = OpenClipSource(model["arch"], pretrained=model.get("pretrained"), checkpoint=model.get("checkpoint"),
                             name=model.get("name", ""), random_init=bool(model.get("random_init")))
    src.device = device
    return src


def embed_precomputed(source, dataset: PairedDataset, raw: dict[str, np.ndarray], cache_dir: Path | None):
    """`source.embed(dataset)` with the raw features already computed: the cache key, the cache
    entry (written on a miss, read on a hit) and the normalisation are embed()'s own."""
    source._encode = lambda ds: raw      # this instance, this call only
    try:
        return source.embed(dataset, cache_dir)
    finally:
        del source._encode


class ShardEncoder:
    """Callable on a Ray Data batch {'spec': [JSON shard specs]}; `encode(spec)` does one shard."""

    def __init__(self, model: dict, out: str, cache_dir: str | None = None, threads: int = 1,
                 device: str = "cpu", fault: str | None = None):
        import torch

        if threads and threads > 0:
            torch.set_num_threads(int(threads))
        self.device = device
        self.source = make_source(model, device)
        self.model, self.preprocess, self.tokenizer = self.source.load()
        self.logit_scale = float(self.model.logit_scale.exp().item())
        self.out = Path(out)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.fault = fault
        self.host = socket.gethostname()

    # -- Ray Data entry point ----------------------------------------------------------------------
    def __call__(self, batch: dict) -> dict:
        summaries = [json.dumps(self.encode(json.loads(str(s)))) for s in batch["spec"]]
        return {"summary": np.array(summaries, dtype=object)}

    # -- one shard ---------------------------------------------------------------------------------
    def encode(self, spec: dict) -> dict:
        t0 = time.perf_counter()
        self._maybe_fault(int(spec["slot"]))
        mods = [(m[0], m[1]) for m in spec["modalities"]]
        feats: dict[str, list[np.ndarray]] = {name: [] for name, _ in mods}
        kept: list[dict] = []
        digests: dict[str, list[str]] = {name: [] for name, _ in mods}
        failures: list[dict] = []
        from exporters.sources.openclip import BATCH

        rows = spec["rows"]
        for lo in range(0, len(rows), BATCH):
            prepared = []
            for r in rows[lo:lo + BATCH]:
                inputs, digest, reasons = self._prepare(r, mods)
                if reasons:
                    failures += [{"id": r["id"], "row": r["row"], "modality": n, "reason": why} for n, why in reasons]
                else:
                    prepared.append((r, inputs, digest))
            if not prepared:
                continue
            out = self._forward(prepared, mods)
            ok = np.ones(len(prepared), dtype=bool)
            for name, _ in mods:
                f = out[name].astype(np.float64)
                finite = np.isfinite(f).all(axis=1)
                norm = np.linalg.norm(np.where(finite[:, None], f, 0.0), axis=1)
                for j in np.flatnonzero(ok & ~finite):
                    failures.append({"id": prepared[j][0]["id"], "row": prepared[j][0]["row"], "modality": name,
                                     "reason": "the model gave a NaN or infinite embedding"})
                zero = finite & (norm <= np.finfo(np.float64).tiny * 1e6)
                for j in np.flatnonzero(ok & zero):
                    failures.append({"id": prepared[j][0]["id"], "row": prepared[j][0]["row"], "modality": name,
                                     "reason": "the model gave a zero embedding (no direction)"})
                ok &= finite & ~zero
            for j in np.flatnonzero(ok):
                r, _, digest = prepared[j]
                kept.append(r)
                for name, _ in mods:
                    digests[name].append(digest[name])
            for name, _ in mods:
                feats[name].append(out[name][ok])

        summary = {"slot": spec["slot"], "start": spec["start"], "rows": len(rows), "fingerprint": spec["fingerprint"],
                   "items": len(kept), "failures": failures, "pid": os.getpid(), "host": self.host}
        if not kept:
            summary.update(key=None, status="empty", cache_hit=False)
        else:
            summary.update(self._store(spec, mods, kept, feats, digests))
        summary["seconds"] = round(time.perf_counter() - t0, 4)
        write_json_atomic(self.out / "slots" / f"{spec['fingerprint']}.json",
                          {k: summary[k] for k in ("slot", "start", "rows", "fingerprint", "key", "items", "failures")})
        return summary

    def _prepare(self, r: dict, mods: list[tuple[str, str]]):
        from exporters.images import load_rgb

        inputs, digest, reasons = {}, {}, []
        for name, kind in mods:
            value = r.get(name) or ""
            if kind == "text":
                if not value.strip():
                    reasons.append((name, "empty caption"))
                else:
                    inputs[name] = value
                    digest[name] = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
                continue
            if not value:
                reasons.append((name, "no image path"))
            elif value.startswith(("http://", "https://")):
                reasons.append((name, "remote URL: embed does not download; fetch the images first and "
                                      "list the local files"))
            else:
                try:
                    image = load_rgb(value)
                    inputs[name] = self.preprocess(image)
                    digest[name] = file_digest(value)
                except UserError as exc:
                    reasons.append((name, str(exc)))
                except Exception as exc:  # noqa: BLE001 - a decoder or transform failure is the item's
                    reasons.append((name, f"{value}: preprocessing failed ({type(exc).__name__}: {exc})"))
        return inputs, digest, reasons

    def _forward(self, prepared: list, mods: list[tuple[str, str]]) -> dict[str, np.ndarray]:
        import torch

        out = {}
        with torch.no_grad():
            for name, kind in mods:
                if kind == "image":
                    f = self.model.encode_image(torch.stack([p[1][name] for p in prepared]).to(self.device))
                else:
                    f = self.model.encode_text(self.tokenizer([p[1][name] for p in prepared]).to(self.device))
                out[name] = f.float().cpu().numpy().astype(np.float32)
        return out

    def _store(self, spec: dict, mods, kept: list[dict], feats, digests) -> dict:
        from exporters.sources.openclip import LOGIT_KEY

        ids = tuple(r["id"] for r in kept)
        ds = PairedDataset(SHARD_DATASET, ids,
                           tuple(Modality(name, kind, name.title(), tuple(r[name] for r in kept)) for name, kind in mods))
        raw = {name: np.concatenate(feats[name]).astype(np.float32) for name, _ in mods}
        raw[LOGIT_KEY] = np.array([self.logit_scale])
        emb = embed_precomputed(self.source, ds, raw, self.cache_dir)
        parts = {k: v for k, v in emb.provenance.items() if k not in ("source", "cache_hit")}
        key = cache_key(parts)
        arrays = {name: emb.blocks[name].astype(np.float32) for name, _ in mods}
        content = {name: np.array([content_key(h) for h in digests[name]], dtype=np.uint64).reshape(-1, 2)
                   for name, _ in mods}
        items = {"ids": list(ids), "rows": [r["row"] for r in kept], "items": {name: [r[name] for r in kept]
                                                                            for name, _ in mods}}
        if any("stratum" in r for r in kept):
            items["strata"] = [r.get("stratum", "") for r in kept]
        meta = {"key": key, "parts": parts, "n": len(kept), "dim": int(arrays[mods[0][0]].shape[1]),
                "modalities": [list(m) for m in mods], "logit_scale": emb.logit_scale, "dtype": "float32",
                "l2_normalised": True}
        written = write_shard(self.out, key, arrays, content, items, meta)
        return {"key": key, "status": "written" if written else "reused", "cache_hit": bool(emb.provenance["cache_hit"]),
                "dim": meta["dim"], "logit_scale": emb.logit_scale}

    def _maybe_fault(self, slot: int) -> None:
        """Fault injection for the tests (EXPORTERS_SCALE_FAULT). `kill:<slot>:<marker file>`: the
        first process to reach that slot writes its pid to the marker and dies by SIGKILL - no
        cleanup, no exception, exactly as an out-of-memory kill or a lost node looks to Ray.
        `raise:<slot>`: encoding that slot raises, every time (a shard whose encoder fails)."""
        if not self.fault:
            return
        what, _, rest = self.fault.partition(":")
        target, _, marker = rest.partition(":")
        if int(target) != slot:
            return
        if what == "raise":
            raise RuntimeError(f"injected fault in slot {slot} ({self.fault})")
        if what != "kill":
            return
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
