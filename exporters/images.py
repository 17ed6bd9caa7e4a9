"""Image files -> 8-bit RGB with their content: the one loader of every image the exporters read.

The model's preprocessing (exporters/sources/openclip.py), the datasets that derive images
(exporters/datasets/augment.py) and the site's thumbnails (exporters/figures/_context.py) all call
`load_rgb`, so the model sees what the reader sees. Pillow's plain `convert("RGB")` is not enough:
it clips 16-bit and float pixels (a 16-bit PNG becomes white, a [0, 1] float TIFF black), drops
transparency onto whatever colour the transparent pixels hold, and ignores EXIF orientation.

How each mode becomes RGB:
- EXIF orientation is applied first (`ImageOps.exif_transpose`): the image as a viewer shows it.
- 16-bit integers (`I;16*`, Pillow's mode for 16-bit gray PNG/TIFF): value / 257, rounded.
  32-bit integers (`I`): the same when every value fits 16 bits (how 16-bit data usually arrives),
  otherwise value / max; negative values are 0. 16-bit RGB(A) PNGs Pillow already reduces to 8 bits.
- Floats (`F`): values in [0, 1] are x 255; in [0, 255] kept; in [0, 65535] / 257; any other
  range is stretched from its minimum to its maximum. NaN or infinite pixels are an error.
- Transparency (`RGBA`, `LA`, `La`, `RGBa`, `PA`, a palette or gray/RGB image with a transparent
  colour) is composited over white.
- `CMYK` and `LAB` go through LittleCMS (the file's embedded ICC profile for CMYK when it has one),
  everything else through Pillow's conversion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from exporters.errors import UserError

# part of every embedding cache key: bump when the pixels a file gives change
VERSION = "rgb-2"

_ALPHA = ("RGBA", "LA", "La", "RGBa", "PA")


def load_rgb(path: str | Path) -> Image.Image:
    """The image at `path` as 8-bit RGB, upright, transparency on white; a one-line UserError if unreadable."""
    try:
        with Image.open(path) as im:
            im.load()
            return to_rgb(ImageOps.exif_transpose(im))
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UserError(f"{path}: missing or not a readable image ({type(exc).__name__}); "
                        "replace the file or drop the pair") from None


def to_rgb(im: Image.Image) -> Image.Image:
    """An opened image of any mode as 8-bit RGB (see the module docstring)."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im).astype(np.float64)
        top = 65535.0 if mode != "I" or a.size == 0 or a.max() <= 65535 else float(a.max())
        return _gray(np.clip(a, 0, None) * (255.0 / top))
    if mode == "F":
        a = np.asarray(im).astype(np.float64)
        if not np.isfinite(a).all():
            raise UserError("has NaN or infinite pixels; save it with finite values")
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        if lo >= 0 and hi <= 1:
            a = a * 255.0
        elif lo >= 0 and hi <= 255:
            pass
        elif lo >= 0 and hi <= 65535:
            a = a / 257.0
        else:
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return _gray(a)
    if mode in ("CMYK", "LAB"):
        converted = _color_managed(im)
        if converted is not None:
            return converted
    if mode == "La":
        im = im.convert("LA")
    if im.mode in _ALPHA or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _gray(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L").convert("RGB")


def _color_managed(im: Image.Image) -> Image.Image | None:
    """CMYK (through its embedded profile) or LAB to sRGB with LittleCMS; None where that is unavailable."""
    try:
        import io

        from PIL import ImageCms
    except ImportError:  # pragma: no cover - Pillow built without LittleCMS
        return None
    try:
        srgb = ImageCms.createProfile("sRGB")
        if im.mode == "LAB":
            src = ImageCms.createProfile("LAB")
        elif im.info.get("icc_profile"):
            src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        else:
            return None  # no profile: Pillow's (255 - C)(255 - K) / 255 conversion
        return ImageCms.profileToProfile(im, src, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        if im.mode == "LAB":
            raise UserError("is a LAB image LittleCMS cannot convert; save it as RGB") from None
        return None
