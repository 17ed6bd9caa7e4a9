"""DiffusionDB: one published part (`images/part-000001.zip`: 1000 PNGs plus `part-000001.json`),
optionally with the published `metadata.parquet` for the prompts.

The part archive's JSON maps each image name to {"p": prompt, "se": seed, "c": cfg, "st": steps,
"sa": sampler}; `metadata.parquet` has one row per image with columns image_name, prompt,
part_id, ... (reading it needs pyarrow). The archive may also be given unzipped (a folder with
the PNGs and the JSON). Pairs are ordered by image name (so the JSON and the parquet give the same
pool) and sampled with the seed article's sampler; chosen images are extracted atomically into
the build's image folder.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

from exporters.datasets.common import AMUMO_SEED, check_image, sample_indices
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset

DIFFUSIONDB_VERSION = "v1"
_PART = re.compile(r"part-(\d{6})")


def _part_id(archive: Path) -> int:
    m = _PART.search(archive.name)
    if not m:
        raise UserError(f"{archive}: not a DiffusionDB part (expected a name like part-000001.zip or a "
                        "folder part-000001/)")
    return int(m.group(1))


def _prompts_from_json(raw: bytes, where: str) -> dict[str, str]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{where}: not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected an object {{image name: {{'p': prompt, ...}}}}")
    out = {}
    for name, meta in data.items():
        if not isinstance(meta, dict) or not isinstance(meta.get("p"), str):
            raise UserError(f"{where}: entry {name!r} has no prompt 'p'; is this a DiffusionDB part JSON?")
        out[name] = meta["p"]
    return out


def _prompts_from_parquet(metadata: Path, part: int) -> dict[str, str]:
    if not metadata.is_file():
        raise UserError(f"{metadata}: DiffusionDB metadata file not found; download metadata.parquet or "
                        "leave `metadata` out to use the prompts in the part's JSON")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(f"{metadata}: reading parquet needs pyarrow (pip install pyarrow), or leave `metadata` "
                        "out to use the prompts in the part's JSON") from None
    try:
        table = pq.read_table(metadata, columns=["image_name", "prompt", "part_id"])
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise UserError(f"{metadata}: not a readable DiffusionDB metadata parquet "
                        f"(needs columns image_name, prompt, part_id; {type(exc).__name__})") from None
    cols = table.to_pydict()
    return {n: p for n, p, k in zip(cols["image_name"], cols["prompt"], cols["part_id"]) if int(k) == part}


def diffusiondb_dataset(archive: str | Path, image_dir: str | Path, metadata: str | Path | None = None,
                        sample: int | None = None, seed: int = AMUMO_SEED) -> PairedDataset:
    """Image-prompt pairs of one DiffusionDB part (all 1000, or `sample` of them)."""
    src = Path(archive)
    part = _part_id(src)
    json_name = f"part-{part:06d}.json"
    if src.is_dir():
        names = sorted(p.name for p in src.glob("*.png"))
        json_path = src / json_name
        raw_json = json_path.read_bytes() if json_path.is_file() else None
        zf = None
    elif src.is_file():
        try:
            zf = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UserError(f"{src}: not a readable zip archive ({type(exc).__name__}); re-download the part") from None
        members = set(zf.namelist())
        names = sorted(n for n in members if n.lower().endswith(".png") and "/" not in n)
        raw_json = zf.read(json_name) if json_name in members else None
    else:
        raise UserError(f"{src}: DiffusionDB part not found; download images/{src.name} from the "
                        "poloclub/diffusiondb dataset")
    try:
        if metadata is not None:
            prompts = _prompts_from_parquet(Path(metadata), part)
        elif raw_json is not None:
            prompts = _prompts_from_json(raw_json, f"{src}:{json_name}")
        else:
            raise UserError(f"{src}: has no {json_name}; give `metadata` (metadata.parquet) for the prompts")
        if not names:
            raise UserError(f"{src}: no PNG images in this part")
        missing = [n for n in names if n not in prompts]
        if missing:
            raise UserError(f"{src}: {len(missing)} of {len(names)} images have no prompt "
                            f"(e.g. {missing[0]}); the metadata does not match this part")
        idx = sample_indices(len(names), sample, seed, str(src))
        chosen = [names[i] for i in idx]
        out_dir = Path(image_dir) / "diffusiondb" / f"part-{part:06d}"
        paths = []
        for n in chosen:
            if zf is None:
                path = src / n
            else:
                path = out_dir / n
                if not path.exists():
                    _extract(zf, n, path)
            check_image(path, "DiffusionDB image")
            paths.append(path)
    finally:
        if zf is not None:
            zf.close()
    suffix = f"_n{len(chosen)}" + (f"_seed{seed}" if sample is not None else "")
    return PairedDataset(
        f"diffusiondb_part{part:06d}_{DIFFUSIONDB_VERSION}{suffix}",
        tuple(Path(n).stem for n in chosen),
        (Modality("image", "image", "Image", tuple(str(p) for p in paths)),
         Modality("text", "text", "Prompt", tuple(" ".join(prompts[n].split()) for n in chosen))),
        description=f"DiffusionDB part {part}: {len(chosen)} Stable Diffusion images with their prompts"
                    + (f" (sample of {len(names)}, seed {seed})" if sample is not None else ""),
        extra={"loader": "diffusiondb", "archive": str(src), "metadata": str(metadata) if metadata else None,
               "pool": len(names), "sample": sample, "seed": seed if sample is not None else None},
    )


def _extract(zf: zipfile.ZipFile, name: str, path: Path) -> None:
    try:
        data = zf.read(name)
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise UserError(f"{zf.filename}: cannot extract {name} ({type(exc).__name__}); re-download the part") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png.tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write image {path}: {e.strerror or e}; choose a writable image folder") from e


def from_config(world, entry) -> PairedDataset:
    """The `diffusiondb` source (exporters/registry.py)."""
    o = entry.options
    return diffusiondb_dataset(world.resolve(o["archive"]), world.image_dir,
                               world.resolve(o["metadata"]) if "metadata" in o else None,
                               **{k: o[k] for k in ("sample", "seed") if k in o})
