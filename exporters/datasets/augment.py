"""Augmentation series of any image, like the seed article's (amumo Rotate/Noise/Blur/HShift/VShift).

Step k of `steps` (default 100), on an RGB image of width w and height h:
- rotation: rotated by 360·k/steps degrees (PIL default: nearest neighbour, black corners);
- noise:    (1 − k/steps)·image + (k/steps)·uniform noise in [0, 256), cast to uint8; the noise of
            step k is drawn from numpy's generator seeded with (seed, k), so the series is
            reproducible and a step does not depend on the others;
- blur:     Gaussian blur of radius k·(w/8)/steps;
- hshift / vshift: translated by the k-th of `steps` evenly spaced offsets from −w to +w
            (−h to +h), black outside.
The caption is repeated for every step. PNGs are written atomically into
`<image_dir>/augment/<sha256 of the source image>[:16]-<image loader version>/` and reused when
present. The source is read by `exporters.images.load_rgb` (any mode, upright, transparency on white).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from exporters.cache import file_digest
from exporters.datasets.common import check_image, slug, write_png_atomic
from exporters.images import VERSION as IMAGE_LOADER
from exporters.images import load_rgb
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset

AUGMENT_VERSION = "v1"
KINDS = ("rotation", "noise", "blur", "hshift", "vshift")
DEFAULT_STEPS = 100
DEFAULT_SEED = 31415


def augment_step(image: Image.Image, kind: str, k: int, steps: int = DEFAULT_STEPS,
                 seed: int = DEFAULT_SEED) -> Image.Image:
    """Step `k` (0..steps-1) of augmentation `kind`; step 0 is the unchanged image."""
    image = image.convert("RGB")
    w, h = image.size
    if kind == "rotation":
        return image.rotate(360.0 * k / steps)
    if kind == "noise":
        t = k / steps
        noise = np.random.default_rng([int(seed), int(k)]).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        arr = (1.0 - t) * np.asarray(image, dtype=np.float64) + t * noise
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=k * (w / 8.0) / steps))
    if kind in ("hshift", "vshift"):
        size = w if kind == "hshift" else h
        shift = float(np.linspace(-size, size, steps)[k])
        coeffs = (1, 0, shift, 0, 1, 0) if kind == "hshift" else (1, 0, 0, 0, 1, shift)
        return image.transform(image.size, Image.Transform.AFFINE, coeffs)
    raise UserError(f"unknown augmentation {kind!r}; use one of {', '.join(KINDS)}")


def augmentation_dataset(image: str | Path, caption: str, kind: str, image_dir: str | Path,
                         steps: int = DEFAULT_STEPS, seed: int = DEFAULT_SEED, name: str | None = None
                         ) -> PairedDataset:
    """`steps` augmented versions of `image`, each paired with `caption`."""
    if kind not in KINDS:
        raise UserError(f"unknown augmentation {kind!r}; use one of {', '.join(KINDS)}")
    steps = int(steps)
    if not 2 <= steps <= 1000:
        raise UserError(f"augmentation steps must be between 2 and 1000, got {steps}")
    if not isinstance(caption, str) or not caption.strip():
        raise UserError(f"augmentation of {image}: give the caption to pair with every step")
    src = Path(image)
    check_image(src, "augmentation source image")
    digest = file_digest(src)
    base = load_rgb(src)
    params = f"{AUGMENT_VERSION}:{kind}:{steps}:{seed if kind == 'noise' else ''}"
    tag = hashlib.sha256(f"{digest}:{params}".encode()).hexdigest()[:12]
    out_dir = Path(image_dir) / "augment" / f"{digest[:16]}-{IMAGE_LOADER}"
    ids, paths = [], []
    for k in range(steps):
        path = out_dir / f"{kind}_{steps}_{seed if kind == 'noise' else 0}_{k:04d}.png"
        if not path.exists():
            write_png_atomic(path, augment_step(base, kind, k, steps, seed))
        ids.append(f"{kind}-{k:04d}")
        paths.append(str(path))
    label = slug(name or src.stem)
    return PairedDataset(
        f"augment_{kind}_{label}_{tag}",
        tuple(ids),
        (Modality("image", "image", "Image", tuple(paths)),
         Modality("text", "text", "Text", (" ".join(caption.split()),) * steps)),
        description=f"{kind} of {src.name} in {steps} steps; the caption is repeated",
        extra={"loader": "augment", "source": str(src), "source_sha256": digest, "kind": kind, "steps": steps,
               "seed": seed if kind == "noise" else None},
    )


def from_config(world, entry) -> PairedDataset:
    """The `augmentation` source (exporters/registry.py): `image` + `caption`, or item `index` of dataset `of`
    (which of the two is checked at load_config)."""
    o, where = entry.options, world.where(entry)
    if "of" in o:
        others = [d for d in world.config.datasets if d != entry.id]
        if o["of"] not in others:
            raise UserError(f"{where}: `of` names dataset {o['of']!r}, not defined; defined: {', '.join(others)}")
        base, i = world.dataset(o["of"]), int(o["index"])
        if not 0 <= i < len(base):
            raise UserError(f"{where}: index {i} is outside dataset {o['of']} (0..{len(base) - 1})")
        kinds = {m.kind: m for m in base.modalities}
        if "image" not in kinds or "text" not in kinds:
            raise UserError(f"{where}: dataset {o['of']} needs an image and a text modality to augment")
        image, caption, name = kinds["image"].items[i], kinds["text"].items[i], f"{o['of']}_{base.ids[i]}"
    else:
        if "image" not in o or "caption" not in o:
            raise UserError(f"{where}: give `image` (a file) and `caption`, or `of` (a dataset id) and `index`")
        image, caption, name = world.resolve(o["image"]), str(o["caption"]), None
    return augmentation_dataset(image, caption, o["kind"], world.image_dir, steps=o.get("steps", DEFAULT_STEPS),
                                seed=o.get("seed", DEFAULT_SEED), name=name)
