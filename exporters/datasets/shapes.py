"""The embedded default world: generated scenes of coloured shapes with COCO-like captions.

Everything is a pure function of (split, index): the scene is drawn from a numpy generator seeded
with (SEED, split code, index), drawn with PIL at 64x64 and described by one of several caption
templates with synonyms. A caption mentions only some of what it sees (size, position, background
are optional), so one caption fits several images and retrieval is not trivial.

Splits: 'train' (50 000 pairs, rendered in memory by the trainer), and an evaluation pool of 5000
pairs ('eval5000'), whose first 100 pairs are 'eval100'. Subsets by caption substring and
augmentation series of one image come from the evaluation pool.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from exporters.errors import UserError
from exporters.pairs import ClassTask, Modality, PairedDataset

SHAPES_VERSION = "v1"
SEED = 20240521
IMAGE_SIZE = 64

SPLITS = {"train": 50_000, "eval5000": 5000, "eval100": 100}
_SPLIT_CODE = {"train": 1, "eval": 2}
AUGMENTATIONS = ("rotation", "noise", "blur", "hshift", "vshift")
AUG_STEPS = 100
SUBSET_CAP = 100

# --- the world -------------------------------------------------------------------------------

SHAPES = ("circle", "square", "triangle", "diamond", "cross")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (50, 90, 225),
    "yellow": (235, 210, 40),
    "purple": (145, 60, 185),
    "orange": (245, 140, 30),
}
BACKGROUNDS = {"white": (236, 236, 236), "black": (22, 22, 22), "gray": (128, 128, 128)}
SIZES = {"small": 6.0, "large": 10.0}           # radius in pixels at 64x64
GRID = ("top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right")

# --- the words -------------------------------------------------------------------------------

SHAPE_WORDS = {
    "circle": (("circle", "circles"), ("disk", "disks"), ("ball", "balls")),
    "square": (("square", "squares"), ("box", "boxes"), ("block", "blocks")),
    "triangle": (("triangle", "triangles"),),
    "diamond": (("diamond", "diamonds"), ("rhombus", "rhombuses")),
    "cross": (("cross", "crosses"), ("plus", "pluses")),
}
SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
COUNT_WORDS = {1: ("a", "one"), 2: ("two", "a pair of"), 3: ("three",)}
POSITION_WORDS = {
    "top left": ("in the top left corner", "at the top left"),
    "top": ("at the top", "near the top"),
    "top right": ("in the top right corner", "at the top right"),
    "left": ("on the left", "at the left"),
    "center": ("in the center", "in the middle"),
    "right": ("on the right", "at the right"),
    "bottom left": ("in the bottom left corner", "at the bottom left"),
    "bottom": ("at the bottom", "near the bottom"),
    "bottom right": ("in the bottom right corner", "at the bottom right"),
}
BACKGROUND_WORDS = {"white": ("white",), "black": ("black", "dark"), "gray": ("gray", "grey")}
PREFIXES = ("", "a picture of ", "an image of ", "a drawing of ", "a photo of ", "there is ")


@dataclass(frozen=True)
class Obj:
    shape: str
    colour: str
    size: str
    cx: float
    cy: float
    angle: float          # small random tilt in degrees


@dataclass(frozen=True)
class Scene:
    background: str
    objects: tuple[Obj, ...]
    count: int            # how many copies of the main object (objects[:count]); a different
                          # second object, if any, is objects[count]
    position: str | None  # grid cell of the main object when count == 1
    caption: str


def _rng(split: str, index: int) -> np.random.Generator:
    code = _SPLIT_CODE["train" if split == "train" else "eval"]
    return np.random.default_rng([SEED, code, int(index)])


def _cell_centre(cell: int) -> tuple[float, float]:
    step = IMAGE_SIZE / 3.0
    return (cell % 3 + 0.5) * step, (cell // 3 + 0.5) * step


def make_scene(index: int, split: str = "train") -> Scene:
    """The scene (and its caption) of pair `index` of `split` ('train' or an evaluation split)."""
    rng = _rng(split, index)
    background = str(rng.choice(list(BACKGROUNDS)))
    count = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
    shape = str(rng.choice(SHAPES))
    colour = str(rng.choice(list(COLOURS)))
    size = str(rng.choice(list(SIZES)))
    second = count == 1 and rng.random() < 0.35
    cells = [int(c) for c in rng.permutation(9)[: count + int(second)]]
    objs = []
    for k, cell in enumerate(cells):
        if k < count:
            s, c, z = shape, colour, size
        else:
            s = str(rng.choice([x for x in SHAPES if x != shape]))
            c = str(rng.choice([x for x in COLOURS if x != colour]))
            z = str(rng.choice(list(SIZES)))
        x, y = _cell_centre(cell)
        jx, jy = rng.uniform(-2.0, 2.0, size=2)
        objs.append(Obj(s, c, z, float(x + jx), float(y + jy), float(rng.uniform(-12, 12))))
    position = GRID[cells[0]] if count == 1 else None
    caption = _caption(rng, background, objs, count, position)
    return Scene(background, tuple(objs), count, position, caption)


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _phrase(rng: np.random.Generator, obj: Obj, count: int, with_colour: bool, with_size: bool) -> str:
    singular, plural = _pick(rng, SHAPE_WORDS[obj.shape])
    words = [_pick(rng, COUNT_WORDS[count])]
    if with_size:
        words.append(_pick(rng, SIZE_WORDS[obj.size]))
    if with_colour:
        words.append(obj.colour)
    words.append(singular if count == 1 else plural)
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    return " ".join(words)


def _caption(rng: np.random.Generator, background: str, objs: list[Obj], count: int,
             position: str | None) -> str:
    with_colour = rng.random() < 0.85
    with_size = rng.random() < 0.5
    text = _phrase(rng, objs[0], count, with_colour, with_size)
    if count == 1 and position is not None and rng.random() < 0.6:
        text += " " + _pick(rng, POSITION_WORDS[position])
    if len(objs) > count:
        text += " and " + _phrase(rng, objs[count], 1, rng.random() < 0.85, rng.random() < 0.3)
    bg = _pick(rng, BACKGROUND_WORDS[background])
    style = rng.random()
    if style < 0.25:
        text = f"{_pick(rng, ('a', 'one'))} {bg} background with {text}"
    elif style < 0.5:
        text = f"{_pick(rng, PREFIXES)}{text} {_pick(rng, ('on a', 'against a'))} {bg} background"
    else:
        text = f"{_pick(rng, PREFIXES)}{text}"
    if count > 1:
        text = text.replace("there is ", "there are ")
    return " ".join(text.split())


# --- drawing ---------------------------------------------------------------------------------

def _polygon(obj: Obj) -> list[tuple[float, float]] | None:
    r, a0 = SIZES[obj.size], math.radians(obj.angle)
    if obj.shape == "circle":
        return None
    if obj.shape == "square":
        pts = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        pts = [(x * r * 0.85, y * r * 0.85) for x, y in pts]
    elif obj.shape == "triangle":
        pts = [(r * math.cos(math.radians(-90 + 120 * k)), r * math.sin(math.radians(-90 + 120 * k)) + r * 0.15)
               for k in range(3)]
    elif obj.shape == "diamond":
        pts = [(0, -r), (r * 0.7, 0), (0, r), (-r * 0.7, 0)]
    else:  # cross
        t = r * 0.33
        pts = [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r), (-t, t), (-r, t),
               (-r, -t), (-t, -t)]
    c, s = math.cos(a0), math.sin(a0)
    return [(obj.cx + x * c - y * s, obj.cy + x * s + y * c) for x, y in pts]


def draw_scene(scene: Scene) -> Image.Image:
    """The scene as a 64x64 RGB image (drawn at 4x and downsampled, for smooth edges)."""
    k = 4
    img = Image.new("RGB", (IMAGE_SIZE * k, IMAGE_SIZE * k), BACKGROUNDS[scene.background])
    d = ImageDraw.Draw(img)
    for obj in scene.objects:
        fill = COLOURS[obj.colour]
        poly = _polygon(obj)
        if poly is None:
            r = SIZES[obj.size] * k
            d.ellipse([obj.cx * k - r, obj.cy * k - r, obj.cx * k + r, obj.cy * k + r], fill=fill)
        else:
            d.polygon([(x * k, y * k) for x, y in poly], fill=fill)
    return img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)


def render_pair(index: int, split: str = "train") -> tuple[Image.Image, str]:
    """(image, caption) of pair `index`, in memory: what the trainer uses instead of files."""
    scene = make_scene(index, split)
    return draw_scene(scene), scene.caption


# --- augmentations ---------------------------------------------------------------------------

def augment(image: Image.Image, kind: str, step: int, background: tuple[int, int, int]) -> Image.Image:
    """Step `step` (0..99) of augmentation `kind`; step 0 is the unchanged image."""
    t = step / AUG_STEPS
    if kind == "rotation":
        return image.rotate(360.0 * t, resample=Image.Resampling.BILINEAR, fillcolor=background)
    if kind == "noise":
        rng = np.random.default_rng([SEED, 99, step])
        a = np.asarray(image, dtype=np.float64) + rng.normal(0.0, 160.0 * t, size=(IMAGE_SIZE, IMAGE_SIZE, 3))
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=8.0 * t)) if step else image.copy()
    if kind in ("hshift", "vshift"):
        shift = int(round(IMAGE_SIZE * t))   # wraps around: the whole image travels once
        a = np.roll(np.asarray(image), shift, axis=1 if kind == "hshift" else 0)
        return Image.fromarray(np.ascontiguousarray(a))
    raise UserError(f"unknown augmentation {kind!r}; use one of {', '.join(AUGMENTATIONS)}")


# --- files and datasets ----------------------------------------------------------------------

def _png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _write_png(path: Path, image: Image.Image) -> None:
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png.tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(_png_bytes(image))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(f"cannot write image {path}: {e.strerror or e}; choose a writable image folder") from e


def _root(image_dir: Path) -> Path:
    return Path(image_dir) / f"shapes_{SHAPES_VERSION}"


def _modalities(paths: list[str], captions: list[str]) -> tuple[Modality, ...]:
    return (Modality("image", "image", "Image", tuple(paths)), Modality("text", "text", "Text", tuple(captions)))


def _split_pairs(split: str, n: int, image_dir: Path) -> tuple[list[str], list[str], list[str], list[Scene]]:
    folder = "train" if split == "train" else "eval"
    ids, paths, captions, scenes = [], [], [], []
    for i in range(n):
        scene = make_scene(i, split)
        path = _root(image_dir) / folder / f"{i:05d}.png"
        if not path.exists():
            _write_png(path, draw_scene(scene))
        ids.append(f"{folder}-{i:05d}")
        paths.append(str(path))
        captions.append(scene.caption)
        scenes.append(scene)
    return ids, paths, captions, scenes


# --- zero-shot classes: what the generator knows of every image -----------------------------------------
def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def class_tasks(scenes: list[Scene]) -> tuple[ClassTask, ...]:
    """Two zero-shot tasks on the main object (objects[0]; a scene's second object, if any, differs in shape
    and colour): its shape (5 classes) and its colour (6). Each class is an ensemble of prompts in the
    captions' own words: every synonym of a shape, and a colour named with every shape."""
    shape_prompts = tuple(tuple(f"{pre}{_a(one)}" for pre in ("a picture of ", "")
                                for one, _ in SHAPE_WORDS[s]) for s in SHAPES)
    colour_prompts = tuple(tuple(f"a picture of {_a(f'{c} {s}')}" for s in SHAPES) for c in COLOURS)
    return (ClassTask("shape", "shape of the main object", SHAPES, shape_prompts,
                      tuple(SHAPES.index(sc.objects[0].shape) for sc in scenes)),
            ClassTask("colour", "colour of the main object", tuple(COLOURS), colour_prompts,
                      tuple(list(COLOURS).index(sc.objects[0].colour) for sc in scenes)))


def shapes_dataset(split: str, image_dir: Path) -> PairedDataset:
    """A split as a PairedDataset ('train', 'eval100' or 'eval5000'), with its zero-shot class tasks;
    writes missing PNGs."""
    if split not in SPLITS:
        raise UserError(f"unknown shapes split {split!r}; use one of {', '.join(SPLITS)}")
    ids, paths, captions, scenes = _split_pairs(split, SPLITS[split], image_dir)
    return PairedDataset(
        f"shapes_{SHAPES_VERSION}_{split}", tuple(ids), _modalities(paths, captions),
        description=f"Generated shapes world {SHAPES_VERSION}, split {split}: {len(ids)} image-caption pairs",
        extra={"generator": "exporters.datasets.shapes", "version": SHAPES_VERSION, "split": split},
        tasks=class_tasks(scenes),
    )


def eval_captions() -> list[str]:
    """Captions of the 5000-pair evaluation pool (no images written)."""
    return [make_scene(i, "eval5000").caption for i in range(SPLITS["eval5000"])]


def shapes_subset(substring: str, image_dir: Path) -> PairedDataset:
    """The first (at most 100) pairs of the evaluation pool whose caption contains `substring`."""
    if not substring or not substring.strip():
        raise UserError("shapes subset: give a non-empty caption substring, e.g. 'red circle'")
    needle = substring.lower()
    hits = [i for i, c in enumerate(eval_captions()) if needle in c.lower()][:SUBSET_CAP]
    if not hits:
        raise UserError(f"shapes subset: no caption of the evaluation pool contains {substring!r}")
    ids, paths, captions = [], [], []
    for i in hits:
        scene = make_scene(i, "eval5000")
        path = _root(image_dir) / "eval" / f"{i:05d}.png"
        _write_png(path, draw_scene(scene))
        ids.append(f"eval-{i:05d}")
        paths.append(str(path))
        captions.append(scene.caption)
    slug = "".join(ch if ch.isalnum() else "_" for ch in needle).strip("_")
    return PairedDataset(
        f"shapes_{SHAPES_VERSION}_subset_{slug}", tuple(ids), _modalities(paths, captions),
        description=f"Pairs of the shapes {SHAPES_VERSION} evaluation pool whose caption contains "
                    f"{substring!r} ({len(ids)} pairs, first {SUBSET_CAP} at most)",
        extra={"generator": "exporters.datasets.shapes", "version": SHAPES_VERSION, "substring": substring},
    )


def shapes_augmentation(kind: str, image_index: int, image_dir: Path) -> PairedDataset:
    """100 augmented versions of evaluation image `image_index`, each paired with its caption."""
    if kind not in AUGMENTATIONS:
        raise UserError(f"unknown augmentation {kind!r}; use one of {', '.join(AUGMENTATIONS)}")
    if not 0 <= int(image_index) < SPLITS["eval5000"]:
        raise UserError(f"augmentation image index {image_index} is outside the evaluation pool "
                        f"(0..{SPLITS['eval5000'] - 1})")
    scene = make_scene(int(image_index), "eval5000")
    base = draw_scene(scene)
    bg = BACKGROUNDS[scene.background]
    ids, paths = [], []
    for step in range(AUG_STEPS):
        path = _root(image_dir) / "aug" / f"{kind}_{int(image_index):05d}_{step:03d}.png"
        if not path.exists():
            _write_png(path, augment(base, kind, step, bg))
        ids.append(f"{kind}-{int(image_index):05d}-{step:03d}")
        paths.append(str(path))
    return PairedDataset(
        f"shapes_{SHAPES_VERSION}_{kind}_{int(image_index):05d}", tuple(ids),
        _modalities(paths, [scene.caption] * AUG_STEPS),
        description=f"{kind} of shapes {SHAPES_VERSION} evaluation image {image_index} in {AUG_STEPS} steps; "
                    "the caption is repeated",
        extra={"generator": "exporters.datasets.shapes", "version": SHAPES_VERSION, "kind": kind,
               "image_index": int(image_index)},
    )


def all_words() -> set[str]:
    """Every word a caption can contain (what the word-level tokenizer must know)."""
    words: set[str] = set()
    groups = [w for forms in SHAPE_WORDS.values() for pair in forms for w in pair]
    groups += [w for v in SIZE_WORDS.values() for w in v] + list(COLOURS)
    groups += [w for v in COUNT_WORDS.values() for w in v] + [w for v in POSITION_WORDS.values() for w in v]
    groups += [w for v in BACKGROUND_WORDS.values() for w in v] + list(PREFIXES)
    groups += ["are", "an", "and", "background", "with", "on a", "against a", "one"]
    for g in groups:
        words.update(g.split())
    return words


# -- loaders of the configuration's shapes sources (exporters/registry.py) ---------------------------------
def split_from_config(world, entry) -> PairedDataset:
    return shapes_dataset(entry.options["split"], world.image_dir)


def subset_from_config(world, entry) -> PairedDataset:
    return shapes_subset(entry.options["substring"], world.image_dir)


def augmentation_from_config(world, entry) -> PairedDataset:
    return shapes_augmentation(entry.options["kind"], int(entry.options["image"]), world.image_dir)
