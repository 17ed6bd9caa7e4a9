"""MS-COCO captions: the published annotation file (`captions_val2017.json`) and its image folder.

Like the seed article (amumo `MSCOCO_Val_Dataset`): the pool is the annotation file's `images` in
file order, each paired with its first caption (the first annotation of that image in file
order); `sample = 100` draws with ``RandomState(seed).rand(n).argsort()[:100]`` and seed 31415 by
default, leaving `sample` out gives the whole validation set (5000 pairs for val2017).
"""

from __future__ import annotations

import json
from pathlib import Path

from exporters.datasets.common import AMUMO_SEED, check_image, sample_indices, slug
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset

COCO_VERSION = "v1"


def read_coco_captions(annotations: str | Path) -> list[tuple[int, str, str]]:
    """(image id, file name, first caption) for every image of a COCO captions file, in file order."""
    path = Path(annotations)
    if not path.is_file():
        raise UserError(f"{path}: COCO caption file not found; download annotations_trainval2017.zip from "
                        "cocodataset.org and point `annotations` at annotations/captions_val2017.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON file ({type(exc).__name__}); is it captions_val2017.json?") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise UserError(f"{path}: not a COCO captions file (needs top-level 'images' and 'annotations' lists); "
                        "use captions_val2017.json, not the instances_ or person_keypoints_ file")
    first: dict[int, str] = {}
    for k, ann in enumerate(data["annotations"]):
        try:
            iid, cap = int(ann["image_id"]), str(ann["caption"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: annotation #{k} lacks 'image_id' or 'caption'; "
                            "this does not look like a COCO captions file") from None
        first.setdefault(iid, " ".join(cap.split()))
    out, seen = [], set()
    for k, img in enumerate(data["images"]):
        try:
            iid, name = int(img["id"]), str(img["file_name"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: image entry #{k} lacks 'id' or 'file_name'") from None
        if iid in seen:
            raise UserError(f"{path}: image id {iid} appears twice")
        seen.add(iid)
        if iid not in first:
            raise UserError(f"{path}: image {iid} ({name}) has no caption annotation; "
                            "the file is incomplete (re-download it)")
        out.append((iid, name, first[iid]))
    if not out:
        raise UserError(f"{path}: no images listed")
    return out


def coco_dataset(annotations: str | Path, images: str | Path, sample: int | None = None,
                 seed: int = AMUMO_SEED) -> PairedDataset:
    """COCO image-caption pairs (all of them, or `sample` drawn as the seed article did)."""
    folder = Path(images)
    if not folder.is_dir():
        raise UserError(f"{folder}: COCO image folder not found; unzip val2017.zip and point `images` at val2017/")
    pool = read_coco_captions(annotations)
    idx = sample_indices(len(pool), sample, seed, str(annotations))
    chosen = [pool[i] for i in idx]
    paths = [folder / name for _, name, _ in chosen]
    present = sum(p.is_file() for p in paths)
    if present == 0:
        raise UserError(f"{folder}: none of the {len(paths)} images named in {Path(annotations).name} are here "
                        f"(e.g. {paths[0].name}); is `images` the folder matching the caption file (val2017/)?")
    for p in paths:
        check_image(p, "COCO image")
    stem = slug(Path(annotations).stem)
    suffix = f"_n{len(chosen)}" + (f"_seed{seed}" if sample is not None else "")
    return PairedDataset(
        f"coco_{stem}_{COCO_VERSION}{suffix}",
        tuple(str(iid) for iid, _, _ in chosen),
        (Modality("image", "image", "Image", tuple(str(p) for p in paths)),
         Modality("text", "text", "Text", tuple(cap for _, _, cap in chosen))),
        description=f"MS-COCO {Path(annotations).stem}: {len(chosen)} image-caption pairs (first caption per image"
                    + (f"; random sample of {len(pool)}, seed {seed})" if sample is not None else ")"),
        extra={"loader": "coco", "annotations": str(annotations), "images": str(folder), "pool": len(pool),
               "sample": sample, "seed": seed if sample is not None else None},
    )


def from_config(world, entry) -> PairedDataset:
    """The `coco` source (exporters/registry.py)."""
    o = entry.options
    return coco_dataset(world.resolve(o["annotations"]), world.resolve(o["images"]),
                        **{k: o[k] for k in ("sample", "seed") if k in o})
